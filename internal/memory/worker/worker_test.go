package worker_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/worker"
	"github.com/os1ai/os1/internal/store"
)

// service starts a memory service on h with ticks driven by the test.
func (h *workHarness) service(o worker.Options) *worker.Service {
	h.T.Helper()
	o.TickEvery = -1
	s := worker.New(worker.Deps{Core: h.DB, Memory: h.Mem, Recall: h.Recall, Models: h.Models,
		Echoes: h.Echoes, Clock: h.Clock, Meter: h.Meter}, o)
	h.T.Cleanup(s.Close)
	_ = s.Start(context.Background())
	return s
}

func (h *workHarness) flush(s *worker.Service) {
	h.T.Helper()
	ctx, cancel := context.WithTimeout(h.Ctx, 20*time.Second)
	defer cancel()
	h.Must(s.Flush(ctx))
}

func (h *workHarness) tick(s *worker.Service) error {
	h.T.Helper()
	ctx, cancel := context.WithTimeout(h.Ctx, 20*time.Second)
	defer cancel()
	return s.Tick(ctx)
}

func (h *workHarness) watermark(conv string) memory.Watermark {
	h.T.Helper()
	w, err := h.Mem.Progress().Watermark(h.Ctx, conv)
	h.Must(err)
	return w
}

var msgIDs = regexp.MustCompile(`\[(msg_[a-z0-9_]+)\]`)

// idsIn lists the message IDs an extraction request showed the model.
func idsIn(r llmtest.Request) []string {
	var ids []string
	for _, m := range msgIDs.FindAllStringSubmatch(r.Messages[0].Content, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// rememberFirst answers an extraction with one fact sourced from the first
// message it was shown.
func rememberFirst(text string) func(llmtest.Request) llmtest.Reply {
	return func(r llmtest.Request) llmtest.Reply {
		return memtest.OpsReply(memtest.AddOp("fact", text, idsIn(r)[:1]))
	}
}

func TestServiceIndexesAndExtractsEachTurn(t *testing.T) {
	h := newWorkHarness(t)
	s := h.service(worker.Options{})
	h.flush(s) // start-up catch-up: nothing yet
	conv := h.Conversation("cnv_1",
		said("msg_u1", "user", "My sister Catherine just moved to Boston.", day0),
		said("msg_a1", "assistant", "", day0), // asked for a tool
		said("msg_t1", "tool", "Tool output: the weather in Boston is cold.", day0),
		said("msg_a2", "assistant", "Boston! How does she like it?", day0.Add(time.Second)))
	h.LLM.EnqueueFunc(rememberFirst("Theodore's sister Catherine moved to Boston."))
	s.TurnStored(h.User.ID, conv)
	h.flush(s)

	it, ok := h.Items()["Theodore's sister Catherine moved to Boston."]
	if !ok || !slices.Equal(it.Sources, []string{"msg_u1"}) {
		t.Fatalf("item = %+v (stored: %v)", it, ok)
	}
	hits, err := h.Mem.SearchText(h.Ctx, h.User.ID, memory.Query{Text: "Boston", Kinds: []memory.DocKind{memory.DocMessage}})
	h.Must(err)
	var indexed []string
	for _, hit := range hits {
		indexed = append(indexed, hit.ID)
	}
	slices.Sort(indexed)
	if !slices.Equal(indexed, []string{"msg_a2", "msg_u1"}) {
		t.Errorf("indexed messages = %v, want the user's and the assistant's (no tool output)", indexed)
	}
	req := h.Extractions()
	if len(req) != 1 {
		t.Fatalf("%d extraction requests, want 1", len(req))
	}
	if got := idsIn(req[0]); !slices.Equal(got, []string{"msg_u1", "msg_a2"}) {
		t.Errorf("extraction saw %v, want the user and assistant messages only", got)
	}
	for _, secret := range []string{"Tool output", "warm and calm", "Writing letters"} {
		if strings.Contains(req[0].System+req[0].Messages[0].Content, secret) {
			t.Errorf("the extraction prompt holds %q (tool output or system prompt)", secret)
		}
	}
	if w := h.watermark(conv); w != (memory.Watermark{Indexed: "msg_a2", Extracted: "msg_a2"}) {
		t.Errorf("watermark = %+v", w)
	}

	// The next turn sends only what is new.
	h.Append(conv, said("msg_u3", "user", "She starts at MIT next week.", day0.Add(time.Minute)))
	h.LLM.Enqueue(memtest.OpsReply())
	s.TurnStored(h.User.ID, conv)
	h.flush(s)
	if req := h.Extractions(); len(req) != 2 || !slices.Equal(idsIn(req[1]), []string{"msg_u3"}) {
		t.Errorf("second extraction saw %v", idsIn(req[len(req)-1]))
	}
}

// A worker that was made but never started does nothing: os1 talk builds
// the companion without one, and closing it must not hang.
func TestServiceDoesNothingUntilStarted(t *testing.T) {
	h := newWorkHarness(t)
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "I adopted a cat called Ink.", day0))
	s := worker.New(worker.Deps{Core: h.DB, Memory: h.Mem, Recall: h.Recall, Models: h.Models,
		Echoes: h.Echoes, Clock: h.Clock, Meter: h.Meter}, worker.Options{TickEvery: -1})
	s.TurnStored(h.User.ID, conv)
	ctx, cancel := context.WithTimeout(h.Ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.Flush(ctx); err == nil {
		t.Fatal("Flush answered although the worker never started")
	}
	s.Close()
	_ = s.Start(h.Ctx) // after Close: stays closed
	if err := s.Flush(h.Ctx); err == nil {
		t.Fatal("Flush answered after Close")
	}
	if n := len(h.Extractions()); n != 0 || h.watermark(conv) != (memory.Watermark{}) {
		t.Fatalf("an unstarted worker processed the conversation: %d extractions, watermark %+v", n, h.watermark(conv))
	}
}

func TestServiceCatchesUpOnStart(t *testing.T) {
	h := newWorkHarness(t)
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "I adopted a cat called Ink.", day0))
	h.LLM.EnqueueFunc(rememberFirst("Theodore adopted a cat called Ink."))
	s := h.service(worker.Options{}) // never told about the turn
	h.flush(s)
	if _, ok := h.Items()["Theodore adopted a cat called Ink."]; !ok {
		t.Fatal("start-up did not catch up on the stored turn")
	}
	s.Close()

	// A turn that was never delivered (crash, closed service) is found at the next start.
	h.Append(conv, said("msg_u2", "user", "Ink is afraid of the vacuum cleaner.", day0.Add(time.Hour)))
	h.LLM.EnqueueFunc(rememberFirst("Ink is afraid of the vacuum cleaner."))
	s2 := h.service(worker.Options{})
	h.flush(s2)
	if _, ok := h.Items()["Ink is afraid of the vacuum cleaner."]; !ok {
		t.Fatal("second start did not catch up")
	}
	if req := h.Extractions(); len(req) != 2 || !slices.Equal(idsIn(req[1]), []string{"msg_u2"}) {
		t.Errorf("catch-up extracted %v again", idsIn(req[len(req)-1]))
	}
	s2.TurnStored(h.User.ID, conv) // nothing new: no model call
	h.flush(s2)
	if n := len(h.Extractions()); n != 2 {
		t.Errorf("%d extraction requests, want 2", n)
	}
}

