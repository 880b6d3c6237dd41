package embed

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

// countingEmbedder returns a vector naming each text's length and records what it embeds.
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

func TestCachedReusesRecentVectors(t *testing.T) {
	inner := &countingEmbedder{}
	c := NewCached(inner, 0)
	ctx := context.Background()
	if _, err := c.Embed(ctx, []string{"a", "bb"}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Embed(ctx, []string{"bb", "ccc", "a"})
	if err != nil {
		t.Fatal(err)
	}
	if got[0][0] != 2 || got[1][0] != 3 || got[2][0] != 1 {
		t.Fatalf("vectors out of order: %v", got)
	}
	if fmt.Sprint(inner.embedded) != "[a bb ccc]" {
		t.Fatalf("embedded %v, want each text once", inner.embedded)
	}
	for i := range RecentVectors + 10 {
		_, _ = c.Embed(ctx, []string{fmt.Sprint("filler ", i)})
	}
	if c.Len() != RecentVectors || len(c.order) != RecentVectors {
		t.Fatalf("cache holds %d/%d entries, want %d", c.Len(), len(c.order), RecentVectors)
	}
	before := len(inner.embedded)
	_, _ = c.Embed(ctx, []string{"a"})
	if len(inner.embedded) != before+1 {
		t.Fatal("an evicted text was not embedded again")
	}
}

func TestCachedPassesErrorsOnAndCachesNothing(t *testing.T) {
	boom := errors.New("model server down")
	c := NewCached(textsFunc(func(context.Context, []string) ([][]float32, error) { return nil, boom }), 4)
	if _, err := c.Embed(context.Background(), []string{"a"}); !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	if c.Len() != 0 {
		t.Fatalf("a failed call cached %d texts", c.Len())
	}
}

type textsFunc func(context.Context, []string) ([][]float32, error)

func (f textsFunc) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return f(ctx, texts)
}

func TestLazyLoadsOnceOnFirstUse(t *testing.T) {
	var loads atomic.Int32
	inner := &countingEmbedder{}
	l := NewLazy(func() (Embedder, error) { loads.Add(1); return inner, nil })
	if loads.Load() != 0 {
		t.Fatal("NewLazy loaded the model before it was used")
	}
	for range 3 {
		if _, err := l.Embed(context.Background(), []string{"x"}); err != nil {
			t.Fatal(err)
		}
	}
	if loads.Load() != 1 || len(inner.embedded) != 3 {
		t.Fatalf("%d loads, %d texts embedded; want 1 and 3", loads.Load(), len(inner.embedded))
	}
}

func TestLazyKeepsTheLoadError(t *testing.T) {
	l := NewLazy(func() (Embedder, error) { return nil, ErrModelMissing })
	for range 2 {
		if _, err := l.Embed(context.Background(), []string{"x"}); !errors.Is(err, ErrModelMissing) {
			t.Fatalf("error %v, want ErrModelMissing", err)
		}
	}
}

func TestLazyGivesUpWithTheContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	l := NewLazy(func() (Embedder, error) { <-release; return &countingEmbedder{}, nil })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Embed(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}
