package worker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/worker"
	"github.com/os1ai/os1/internal/store"
)

// poisonStore panics when asked to index one message, the way the SQLite
// driver panicked on a 30 MiB memory (issue 8).
type poisonStore struct {
	memory.Store
	poison string
	hits   atomic.Int32
}

func (p *poisonStore) IndexMessage(ctx context.Context, m memory.MessageDoc, vec []float32) error {
	if m.ID == p.poison {
		p.hits.Add(1)
		panic("sqlite3: out of memory")
	}
	return p.Store.IndexMessage(ctx, m, vec)
}

// A conversation whose processing panics does not take the worker down:
// each panic is recovered and counted, the other conversations go on, and
// after QuarantineAfter panics it is quarantined: skipped, also by the next
// start, and listed. Before the guard, the first panic ended the process.
func TestServiceQuarantinesAPanickingConversation(t *testing.T) {
	h := newWorkHarness(t)
	store := &poisonStore{Store: h.Mem, poison: "msg_bad"}
	start := func() *worker.Service {
		s := worker.New(worker.Deps{Core: h.DB, Memory: store, Recall: h.Recall, Models: h.Models,
			Echoes: h.Echoes, Clock: h.Clock, Meter: h.Meter, Progress: h.Mem.Progress()}, worker.Options{TickEvery: -1})
		t.Cleanup(s.Close)
		_ = s.Start(context.Background())
		return s
	}
	bad := h.Conversation("cnv_bad", said("msg_bad", "user", "kk kk kk", day0))
	good := h.Conversation("cnv_good", said("msg_g1", "user", "My sister Catherine moved to Boston.", day0))
	h.LLM.EnqueueFunc(rememberFirst("Theodore's sister Catherine moved to Boston."))
	s := start() // the start-up catch-up meets the poison first
	h.flush(s)
	if _, ok := h.Items()["Theodore's sister Catherine moved to Boston."]; !ok {
		t.Fatal("the good conversation was not processed beside the panicking one")
	}
	for range memory.QuarantineAfter - 1 {
		s.TurnStored(h.User.ID, bad)
		h.flush(s)
	}
	if n := store.hits.Load(); n != memory.QuarantineAfter {
		t.Fatalf("the poison was tried %d times, want %d", n, memory.QuarantineAfter)
	}
	q, err := memory.Quarantined(h.Ctx, h.Mem.Progress(), h.User.ID)
	if err != nil || len(q) != 1 || q[0].ID != bad || q[0].Kind != memory.FailedConversation || q[0].Count != memory.QuarantineAfter {
		t.Fatalf("quarantined = %+v, %v", q, err)
	}
	// Quarantined: neither a new turn, nor a retry, nor a restart runs it.
	s.TurnStored(h.User.ID, bad)
	h.flush(s)
	h.Models.Set(nil) // the tick's journal entries wait for a model
	h.Clock.Advance(48 * time.Hour)
	_ = h.tick(s)
	h.Models.Set(memtest.NewProvider(h.LLM))
	s.Close()
	s = start()
	h.flush(s)
	if n := store.hits.Load(); n != memory.QuarantineAfter {
		t.Fatalf("the quarantined conversation ran again (%d tries)", n)
	}
	// The worker still serves everyone else.
	h.Append(good, said("msg_g2", "user", "She starts at MIT next week.", day0.Add(time.Minute)))
	h.LLM.EnqueueFunc(rememberFirst("Catherine starts at MIT."))
	s.TurnStored(h.User.ID, good)
	h.flush(s)
	if _, ok := h.Items()["Catherine starts at MIT."]; !ok {
		t.Fatal("after the quarantine, a new turn was not processed")
	}
}

// Releasing a quarantined record tries it again at once, in the running
// worker; another user cannot release it; offline Release forgets it.
func TestReleaseFromQuarantine(t *testing.T) {
	h := newWorkHarness(t)
	ps := &poisonStore{Store: h.Mem, poison: "msg_bad"}
	s := worker.New(worker.Deps{Core: h.DB, Memory: ps, Recall: h.Recall, Models: h.Models,
		Echoes: h.Echoes, Clock: h.Clock, Meter: h.Meter, Progress: h.Mem.Progress()}, worker.Options{TickEvery: -1})
	t.Cleanup(s.Close)
	_ = s.Start(context.Background())
	bad := h.Conversation("cnv_bad", said("msg_bad", "user", "kk kk kk", day0))
	for range memory.QuarantineAfter {
		s.TurnStored(h.User.ID, bad)
		h.flush(s)
	}
	if err := s.Release(h.Ctx, "usr_someone_else", bad); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user's release: %v, want ErrNotFound", err)
	}
	ps.poison = "" // the cause is fixed
	h.LLM.EnqueueFunc(rememberFirst("Theodore says kk."))
	if err := s.Release(h.Ctx, h.User.ID, bad); err != nil {
		t.Fatal(err)
	}
	h.flush(s)
	if _, ok := h.Items()["Theodore says kk."]; !ok {
		t.Fatal("a released conversation was not processed again")
	}
	if q, _ := memory.Quarantined(h.Ctx, h.Mem.Progress(), ""); len(q) != 0 {
		t.Fatalf("still quarantined: %+v", q)
	}

	// Offline: a record quarantined by an earlier run.
	p := h.Mem.Progress()
	if err := p.SetFailures(h.Ctx, []memory.Failure{{Kind: memory.FailedJournal, ID: h.User.ID, UserID: h.User.ID, Count: 3, Quarantined: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := memory.Release(h.Ctx, p, "usr_someone_else", h.User.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("offline release by another user: %v", err)
	}
	if f, err := memory.Release(h.Ctx, p, h.User.ID, h.User.ID); err != nil || f.Kind != memory.FailedJournal {
		t.Fatalf("offline release: %+v %v", f, err)
	}
	if fs, _ := p.Failures(h.Ctx); len(fs) != 0 {
		t.Fatalf("failures after release: %+v", fs)
	}
}
