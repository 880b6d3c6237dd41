package voice

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/speech/speechtest"
	"github.com/os1ai/os1/internal/store"
)

// checkSpoken fails t unless every request asked for the spoken register
// and every stored message of conv is marked as a voice turn.
func checkSpoken(t *testing.T, h *harness, conv string) {
	t.Helper()
	reqs := h.llm.Requests()
	if len(reqs) == 0 {
		t.Fatal("the model was never asked")
	}
	for i, r := range reqs {
		if !companion.IsSpokenRegister(r.System) {
			t.Errorf("request %d did not ask for the spoken register:\n%s", i, r.System)
		}
	}
	msgs := h.messages(conv)
	if len(msgs) != 2 {
		t.Fatalf("stored %d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		if m.Channel != store.ChannelVoice {
			t.Errorf("%s message %q stored with channel %q, want voice", m.Role, m.Content, m.Channel)
		}
	}
}

// TestOneShotTurnIsAVoiceTurn: os1 talk's turn asks the model to speak.
func TestOneShotTurnIsAVoiceTurn(t *testing.T) {
	h := newHarness(t, harnessOpts{stt: &speechtest.Fixed{Text: "What time is it?"}})
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"It is nine."}})
	rec := audio.Concat(16000, noise(16000, time.Second, 1), speechtest.ToneOf(16000, 300, time.Second), noise(16000, time.Second, 2))
	res, err := h.p.Turn(context.Background(), h.user.ID, "", rec)
	if err != nil {
		t.Fatal(err)
	}
	checkSpoken(t, h, res.ConversationID)
}

// TestCallTurnIsAVoiceTurn: words typed during a call are answered aloud,
// so they too ask for the spoken register.
func TestCallTurnIsAVoiceTurn(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Typed back."}})
	c := h.call(start16k)
	c.text(map[string]any{"type": "text", "text": "hi in writing"})
	c.sink.wait(t, "audio_done", 1, nil)
	c.sink.wait(t, "timeline", 1, nil)
	checkSpoken(t, h, c.conv())
}

// TestCallErrorsAreSentences: error frames a call sends read as sentences.
func TestCallErrorsAreSentences(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.call(start16k)
	c.text(map[string]any{"type": "bogus"})
	c.text(map[string]any{"type": "start", "sample_rate": 16000})
	c.sink.wait(t, "error", 2, nil)
	for _, e := range c.sink.of("error", nil) {
		msg, _ := e.JSON["error"].(map[string]any)["message"].(string)
		if msg == "" || strings.ToUpper(msg[:1]) != msg[:1] {
			t.Errorf("error frame %q does not start with a capital letter", msg)
		}
	}
}
