package embed

import (
	"context"
	"sync"
)

// Texts is the part of an Embedder that callers which only embed need; Lazy
// and Cached have it without knowing the model's size or name in advance.
type Texts interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

var (
	_ Texts = (*Lazy)(nil)
	_ Texts = (*Cached)(nil)
)

// Lazy loads an embedder on first use, in the background, so a program
// starts fast and small and one nobody talks to never loads the model (the
// embedded one takes a fraction of a second and ~30 MiB; a model server is
// checked once). A failed load is not retried: every call returns its error.
type Lazy struct {
	once sync.Once
	load func() (Embedder, error)
	done chan struct{}
	emb  Embedder
	err  error
}

// NewLazy returns a Lazy that calls load once, on the first Embed.
func NewLazy(load func() (Embedder, error)) *Lazy {
	return &Lazy{load: load, done: make(chan struct{})}
}

// Embed waits for the model (or ctx) and embeds texts with it.
func (l *Lazy) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	l.once.Do(func() {
		go func() {
			defer close(l.done)
			l.emb, l.err = l.load()
		}()
	})
	select {
	case <-l.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if l.err != nil {
		return nil, l.err
	}
	return l.emb.Embed(ctx, texts)
}

// Cached remembers the vectors of the most recently embedded texts: the
// message a prompt's recall just embedded is embedded again moments later
// for the recall index. It holds at most size texts, dropping the oldest.
type Cached struct {
	next Texts
	size int

	mu     sync.Mutex
	recent map[string][]float32
	order  []string // oldest first
}

// RecentVectors is the cache size os1 uses: a few turns' worth of messages.
const RecentVectors = 256

// NewCached wraps next with a cache of size texts (RecentVectors when size <= 0).
func NewCached(next Texts, size int) *Cached {
	if size <= 0 {
		size = RecentVectors
	}
	return &Cached{next: next, size: size, recent: map[string][]float32{}}
}

// Embed returns cached vectors and embeds only the texts it has not seen
// lately, in one call to the wrapped embedder.
func (c *Cached) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var missing []string
	var at []int
	c.mu.Lock()
	for i, t := range texts {
		if v, ok := c.recent[t]; ok {
			out[i] = v
		} else {
			missing, at = append(missing, t), append(at, i)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	vecs, err := c.next.Embed(ctx, missing)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for j, v := range vecs {
		if j >= len(at) {
			break
		}
		out[at[j]] = v
		if _, ok := c.recent[missing[j]]; !ok {
			c.recent[missing[j]] = v
			c.order = append(c.order, missing[j])
		}
	}
	for len(c.order) > c.size {
		delete(c.recent, c.order[0])
		c.order = c.order[1:]
	}
	return out, nil
}

// Len is how many texts the cache holds.
func (c *Cached) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.recent)
}
