package worker_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/worker"
)

// sleeping waits until the worker has armed its poll timer on the fake
// clock: it is waiting for a turn, not calling the model.
func (h *workHarness) sleeping() {
	h.T.Helper()
	ctx, cancel := context.WithTimeout(h.Ctx, 20*time.Second)
	defer cancel()
	if err := h.Clock.BlockUntil(ctx, 1); err != nil {
		h.T.Fatalf("the worker never waited for the turn: %v (extractions: %d)", err, len(h.Extractions()))
	}
}

func TestExtractionWaitsWhileATurnRuns(t *testing.T) {
	h := newWorkHarness(t)
	s := h.service(worker.Options{})
	h.flush(s)
	var busy atomic.Bool
	busy.Store(true)
	s.SetBusy(busy.Load)

	conv := h.Conversation("cnv_1", said("msg_u1", "user", "My sister Catherine just moved to Boston.", day0))
	h.LLM.EnqueueFunc(rememberFirst("Theodore's sister Catherine moved to Boston."))
	s.TurnStored(h.User.ID, conv)
	for range 5 { // 10 s of a turn running
		h.sleeping()
		if n := len(h.Extractions()); n != 0 {
			t.Fatalf("%d extraction requests while a turn runs, want 0", n)
		}
		h.Clock.Advance(worker.DefaultBusyPoll)
	}
	h.sleeping()
	if w := h.watermark(conv); w.Indexed != "msg_u1" || w.Extracted != "" {
		t.Errorf("watermark while waiting = %+v, want indexed (no model needed) and not extracted", w)
	}
	busy.Store(false)
	h.Clock.Advance(worker.DefaultBusyPoll)
	h.flush(s)
	if n := len(h.Extractions()); n != 1 {
		t.Fatalf("%d extraction requests once the turn is over, want 1", n)
	}
	if _, ok := h.Items()["Theodore's sister Catherine moved to Boston."]; !ok {
		t.Error("the extraction after the wait stored nothing")
	}
	if h.Meter.Get("yield") != 1 {
		t.Errorf("meter = %v, want one yield", h.Meter)
	}

	// Not busy: the next turn's extraction goes straight through, no timer.
	h.Append(conv, said("msg_u2", "user", "She starts at MIT next week.", day0.Add(time.Minute)))
	h.LLM.Enqueue(memtest.OpsReply())
	s.TurnStored(h.User.ID, conv)
	h.flush(s)
	if n := len(h.Extractions()); n != 2 {
		t.Errorf("%d extraction requests, want 2", n)
	}
}

// A user who never stops talking still gets memories: the wait is capped.
func TestExtractionWaitIsCapped(t *testing.T) {
	h := newWorkHarness(t)
	s := h.service(worker.Options{})
	h.flush(s)
	s.SetBusy(func() bool { return true })

	conv := h.Conversation("cnv_1", said("msg_u1", "user", "I adopted a cat called Ink.", day0))
	h.LLM.EnqueueFunc(rememberFirst("Theodore adopted a cat called Ink."))
	s.TurnStored(h.User.ID, conv)
	start := h.Clock.Now()
	for h.Clock.Now().Sub(start) < worker.DefaultBusyMaxWait {
		h.sleeping()
		if n := len(h.Extractions()); n != 0 {
			t.Fatalf("%d extraction requests after %v of turns, want 0 before %v", n, h.Clock.Now().Sub(start), worker.DefaultBusyMaxWait)
		}
		h.Clock.Advance(worker.DefaultBusyPoll)
	}
	h.flush(s)
	if n := len(h.Extractions()); n != 1 {
		t.Fatalf("%d extraction requests after %v of turns, want 1", n, worker.DefaultBusyMaxWait)
	}
	if w := h.watermark(conv); w.Extracted != "msg_u1" {
		t.Errorf("watermark = %+v", w)
	}
}

// The journal is a model call too: it waits for the turn like extraction.
func TestJournalWaitsWhileATurnRuns(t *testing.T) {
	h := newWorkHarness(t)
	s := h.service(worker.Options{Journal: extract.JournalOptions{IdleAfter: 30 * time.Minute}})
	h.LLM.Handle(func(r llmtest.Request) llmtest.Reply { return memtest.OpsReply() }) // extraction finds nothing
	h.Conversation("cnv_1", said("msg_u1", "user", "Today was long.", day0))
	s.TurnStored(h.User.ID, "cnv_1")
	h.flush(s)

	var busy atomic.Bool
	busy.Store(true)
	s.SetBusy(busy.Load)
	h.Clock.Set(day0.Add(time.Hour))
	h.LLM.Enqueue(memtest.JournalReply("A long day for Theodore."))
	ticked := make(chan error, 1)
	go func() { ticked <- h.tick(s) }()
	h.sleeping()
	if n := len(h.JournalRequests()); n != 0 {
		t.Fatalf("%d journal requests while a turn runs, want 0", n)
	}
	busy.Store(false)
	h.Clock.Advance(worker.DefaultBusyPoll)
	h.Must(<-ticked)
	if js := h.Journals(); len(js) != 1 || js[0].Text != "A long day for Theodore." {
		t.Errorf("journals = %+v", js)
	}
}

// Closing the worker while it waits for a turn stops it at once; the
// conversation is extracted at the next start.
func TestCloseWhileWaitingForATurn(t *testing.T) {
	h := newWorkHarness(t)
	s := h.service(worker.Options{})
	h.flush(s)
	s.SetBusy(func() bool { return true })
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "I adopted a cat called Ink.", day0))
	s.TurnStored(h.User.ID, conv)
	h.sleeping()
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung while the worker waited for a turn")
	}
	if n := len(h.Extractions()); n != 0 {
		t.Errorf("%d extraction requests, want 0", n)
	}
	if w := h.watermark(conv); w.Extracted != "" {
		t.Errorf("watermark = %+v, want nothing extracted", w)
	}
}
