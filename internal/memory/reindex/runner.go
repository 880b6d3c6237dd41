package reindex

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
)

// User is whose memory a Runner reindexes.
type User struct{ ID, Username string }

// State is a Runner's reindex as GET /api/memory/reindex shows it.
type State struct {
	Running    bool       `json:"running"`
	Users      []Progress `json:"users"`
	Error      string     `json:"error,omitempty"` // why the last run stopped early
	StartedAt  time.Time  `json:"started_at,omitzero"`
	FinishedAt time.Time  `json:"finished_at,omitzero"`
}

// Runner runs one reindex at a time in the background of a server, user
// after user, and keeps its progress. Close cancels it; what was committed
// stays, and the next Start resumes.
type Runner struct {
	st    Store
	emb   memory.Embedder
	clock clock.Clock
	log   *slog.Logger
	batch int
	busy  atomic.Pointer[func() bool]

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	state State
}

// NewRunner returns a Runner that rebuilds vectors in st with emb.
func NewRunner(st Store, emb memory.Embedder, c clock.Clock, log *slog.Logger) *Runner {
	if c == nil {
		c = clock.System{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{st: st, emb: emb, clock: c, log: log, ctx: ctx, cancel: cancel}
}

// SetBusy sets the hook that says a user's turn is running
// (companion.Companion.Busy; nil: never wait): before each batch the
// reindex waits while a turn runs, as the memory worker does. Safe while a
// reindex runs, so the program can wire the companion, built later.
func (r *Runner) SetBusy(f func() bool) {
	if f == nil {
		r.busy.Store(nil)
		return
	}
	r.busy.Store(&f)
}

func (r *Runner) isBusy() bool {
	f := r.busy.Load()
	return f != nil && (*f)()
}

// Start begins reindexing users in the background; ErrRunning while one runs.
func (r *Runner) Start(users []User) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state.Running {
		return ErrRunning
	}
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	r.state = State{Running: true, StartedAt: r.clock.Now(), Users: make([]Progress, len(users))}
	for i, u := range users {
		r.state.Users[i] = Progress{UserID: u.ID, Username: u.Username}
	}
	r.wg.Add(1)
	go r.run(users)
	return nil
}

func (r *Runner) run(users []User) {
	defer r.wg.Done()
	var failed error
	for i, u := range users {
		r.log.Info("memory reindex started", "user", u.Username)
		p, err := Run(r.ctx, r.st, r.emb, u.ID, Options{Batch: r.batch, Clock: r.clock, Busy: r.isBusy, OnProgress: func(p Progress) {
			p.Username = u.Username
			r.mu.Lock()
			r.state.Users[i] = p
			r.mu.Unlock()
		}})
		if err != nil {
			failed = err
			r.log.Error("memory reindex stopped; run it again to go on where it stopped", "user", u.Username, "err", err)
			break
		}
		r.log.Info("memory reindex finished", "user", u.Username, "documents", p.Total, "rate", p.Rate)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state.Running, r.state.FinishedAt = false, r.clock.Now()
	if failed != nil {
		r.state.Error = failed.Error()
	}
}

// State returns a copy of the current or last reindex's progress.
func (r *Runner) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.state
	s.Users = append([]Progress(nil), s.Users...)
	return s
}

// Wait waits until no reindex runs.
func (r *Runner) Wait() { r.wg.Wait() }

// Close cancels a running reindex and waits for it to stop.
func (r *Runner) Close() {
	r.cancel()
	r.wg.Wait()
}
