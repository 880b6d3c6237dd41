package extract_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/memory/memtest"
)

func (h *workHarness) consolidator(o extract.JournalOptions) *extract.Consolidator {
	return extract.NewConsolidator(extract.ConsolidatorDeps{Core: h.DB, Memory: h.Mem, Models: h.Models, Clock: h.Clock, Meter: h.Meter}, o)
}

func TestJournalAfterIdle(t *testing.T) {
	h := newWorkHarness(t)
	c := h.consolidator(extract.JournalOptions{}) // idle after 30m
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
	h.LLM.Enqueue(memtest.JournalReply("Theodore told me Catherine moved to Boston. He finished Maria's letter, and seemed proud."))
	days, err := c.Consolidate(h.Ctx, h.User.ID)
	if err != nil || !slices.Equal(days, []string{"2026-03-02"}) {
		t.Fatalf("Consolidate = %v, %v", days, err)
	}
	js := h.Journals()
	if len(js) != 1 || js[0].Day != "2026-03-02" || !strings.HasPrefix(js[0].Text, "Theodore told me") {
		t.Fatalf("journals = %+v", js)
	}
	if want := []string{"msg_u1", "msg_a1", "msg_u2"}; !slices.Equal(js[0].Sources, want) {
		t.Errorf("sources = %v, want the day's messages %v", js[0].Sources, want)
	}
	req := h.JournalRequests()[0]
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
	h.LLM.Enqueue(memtest.JournalReply("Catherine moved to Boston and loves it. Theodore sounded relieved."))
	if days, err := c.Consolidate(h.Ctx, h.User.ID); err != nil || len(days) != 1 {
		t.Fatalf("rewrite = %v, %v", days, err)
	}
	js2 := h.Journals()
	if len(js2) != 1 || js2[0].ID != js[0].ID || !strings.Contains(js2[0].Text, "relieved") || !slices.Contains(js2[0].Sources, "msg_u3") {
		t.Errorf("rewritten journal = %+v", js2)
	}
}

func TestJournalNightlyInTheUsersTimeZone(t *testing.T) {
	h := newWorkHarness(t)
	c := h.consolidator(extract.JournalOptions{IdleAfter: 2 * time.Hour})
	// 22:50 UTC is 23:50 in Berlin on the 2nd; 23:10 UTC is 00:10 on the 3rd.
	late := time.Date(2026, 3, 2, 22, 50, 0, 0, time.UTC)
	h.Conversation("cnv_1",
		said("msg_d1", "user", "Can't sleep, thinking about the move.", late),
		said("msg_d2", "user", "It's past midnight now.", late.Add(20*time.Minute)))
	h.Clock.Set(late.Add(25 * time.Minute)) // still talking, but the 2nd is over in Berlin
	h.LLM.Enqueue(memtest.JournalReply("Theodore could not sleep; the move is on his mind."))
	days, err := c.Consolidate(h.Ctx, h.User.ID)
	if err != nil || !slices.Equal(days, []string{"2026-03-02"}) {
		t.Fatalf("Consolidate = %v, %v; want only the finished day", days, err)
	}
	if js := h.Journals(); len(js) != 1 || !slices.Equal(js[0].Sources, []string{"msg_d1"}) {
		t.Errorf("journals = %+v", js)
	}
	h.Clock.Set(late.Add(3 * time.Hour))
	h.LLM.Enqueue(memtest.JournalReply("Past midnight and still awake with Theodore."))
	if days, err := c.Consolidate(h.Ctx, h.User.ID); err != nil || !slices.Equal(days, []string{"2026-03-03"}) {
		t.Fatalf("second day = %v, %v", days, err)
	}
}

func TestJournalNeedsTheUser(t *testing.T) {
	h := newWorkHarness(t)
	h.Conversation("cnv_1", said("msg_a1", "assistant", "Good morning!", day0))
	if _, err := h.consolidator(extract.JournalOptions{}).WriteDay(h.Ctx, h.User.ID, "2026-03-02"); err == nil {
		t.Fatal("wrote a journal for a day the user said nothing")
	}
	if _, err := h.consolidator(extract.JournalOptions{}).WriteDay(h.Ctx, h.User.ID, "March 2nd"); err == nil {
		t.Fatal("accepted a day that is not YYYY-MM-DD")
	}
}
