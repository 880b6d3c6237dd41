package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestKillMidStream kills os1 with SIGKILL while a reply streams and checks
// that a restart on the same data dir keeps what was said: the user's
// message, and the partial reply marked interrupted, which Retry answers.
//
// os1 promises that a crash loses at most a second of streamed text
// (companion.DefaultFlushEvery). The model pauses after two chunks in both
// cases; in the first the second chunk comes 300 ms after the first, in the
// second right after it, so only a save on a timer (not on the next delta)
// keeps it.
func TestKillMidStream(t *testing.T) {
	for _, tc := range []struct {
		name  string
		delay time.Duration
	}{
		{"chunks 300ms apart", 300 * time.Millisecond},
		{"chunks back to back", 0},
	} {
		t.Run(tc.name, func(t *testing.T) { killMidStream(t, tc.delay) })
	}
}

func killMidStream(t *testing.T, chunkDelay time.Duration) {
	model := llmtest.NewServer(t)
	scriptMemory(model)
	env := []string{"OS1_LLM_URL=" + model.OpenAIBaseURL(), "OS1_LLM_MODEL=" + llmtest.DefaultModel, "OS1_DATA_DIR=" + t.TempDir()}
	first := startOS1(t, env...)
	owner := newClient(t, first.URL)
	owner.setup(first.SetupToken, ownerName, ownerPassword, ownerDisplay)
	owner.waitModel()
	token := owner.newToken("e2e crash")
	api := bearer(t, first.URL, token)
	conv := api.newConversation()

	const text = "Tell me about the sea."
	gate := llmtest.NewGate()
	t.Cleanup(gate.Release)
	model.Enqueue(llmtest.Reply{Chunks: []string{"The sea ", "is wide ", "and deep."}, ChunkDelay: chunkDelay, Hold: gate, HoldAfter: 2})
	const partial = "The sea is wide "

	turn := api.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": text})
	var seen []event
	var streamed strings.Builder
	// Until both chunks' text arrived: chunks sent back to back may come
	// as one delta (a reader that is behind gets what piled up joined).
	for streamed.Len() < len(partial) {
		ev, ok := turn.next()
		if !ok {
			t.Fatalf("the stream ended before both chunks arrived: %s", types(seen))
		}
		seen = append(seen, ev)
		if ev.Type == "delta" {
			streamed.WriteString(ev.Text)
		}
	}
	if streamed.String() != partial {
		t.Fatalf("streamed %q, want %q", streamed.String(), partial)
	}
	select {
	case <-gate.Reached():
	case <-time.After(waitTimeout):
		t.Fatal("the scripted model never paused at the gate")
	}

	// os1 saves streamed text every second; wait until the partial reply is
	// in the database before pulling the plug. The model says nothing more
	// until the gate opens.
	eventually(t, "the partial reply is saved while the model pauses", func() (bool, string) {
		v := api.conversation(conv)
		if len(v.Messages) != 2 {
			return false, fmt.Sprintf("%+v", v.Messages)
		}
		a := v.Messages[1]
		return a.Role == "assistant" && a.Status == "streaming" && a.Content == partial, fmt.Sprintf("%+v", v.Messages)
	})

	first.kill()
	turn.close()
	gate.Release()

	second := startOS1(t, env...)
	if second.SetupToken != "" {
		t.Fatal("after a restart os1 asks for setup again; the owner was lost")
	}
	api = bearer(t, second.URL, token)
	v := api.conversation(conv)
	if len(v.Messages) != 2 {
		t.Fatalf("after the crash the conversation holds %d messages, want 2: %+v", len(v.Messages), v.Messages)
	}
	if u := v.Messages[0]; u.Role != "user" || u.Content != text || u.Status != "complete" {
		t.Errorf("the user's message after the crash is %+v, want %q, complete", u, text)
	}
	if a := v.Messages[1]; a.Role != "assistant" || a.Content != partial || a.Status != "interrupted" {
		t.Errorf("the reply after the crash is %+v, want %q, interrupted", a, partial)
	}
	if v.Running {
		t.Error("after a restart the conversation says a turn is running")
	}

	// Retry answers the conversation again, normally.
	api.waitModel()
	model.Enqueue(llmtest.Reply{Chunks: []string{"Sorry, ", "where was I? ", "The sea is wide and deep."}})
	const answer = "Sorry, where was I? The sea is wide and deep."
	evs := api.stream("/api/conversations/"+conv+"/retry", nil).rest()
	var done *message
	for _, ev := range evs {
		if ev.Type == "error" {
			t.Errorf("retry failed: %s", types(evs))
		}
		if ev.Type == "assistant_done" {
			done = ev.Message
		}
	}
	if done == nil || done.Status != "complete" || done.Content != answer {
		t.Fatalf("retry's reply is %+v, want %q complete (events: %s)", done, answer, types(evs))
	}
	if len(evs) == 0 || evs[len(evs)-1].Type != "turn_done" {
		t.Errorf("retry's stream does not end with turn_done: %s", types(evs))
	}
	reqs := chatRequestList(model)
	retried := reqs[len(reqs)-1]
	if !hasUserText(retried, text) {
		t.Errorf("the retry's request does not carry the user's message %q: %+v", text, retried.Messages)
	}
	v = api.conversation(conv)
	if n := len(v.Messages); n != 3 || v.Messages[n-1].Content != answer || v.Messages[n-1].Status != "complete" {
		t.Errorf("after the retry the conversation holds %+v, want user, interrupted partial, complete answer", v.Messages)
	}
}

func hasUserText(r llmtest.Request, text string) bool {
	for _, m := range r.Messages {
		if m.Role == "user" && m.Content == text {
			return true
		}
	}
	return false
}
