package embed

import (
	"context"
	"sync"
	"time"
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
// A text being embedded is embedded once: a second caller waits for the
// first one's vector (Warm starts one early, in the background).
type Cached struct {
	next Texts
	size int

	mu      sync.Mutex
	recent  map[string][]float32
	order   []string // oldest first
	pending map[string]*flight
}

// flight is a text being embedded; done closes when v or err is set.
type flight struct {
	done chan struct{}
	v    []float32
	err  error
}

// RecentVectors is the cache size os1 uses: a few turns' worth of messages.
const RecentVectors = 256

// NewCached wraps next with a cache of size texts (RecentVectors when size <= 0).
func NewCached(next Texts, size int) *Cached {
	if size <= 0 {
		size = RecentVectors
	}
	return &Cached{next: next, size: size, recent: map[string][]float32{}, pending: map[string]*flight{}}
}

// Embed returns cached vectors, waits for the texts another caller is
// embedding, and embeds the others in one call to the wrapped embedder.
// When that other caller fails, the text is embedded here instead.
func (c *Cached) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var missing []string
	var at []int
	var mine []*flight
	waits := map[int]*flight{}
	c.mu.Lock()
	for i, t := range texts {
		if v, ok := c.recent[t]; ok {
			out[i] = v
		} else if f, ok := c.pending[t]; ok {
			waits[i] = f
		} else {
			f := &flight{done: make(chan struct{})}
			c.pending[t] = f
			missing, at, mine = append(missing, t), append(at, i), append(mine, f)
		}
	}
	c.mu.Unlock()
	if len(missing) > 0 {
		vecs, err := c.next.Embed(ctx, missing)
		c.land(missing, mine, vecs, err)
		if err != nil {
			return nil, err
		}
		for j, i := range at {
			if j < len(vecs) {
				out[i] = vecs[j]
			}
		}
	}
	for i, f := range waits {
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err == nil && f.v != nil {
			out[i] = f.v
			continue
		}
		v, err := c.Embed(ctx, texts[i:i+1]) // the other caller failed (or was cancelled)
		if err != nil {
			return nil, err
		}
		out[i] = v[0]
	}
	return out, nil
}

// land records the vectors of a finished call and releases its waiters.
func (c *Cached) land(texts []string, flights []*flight, vecs [][]float32, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for j, t := range texts {
		f := flights[j]
		delete(c.pending, t)
		switch {
		case err != nil:
			f.err = err
		case j < len(vecs):
			f.v = vecs[j]
			if _, ok := c.recent[t]; !ok {
				c.recent[t] = vecs[j]
				c.order = append(c.order, t)
			}
		}
		close(f.done)
	}
	for len(c.order) > c.size {
		delete(c.recent, c.order[0])
		c.order = c.order[1:]
	}
}

// Warm starts embedding text in the background, unless it is cached or
// already being embedded, so a caller that asks for it soon after waits
// less. The work is bounded by timeout; a failure is only noticed by a
// later Embed, which then embeds the text itself.
func (c *Cached) Warm(text string, timeout time.Duration) {
	c.mu.Lock()
	_, cached := c.recent[text]
	_, busy := c.pending[text]
	c.mu.Unlock()
	if cached || busy || text == "" {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, _ = c.Embed(ctx, []string{text})
	}()
}

// Len is how many texts the cache holds.
func (c *Cached) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.recent)
}
