// Package reindex rebuilds the vectors of a user's memory (messages, items,
// journal entries) with the embedding model in use, after a model swap: a
// batch at a time, each batch committed with a cursor in the database, so a
// reindex that is cancelled or killed (kill -9 included) goes on where it
// stopped when it runs again. Until a document is rebuilt, recall finds it
// by full text only; vectors of two models are never compared (the store
// loads only the current model's, see sqlitemem/models.go).
//
// Run is one user's reindex, for `os1 memory reindex` with no server;
// Runner runs them in the server's process, beside the users' turns, and
// keeps the progress for GET /api/memory/reindex. It must never log memory
// content.
package reindex

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
)

// Store is the part of the memory backend a reindex uses (sqlitemem.Store).
type Store interface {
	// ReindexCursor starts or resumes the user's reindex: documents after
	// the returned seq remain.
	ReindexCursor(ctx context.Context, userID string) (int64, error)
	// ReindexBatch returns up to limit documents after cursor that lack a
	// vector of the current model, in seq order.
	ReindexBatch(ctx context.Context, userID string, cursor int64, limit int) ([]sqlitemem.ReindexDoc, error)
	// ReindexPut stores their vectors and the new cursor in one transaction.
	ReindexPut(ctx context.Context, userID string, docs []sqlitemem.ReindexDoc, vecs [][]float32, cursor int64) error
	// ReindexDone forgets the finished reindex's cursor.
	ReindexDone(ctx context.Context, userID string) error
	// ReindexCounts is how many documents have a current vector, of all.
	ReindexCounts(ctx context.Context, userID string) (done, total int, err error)
}

var _ Store = (*sqlitemem.Store)(nil)

// Progress is one user's reindex so far.
type Progress struct {
	UserID   string        `json:"user_id"`
	Username string        `json:"username,omitempty"`
	Done     int           `json:"done"`  // documents with a vector of the current model
	Total    int           `json:"total"` // all the user's documents
	Rate     float64       `json:"rate"`  // documents rebuilt per second in this run
	ETA      time.Duration `json:"eta_ns"`
	Finished bool          `json:"finished"`
	// Paused is true while the run waits for a user's turn to end.
	Paused bool `json:"paused,omitempty"`
}

// Options tune Run.
type Options struct {
	Batch int         // documents embedded and committed together (default 32)
	Clock clock.Clock // default clock.System
	// OnProgress is called after each committed batch and at the end.
	OnProgress func(Progress)
	// Busy, when set, reports whether a user's turn is running; before each
	// batch the run waits while it does (polling every BusyPoll on Clock, at
	// most BusyMaxWait per batch), so a reindex in the server's process
	// never takes the CPU or a model server's slot from a reply.
	Busy        func() bool
	BusyPoll    time.Duration // default DefaultBusyPoll
	BusyMaxWait time.Duration // default DefaultBusyMaxWait
}

// Defaults for yielding to users' turns, those of the memory worker
// (worker.DefaultBusyPoll, DefaultBusyMaxWait): a batch waits at most this
// long, so a user who never stops talking still sees the reindex finish.
const (
	DefaultBusyPoll    = 2 * time.Second
	DefaultBusyMaxWait = 2 * time.Minute
)

// DefaultBatch is a batch small enough that a kill loses little work and a
// user's turn waits little for the database, and big enough to amortise a
// remote embedder's round trip.
const DefaultBatch = 32

// Run rebuilds the user's vectors with emb (which must be the model the
// store uses) until none remain, and returns the final progress. On an
// error or cancellation, what was committed stays; running again resumes.
func Run(ctx context.Context, st Store, emb memory.Embedder, userID string, o Options) (Progress, error) {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.OnProgress == nil {
		o.OnProgress = func(Progress) {}
	}
	if o.BusyPoll <= 0 {
		o.BusyPoll = DefaultBusyPoll
	}
	if o.BusyMaxWait <= 0 {
		o.BusyMaxWait = DefaultBusyMaxWait
	}
	p := Progress{UserID: userID}
	cursor, err := st.ReindexCursor(ctx, userID)
	if err != nil {
		return p, err
	}
	if p.Done, p.Total, err = st.ReindexCounts(ctx, userID); err != nil {
		return p, err
	}
	o.OnProgress(p)
	start, built := o.Clock.Now(), 0
	for {
		docs, err := st.ReindexBatch(ctx, userID, cursor, o.Batch)
		if err != nil {
			return p, err
		}
		if len(docs) == 0 {
			break
		}
		if err := waitWhileBusy(ctx, &p, o); err != nil {
			return p, err
		}
		texts := make([]string, len(docs))
		for i, d := range docs {
			texts[i] = d.Text
		}
		vecs, err := emb.Embed(ctx, texts)
		if err != nil {
			return p, fmt.Errorf("embed %d documents: %w", len(docs), err)
		}
		if len(vecs) != len(docs) {
			return p, fmt.Errorf("embed %d documents: the model returned %d vectors", len(docs), len(vecs))
		}
		cursor = docs[len(docs)-1].Seq
		if err := st.ReindexPut(ctx, userID, docs, vecs, cursor); err != nil {
			return p, err
		}
		built += len(docs)
		p.Done = min(p.Done+len(docs), p.Total)
		if el := o.Clock.Now().Sub(start).Seconds(); el > 0 {
			p.Rate = float64(built) / el
			p.ETA = time.Duration(float64(p.Total-p.Done) / p.Rate * float64(time.Second))
		}
		o.OnProgress(p)
	}
	if err := st.ReindexDone(ctx, userID); err != nil {
		return p, err
	}
	if p.Done, p.Total, err = st.ReindexCounts(ctx, userID); err != nil {
		return p, err
	}
	p.ETA, p.Finished = 0, true
	o.OnProgress(p)
	return p, nil
}

// waitWhileBusy waits while o.Busy says a user's turn runs, at most
// o.BusyMaxWait, reporting the pause; it returns ctx.Err() when cancelled.
func waitWhileBusy(ctx context.Context, p *Progress, o Options) error {
	if o.Busy == nil || !o.Busy() {
		return ctx.Err()
	}
	start := o.Clock.Now()
	p.Paused = true
	o.OnProgress(*p)
	defer func() { p.Paused = false }()
	for o.Busy() {
		waited := o.Clock.Now().Sub(start)
		if waited >= o.BusyMaxWait {
			return ctx.Err()
		}
		if err := clock.Sleep(ctx, o.Clock, min(o.BusyPoll, o.BusyMaxWait-waited)); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// ErrRunning means a reindex is already running in this process.
var ErrRunning = errors.New("a reindex is already running")
