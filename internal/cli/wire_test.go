package cli

import (
	"context"
	"fmt"
	"testing"
)

// countingEmbedder returns a vector naming each text and counts what it embeds.
type countingEmbedder struct{ embedded []string }

func (c *countingEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	c.embedded = append(c.embedded, texts...)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = []float32{float32(len(t))}
	}
	return out, nil
}
func (c *countingEmbedder) Dim() int     { return 1 }
func (c *countingEmbedder) Name() string { return "counting" }

func TestLazyEmbedderReusesRecentVectors(t *testing.T) {
	inner := &countingEmbedder{}
	l := &lazyEmbedder{done: make(chan struct{}), emb: inner}
	l.once.Do(func() {}) // already "loaded"
	close(l.done)
	ctx := context.Background()
	if _, err := l.Embed(ctx, []string{"a", "bb"}); err != nil {
		t.Fatal(err)
	}
	got, err := l.Embed(ctx, []string{"bb", "ccc", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if got[0][0] != 2 || got[1][0] != 3 || got[2][0] != 1 {
		t.Fatalf("vectors out of order: %v", got)
	}
	if fmt.Sprint(inner.embedded) != "[a bb ccc]" {
		t.Fatalf("embedded %v, want each text once", inner.embedded)
	}
	for i := range recentVectors + 10 {
		_, _ = l.Embed(ctx, []string{fmt.Sprint("filler ", i)})
	}
	if len(l.recent) != recentVectors || len(l.order) != recentVectors {
		t.Fatalf("cache holds %d/%d entries, want %d", len(l.recent), len(l.order), recentVectors)
	}
	before := len(inner.embedded)
	_, _ = l.Embed(ctx, []string{"a"})
	if len(inner.embedded) != before+1 {
		t.Fatal("an evicted text was not embedded again")
	}
}
