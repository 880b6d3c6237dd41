package cli

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/models"
)

// connector turns configuration (and a connection saved in the UI) into a
// provider through llm.Detect. A saved connection wins over configuration:
// it is the owner's latest explicit choice.
func connector(cfg config.Config) models.Connector {
	tr := llm.Transport{
		ConnectTimeout: cfg.LLM.ConnectTimeout.Duration,
		IdleTimeout:    cfg.LLM.IdleTimeout.Duration,
		MaxRetries:     cfg.LLM.MaxRetries,
	}
	if cfg.LLM.MaxRetries == 0 {
		tr.MaxRetries = -1 // config 0 means "never retry"; llm's zero means "default"
	}
	return func(ctx context.Context, saved *models.Settings) (llm.Provider, models.Status, error) {
		o := llm.DetectOptions{
			Configured:      llm.Endpoint{Kind: cfg.LLM.Provider, URL: cfg.LLM.URL, Model: cfg.LLM.Model, APIKey: cfg.LLM.Key},
			AnthropicAPIKey: cfg.LLM.AnthropicAPIKey,
			OpenAIAPIKey:    cfg.LLM.OpenAIAPIKey,
			OllamaURL:       cfg.LLM.OllamaURL,
			Transport:       tr,
		}
		if saved != nil {
			o = llm.DetectOptions{
				Configured:       llm.Endpoint{Kind: saved.Provider, URL: saved.URL, Model: saved.Model, APIKey: saved.APIKey},
				ConfiguredSource: llm.SourceSettings,
				OllamaURL:        "off",
				Transport:        tr,
			}
		}
		if f := cfg.LLM.Fallback; f.Provider != "" || f.URL != "" {
			o.Fallback = &llm.Endpoint{Kind: f.Provider, URL: f.URL, Model: f.Model, APIKey: f.Key}
		}
		p, src, err := llm.Detect(ctx, o)
		if err != nil {
			return nil, models.Status{}, err
		}
		st := models.Status{Provider: p.Name(), Model: p.Model(), Source: string(src)}
		if b, ok := p.(interface{ BaseURL() string }); ok {
			st.URL = b.BaseURL()
		}
		if o.Fallback != nil {
			st.Fallback = o.Fallback.Kind + " " + o.Fallback.URL + " " + o.Fallback.Model
		}
		return p, st, nil
	}
}

// checkConnection confirms a new connection answers by listing its models.
// A server without a model list (404) is accepted: chat may still work.
func checkConnection(ctx context.Context, p llm.Provider) error {
	l, ok := p.(llm.ModelLister)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := l.Models(ctx)
	if err != nil {
		var e *llm.Error
		if errors.As(err, &e) && e.StatusCode == 404 {
			return nil
		}
	}
	return err
}

func clockSystem() clock.Clock { return clock.System{} }

// lazyEmbedder loads the sentence model on first use (the embedded one takes
// a fraction of a second and ~30 MiB; a model server is checked once), so
// `os1 serve` starts fast and small, and a server nobody talks to never
// loads it.
type lazyEmbedder struct {
	once sync.Once
	load func()
	done chan struct{}
	emb  embed.Embedder
	err  error

	// recent remembers the last vectors by text: the message the prompt's
	// recall just embedded is embedded again moments later for the index.
	mu     sync.Mutex
	recent map[string][]float32
	order  []string
}

const recentVectors = 256

// loadEmbedder returns the configured embedding model, loading in the
// background: a model server when [embed] url is set, else the embedded
// USE-lite model from the cache dir, or nil (full-text recall only) when
// that is not installed.
func loadEmbedder(cfg config.Config, log *slog.Logger) memory.Embedder {
	var load func() (embed.Embedder, error)
	if cfg.Embed.URL != "" {
		load = func() (embed.Embedder, error) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			return embed.NewRemote(ctx, embed.RemoteConfig{BaseURL: cfg.Embed.URL, Model: cfg.Embed.Model, APIKey: cfg.Embed.Key})
		}
	} else {
		dir := embed.USELiteDir(cfg.CacheDir)
		if _, err := os.Stat(filepath.Join(dir, "model.json")); err != nil {
			log.Warn("no sentence embedding model; memory recall uses full text only (run scripts/assets.sh model)", "dir", dir)
			return nil
		}
		load = func() (embed.Embedder, error) { return embed.LoadUSELite(dir) }
	}
	l := &lazyEmbedder{done: make(chan struct{})}
	l.load = func() {
		defer close(l.done)
		l.emb, l.err = load()
		// Loading reads and decodes 28 MB of weights; hand the scratch
		// memory back to the OS now rather than at some later GC.
		debug.FreeOSMemory()
		if l.err != nil {
			log.Error("the sentence embedding model cannot be used; memory recall and indexing will retry and fail until it is fixed", "err", l.err)
		}
	}
	return l
}

func (l *lazyEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	l.once.Do(func() { go l.load() })
	select {
	case <-l.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if l.err != nil {
		return nil, l.err
	}
	out := make([][]float32, len(texts))
	var missing []string
	var at []int
	l.mu.Lock()
	for i, t := range texts {
		if v, ok := l.recent[t]; ok {
			out[i] = v
		} else {
			missing, at = append(missing, t), append(at, i)
		}
	}
	l.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	vecs, err := l.emb.Embed(ctx, missing)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.recent == nil {
		l.recent = map[string][]float32{}
	}
	for j, v := range vecs {
		out[at[j]] = v
		if _, ok := l.recent[missing[j]]; !ok {
			l.recent[missing[j]] = v
			l.order = append(l.order, missing[j])
		}
	}
	for len(l.order) > recentVectors {
		delete(l.recent, l.order[0])
		l.order = l.order[1:]
	}
	return out, nil
}
