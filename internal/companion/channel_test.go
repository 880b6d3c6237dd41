package companion_test

import (
	"context"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
)

// TestVoiceTurnAsksForTheSpokenRegister sends a typed turn, a voice turn and
// a typed turn again in one conversation: the model is asked for the spoken
// register only on the voice turn, and the channel is stored on both sides
// of that turn only.
func TestVoiceTurnAsksForTheSpokenRegister(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(
		llmtest.Reply{Chunks: []string{"**Sure.** Here is a list:\n- one"}},
		llmtest.Reply{Chunks: []string{"Sure, half past seven works."}},
		llmtest.Reply{Chunks: []string{"Back to typing."}},
	)
	ctx := context.Background()
	conv := convOf(collect(t, must(h.c.Send(ctx, h.user.ID, "", "plan my evening"))))
	collect(t, must(h.c.Send(ctx, h.user.ID, conv, "what time is dinner", companion.SendOptions{Channel: store.ChannelVoice})))
	collect(t, must(h.c.Send(ctx, h.user.ID, conv, "thanks", companion.SendOptions{})))

	reqs := h.llm.Requests()
	if len(reqs) != 3 {
		t.Fatalf("model got %d requests, want 3", len(reqs))
	}
	for i, want := range []bool{false, true, false} {
		if got := companion.IsSpokenRegister(reqs[i].System); got != want {
			t.Errorf("request %d: spoken register = %v, want %v:\n%s", i, got, want, reqs[i].System)
		}
	}
	if !strings.Contains(reqs[0].System, "Markdown") || !strings.Contains(reqs[1].System, "one question at a time") {
		t.Errorf("registers missing from the prompts:\n%s\n---\n%s", reqs[0].System, reqs[1].System)
	}
	msgs := h.messages(conv)
	var got []string
	for _, m := range msgs {
		got = append(got, string(m.Role)+":"+m.Channel)
	}
	if want := "user: assistant: user:voice assistant:voice user: assistant:"; strings.Join(got, " ") != want {
		t.Errorf("channels stored = %q, want %q", strings.Join(got, " "), want)
	}
}

// TestUnknownChannelIsStoredAsText: only known channels reach the store.
func TestUnknownChannelIsStoredAsText(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hi."}})
	conv := convOf(collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "hi", companion.SendOptions{Channel: "carrier-pigeon"}))))
	for _, m := range h.messages(conv) {
		if m.Channel != "" {
			t.Errorf("%s message stored with channel %q", m.Role, m.Channel)
		}
	}
	if companion.IsSpokenRegister(h.llm.Requests()[0].System) {
		t.Error("an unknown channel asked for the spoken register")
	}
}

// TestFailedTurnStoresASentenceAndDetails: a model failure reaches the
// chat as a plain sentence, with the provider's error kept as details, in
// the event and in the store.
func TestFailedTurnStoresASentenceAndDetails(t *testing.T) {
	h := newHarness(t, true)
	for range 4 { // the rig's client retries a 500
		h.llm.Enqueue(llmtest.Reply{Status: 500, Error: "the scripted model is down"})
	}
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "are you there?")))
	var te *companion.TurnError
	for _, ev := range evs {
		if ev.Type == companion.EvError {
			te = ev.Err
		}
	}
	if te == nil || !strings.HasPrefix(te.Message, "The model could not answer because its server had a problem") || !strings.Contains(te.Details, "the scripted model is down") {
		t.Fatalf("turn error %+v", te)
	}
	msgs := h.messages(convOf(evs))
	sentence, details := companion.SplitFailure(msgs[1].Error)
	if sentence != te.Message || details != te.Details {
		t.Errorf("stored %q / %q, sent %q / %q", sentence, details, te.Message, te.Details)
	}
}
