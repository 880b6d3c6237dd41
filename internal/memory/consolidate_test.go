package memory_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memtest"
)

func (h *workHarness) consolidator(o memory.JournalOptions) *memory.Consolidator {
	return memory.NewConsolidator(memory.ConsolidatorDeps{Core: h.DB, Memory: h.Mem, Models: h.Models, Clock: h.Clock, Meter: h.Meter}, o)
}

func (h *workHarness) journals() []memory.Journal {
	h.T.Helper()
	js, err := h.Mem.Journals(h.Ctx, h.User.ID, "0000-01-01", "9999-12-31")
	h.Must(err)
	return js
}

// journalRequests are the journal requests the model server received.
func (h *workHarness) journalRequests() []llmtest.Request {
	var out []llmtest.Request
	for _, r := range h.LLM.Requests() {
		if strings.Contains(r.System, "journal entry") {
			out = append(out, r)
		}
	}
	return out
}

func journalReply(text string) llmtest.Reply { return llmtest.Reply{Chunks: []string{text}} }

func TestJournalAfterIdle(t *testing.T) {
	h := newWorkHarness(t)
	c := h.consolidator(memory.JournalOptions{}) // idle after 30m
	h.Conversation("cnv_1",
		said("msg_u1", "user", "My sister Catherine just moved to Boston.", day0),
		said("msg_a1", "assistant", "That's a big step. How do you feel about it?", day0.Add(time.Minute)),
		said("msg_t1", "tool", "tool output", day0.Add(time.Minute)))
	h.Conversation("cnv_2", said("msg_u2", "user", "Also, I finished the letter for Maria.", day0.Add(10*time.Minute)))

	h.Clock.Set(day0.Add(39 * time.Minute)) // 29m after the last message
	if days, err := c.Consolidate(h.Ctx, h.User.ID); err != nil || len(days) != 0 {
		t.Fatalf("wrote %v (%v) while the user was still around", days, err)
	}
	h.Clock.Set(day0.Add(40 * time.Minute))
	h.LLM.Enqueue(journalReply("Theodore told me Catherine moved to Boston. He finished Maria's letter, and seemed proud."))
	days, err := c.Consolidate(h.Ctx, h.User.ID)
	if err != nil || !slices.Equal(days, []string{"2026-03-02"}) {
		t.Fatalf("Consolidate = %v, %v", days, err)
	}
	js := h.journals()
	if len(js) != 1 || js[0].Day != "2026-03-02" || !strings.HasPrefix(js[0].Text, "Theodore told me") {
		t.Fatalf("journals = %+v", js)
	}
	if want := []string{"msg_u1", "msg_a1", "msg_u2"}; !slices.Equal(js[0].Sources, want) {
		t.Errorf("sources = %v, want the day's messages %v", js[0].Sources, want)
	}
	req := h.journalRequests()[0]
	memtest.Golden(t, "journal_prompt.golden", req.System+"\n-----\n"+req.Messages[0].Content)
	if strings.Contains(req.Messages[0].Content, "tool output") {
		t.Error("tool output reached the journal prompt")
	}

	// Nothing new: nothing to do, however often it runs.
	h.Clock.Advance(time.Hour)
	if days, err := c.Consolidate(h.Ctx, h.User.ID); err != nil || len(days) != 0 {
		t.Errorf("second run wrote %v, %v", days, err)
	}

	// More that day: the entry is rewritten, not doubled.
	h.Append("cnv_1", said("msg_u3", "user", "Catherine called, she loves it there.", day0.Add(3*time.Hour)))
	h.Clock.Set(day0.Add(4 * time.Hour))
	h.LLM.Enqueue(journalReply("Catherine moved to Boston and loves it. Theodore sounded relieved."))
	if days, err := c.Consolidate(h.Ctx, h.User.ID); err != nil || len(days) != 1 {
		t.Fatalf("rewrite = %v, %v", days, err)
	}
	js2 := h.journals()
	if len(js2) != 1 || js2[0].ID != js[0].ID || !strings.Contains(js2[0].Text, "relieved") || !slices.Contains(js2[0].Sources, "msg_u3") {
		t.Errorf("rewritten journal = %+v", js2)
	}
}

