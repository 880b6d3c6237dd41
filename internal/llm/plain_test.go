package llm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// An overflow's sentence says what to change, with the server's context
// size when it said one, never "start a new conversation" alone.
func TestPlainFailureOfAnOverflow(t *testing.T) {
	srv := llmtest.NewServer(t)
	p := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "m", Transport: llm.Transport{MaxRetries: -1, IdleTimeout: 5 * time.Second}})
	for _, tc := range []struct {
		name  string
		reply llmtest.Reply
		size  string
	}{
		{"400 with sizes", llmtest.ContextExceeded(24566, 16384), " (16,384 tokens)"},
		{"mid-stream", llmtest.ContextExceededMidStream("Part of"), ""},
	} {
		srv.Enqueue(tc.reply)
		_, err := llmtest.Collect(context.Background(), p, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
		if llm.KindOf(err) != llm.KindContextOverflow {
			t.Fatalf("%s: err = %v, want an overflow", tc.name, err)
		}
		sentence, details := llm.PlainFailure(err)
		want := "This conversation no longer fits the model's context" + tc.size + ". " +
			"Give the model server a larger context (llama-server -c), or set os1's context_tokens to fit it."
		if sentence != want {
			t.Errorf("%s: sentence = %q, want %q", tc.name, sentence, want)
		}
		if details != err.Error() || !strings.Contains(strings.ToLower(details), "context") {
			t.Errorf("%s: details = %q, want the error as the client saw it", tc.name, details)
		}
	}
}
