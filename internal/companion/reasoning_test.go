package companion_test

import (
	"context"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
)

// Issue 10: reasoning models stream their thinking apart from the answer.
// The thinking is never the reply; a reply of thinking alone is a failure.

func TestReasoningOnlyReplyFails(t *testing.T) {
	for _, form := range llmtest.ReasoningForms {
		t.Run(form.String(), func(t *testing.T) {
			h := newHarness(t, true)
			h.llm.Enqueue(llmtest.Reply{Reasoning: []string{"The user says hi. ", "I could greet them..."}, ReasoningAs: form, StopReason: "length"})
			evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "hi")))
			var turnErr *companion.TurnError
			for _, ev := range evs {
				switch ev.Type {
				case companion.EvError:
					turnErr = ev.Err
				case companion.EvDelta:
					t.Errorf("thinking was streamed as reply text: %q", ev.Text)
				}
			}
			if turnErr == nil || turnErr.Code != companion.CodeModelError || turnErr.Message != companion.ErrEmptyAnswer.Error() {
				t.Fatalf("error event = %+v, want %s: %q", turnErr, companion.CodeModelError, companion.ErrEmptyAnswer)
			}
			msgs := h.messages(convOf(evs))
			if len(msgs) != 2 {
				t.Fatalf("stored %d messages, want 2: %+v", len(msgs), msgs)
			}
			if m := msgs[1]; m.Status != store.StatusFailed || m.Error != companion.ErrEmptyAnswer.Error() || m.Content != "" {
				t.Errorf("reply stored as status %q error %q content %q; want failed, %q, no content", m.Status, m.Error, m.Content, companion.ErrEmptyAnswer)
			}
		})
	}
}

func TestReasoningThenAnswerStoresOnlyTheAnswer(t *testing.T) {
	for _, form := range llmtest.ReasoningForms {
		t.Run(form.String(), func(t *testing.T) {
			h := newHarness(t, true)
			h.llm.Enqueue(llmtest.Reply{Reasoning: []string{"Theodore greets me; ", "greet him back."}, ReasoningAs: form, Chunks: []string{"Hello", ", Theodore."}})
			evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "hi")))
			var streamed strings.Builder
			for _, ev := range evs {
				switch ev.Type {
				case companion.EvError:
					t.Errorf("unexpected error event: %+v", ev.Err)
				case companion.EvDelta:
					streamed.WriteString(ev.Text)
				}
			}
			msgs := h.messages(convOf(evs))
			if len(msgs) != 2 {
				t.Fatalf("stored %d messages, want 2: %+v", len(msgs), msgs)
			}
			if m := msgs[1]; m.Status != store.StatusComplete || m.Content != "Hello, Theodore." || m.Error != "" {
				t.Errorf("reply stored as status %q content %q error %q; want complete, only the answer", m.Status, m.Content, m.Error)
			}
			if streamed.String() != "Hello, Theodore." {
				t.Errorf("streamed %q, want only the answer", streamed.String())
			}
		})
	}
}
