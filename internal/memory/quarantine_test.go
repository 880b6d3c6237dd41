package memory_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
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
	store := &poisonStore{Store: h.mem, poison: "msg_bad"}
	start := func() *memory.Service {
		s := memory.NewService(memory.ServiceDeps{Core: h.db, Memory: store, Recall: h.recall, Models: h.models,
			Echoes: h.echoes, Clock: h.clock, Meter: h.meter}, memory.ServiceOptions{TickEvery: -1})
		t.Cleanup(s.Close)
		return s
	}
	bad := h.conversation("cnv_bad", said{"msg_bad", "user", "kk kk kk", day0})
	good := h.conversation("cnv_good", said{"msg_g1", "user", "My sister Catherine moved to Boston.", day0})
	h.llm.EnqueueFunc(rememberFirst("Theodore's sister Catherine moved to Boston."))
	s := start() // the start-up catch-up meets the poison first
	h.flush(s)
	if _, ok := h.items()["Theodore's sister Catherine moved to Boston."]; !ok {
		t.Fatal("the good conversation was not processed beside the panicking one")
	}
	for range memory.QuarantineAfter - 1 {
		s.TurnStored(h.user.ID, bad)
		h.flush(s)
	}
	if n := store.hits.Load(); n != memory.QuarantineAfter {
		t.Fatalf("the poison was tried %d times, want %d", n, memory.QuarantineAfter)
	}
	q, err := memory.Quarantined(h.ctx, memory.SettingsProgress{Settings: h.db}, h.user.ID)
	if err != nil || len(q) != 1 || q[0].ID != bad || q[0].Kind != memory.FailedConversation || q[0].Count != memory.QuarantineAfter {
		t.Fatalf("quarantined = %+v, %v", q, err)
	}
	// Quarantined: neither a new turn, nor a retry, nor a restart runs it.
	s.TurnStored(h.user.ID, bad)
	h.flush(s)
	h.models.set(nil) // the tick's journal entries wait for a model
	h.clock.Advance(48 * time.Hour)
	_ = h.tick(s)
	h.models.set(newProvider(h.llm))
	s.Close()
	s = start()
	h.flush(s)
	if n := store.hits.Load(); n != memory.QuarantineAfter {
		t.Fatalf("the quarantined conversation ran again (%d tries)", n)
	}
	// The worker still serves everyone else.
	h.append(good, said{"msg_g2", "user", "She starts at MIT next week.", day0.Add(time.Minute)})
	h.llm.EnqueueFunc(rememberFirst("Catherine starts at MIT."))
	s.TurnStored(h.user.ID, good)
	h.flush(s)
	if _, ok := h.items()["Catherine starts at MIT."]; !ok {
		t.Fatal("after the quarantine, a new turn was not processed")
	}
}
