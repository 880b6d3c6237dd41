package voice

import (
	"context"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
)

// elsewhere runs a whole turn through the companion directly, as another
// tab or device of userID would, and returns its events.
func (h *harness) elsewhere(userID, conv, text string) []companion.Event {
	h.t.Helper()
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Answered ", "elsewhere."}})
	evs, err := h.comp.Send(context.Background(), userID, conv, text)
	if err != nil {
		h.t.Fatalf("send %q: %v", text, err)
	}
	var out []companion.Event
	for ev := range evs {
		out = append(out, ev)
	}
	return out
}

func (h *harness) conversation(userID string) string {
	h.t.Helper()
	conv, err := h.comp.CreateConversation(context.Background(), userID, "")
	if err != nil {
		h.t.Fatal(err)
	}
	return conv.ID
}

// eventFrames are the turn events the client got, in order.
func (c *call) eventFrames() []companion.Event {
	var out []companion.Event
	for _, f := range c.sink.all() {
		if f.JSON == nil && f.PCM == nil {
			out = append(out, f.Event)
		}
	}
	return out
}

func TestCallCaptionsTurnsStartedElsewhere(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	conv := h.conversation(h.user.ID)
	c := h.call(map[string]any{"type": "start", "sample_rate": 16000, "conversation_id": conv})
	h.elsewhere(h.user.ID, conv, "typed in another tab")
	c.sink.wait(t, string(companion.EvTurnDone), 1, nil)

	var types []companion.EventType
	for _, ev := range c.eventFrames() {
		types = append(types, ev.Type)
		if ev.ConversationID != conv {
			t.Errorf("%s of conversation %q, want %q", ev.Type, ev.ConversationID, conv)
		}
	}
	if len(types) < 5 || types[0] != companion.EvConversation || types[1] != companion.EvUserMessage ||
		types[2] != companion.EvAssistantStart || types[len(types)-2] != companion.EvAssistantDone || types[len(types)-1] != companion.EvTurnDone {
		t.Fatalf("turn events %v", types)
	}
	if um := c.sink.wait(t, string(companion.EvUserMessage), 1, nil); um.Event.Message.Content != "typed in another tab" {
		t.Fatalf("user message %+v", um.Event.Message)
	}
	if done := c.sink.wait(t, string(companion.EvAssistantDone), 1, nil); done.Event.Message.Content != "Answered elsewhere." {
		t.Fatalf("reply %+v", done.Event.Message)
	}
	// Captions only: the call speaks the turns it starts.
	for _, typ := range []string{"audio", "binary", "audio_done", "timeline", "error"} {
		if n := len(c.sink.of(typ, nil)); n != 0 {
			t.Fatalf("%d %q frames for a turn started elsewhere: %s", n, typ, c.sink.types())
		}
	}
}

func TestCallGetsItsOwnTurnsOnce(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.call(start16k) // a new conversation, made by the call's first turn
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Spoken back."}})
	c.text(map[string]any{"type": "text", "text": "hi from the call"})
	c.sink.wait(t, "timeline", 1, nil)
	// Heard to the end, so the next typed message is not a barge-in.
	played := c.sink.wait(t, "audio_done", 1, nil).str("message_id")
	c.text(map[string]any{"type": "playback", "message_id": played, "state": "finished"})
	conv := c.conv()
	h.elsewhere(h.user.ID, conv, "hi from the phone")
	c.sink.wait(t, string(companion.EvTurnDone), 2, nil)
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Spoken again."}})
	c.text(map[string]any{"type": "text", "text": "and again from the call"})
	c.sink.wait(t, "timeline", 2, nil)
	h.elsewhere(h.user.ID, conv, "and again from the phone")
	// The subscription delivers in order: once the last turn's turn_done is
	// out, the subscription's copies of the call's own turns were seen too.
	c.sink.wait(t, string(companion.EvTurnDone), 4, nil)

	var users []string
	for _, f := range c.sink.of(string(companion.EvUserMessage), nil) {
		users = append(users, f.Event.Message.Content)
	}
	want := []string{"hi from the call", "hi from the phone", "and again from the call", "and again from the phone"}
	if len(users) != len(want) {
		t.Fatalf("user messages %q, want %q (frames %s)", users, want, c.sink.types())
	}
	for i := range want {
		if users[i] != want[i] {
			t.Fatalf("user messages %q, want %q", users, want)
		}
	}
	for typ, n := range map[string]int{"conversation": 4, "assistant_start": 4, "assistant_done": 4, "turn_done": 4, "audio_done": 2, "timeline": 2, "interrupted": 0} {
		if got := len(c.sink.of(typ, nil)); got != n {
			t.Errorf("%d %q frames, want %d: %s", got, typ, n, c.sink.types())
		}
	}
	if n := len(h.messages(conv)); n != 8 {
		t.Fatalf("%d messages stored, want 8", n)
	}
}

func TestCallIgnoresOtherConversationsAndUsers(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	other := store.User{ID: "usr_ana", Username: "ana", DisplayName: "Ana", Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}
	if err := h.db.CreateUser(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	conv := h.conversation(h.user.ID)
	c := h.call(map[string]any{"type": "start", "sample_rate": 16000, "conversation_id": conv})

	h.elsewhere(h.user.ID, h.conversation(h.user.ID), "in another conversation")
	h.elsewhere(other.ID, h.conversation(other.ID), "another user")
	h.elsewhere(other.ID, "", "another user, new conversation")
	h.comp.MemoryChanged(context.Background(), h.user.ID, "mem_1")
	h.comp.Publish(context.Background(), h.user.ID, companion.Event{Type: companion.EvLagged, ConversationID: "cnv_elsewhere", MessageID: "msg_elsewhere"})
	h.elsewhere(h.user.ID, conv, "in the call's conversation") // in order after the others

	c.sink.wait(t, string(companion.EvTurnDone), 1, nil)
	for _, ev := range c.eventFrames() {
		if ev.ConversationID != conv {
			t.Fatalf("%s of conversation %q reached the call of %q: %s", ev.Type, ev.ConversationID, conv, c.sink.types())
		}
	}
	if um := c.sink.of(string(companion.EvUserMessage), nil); len(um) != 1 || um[0].Event.Message.Content != "in the call's conversation" {
		t.Fatalf("user messages %+v", um)
	}
}

func TestCallForwardsLagged(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	conv := h.conversation(h.user.ID)
	c := h.call(map[string]any{"type": "start", "sample_rate": 16000, "conversation_id": conv})
	// What a reader that fell behind gets in place of deltas of a turn
	// started elsewhere: the client re-reads the conversation.
	h.comp.Publish(context.Background(), h.user.ID, companion.Event{Type: companion.EvLagged, ConversationID: conv, MessageID: "msg_missed"})
	f := c.sink.wait(t, string(companion.EvLagged), 1, nil)
	if f.Event.ConversationID != conv || f.Event.MessageID != "msg_missed" {
		t.Fatalf("lagged %+v", f.Event)
	}
}

func TestCallStopsFollowingWhenItEnds(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	conv := h.conversation(h.user.ID)
	c := h.call(map[string]any{"type": "start", "sample_rate": 16000, "conversation_id": conv})
	c.s.Close()
	n := len(c.sink.all())
	h.elsewhere(h.user.ID, conv, "after the call")
	if got := len(c.sink.all()); got != n {
		t.Fatalf("frames after the call ended: %s", c.sink.types())
	}
}