func TestServiceOverflowCatchesUp(t *testing.T) {
	h := newWorkHarness(t)
	s := h.service(worker.Options{QueueSize: 1})
	h.flush(s)
	gate := llmtest.NewGate()
	h.LLM.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		rep := rememberFirst("Fact from the first conversation.")(r)
		rep.Hold = gate
		return rep
	})
	h.LLM.Handle(func(r llmtest.Request) llmtest.Reply {
		return rememberFirst("Fact from " + idsIn(r)[0] + ".")(r)
	})
	c1 := h.Conversation("cnv_1", said("msg_c1", "user", "First conversation.", day0))
	s.TurnStored(h.User.ID, c1)
	<-gate.Reached() // the worker is busy
	convs := []string{h.Conversation("cnv_2", said("msg_c2", "user", "Second.", day0)),
		h.Conversation("cnv_3", said("msg_c3", "user", "Third.", day0)),
		h.Conversation("cnv_4", said("msg_c4", "user", "Fourth.", day0))}
	for _, c := range convs {
		s.TurnStored(h.User.ID, c) // one fits the queue, the rest overflow
	}
	gate.Release()
	h.flush(s)
	items := h.Items()
	for _, want := range []string{"Fact from the first conversation.", "Fact from msg_c2.", "Fact from msg_c3.", "Fact from msg_c4."} {
		if _, ok := items[want]; !ok {
			t.Errorf("%q is missing after the overflow", want)
		}
	}
	if n := len(h.Extractions()); n != 4 {
		t.Errorf("%d extractions, want 4 (none twice)", n)
	}
}

