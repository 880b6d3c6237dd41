package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// Missed is what happens to a job that fell due while no scheduler ran
// (more than its kind's Grace ago when it is claimed).
type Missed int

const (
	// FireLate runs it anyway; the handler sees how late in Firing.Late
	// and the job's note says so. For what still matters late: a reminder.
	FireLate Missed = iota
	// Skip does not run it; the job is skipped with a note saying when it
	// was due. For what is pointless late: a wake-up alarm.
	Skip
)

// Kind is how jobs of one kind are run.
type Kind struct {
	Handler Handler
	Missed  Missed
	// Grace is how late a job may start and still count as on time;
	// 0: DefaultGrace.
	Grace time.Duration
	// Lease is how long one run may hold its claim before another
	// scheduler may take the job over (the first is presumed dead); it is
	// also the run's timeout. 0: DefaultLease.
	Lease time.Duration
	// MaxAttempts bounds claims of one job (a handler that kills its
	// process would otherwise run forever); 0: DefaultMaxAttempts.
	MaxAttempts int
}

// Defaults of Kind.
const (
	DefaultGrace       = time.Minute
	DefaultLease       = 5 * time.Minute
	DefaultMaxAttempts = 3
)

// Firing is one run of a job, as its handler sees it.
type Firing struct {
	Job
	Now  time.Time     // when it started
	Late time.Duration // how far past Due, when beyond the kind's Grace; else 0
}

// Handler runs one job. Returning nil marks it done; an error marks it
// failed with the error as its note, unless the error is a Deferral.
type Handler func(ctx context.Context, f Firing) error

// Deferral is an error a handler returns to put the job back, pending at
// Until (quiet hours), with Why as its note.
type Deferral struct {
	Until time.Time
	Why   string
}

func (d *Deferral) Error() string {
	return "deferred until " + d.Until.Format(time.RFC3339) + ": " + d.Why
}

// Defer returns a Deferral.
func Defer(until time.Time, why string) error { return &Deferral{Until: until, Why: why} }

// Options tune a Scheduler.
type Options struct {
	// Workers bounds handlers running at once, and so the jobs one claim
	// takes; 0: 64. Handlers hand slow work on (a reminder starts a turn
	// and returns), so a worker is held for milliseconds.
	Workers int
	// MaxSleep bounds how long the scheduler sleeps with nothing due. A job
	// added by another process (os1 talk, another node) sharing the
	// database does not reset this process's timer, so it is seen at most
	// MaxSleep late; it is also the whole idle cost (one indexed query per
	// MaxSleep). 0: one minute.
	MaxSleep time.Duration
	Log      *slog.Logger
}

// Stats count what a scheduler did, for tests and benchmarks.
type Stats struct {
	Wakeups  int64 // times the loop woke (timer, Add, a freed worker)
	Claimed  int64
	Done     int64
	Failed   int64
	Skipped  int64
	Deferred int64
}

// Scheduler runs due jobs through their kind's handler. Build it with New,
// register kinds with Handle, then Start; Close stops it, waiting for
// running handlers.
type Scheduler struct {
	store Store
	clock clock.Clock
	ids   clock.IDs
	log   *slog.Logger
	opt   Options

	kinds map[string]Kind
	names []string

	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	started atomic.Bool
	once    sync.Once
	running sync.WaitGroup
	slots   chan struct{}

	ctx    context.Context // handlers' context; cancelled by Close
	cancel context.CancelFunc

	outcomes chan Outcome  // from handlers to the settler
	settled  chan struct{} // closed when the settler has written the last
	starved  atomic.Bool   // the loop waits for a worker to free up

	wakeups, claimed, doneN, failed, skipped, deferred atomic.Int64
	next                                               atomic.Int64 // NextWake, in Unix nanoseconds; 0 while awake
}

