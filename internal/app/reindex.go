package app

import (
	"context"
	"errors"
	"log/slog"

	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/reindex"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
)

// Reindex is the server's side of a model swap: it knows which embedding
// model the vectors come from (the notice in the log, GET /api/status and
// `os1 doctor`) and runs `os1 memory reindex` in the server's process, so
// the server keeps answering (recall by text for what is not rebuilt yet)
// and nothing writes behind its back. The CLI calls it through
// POST /api/memory/reindex when a server holds the data dir.
type Reindex struct {
	store  *sqlitemem.Store
	emb    memory.Embedder // the uncached model (nil: none installed)
	runner *reindex.Runner
	log    *slog.Logger
}

// Notice is the sentence that says to reindex, or "" (also while the model
// has not loaded yet: the first turn or the worker's catch-up loads it).
func (r *Reindex) Notice(ctx context.Context) (string, error) {
	st, err := r.store.ModelStatus(ctx)
	if err != nil {
		return "", err
	}
	return st.Notice(), nil
}

// ErrNoEmbedder means no sentence embedding model is configured or installed.
var ErrNoEmbedder = errors.New("no sentence embedding model is installed (run scripts/assets.sh model, or set [embed] url)")

// Start loads the model when it has not loaded yet and begins reindexing
// users in the background; reindex.ErrRunning while one runs.
func (r *Reindex) Start(ctx context.Context, users []reindex.User) error {
	if r.emb == nil {
		return ErrNoEmbedder
	}
	if _, err := r.emb.Embed(ctx, []string{embed.ProbeSentence}); err != nil {
		return err
	}
	return r.runner.Start(users)
}

// State is the running or last reindex's progress.
func (r *Reindex) State() reindex.State { return r.runner.State() }

// Start loads the model in the background when the database holds vectors,
// so a model change is noticed (and logged) at start-up rather than at the
// first turn. A database without vectors keeps the model unloaded.
func (r *Reindex) startCheck(ctx context.Context) error {
	if r.emb == nil {
		return nil
	}
	if ok, err := r.store.HasVectors(ctx); err != nil || !ok {
		return err
	}
	go func() { _, _ = r.emb.Embed(context.WithoutCancel(ctx), []string{embed.ProbeSentence}) }()
	return nil
}

// useModel is what the lazily loaded embedder does once loaded: name the
// model to the store (recording it) and log the notice when vectors of
// another model remain.
func useModel(ctx context.Context, store *sqlitemem.Store, e embed.Embedder, log *slog.Logger) error {
	id, err := embed.Identify(ctx, e)
	if err != nil {
		return err
	}
	if err := store.UseModel(ctx, id, e, true); err != nil {
		return err
	}
	st, err := store.ModelStatus(ctx)
	if err != nil {
		return err
	}
	if n := st.Notice(); n != "" {
		log.Warn(n)
	} else {
		log.Info("sentence embedding model in use", "model", id.String())
	}
	return nil
}

type startFunc func(ctx context.Context) error

func (f startFunc) Start(ctx context.Context) error { return f(ctx) }