func TestServiceRetriesWhenTheModelFails(t *testing.T) {
	h := newWorkHarness(t)
	s := h.service(worker.Options{RetryMin: time.Minute})
	h.flush(s)
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "I run a marathon in April.", day0))
	h.LLM.Enqueue(llmtest.Reply{Status: 429, RetryAfter: "120"})
	s.TurnStored(h.User.ID, conv)
	h.flush(s)
	if w := h.watermark(conv); w.Indexed != "msg_u1" || w.Extracted != "" {
		t.Fatalf("after a failure the watermark is %+v; want indexed, not extracted", w)
	}
	if h.Meter.Get(extract.OutModelError) != 1 || h.Meter.Get("retry") != 1 {
		t.Errorf("meter = %v", h.Meter)
	}

	h.Clock.Advance(time.Minute) // the backoff is 1m, but the model asked for 2m
	h.Must(h.tick(s))
	if n := len(h.Extractions()); n != 1 {
		t.Fatalf("retried before Retry-After: %d requests", n)
	}
	h.LLM.Enqueue(llmtest.Reply{Status: 503})
	h.Clock.Advance(time.Minute)
	h.Must(h.tick(s))
	if n := len(h.Extractions()); n != 2 {
		t.Fatalf("%d requests after the wait, want 2", n)
	}

	h.LLM.EnqueueFunc(rememberFirst("Theodore runs a marathon in April."))
	h.Clock.Advance(time.Minute) // second failure: backoff doubled to 2m
	h.Must(h.tick(s))
	if n := len(h.Extractions()); n != 2 {
		t.Fatalf("backoff did not grow: %d requests", n)
	}
	h.Clock.Advance(time.Minute)
	h.Must(h.tick(s))
	if _, ok := h.Items()["Theodore runs a marathon in April."]; !ok {
		t.Fatal("the retry did not store the memory")
	}
	if w := h.watermark(conv); w.Extracted != "msg_u1" {
		t.Errorf("watermark = %+v", w)
	}
}

// The worker's timer runs on the injected clock: a retry that is due runs
// when the fake clock passes it, with no call to Tick and no sleeping.
func TestServiceTicksOnTheInjectedClock(t *testing.T) {
	h := newWorkHarness(t)
	s := worker.New(worker.Deps{Core: h.DB, Memory: h.Mem, Recall: h.Recall, Models: h.Models,
		Echoes: h.Echoes, Clock: h.Clock, Meter: h.Meter}, worker.Options{TickEvery: time.Minute, RetryMin: time.Minute})
	t.Cleanup(s.Close)
	h.Must(s.Start(h.Ctx))
	ctx, cancel := context.WithTimeout(h.Ctx, 20*time.Second)
	defer cancel()
	h.Must(h.Clock.BlockUntil(ctx, 1)) // the ticker is armed
	h.flush(s)                         // start-up catch-up: nothing yet
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "I run a marathon in April.", day0))
	h.LLM.Enqueue(llmtest.Reply{Status: 503})
	s.TurnStored(h.User.ID, conv)
	h.flush(s)
	if n := len(h.Extractions()); n != 1 {
		t.Fatalf("%d extractions, want the one that failed", n)
	}
	h.LLM.EnqueueFunc(rememberFirst("Theodore runs a marathon in April."))
	h.Clock.Advance(time.Minute)
	// The tick is waiting in the ticker's channel; the worker takes it
	// within a few round trips (its select picks among ready cases).
	for range 64 {
		if h.watermark(conv).Extracted == "msg_u1" {
			break
		}
		h.flush(s)
	}
	if _, ok := h.Items()["Theodore runs a marathon in April."]; !ok {
		t.Fatalf("the fake clock's tick did not retry the conversation (%d extractions)", len(h.Extractions()))
	}
}

