package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
)

// OpenEmbedder loads the configured sentence embedding model now: a model
// server when [embed] url is set, else the embedded USE-lite model from the
// cache dir (embed.ErrModelMissing when it is not installed).
func OpenEmbedder(ctx context.Context, cfg config.Config) (embed.Embedder, error) {
	if cfg.Embed.URL != "" {
		return embed.NewRemote(ctx, embed.RemoteConfig{BaseURL: cfg.Embed.URL, Model: cfg.Embed.Model, APIKey: cfg.Embed.Key})
	}
	return embed.LoadUSELite(embed.USELiteDir(cfg.CacheDir))
}

// lazyEmbedder is the server's embedder: loaded in the background on first
// use, with the recent vectors cached; raw is the same model uncached (for
// a reindex, whose texts are seen once). Once loaded it names its model to
// store (models.go in sqlitemem), which logs a model change. Both are nil
// (full-text recall only) when no model server is set and USE-lite is not
// installed.
func lazyEmbedder(cfg config.Config, log *slog.Logger, store *sqlitemem.Store) (cached, raw memory.Embedder) {
	if cfg.Embed.URL == "" {
		dir := embed.USELiteDir(cfg.CacheDir)
		if _, err := os.Stat(filepath.Join(dir, "model.json")); err != nil {
			log.Warn("no sentence embedding model; memory recall uses full text only (run scripts/assets.sh model)", "dir", dir)
			return nil, nil
		}
	}
	lazy := embed.NewLazy(func() (embed.Embedder, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		e, err := OpenEmbedder(ctx, cfg)
		// Loading reads and decodes 28 MB of weights; hand the scratch
		// memory back to the OS now rather than at some later GC.
		debug.FreeOSMemory()
		if err == nil && store != nil {
			err = useModel(ctx, store, e, log)
		}
		if err != nil {
			log.Error("the sentence embedding model cannot be used; memory recall and indexing will retry and fail until it is fixed", "err", err)
		}
		return e, err
	})
	return embed.NewCached(lazy, embed.RecentVectors), lazy
}
