// Package worker is memory's background work: the Service indexes each
// stored turn for recall, hands the new messages to extraction, writes the
// daily journal when the user is idle or the day is over, retries with
// backoff, and quarantines a record that keeps panicking.
//
// It must never skip a message (durable watermarks, catch-up on start and
// after an overflow), never block the turn that told it about new messages,
// and never be started by more than the one program that owns the data
// dir's memory (os1 serve).
package worker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/extract"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
)

// CoreReader is the core store as memory's background work reads it: the
// episodic log and who the users are.
type CoreReader interface {
	extract.CoreReader
	ListUsers(ctx context.Context) ([]store.User, error)
	RecentMessages(ctx context.Context, userID, conversationID string, limit int) ([]store.Message, error)
}

// ChangeFunc is told the items an extraction added, superseded or
// invalidated, so the user's open pages can refresh
// (companion.Companion.MemoryChanged has this shape). It runs on the
// worker's goroutine, so it must not block for long.
type ChangeFunc func(ctx context.Context, userID string, itemIDs ...string)

type nopMeter struct{}

func (nopMeter) MemoryEvent(string, int) {}

// Deps are the memory service's collaborators.
type Deps struct {
	Core     CoreReader
	Memory   memory.Store
	Recall   memory.Searcher // the Recaller
	Models   extract.Models
	Embedder memory.Embedder // nil: messages are indexed for full text only
	Echoes   *memory.Echoes  // shared with the prompt slot and the recall tool
	Progress memory.Progress // nil: the Memory store's (see ProgressKeeper)
	Clock    clock.Clock
	Meter    memory.Meter
	Log      *slog.Logger
	OnChange ChangeFunc // nil: nobody is told (see SetOnChange)
	// Busy says a user's turn is running; model calls wait while it does
	// (busy.go). nil: never wait (see SetBusy).
	Busy BusyFunc
	// Locks keep a conversation's extraction and a user's journal to one
	// worker at a time, also across the nodes of a cluster (lock.go). nil:
	// Progress's, when it has them (sqlitemem's do), else locks within this
	// process.
	Locks memory.WorkLocks
}

// Options tune the service. Zero values take the defaults.
type Options struct {
	QueueSize     int           // turns waiting; more trigger a catch-up (default 256)
	TickEvery     time.Duration // retries and consolidation, on Deps.Clock (default 1m; negative: only when Tick is called)
	BatchMessages int           // messages per extraction call (default 20)
	RetryMin      time.Duration // first wait after a failure (default 1m)
	RetryMax      time.Duration // longest wait (default 1h)
	BusyPoll      time.Duration // how often a model call waiting for a turn asks again (default 2s)
	BusyMaxWait   time.Duration // longest a model call waits for turns (default 2m)
	LockWait      time.Duration // longest a conversation waits for another worker's lock; then it is retried (default 1m)
	Extract       extract.Options
	Journal       extract.JournalOptions
}

// Service is memory's background work. It implements companion.Listener:
// after each turn it indexes the new messages for recall (with vectors when
// an embedder is set) and extracts memories from them; when the user has
// been idle a while, or a day is over, it writes the day's journal entry.
//
// One goroutine does all of it, in order, so its model calls run one at a
// time, and each waits while a user's turn is running (Deps.Busy, up to
// Options.BusyMaxWait). It survives a panic in any of
// it: the record that panicked is retried later and, after QuarantineAfter
// panics, quarantined (quarantine.go). Delivery: TurnStored only queues
// (lossy when the queue is full), but every conversation's watermark is
// durable, so on start-up and after an overflow the worker catches up on
// everything past them: no message is ever skipped. A failed extraction
// (model down, rate limited) leaves the watermark where it was and is tried
// again later, with backoff.
type Service struct {
	d       Deps
	opts    Options
	extract *extract.Extractor
	journal *extract.Consolidator

	queue     chan turnJob
	ctl       chan ctlReq
	wake      chan struct{}
	overflow  atomic.Bool
	startOnce sync.Once
	ctx       context.Context
	stop      context.CancelFunc
	done      chan struct{}

	// The loop's alone:
	retries        map[string]retryAt            // conversation ID -> next extraction attempt
	journalRetries map[string]retryAt            // user ID -> next journal attempt
	catchUpDue     bool                          // a catch-up failed
	failures       map[failureKey]memory.Failure // records that panicked, as last read (quarantine.go)

	onChange atomic.Pointer[ChangeFunc]
	busy     atomic.Pointer[BusyFunc]
}