// New returns a scheduler over st. ids makes job IDs and claim tokens.
func New(st Store, c clock.Clock, ids clock.IDs, o Options) *Scheduler {
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.MaxSleep <= 0 {
		o.MaxSleep = time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{store: st, clock: c, ids: ids, log: o.Log, opt: o, kinds: map[string]Kind{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		slots: make(chan struct{}, o.Workers), ctx: ctx, cancel: cancel,
		outcomes: make(chan Outcome, 4*o.Workers), settled: make(chan struct{})}
}

// Handle registers the kind's handler and policy. It must be called before
// Start; a kind registered twice panics (two owners of one kind is a wiring
// bug).
func (s *Scheduler) Handle(kind string, k Kind) {
	if s.started.Load() {
		panic("schedule: Handle after Start")
	}
	if _, dup := s.kinds[kind]; dup || kind == "" || k.Handler == nil {
		panic(fmt.Sprintf("schedule: kind %q registered twice, unnamed or without a handler", kind))
	}
	if k.Grace <= 0 {
		k.Grace = DefaultGrace
	}
	if k.Lease <= 0 {
		k.Lease = DefaultLease
	}
	if k.MaxAttempts <= 0 {
		k.MaxAttempts = DefaultMaxAttempts
	}
	s.kinds[kind] = k
	s.names = append(s.names, kind)
	sort.Strings(s.names)
}

// Store returns the scheduler's store.
func (s *Scheduler) Store() Store { return s.store }

// Add stores a new pending job and, when it is due sooner than the timer,
// wakes the scheduler. ID, State, CreatedAt and Attempts are filled in.
func (s *Scheduler) Add(ctx context.Context, j Job) (Job, error) {
	if _, ok := s.kinds[j.Kind]; !ok {
		return Job{}, fmt.Errorf("schedule a %q job: %w", j.Kind, ErrNoHandler)
	}
	if j.ID == "" {
		j.ID = s.ids.NewID("job_")
	}
	if len(j.Payload) == 0 {
		j.Payload = []byte("{}")
	}
	j.State, j.Attempts, j.Token, j.ClaimedUntil, j.FiredAt = Pending, 0, "", time.Time{}, time.Time{}
	j.CreatedAt = s.clock.Now()
	if err := s.store.AddJob(ctx, j); err != nil {
		return Job{}, err
	}
	s.Wake()
	return j, nil
}

// Wake makes the scheduler look again for what is due and when the next
// job is (after a snooze, or a job added behind its back). It never blocks.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Stats returns what the scheduler did so far.
func (s *Scheduler) Stats() Stats {
	return Stats{Wakeups: s.wakeups.Load(), Claimed: s.claimed.Load(), Done: s.doneN.Load(),
		Failed: s.failed.Load(), Skipped: s.skipped.Load(), Deferred: s.deferred.Load()}
}

// Start runs the scheduler in the background until Close.
func (s *Scheduler) Start(context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("schedule: started twice")
	}
	go s.settler()
	go s.loop()
	return nil
}

// Close stops claiming, cancels running handlers' contexts and waits for
// them. A job whose handler fails once cut off is put back as it was, for
// the next scheduler; one whose process dies instead stays claimed until
// its lease ends, and runs then.
func (s *Scheduler) Close() error {
	s.once.Do(func() {
		close(s.stop)
		if s.started.Load() {
			<-s.done
		}
		s.cancel()
		s.running.Wait()
		close(s.outcomes)
		if s.started.Load() {
			<-s.settled
		}
	})
	return nil
}

// loop claims what is due, then sleeps on one timer until the next due job,
// an Add, a freed worker, or Close.
func (s *Scheduler) loop() {
	defer close(s.done)
	var timer clock.Timer
	for {
		sleep, err := s.round()
		if err != nil && s.ctx.Err() == nil {
			s.log.Warn("scheduler: claim due jobs", "err", err)
			sleep = min(s.opt.MaxSleep, 5*time.Second) // the database is unwell: try again soon, not at once
		}
		// The timer is made after the first round, so a test that sees it
		// armed knows the scheduler has looked at the store.
		if timer == nil {
			timer = s.clock.NewTimer(sleep)
			defer timer.Stop()
		} else {
			timer.Reset(sleep)
		}
		s.next.Store(s.clock.Now().Add(sleep).UnixNano())
		select {
		case <-s.stop:
			return
		case <-timer.C():
		case <-s.wake:
		}
		s.next.Store(0)
		s.wakeups.Add(1)
	}
}

// NextWake is when the scheduler's timer is set to wake it, or zero while
// it is awake (claiming, or about to). Tests on a fake clock wait for it
// before moving time.
func (s *Scheduler) NextWake() time.Time {
	if n := s.next.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// round starts what is due now, as many as there are free workers, and
// returns how long to sleep: until the next due job, at most MaxSleep.
func (s *Scheduler) round() (time.Duration, error) {
	if len(s.names) == 0 {
		return s.opt.MaxSleep, nil
	}
	for {
		// Starved is set before the count, so a handler that frees a
		// worker after the count sees it and wakes the loop.
		s.starved.Store(true)
		free := cap(s.slots) - len(s.slots)
		if free == 0 {
			return s.opt.MaxSleep, nil // a finishing handler wakes the loop
		}
		s.starved.Store(false)
		now := s.clock.Now()
		jobs, err := s.claim(now, free)
		if err != nil {
			return 0, err
		}
		for _, j := range jobs {
			s.slots <- struct{}{}
			s.running.Add(1)
			go s.run(j, now)
		}
		if len(jobs) < free {
			break
		}
		select {
		case <-s.stop:
			return 0, nil
		default:
		}
	}
	at, ok, err := s.store.NextDue(s.ctx, s.names)
	if err != nil {
		return 0, err
	}
	if !ok {
		return s.opt.MaxSleep, nil
	}
	return min(max(at.Sub(s.clock.Now()), 0), s.opt.MaxSleep), nil
}

// claim takes up to n due jobs. Kinds with different leases are claimed
// with the longest one: a lease only has to outlast the run.
func (s *Scheduler) claim(now time.Time, n int) ([]Job, error) {
	var lease time.Duration
	for _, k := range s.kinds {
		lease = max(lease, k.Lease)
	}
	jobs, err := s.store.Claim(s.ctx, s.names, now, lease, s.ids.Token(16), n)
	s.claimed.Add(int64(len(jobs)))
	return jobs, err
}

// run runs one claimed job and records how it ended.
func (s *Scheduler) run(j Job, now time.Time) {
	defer func() {
		<-s.slots
		s.running.Done()
		if s.starved.CompareAndSwap(true, false) {
			s.Wake() // the loop waits for a free worker
		}
	}()
	k := s.kinds[j.Kind]
	f := Firing{Job: j, Now: now}
	if late := now.Sub(j.Due); late > k.Grace {
		f.Late = late
	}
	state, note := Done, ""
	switch {
	case j.Attempts > k.MaxAttempts:
		state, note = Failed, fmt.Sprintf("gave up after %d attempts: each run ended without finishing (the process stopped)", j.Attempts-1)
	case f.Late > 0 && k.Missed == Skip:
		state, note = Skipped, fmt.Sprintf("missed: it was due %s ago, while os1 was not running", roundLate(f.Late))
	default:
		if f.Late > 0 {
			note = fmt.Sprintf("ran %s late: os1 was not running when it was due", roundLate(f.Late))
		}
		ctx, cancel := context.WithTimeout(s.ctx, k.Lease)
		err := s.call(ctx, k.Handler, f)
		cancel()
		var d *Deferral
		switch {
		case errors.As(err, &d):
			s.deferred.Add(1)
			s.outcomes <- Outcome{ID: j.ID, Token: j.Token, State: Pending, Due: d.Until, Note: d.Why}
			return
		case err != nil && s.ctx.Err() != nil:
			// Cut off by Close: put it back as it was, for the next
			// scheduler to run at once rather than after the lease.
			s.outcomes <- Outcome{ID: j.ID, Token: j.Token, State: Pending, Due: j.Due, Note: "interrupted by a shutdown"}
			return
		case err != nil:
			state, note = Failed, err.Error()
		}
	}
	switch state {
	case Done:
		s.doneN.Add(1)
	case Failed:
		s.failed.Add(1)
		s.log.Warn("scheduled job failed", "job", j.ID, "kind", j.Kind, "user", j.UserID, "reason", note)
	case Skipped:
		s.skipped.Add(1)
	}
	s.outcomes <- Outcome{ID: j.ID, Token: j.Token, State: state, Note: note, At: s.clock.Now()}
}

// settleBatch bounds the outcomes written in one transaction.
const settleBatch = 512

// settler writes what handlers ended with, as many as are waiting in one
// transaction: one commit per job would cap a burst of reminders at the
// database's commits per second. Until settled a job stays running under
// its lease, so nothing can claim it twice meanwhile.
func (s *Scheduler) settler() {
	defer close(s.settled)
	batch := make([]Outcome, 0, settleBatch)
	for o := range s.outcomes {
		batch = append(batch[:0], o)
	more:
		for len(batch) < settleBatch {
			select {
			case o, ok := <-s.outcomes:
				if !ok {
					break more
				}
				batch = append(batch, o)
			default:
				break more
			}
		}
		if err := s.store.Settle(context.Background(), batch...); err != nil {
			s.log.Warn("scheduler: record how jobs ended", "jobs", len(batch), "err", err)
		}
		// What is due next may have changed (a settled job's lease was the
		// soonest time; a deferred one is due again).
		s.Wake()
	}
}

// call runs h, turning a panic into an error with its stack logged.
func (s *Scheduler) call(ctx context.Context, h Handler, f Firing) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("scheduled job panicked", "job", f.ID, "kind", f.Kind, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("the %s handler panicked: %v", f.Kind, r)
		}
	}()
	return h(ctx, f)
}

// roundLate rounds a lateness for a note: minutes, or seconds under one.
func roundLate(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(time.Minute)
}
