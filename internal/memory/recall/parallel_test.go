package recall_test

import (
	"context"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
)

// panickyVectors is a store whose vector search panics.
type panickyVectors struct{ memory.Store }

func (panickyVectors) SearchVector(context.Context, string, []float32, memory.Query) ([]memory.Hit, error) {
	panic("vector search broke")
}

// The vector search runs on a goroutine of its own; its panic still
// reaches the caller of Recall (the companion's slot recovers it there)
// instead of ending the process.
func TestVectorSearchPanicReachesTheCaller(t *testing.T) {
	s := newStore(t)
	index(t, s, "alice", "m1", "Catherine lives in Boston.", now.Add(-time.Hour), vec(0, 1, 0, 0))
	r := recall.New(panickyVectors{s}, &fakeEmbedder{}, clock.NewFake(now), recall.DefaultOptions())
	defer func() {
		if got := recover(); got != "vector search broke" {
			t.Fatalf("recovered %v, want the vector search's panic", got)
		}
	}()
	_, _ = r.Recall(t.Context(), "alice", memory.Query{Text: "where does Catherine live"}, time.UTC)
	t.Fatal("Recall returned although its vector search panicked")
}