var (
	_ companion.Listener = (*Service)(nil)
	_ companion.Reviser  = (*Service)(nil)
)

type turnJob struct {
	userID, convID string
	revised        string // a message whose text changed after it was stored (MessageRevised)
}

type ctlReq struct {
	tick    bool
	release *memory.Failure // take this record out of quarantine (UserID, ID)
	done    chan error
}

type retryAt struct {
	userID   string
	attempts int
	next     time.Time
}

// New makes the worker; Start runs it. Call Close to stop it.
func New(d Deps, o Options) *Service {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Meter == nil {
		d.Meter = nopMeter{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	d.Progress = memory.ProgressOf(d.Progress, d.Memory, "memory.New")
	o.QueueSize = cmp.Or(max(o.QueueSize, 0), 256)
	o.TickEvery = cmp.Or(o.TickEvery, time.Minute)
	o.BatchMessages = cmp.Or(max(o.BatchMessages, 0), extract.DefaultBatchMessages)
	o.RetryMin = cmp.Or(o.RetryMin, time.Minute)
	o.RetryMax = cmp.Or(o.RetryMax, time.Hour)
	o.BusyPoll = cmp.Or(max(o.BusyPoll, 0), DefaultBusyPoll)
	o.BusyMaxWait = cmp.Or(max(o.BusyMaxWait, 0), DefaultBusyMaxWait)
	o.LockWait = cmp.Or(max(o.LockWait, 0), DefaultLockWait)
	if d.Locks == nil {
		if l, ok := d.Progress.(memory.WorkLocks); ok {
			d.Locks = l
		} else {
			d.Locks = &memory.LocalLocks{}
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Service{d: d, opts: o,
		queue: make(chan turnJob, o.QueueSize), ctl: make(chan ctlReq), wake: make(chan struct{}, 1),
		ctx: ctx, stop: stop, done: make(chan struct{}), retries: map[string]retryAt{}, journalRetries: map[string]retryAt{},
		failures: map[failureKey]memory.Failure{}}
	// Extraction and the journal get the model through the worker, which
	// holds each call back while a user's turn runs (busy.go).
	models := yieldingModels{s: s, next: d.Models}
	s.extract = extract.New(extract.Deps{Memory: d.Memory, Recall: d.Recall, Models: models, Embedder: d.Embedder,
		Echoes: d.Echoes, Clock: d.Clock, Meter: d.Meter, Log: d.Log}, o.Extract)
	s.journal = extract.NewConsolidator(extract.ConsolidatorDeps{Core: d.Core, Memory: d.Memory, Models: models, Embedder: d.Embedder,
		Progress: d.Progress, Clock: d.Clock, Meter: d.Meter, Log: d.Log}, o.Journal)
	s.SetOnChange(d.OnChange)
	s.SetBusy(d.Busy)
	return s
}

// SetOnChange replaces the hook told about changed items (nil: none). It
// is safe to call while the worker runs, so the program can wire the
// companion, which is built with this Service as its listener, afterwards.
func (s *Service) SetOnChange(f ChangeFunc) {
	if f == nil {
		s.onChange.Store(nil)
		return
	}
	s.onChange.Store(&f)
}

// changed tells the hook about what an extraction did to userID's items.
func (s *Service) changed(ctx context.Context, userID string, r extract.Result) {
	f := s.onChange.Load()
	if f == nil {
		return
	}
	ids := slices.Concat(r.Added, r.Superseded, r.Invalidated)
	if len(ids) == 0 {
		return
	}
	(*f)(ctx, userID, ids...)
}

// Start runs the worker in the background. It first catches up on every
// conversation past its watermark, so only the program that owns the data
// dir's memory (os1 serve) starts it. Starting twice, or after Close, does
// nothing; ctx is not kept: Close stops the worker.
func (s *Service) Start(context.Context) error {
	s.startOnce.Do(func() {
		if s.ctx.Err() != nil {
			close(s.done)
			return
		}
		go s.loop()
	})
	return nil
}

// TurnStored queues the conversation for indexing and extraction. It never
// blocks: when the queue is full it asks for a catch-up instead.
func (s *Service) TurnStored(userID, conversationID string) {
	if s.ctx.Err() != nil {
		return // closed: the next start catches up
	}
	select {
	case s.queue <- turnJob{userID: userID, convID: conversationID}:
	default:
		s.overflow.Store(true)
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// MessageRevised re-indexes a message whose text changed after its turn
// (a spoken reply cut back to what the user heard), so recall never finds
// words that are no longer in the conversation. A message not indexed yet
// needs nothing: it is indexed as it is now. Like TurnStored it never blocks;
// when the queue is full the change waits for the next re-index of that
// message or a catch-up.
func (s *Service) MessageRevised(userID, conversationID, messageID string) {
	if s.ctx.Err() != nil {
		return
	}
	select {
	case s.queue <- turnJob{userID: userID, convID: conversationID, revised: messageID}:
	default:
		s.d.Log.Warn("memory: queue full; a revised message keeps its old text in recall", "message", messageID)
	}
}

// Tick runs what the timer runs: due retries, then due journal entries. It
// returns when they are done (tests call it with a fake clock).
func (s *Service) Tick(ctx context.Context) error { return s.call(ctx, ctlReq{tick: true}) }

// Flush returns once everything queued before it has been processed.
func (s *Service) Flush(ctx context.Context) error { return s.call(ctx, ctlReq{}) }

func (s *Service) call(ctx context.Context, c ctlReq) error {
	c.done = make(chan error, 1)
	select {
	case s.ctl <- c:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errors.New("the memory service is closed")
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the worker after the step it is in; a model call in flight
// is cancelled. What is left is caught up at the next start. Closing a
// worker that never started only marks it closed.
func (s *Service) Close() {
	s.stop()
	s.startOnce.Do(func() { close(s.done) })
	<-s.done
}

func (s *Service) loop() {
	defer close(s.done)
	var tick <-chan time.Time
	if s.opts.TickEvery > 0 {
		t := s.d.Clock.NewTicker(s.opts.TickEvery)
		defer t.Stop()
		tick = t.C()
	}
	s.loadFailures(s.ctx)
	_ = s.guard("catch-up", "start-up", func() error { s.catchUp(s.ctx); return nil })
	for !s.serve(tick) {
		s.d.Meter.MemoryEvent("restart", 1)
	}
}

// serve is the worker's loop. It returns true when the service is closed,
// and false after recovering a panic that escaped the per-record guards
// (then loop starts it again, and a control request in flight fails).
func (s *Service) serve(tick <-chan time.Time) (closed bool) {
	var pending chan error // the control request being answered
	defer func() {
		if r := recover(); r != nil {
			s.d.Log.Error("memory: the worker recovered a panic and goes on", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if pending != nil {
				pending <- fmt.Errorf("memory worker: %w: %v", errPanicked, r)
			}
			closed = false
		}
	}()
	for {
		if s.overflow.Swap(false) {
			s.catchUp(s.ctx)
		}
		select {
		case <-s.ctx.Done():
			return true
		case j := <-s.queue:
			s.run(s.ctx, j)
		case <-s.wake:
		case <-tick:
			s.tick(s.ctx)
		case c := <-s.ctl:
			pending = c.done
			s.drain(s.ctx)
			var err error
			var retry string
			switch {
			case c.tick:
				err = s.tick(s.ctx)
			case c.release != nil:
				retry, err = s.release(s.ctx, *c.release)
			}
			pending = nil
			c.done <- err
			if retry != "" {
				s.run(s.ctx, turnJob{userID: c.release.UserID, convID: retry})
			}
		}
	}
}

// drain processes what is queued now.
func (s *Service) drain(ctx context.Context) {
	for ctx.Err() == nil {
		if s.overflow.Swap(false) {
			s.catchUp(ctx)
		}
		select {
		case j := <-s.queue:
			s.run(ctx, j)
		default:
			return
		}
	}
}

// catchUp processes every conversation whose newest message is past its
// watermark, except quarantined ones. When the users cannot be listed it is
// tried again at the next tick.
func (s *Service) catchUp(ctx context.Context) {
	users, err := s.d.Core.ListUsers(ctx)
	s.catchUpDue = err != nil
	if err != nil {
		s.d.Log.Error("memory catch-up: list users; will try again", "err", err)
		return
	}
	for _, u := range users {
		if ctx.Err() != nil {
			return
		}
		convs, err := s.d.Core.ListConversations(ctx, u.ID)
		if err != nil {
			s.d.Log.Error("memory catch-up: list conversations", "user", u.ID, "err", err)
			continue
		}
		for _, c := range convs {
			if ctx.Err() != nil {
				return
			}
			if s.quarantined(ctx, memory.FailedConversation, c.ID) {
				continue
			}
			last, err := s.d.Core.RecentMessages(ctx, u.ID, c.ID, 1)
			if err != nil || len(last) == 0 {
				continue
			}
			w, err := s.d.Progress.Watermark(ctx, c.ID)
			if err == nil && w.Extracted == last[0].ID {
				continue
			}
			s.run(ctx, turnJob{userID: u.ID, convID: c.ID})
		}
	}
}

// run processes one conversation and schedules a retry when it fails. A
// quarantined conversation is skipped; a panic is recovered and counted.
func (s *Service) run(ctx context.Context, j turnJob) {
	if s.quarantined(ctx, memory.FailedConversation, j.convID) {
		delete(s.retries, j.convID)
		return
	}
	if j.revised != "" {
		err := s.guard(memory.FailedConversation, j.convID, func() error {
			return s.locked(ctx, memory.FailedConversation, j.convID, s.opts.LockWait, func() error { return s.reindex(ctx, j) })
		})
		if err != nil && ctx.Err() == nil {
			s.d.Log.Warn("memory: could not re-index a revised message", "message", j.revised, "err", err)
		}
		if errors.Is(err, errPanicked) {
			s.outcome(ctx, memory.FailedConversation, j.convID, j.userID, err)
		}
		return
	}
	err := s.guard(memory.FailedConversation, j.convID, func() error {
		return s.locked(ctx, memory.FailedConversation, j.convID, s.opts.LockWait, func() error { return s.process(ctx, j.userID, j.convID) })
	})
	if ctx.Err() == nil || errors.Is(err, errPanicked) {
		s.outcome(ctx, memory.FailedConversation, j.convID, j.userID, err)
	}
	if err == nil {
		delete(s.retries, j.convID)
		return
	}
	if ctx.Err() != nil {
		return
	}
	r := s.backoff(s.retries[j.convID], err)
	r.userID = j.userID
	s.retries[j.convID] = r
	s.d.Log.Warn("memory: will try this conversation again", "conversation", j.convID, "at", r.next, "attempt", r.attempts, "err", err)
}

// backoff schedules the next attempt after a failure: RetryMin, doubling up
// to RetryMax, or later when the model asked for it (Retry-After).
func (s *Service) backoff(r retryAt, err error) retryAt {
	wait := min(s.opts.RetryMin<<min(r.attempts, 16), s.opts.RetryMax)
	var le *llm.Error
	if errors.As(err, &le) && le.RetryAfter > wait {
		wait = le.RetryAfter
	}
	r.attempts++
	r.next = s.d.Clock.Now().Add(wait)
	s.d.Meter.MemoryEvent("retry", 1)
	return r
}

// tick retries what is due, then writes due journal entries.
func (s *Service) tick(ctx context.Context) error {
	if s.catchUpDue {
		s.catchUp(ctx)
	}
	now := s.d.Clock.Now()
	var due []string
	for conv, r := range s.retries {
		if !now.Before(r.next) {
			due = append(due, conv)
		}
	}
	slices.Sort(due)
	for _, conv := range due {
		s.run(ctx, turnJob{userID: s.retries[conv].userID, convID: conv})
	}
	users, err := s.d.Core.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("memory: list users for the journal: %w", err)
	}
	var errs []error
	for _, u := range users {
		if r, ok := s.journalRetries[u.ID]; (ok && now.Before(r.next)) || s.quarantined(ctx, memory.FailedJournal, u.ID) {
			continue
		}
		err := s.guard(memory.FailedJournal, u.ID, func() error {
			return s.journalLocked(ctx, u.ID, func() error { _, err := s.journal.Consolidate(ctx, u.ID); return err })
		})
		if ctx.Err() == nil || errors.Is(err, errPanicked) {
			s.outcome(ctx, memory.FailedJournal, u.ID, u.ID, err)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.journalRetries[u.ID] = s.backoff(s.journalRetries[u.ID], err)
			s.d.Log.Warn("memory: journal not written; will try again", "user", u.ID, "at", s.journalRetries[u.ID].next, "err", err)
			errs = append(errs, err)
			continue
		}
		delete(s.journalRetries, u.ID)
	}
	return errors.Join(errs...)
}

// process indexes and extracts what is past the conversation's watermark.
// It runs under the conversation's lock (locked) and reads the watermark
// first, so a worker that waited for another finds what that one did.
func (s *Service) process(ctx context.Context, userID, convID string) error {
	w, err := s.d.Progress.Watermark(ctx, convID)
	if err != nil {
		return err
	}
	// The recent messages usually reach back to the watermark; the whole
	// conversation is read only when they do not.
	msgs, err := s.d.Core.RecentMessages(ctx, userID, convID, recentWindow)
	if err == nil && len(msgs) == recentWindow && indexAfter(msgs, w.Extracted) == 0 {
		msgs, err = s.d.Core.Messages(ctx, userID, convID)
	}
	if errors.Is(err, store.ErrNotFound) { // deleted meanwhile
		return s.d.Progress.ForgetWatermark(ctx, convID)
	}
	if err != nil {
		return fmt.Errorf("read conversation %s: %w", convID, err)
	}
	// Stop before a reply still being written: it is done next time.
	if i := slices.IndexFunc(msgs, func(m store.Message) bool { return m.Status == store.StatusStreaming }); i >= 0 {
		msgs = msgs[:i]
	}
	if len(msgs) == 0 || msgs[len(msgs)-1].ID == w.Extracted {
		return nil
	}
	b, err := s.batchFor(ctx, userID, convID)
	if err != nil {
		return err
	}
	if from := indexAfter(msgs, w.Indexed); from < len(msgs) {
		if err := s.index(ctx, b, msgs[from:]); err != nil {
			return err
		}
		w.Indexed = msgs[len(msgs)-1].ID
		if err := s.d.Progress.SetWatermark(ctx, convID, w); err != nil {
			return err
		}
	}
	for part := range extract.Batches(msgs[indexAfter(msgs, w.Extracted):], s.opts.BatchMessages) {
		b.Messages = part
		res, err := s.extract.Extract(ctx, b)
		s.changed(ctx, userID, res) // a failed batch may still have stored some
		if err != nil {
			return err
		}
		w.Extracted = part[len(part)-1].ID
		if err := s.d.Progress.SetWatermark(ctx, convID, w); err != nil {
			return err
		}
	}
	return nil
}

// reindex indexes a revised message again when the worker had indexed it.
func (s *Service) reindex(ctx context.Context, j turnJob) error {
	w, err := s.d.Progress.Watermark(ctx, j.convID)
	if err != nil || w.Indexed == "" {
		return err
	}
	msgs, err := s.d.Core.Messages(ctx, j.userID, j.convID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	at := slices.IndexFunc(msgs, func(m store.Message) bool { return m.ID == j.revised })
	if at < 0 || at >= indexAfter(msgs, w.Indexed) {
		return nil // gone, or not indexed yet: the next pass indexes what is there
	}
	b, err := s.batchFor(ctx, j.userID, j.convID)
	if err != nil {
		return err
	}
	return s.index(ctx, b, msgs[at:at+1])
}

// recentWindow is how many of a conversation's newest messages are read
// first; a turn adds a few.
const recentWindow = 200

// indexAfter is the index following the message id, 0 when id is "" or absent.
func indexAfter(msgs []store.Message, id string) int {
	if id == "" {
		return 0
	}
	return slices.IndexFunc(msgs, func(m store.Message) bool { return m.ID == id }) + 1
}

// batchFor gathers who is talking and what the system prompt holds.
func (s *Service) batchFor(ctx context.Context, userID, convID string) (extract.Batch, error) {
	return extract.BatchFor(ctx, s.d.Core, userID, convID)
}

// indexEmbedBatch bounds one call to the embedder.
const indexEmbedBatch = 64

// index makes messages recallable.
func (s *Service) index(ctx context.Context, b extract.Batch, msgs []store.Message) error {
	var docs []memory.MessageDoc
	for _, m := range extract.Conversational(msgs) {
		speaker := b.UserName
		if m.Role == store.RoleAssistant {
			speaker = cmp.Or(b.CompanionName, "assistant")
		}
		if d, ok := memory.MessageDocOf(m, speaker); ok {
			docs = append(docs, d)
		}
	}
	for start := 0; start < len(docs); start += indexEmbedBatch {
		part := docs[start:min(start+indexEmbedBatch, len(docs))]
		var vecs [][]float32
		if s.d.Embedder != nil {
			texts := make([]string, len(part))
			for i, d := range part {
				texts[i] = d.Text
			}
			var err error
			if vecs, err = s.d.Embedder.Embed(ctx, texts); err != nil {
				return fmt.Errorf("embed messages of conversation %s: %w", b.ConversationID, err)
			}
			if len(vecs) != len(part) {
				return fmt.Errorf("embed messages of conversation %s: %d vectors for %d texts", b.ConversationID, len(vecs), len(part))
			}
		}
		for i, d := range part {
			var vec []float32
			if vecs != nil {
				vec = vecs[i]
			}
			if err := s.d.Memory.IndexMessage(ctx, d, vec); err != nil {
				return fmt.Errorf("index message %s for recall: %w", d.ID, err)
			}
		}
	}
	s.d.Meter.MemoryEvent("index", len(docs))
	return nil
}