func TestServiceWaitsForAModel(t *testing.T) {
	h := newWorkHarness(t)
	h.Models.Set(nil)
	s := h.service(worker.Options{})
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "I moved to Lisbon.", day0))
	s.TurnStored(h.User.ID, conv)
	h.flush(s)
	if w := h.watermark(conv); w.Extracted != "" {
		t.Fatalf("extracted without a model: %+v", w)
	}
	h.Models.Set(memtest.NewProvider(h.LLM))
	h.LLM.EnqueueFunc(rememberFirst("Theodore moved to Lisbon."))
	h.LLM.Enqueue(llmtest.Reply{Chunks: []string{"Theodore told me he moved to Lisbon."}}) // idle for an hour: the journal
	h.Clock.Advance(time.Hour)
	h.Must(h.tick(s))
	if _, ok := h.Items()["Theodore moved to Lisbon."]; !ok {
		t.Fatal("nothing extracted once a model was connected")
	}
}

func TestServiceSkipsInvalidAnswers(t *testing.T) {
	h := newWorkHarness(t)
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "I love jazz.", day0))
	h.LLM.Enqueue(llmtest.Reply{Chunks: []string{"Sure! I will remember that you love jazz."}})
	s := h.service(worker.Options{})
	h.flush(s)
	if len(h.Items()) != 0 || h.Meter.Get(extract.OutInvalidJSON) != 1 {
		t.Fatalf("items %v, meter %v", h.Items(), h.Meter)
	}
	if w := h.watermark(conv); w.Extracted != "msg_u1" {
		t.Errorf("an answer that is not JSON must not be retried forever: watermark %+v", w)
	}
}

func TestServiceBatchesAndStopsAtAStreamingReply(t *testing.T) {
	h := newWorkHarness(t)
	conv := h.Conversation("cnv_1",
		said("msg_1", "user", "One.", day0), said("msg_2", "assistant", "Two.", day0.Add(time.Second)),
		said("msg_3", "user", "Three.", day0.Add(2*time.Second)), said("msg_4", "assistant", "Four.", day0.Add(3*time.Second)),
		said("msg_5", "user", "Five.", day0.Add(4*time.Second)))
	h.Must(h.DB.AppendMessage(h.Ctx, store.Message{ID: "msg_6", ConversationID: conv, UserID: h.User.ID, Role: store.RoleAssistant,
		Content: "Si", Status: store.StatusStreaming, CreatedAt: day0.Add(5 * time.Second)}))
	h.LLM.Handle(func(llmtest.Request) llmtest.Reply { return memtest.OpsReply() })
	s := h.service(worker.Options{BatchMessages: 2})
	h.flush(s)
	var got [][]string
	for _, r := range h.Extractions() {
		got = append(got, idsIn(r))
	}
	want := [][]string{{"msg_1", "msg_2"}, {"msg_3", "msg_4"}, {"msg_5"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches = %v, want %v", got, want)
	}
	if w := h.watermark(conv); w != (memory.Watermark{Indexed: "msg_5", Extracted: "msg_5"}) {
		t.Errorf("watermark = %+v: must stop before the reply being written", w)
	}
}

func TestServiceCloseInterruptsAndLosesNothing(t *testing.T) {
	h := newWorkHarness(t)
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "I play the cello.", day0))
	gate := llmtest.NewGate()
	h.LLM.Enqueue(llmtest.Reply{Hold: gate, Chunks: []string{"{}"}})
	s := h.service(worker.Options{})
	<-gate.Reached()
	s.Close() // cancels the held model call
	if w := h.watermark(conv); w.Extracted != "" {
		t.Fatalf("watermark moved past an interrupted extraction: %+v", w)
	}
	s.TurnStored(h.User.ID, conv) // after Close: dropped, not blocked
	h.LLM.EnqueueFunc(rememberFirst("Theodore plays the cello."))
	h.flush(h.service(worker.Options{}))
	if _, ok := h.Items()["Theodore plays the cello."]; !ok {
		t.Fatal("the next start did not finish the interrupted work")
	}
}

func TestServiceReadsLongConversations(t *testing.T) {
	h := newWorkHarness(t)
	conv := h.Conversation("cnv_1", said("msg_0000", "user", "The first message.", day0))
	h.LLM.Handle(func(llmtest.Request) llmtest.Reply { return memtest.OpsReply() })
	s := h.service(worker.Options{BatchMessages: 1000})
	h.flush(s)
	s.Close()
	// Far more than the recent window arrives while the worker is away.
	var more []memtest.Said
	for i := 1; i <= 250; i++ {
		more = append(more, said(fmt.Sprintf("msg_%04d", i), "user", fmt.Sprintf("Message %d.", i), day0.Add(time.Duration(i)*time.Second)))
	}
	h.Append(conv, more...)
	s = h.service(worker.Options{BatchMessages: 1000})
	h.flush(s)
	ex := h.Extractions()
	if len(ex) != 2 {
		t.Fatalf("%d extractions, want 2", len(ex))
	}
	if ids := idsIn(ex[1]); len(ids) != 250 || ids[0] != "msg_0001" || ids[249] != "msg_0250" {
		t.Errorf("the second extraction saw %d messages, %v…", len(ids), ids[:min(3, len(ids))])
	}
	h.Append(conv, said("msg_0251", "user", "One more.", day0.Add(time.Hour)))
	s.TurnStored(h.User.ID, conv)
	h.flush(s)
	if ex := h.Extractions(); len(ex) != 3 || !slices.Equal(idsIn(ex[2]), []string{"msg_0251"}) {
		t.Errorf("the next turn saw %v", idsIn(ex[len(ex)-1]))
	}
}

