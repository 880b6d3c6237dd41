package llm_test

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestContextSize reads the context window where servers say it:
// llama-server's /props, Ollama's /api/show, and 0 from a server that says
// nothing.
func TestContextSize(t *testing.T) {
	for _, tc := range []struct {
		name         string
		llama, ollam int
		want         int
	}{
		{"llama-server", 4096, 0, 4096},
		{"ollama", 0, 131072, 131072},
		{"neither", 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.SetContextSize(tc.llama)
			srv.SetOllamaContextLength(tc.ollam)
			p := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "qwen3"})
			n, err := p.ContextSize(t.Context(), "")
			if err != nil || n != tc.want {
				t.Errorf("ContextSize = %d, %v; want %d", n, err, tc.want)
			}
		})
	}
}

// TestPrefilledThinkSplit: a template that pre-fills "<think>" makes the
// content start inside the thinking, with only "</think>" to show where it
// ends. Known from llama-server's template, the first reply is split;
// learned from a reply, the next ones are.
func TestPrefilledThinkSplit(t *testing.T) {
	const content = "The user greets me.\nI should greet back.\n</think>\n\nHello!"
	reply := llmtest.Reply{Chunks: []string{"The user greets me.\nI should", " greet back.\n</th", "ink>\n\nHel", "lo!"}}
	hello := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hi"}}}
	split := func(t *testing.T, p llm.Provider) (string, string) {
		t.Helper()
		evs, err := llmtest.Collect(t.Context(), p, hello)
		if err != nil {
			t.Fatal(err)
		}
		return llmtest.TextOf(evs), llmtest.ReasoningOf(evs)
	}

	t.Run("from the template", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		srv.SetContextSize(8192)
		srv.SetChatTemplate("{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n<think>\\n' }}{%- endif %}")
		p := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "r1"})
		if _, err := p.ContextSize(t.Context(), ""); err != nil {
			t.Fatal(err)
		}
		srv.Enqueue(reply, llmtest.Reply{Chunks: []string{"Just an answer, no thinking."}})
		if answer, thought := split(t, p); answer != "Hello!" || thought != "The user greets me.\nI should greet back.\n" {
			t.Errorf("answer %q, reasoning %q", answer, thought)
		}
		if answer, thought := split(t, p); answer != "Just an answer, no thinking." || thought != "" {
			t.Errorf("a reply without thinking: answer %q, reasoning %q", answer, thought)
		}
	})

	t.Run("learned from a reply", func(t *testing.T) {
		srv := llmtest.NewServer(t)
		p := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "r1"})
		srv.Enqueue(reply, reply)
		if answer, _ := split(t, p); answer != content {
			t.Errorf("the first reply, with nothing known, is all answer; got %q", answer)
		}
		if answer, thought := split(t, p); answer != "Hello!" || !strings.HasPrefix(thought, "The user greets me.") {
			t.Errorf("second reply: answer %q, reasoning %q", answer, thought)
		}
	})
}