func TestJournalNightlyInTheUsersTimeZone(t *testing.T) {
	h := newWorkHarness(t)
	c := h.consolidator(memory.JournalOptions{IdleAfter: 2 * time.Hour})
	// 22:50 UTC is 23:50 in Berlin on the 2nd; 23:10 UTC is 00:10 on the 3rd.
	late := time.Date(2026, 3, 2, 22, 50, 0, 0, time.UTC)
	h.Conversation("cnv_1",
		said("msg_d1", "user", "Can't sleep, thinking about the move.", late),
		said("msg_d2", "user", "It's past midnight now.", late.Add(20*time.Minute)))
	h.Clock.Set(late.Add(25 * time.Minute)) // still talking, but the 2nd is over in Berlin
	h.LLM.Enqueue(journalReply("Theodore could not sleep; the move is on his mind."))
	days, err := c.Consolidate(h.Ctx, h.User.ID)
	if err != nil || !slices.Equal(days, []string{"2026-03-02"}) {
		t.Fatalf("Consolidate = %v, %v; want only the finished day", days, err)
	}
	if js := h.journals(); len(js) != 1 || !slices.Equal(js[0].Sources, []string{"msg_d1"}) {
		t.Errorf("journals = %+v", js)
	}
	h.Clock.Set(late.Add(3 * time.Hour))
	h.LLM.Enqueue(journalReply("Past midnight and still awake with Theodore."))
	if days, err := c.Consolidate(h.Ctx, h.User.ID); err != nil || !slices.Equal(days, []string{"2026-03-03"}) {
		t.Fatalf("second day = %v, %v", days, err)
	}
}

func TestJournalRetriesWhenTheModelFails(t *testing.T) {
	h := newWorkHarness(t)
	s := h.service(memory.ServiceOptions{Journal: memory.JournalOptions{IdleAfter: 30 * time.Minute}})
	h.LLM.Handle(func(r llmtest.Request) llmtest.Reply { return memtest.OpsReply() }) // extraction finds nothing
	h.Conversation("cnv_1", said("msg_u1", "user", "Today was long.", day0))
	s.TurnStored(h.User.ID, "cnv_1")
	h.flush(s)

	h.Clock.Set(day0.Add(time.Hour))
	h.LLM.Enqueue(llmtest.Reply{Status: 500})
	if err := h.tick(s); err == nil {
		t.Fatal("a failed journal was not reported")
	}
	if len(h.journals()) != 0 {
		t.Fatal("a journal was written without the model")
	}
	h.Must(h.tick(s)) // too soon: the retry waits RetryMin
	if n := len(h.journalRequests()); n != 1 {
		t.Fatalf("%d journal requests right after a failure, want 1", n)
	}
	h.LLM.Enqueue(journalReply("A long day for Theodore."))
	h.Clock.Advance(time.Minute)
	h.Must(h.tick(s))
	if js := h.journals(); len(js) != 1 || js[0].Text != "A long day for Theodore." {
		t.Errorf("journals = %+v", js)
	}
	if h.Meter.Get("journal") != 1 || h.Meter.Get("retry") != 1 {
		t.Errorf("meter = %v", h.Meter)
	}
}

func TestJournalNeedsTheUser(t *testing.T) {
	h := newWorkHarness(t)
	h.Conversation("cnv_1", said("msg_a1", "assistant", "Good morning!", day0))
	if _, err := h.consolidator(memory.JournalOptions{}).WriteDay(h.Ctx, h.User.ID, "2026-03-02"); err == nil {
		t.Fatal("wrote a journal for a day the user said nothing")
	}
	if _, err := h.consolidator(memory.JournalOptions{}).WriteDay(h.Ctx, h.User.ID, "March 2nd"); err == nil {
		t.Fatal("accepted a day that is not YYYY-MM-DD")
	}
}