// A spoken reply cut back to what was heard leaves recall with the words
// that are still in the conversation, not the ones the user never heard.
func TestServiceReindexesARevisedMessage(t *testing.T) {
	h := newWorkHarness(t)
	s := h.service(worker.Options{})
	conv := h.Conversation("cnv_1",
		said("msg_u1", "user", "Any ideas for the weekend?", day0),
		said("msg_a1", "assistant", "You could visit the aquarium. Or we could plan a picnic by the lighthouse.", day0.Add(time.Second)))
	h.LLM.Enqueue(memtest.OpsReply())
	s.TurnStored(h.User.ID, conv)
	h.flush(s)
	found := func(word string) bool {
		hits, err := h.Mem.SearchText(h.Ctx, h.User.ID, memory.Query{Text: word, Kinds: []memory.DocKind{memory.DocMessage}})
		h.Must(err)
		return slices.ContainsFunc(hits, func(hit memory.Hit) bool { return hit.ID == "msg_a1" })
	}
	if !found("lighthouse") || !found("aquarium") {
		t.Fatal("the reply was not indexed")
	}
	heard, status := "You could visit the aquarium.", store.StatusInterrupted
	h.Must(h.DB.UpdateMessage(h.Ctx, h.User.ID, "msg_a1", store.MessagePatch{Content: &heard, Status: &status}, day0.Add(time.Minute)))
	s.MessageRevised(h.User.ID, conv, "msg_a1")
	h.flush(s)
	if found("lighthouse") {
		t.Error("recall still finds words cut from the reply")
	}
	if !found("aquarium") {
		t.Error("recall lost the words that were heard")
	}
	// A message the worker has not indexed yet is left to the next pass.
	h.Append(conv, said("msg_u2", "user", "The aquarium sounds fun.", day0.Add(2*time.Minute)))
	s.MessageRevised(h.User.ID, conv, "msg_u2")
	h.flush(s)
	if w := h.watermark(conv); w.Indexed != "msg_a1" {
		t.Errorf("a revision moved the watermark: %+v", w)
	}
}

func TestJournalRetriesWhenTheModelFails(t *testing.T) {
	h := newWorkHarness(t)
	s := h.service(worker.Options{Journal: extract.JournalOptions{IdleAfter: 30 * time.Minute}})
	h.LLM.Handle(func(r llmtest.Request) llmtest.Reply { return memtest.OpsReply() }) // extraction finds nothing
	h.Conversation("cnv_1", said("msg_u1", "user", "Today was long.", day0))
	s.TurnStored(h.User.ID, "cnv_1")
	h.flush(s)

	h.Clock.Set(day0.Add(time.Hour))
	h.LLM.Enqueue(llmtest.Reply{Status: 500})
	if err := h.tick(s); err == nil {
		t.Fatal("a failed journal was not reported")
	}
	if len(h.Journals()) != 0 {
		t.Fatal("a journal was written without the model")
	}
	h.Must(h.tick(s)) // too soon: the retry waits RetryMin
	if n := len(h.JournalRequests()); n != 1 {
		t.Fatalf("%d journal requests right after a failure, want 1", n)
	}
	h.LLM.Enqueue(memtest.JournalReply("A long day for Theodore."))
	h.Clock.Advance(time.Minute)
	h.Must(h.tick(s))
	if js := h.Journals(); len(js) != 1 || js[0].Text != "A long day for Theodore." {
		t.Errorf("journals = %+v", js)
	}
	if h.Meter.Get("journal") != 1 || h.Meter.Get("retry") != 1 {
		t.Errorf("meter = %v", h.Meter)
	}
}
