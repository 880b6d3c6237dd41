package embed

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// gatedEmbedder blocks each call until release, after saying it started.
type gatedEmbedder struct {
	started chan []string
	release chan error
	mu      sync.Mutex
	calls   [][]string
}

func newGated() *gatedEmbedder {
	return &gatedEmbedder{started: make(chan []string, 8), release: make(chan error, 8)}
}

func (g *gatedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	g.mu.Lock()
	g.calls = append(g.calls, texts)
	g.mu.Unlock()
	g.started <- texts
	if err := <-g.release; err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = []float32{float32(len(t))}
	}
	return out, nil
}

func (g *gatedEmbedder) callCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// A text asked for while Warm embeds it is embedded once; the second caller
// gets the first one's vector.
func TestCachedEmbedsATextBeingEmbeddedOnce(t *testing.T) {
	g := newGated()
	c := NewCached(g, 0)
	c.Warm("hello there", time.Minute)
	if got := <-g.started; len(got) != 1 || got[0] != "hello there" {
		t.Fatalf("Warm embedded %q", got)
	}
	c.Warm("hello there", time.Minute) // already under way: nothing more
	done := make(chan [][]float32)
	go func() {
		v, err := c.Embed(context.Background(), []string{"hi", "hello there"})
		if err != nil {
			t.Error(err)
		}
		done <- v
	}()
	if got := <-g.started; len(got) != 1 || got[0] != "hi" {
		t.Fatalf("the second caller embedded %q, want only the text nobody was embedding", got)
	}
	g.release <- nil // "hi"
	select {
	case v := <-done:
		t.Fatalf("Embed returned %v before the warmed text was ready", v)
	case <-time.After(20 * time.Millisecond): // waiting, as it should (a bound, not a behaviour)
	}
	g.release <- nil // "hello there"
	v := <-done
	if v[0][0] != 2 || v[1][0] != 11 {
		t.Fatalf("vectors %v, want [[2] [11]]", v)
	}
	if n := g.callCount(); n != 2 {
		t.Fatalf("%d calls to the model, want 2", n)
	}
	if _, err := c.Embed(context.Background(), []string{"hello there"}); err != nil || g.callCount() != 2 {
		t.Fatalf("the warmed vector was not cached (err %v, %d calls)", err, g.callCount())
	}
	c.Warm("hello there", time.Minute) // cached: nothing to do
	if g.callCount() != 2 {
		t.Fatal("Warm embedded a cached text again")
	}
}

// When the caller embedding a text fails, one waiting for it embeds it
// itself rather than inheriting the error.
func TestCachedWaiterEmbedsWhenTheFirstCallerFails(t *testing.T) {
	g := newGated()
	c := NewCached(g, 0)
	c.Warm("soon", time.Minute)
	<-g.started
	done := make(chan error)
	var v [][]float32
	go func() {
		var err error
		v, err = c.Embed(context.Background(), []string{"soon"})
		done <- err
	}()
	g.release <- errors.New("model server down") // Warm's call fails
	if got := <-g.started; len(got) != 1 || got[0] != "soon" {
		t.Fatalf("the waiter embedded %q, want soon", got)
	}
	g.release <- nil
	if err := <-done; err != nil || v[0][0] != 4 {
		t.Fatalf("Embed = %v, %v; want the waiter's own vector", v, err)
	}
}

// A waiter whose context ends stops waiting.
func TestCachedWaiterHonoursItsContext(t *testing.T) {
	g := newGated()
	c := NewCached(g, 0)
	c.Warm("slow", time.Minute)
	<-g.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Embed(ctx, []string{"slow"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	g.release <- nil
}
