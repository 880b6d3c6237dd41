package app

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// recordingEmbedder records every text it is asked to embed.
type recordingEmbedder struct {
	next interface {
		Embed(context.Context, []string) ([][]float32, error)
	}
	mu    sync.Mutex
	texts []string
}

func (r *recordingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	r.mu.Lock()
	r.texts = append(r.texts, texts...)
	r.mu.Unlock()
	if r.next == nil {
		out := make([][]float32, len(texts))
		for i := range out {
			out[i] = []float32{1, 0, 0}
		}
		return out, nil
	}
	return r.next.Embed(ctx, texts)
}

func (r *recordingEmbedder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.texts)
}

// The warmed text is exactly what recall embeds (a time phrase taken out),
// so each message reaches the model once and no embedding is wasted; a
// message that is only a time phrase is not warmed.
func TestWarmRecallEmbedsWhatRecallEmbedsOnce(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clk := clock.NewFake(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	model := &recordingEmbedder{}
	cached := embed.NewCached(model, 0)
	asked := &recordingEmbedder{next: cached} // what recall asks for
	rec := recall.New(newMemStore(db, clk), asked, clk, recall.DefaultOptions())
	slot := warmRecall(recall.NewSlot(rec, db, nil, recall.DefaultSlotBudget), cached, clk)
	if _, ok := slot.(warmSlot); !ok {
		t.Fatalf("the recall slot was not wrapped: %T", slot)
	}
	for _, msg := range []string{"How is Catherine settling in?", "What did I tell you last week about Denver?", "yesterday"} {
		if _, err := slot.SlotText(ctx, "usr_1", msg); err != nil {
			t.Fatal(err)
		}
	}
	for _, text := range model.seen() {
		if !slices.Contains(asked.seen(), text) {
			t.Errorf("warmed %q, which recall never embedded: a wasted embedding", text)
		}
	}
	counts := map[string]int{}
	for _, text := range model.seen() {
		counts[text]++
	}
	for text, n := range counts {
		if n != 1 {
			t.Errorf("%q reached the model %d times, want once", text, n)
		}
	}
	if !slices.Contains(model.seen(), "How is Catherine settling in?") {
		t.Errorf("the model embedded %q, want the message", model.seen())
	}
	if got := semanticText("yesterday", clk.Now()); got != "" {
		t.Errorf("semanticText(yesterday) = %q, want nothing to warm", got)
	}
}

func TestWarmRecallLeavesTextOnlyRecallAlone(t *testing.T) {
	s := recall.NewSlot(nil, nil, nil, 0)
	if got := warmRecall(s, nil, clock.NewFake(time.Now())); got != s {
		t.Fatalf("with no embedder the slot was wrapped: %T", got)
	}
}
