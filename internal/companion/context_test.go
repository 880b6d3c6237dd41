package companion_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
)

// Issue 10, real model servers: thinking kept and timed, cut-off replies
// marked, context overflows trimmed and retried once, cut-off tool calls
// retried with a larger limit.

func hexDump(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString("3f a9 0c 7e 11 d2 4b 88  90 ab cd ef 01 23 45 67  |?..~..K........|\n")
	}
	return b.String()
}

func TestThoughtStoredApartAndTimed(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.Reply{Reasoning: []string{"Theodore greets me; ", "greet him back."}, Chunks: []string{"Hello."},
		ChunkDelay: 40 * time.Millisecond})
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "hi")))
	var streamed strings.Builder
	var done *store.Message
	for _, ev := range evs {
		switch ev.Type {
		case companion.EvReasoning:
			streamed.WriteString(ev.Text)
		case companion.EvAssistantDone:
			done = ev.Message
		}
	}
	const want = "Theodore greets me; greet him back."
	if streamed.String() != want {
		t.Errorf("reasoning events carried %q, want %q", streamed.String(), want)
	}
	m := h.messages(convOf(evs))[1]
	if m.Content != "Hello." || m.Reasoning != want {
		t.Errorf("stored content %q reasoning %q; want the answer and the thinking apart", m.Content, m.Reasoning)
	}
	// Two delays of 40 ms pass between the first thought and the answer.
	if m.ThoughtFor < 70*time.Millisecond || m.ThoughtFor > 10*time.Second {
		t.Errorf("thought for %v, want about 80ms", m.ThoughtFor)
	}
	if done == nil || done.Reasoning != want || done.ThoughtFor != m.ThoughtFor {
		t.Errorf("assistant_done message = %+v, want the reasoning and its time", done)
	}
}

func TestLengthCutOffIsMarked(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"It was the best of times, it was"}, StopReason: "length"})
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "Tell me a story")))
	m := h.messages(convOf(evs))[1]
	if m.Status != store.StatusComplete || m.Finish != store.FinishLength {
		t.Errorf("stored status %q finish %q, want complete and %q", m.Status, m.Finish, store.FinishLength)
	}
	last := evs[len(evs)-2] // assistant_done, then turn_done
	if last.Type != companion.EvAssistantDone || last.Message.Finish != store.FinishLength {
		t.Errorf("final event %+v does not say the reply was cut off", last)
	}
}

// A pasted hex dump on a server with a small context: the server's size is
// learned (/props, the 400's n_ctx), its tokens counted as it counts them,
// and the prompt shortened until it fits.
func TestOverflowShortensAndRetries(t *testing.T) {
	h := newHarness(t, true)
	h.llm.SetContextSize(2048)
	h.llm.CountTokens(llmtest.BytesPerToken(1.1))
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"That looks like a hex dump."}})
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "What is this?\n"+hexDump(100<<10))))
	for _, ev := range evs {
		if ev.Type == companion.EvError {
			t.Fatalf("error: %+v", ev.Err)
		}
	}
	m := h.messages(convOf(evs))[1]
	if m.Status != store.StatusComplete || m.Content != "That looks like a hex dump." {
		t.Errorf("reply %q %q, want the answer", m.Status, m.Content)
	}
	reqs := h.llm.Requests()
	if n := len(reqs); n > 2 {
		t.Errorf("%d requests, want at most one retry", n)
	}
	last := reqs[len(reqs)-1]
	if got := llmtest.BytesPerToken(1.1)(last); got > 2048 {
		t.Errorf("the request that was answered has %d tokens; the server holds 2048", got)
	}
	if len(last.Tools) == 0 {
		t.Error("the tools were left out to make room; they must be counted, not dropped")
	}
}

func TestOverflowTwiceSaysWhatToChange(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.ContextExceeded(9000, 4096), llmtest.ContextExceeded(5000, 4096))
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "hi")))
	var turnErr *companion.TurnError
	for _, ev := range evs {
		if ev.Type == companion.EvError {
			turnErr = ev.Err
		}
	}
	if n := len(h.llm.Requests()); n != 2 {
		t.Errorf("%d requests, want the first and one shortened retry", n)
	}
	if turnErr == nil {
		t.Fatal("no error event")
	}
	// The headline itself says what to change, briefly; the details keep
	// the advice in full and the server's error.
	if want := "This conversation no longer fits the model's context (4,096 tokens). " +
		"Give the model server a larger context (llama-server -c), or set os1's context_tokens to fit it."; turnErr.Message != want {
		t.Errorf("headline = %q, want %q", turnErr.Message, want)
	}
	if !strings.Contains(turnErr.Details, "OS1_CONTEXT_TOKENS") || !strings.Contains(turnErr.Details, "exceed") {
		t.Errorf("details = %q, want the full advice and the server's error", turnErr.Details)
	}
	all := turnErr.Message + " " + h.messages(convOf(evs))[1].Error // the stored error keeps the details
	for _, want := range []string{"context_tokens", "OS1_CONTEXT_TOKENS", "-c", "4096"} {
		if !strings.Contains(all, want) {
			t.Errorf("error %q does not mention %s", all, want)
		}
	}
	for _, bad := range []string{"check the model name", "try again later"} {
		if strings.Contains(strings.ToLower(all), bad) {
			t.Errorf("error %q says %q", all, bad)
		}
	}
}

func TestMidStreamOverflowRetriedInPlace(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.ContextExceededMidStream("Part of"), llmtest.Reply{Chunks: []string{"The whole answer."}})
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "hi")))
	lagged := false
	for _, ev := range evs {
		switch ev.Type {
		case companion.EvError:
			t.Errorf("error: %+v", ev.Err)
		case companion.EvLagged:
			lagged = true
		}
	}
	msgs := h.messages(convOf(evs))
	if len(msgs) != 2 || msgs[1].Content != "The whole answer." || msgs[1].Status != store.StatusComplete {
		t.Fatalf("stored %+v, want one reply with the retried answer", msgs)
	}
	if !lagged {
		t.Error("clients that saw the first attempt's text were not told to re-read the reply")
	}
}

func TestCutOffToolCallRetriedWithLargerLimit(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.CutOffToolCall("recall", `{"query":"where Catherine lives now"}`), llmtest.Reply{Chunks: []string{"Done."}})
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "hi")))
	for _, ev := range evs {
		if ev.Type == companion.EvError {
			t.Errorf("error: %+v", ev.Err)
		}
	}
	reqs := h.llm.Requests()
	if len(reqs) != 2 || reqs[1].MaxTokens <= reqs[0].MaxTokens {
		t.Fatalf("requests' max_tokens %v, want a retry with a larger limit", maxTokens(reqs))
	}
	if m := h.messages(convOf(evs))[1]; m.Content != "Done." || m.Status != store.StatusComplete {
		t.Errorf("reply %q %q", m.Status, m.Content)
	}
}

func maxTokens(reqs []llmtest.Request) []int {
	var out []int
	for _, r := range reqs {
		out = append(out, r.MaxTokens)
	}
	return out
}
