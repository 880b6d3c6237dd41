package companion_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// countingSlot records every message it is asked about.
type countingSlot struct {
	mu    sync.Mutex
	asked []string
}

func (*countingSlot) SlotName() string { return "Memories" }
func (s *countingSlot) SlotText(_ context.Context, _, latest string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, latest)
	return "Recalled for: " + latest, nil
}

// Send starts the prompt's slots before the message is stored: each turn
// asks every slot once, about its own message, and the prompt holds the
// answer and the whole history, the new message last.
func TestSendAsksEachSlotOncePerTurn(t *testing.T) {
	h := newHarness(t, true)
	slot := &countingSlot{}
	c := companion.New(companion.Deps{Store: h.db, Models: fixedModel{h.provider()}, Slots: []companion.Slot{slot}}, companion.Options{})
	t.Cleanup(c.Close)
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hello."}}, llmtest.Reply{Chunks: []string{"Sure."}})
	var convID string
	for ev := range must(c.Send(context.Background(), h.user.ID, "", "first message")) {
		if ev.Conversation != nil {
			convID = ev.Conversation.ID
		}
	}
	collect(t, must(c.Send(context.Background(), h.user.ID, convID, "second message")))
	reqs := h.llm.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d model requests, want 2", len(reqs))
	}
	slot.mu.Lock()
	asked := strings.Join(slot.asked, " | ")
	slot.mu.Unlock()
	if asked != "first message | second message" {
		t.Fatalf("slot asked about: %s", asked)
	}
	if !strings.Contains(reqs[1].System, "Recalled for: second message") {
		t.Fatalf("the second prompt lacks its slot: %s", reqs[1].System)
	}
	if n := len(reqs[1].Messages); n != 3 || reqs[1].Messages[2].Content != "second message" {
		t.Fatalf("the second prompt's history: %+v", reqs[1].Messages)
	}
}

// warmingSlot is a countingSlot that also records Warm, with how many
// messages the conversation held at that moment.
type warmingSlot struct {
	countingSlot
	h      *harness
	convID string
	warmed []string
	stored []int // messages stored when Warm was called
}

func (s *warmingSlot) Warm(latest string) {
	n := -1
	if s.convID != "" {
		msgs, err := s.h.db.Messages(context.Background(), s.h.user.ID, s.convID)
		if err == nil {
			n = len(msgs)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warmed = append(s.warmed, latest)
	s.stored = append(s.stored, n)
}

// Send warms a WarmingSlot with the message before it stores the message
// (so the slot's slow work, recall's embedding, runs beside the rest of the
// turn), once per turn, and still asks the slot for its text.
func TestSendWarmsSlotsBeforeStoringTheMessage(t *testing.T) {
	h := newHarness(t, true)
	slot := &warmingSlot{h: h}
	c := companion.New(companion.Deps{Store: h.db, Models: fixedModel{h.provider()}, Slots: []companion.Slot{slot}}, companion.Options{})
	t.Cleanup(c.Close)
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hello."}}, llmtest.Reply{Chunks: []string{"Sure."}})
	for ev := range must(c.Send(context.Background(), h.user.ID, "", "first message")) {
		if ev.Conversation != nil {
			slot.convID = ev.Conversation.ID
		}
	}
	collect(t, must(c.Send(context.Background(), h.user.ID, slot.convID, "second message")))
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if got := strings.Join(slot.warmed, " | "); got != "first message | second message" {
		t.Fatalf("warmed: %s", got)
	}
	if slot.stored[1] != 2 {
		t.Fatalf("the second message was warmed with %d messages stored, want 2 (before it was stored)", slot.stored[1])
	}
	if got := strings.Join(slot.asked, " | "); got != "first message | second message" {
		t.Fatalf("slot asked about: %s", got)
	}
	if reqs := h.llm.Requests(); len(reqs) != 2 || !strings.Contains(reqs[1].System, "Recalled for: second message") {
		t.Fatalf("the second prompt lacks its slot")
	}
}
