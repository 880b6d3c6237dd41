package llm_test

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

func newAnthropic(t *testing.T, srv *llmtest.Server, tr llm.Transport) llm.Provider {
	return llm.NewAnthropic(llm.AnthropicConfig{BaseURL: srv.AnthropicBaseURL(), APIKey: "sk-ant-test", Model: "claude-test", Transport: tr})
}

func TestAnthropicContract(t *testing.T) {
	llmtest.RunProviderContract(t, newAnthropic)
}

func TestAnthropicHeadersAndDefaults(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.RequireAPIKey("sk-ant-test")
	srv.Enqueue(llmtest.Reply{Chunks: []string{"ok"}})
	p := newAnthropic(t, srv, llm.Transport{})
	if _, err := llmtest.Collect(t.Context(), p, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if got := r.Header.Get("X-Api-Key"); got != "sk-ant-test" {
		t.Errorf("x-api-key = %q", got)
	}
	if got := r.Header.Get("Anthropic-Version"); got != "2023-06-01" {
		t.Errorf("anthropic-version = %q", got)
	}
	if r.MaxTokens != 1024 {
		t.Errorf("max_tokens = %d, want the default 1024", r.MaxTokens)
	}
}

func TestAnthropicToolResultsShareOneUserTurn(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Reply{Chunks: []string{"ok"}})
	p := newAnthropic(t, srv, llm.Transport{})
	req := llm.Request{Messages: []llm.Message{
		{Role: llm.RoleUser, Content: "two things"},
		{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "t1", Name: "a"}, {ID: "t2", Name: "b"}}},
		{Role: llm.RoleTool, ToolCallID: "t1", Content: "one"},
		{Role: llm.RoleTool, ToolCallID: "t2", Content: "two"},
	}}
	if _, err := llmtest.Collect(t.Context(), p, req); err != nil {
		t.Fatal(err)
	}
	body := string(srv.Requests()[0].Body)
	if n := strings.Count(body, `"role":"user"`); n != 2 {
		t.Errorf("%d user turns, want 2 (the question, then both tool results together): %s", n, body)
	}
	if !strings.Contains(body, `"input":{}`) {
		t.Errorf("a tool call without arguments should send input {}: %s", body)
	}
}

func TestAnthropicStreamErrorKinds(t *testing.T) {
	for errType, kind := range map[string]llm.ErrorKind{
		"overloaded_error":      llm.KindServer,
		"rate_limit_error":      llm.KindRateLimited,
		"api_error":             llm.KindServer,
		"invalid_request_error": llm.KindBadRequest,
	} {
		t.Run(errType, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.Enqueue(llmtest.Reply{Chunks: []string{"a", "b"}, Fault: llmtest.FaultStreamError, FaultAfter: 1, ErrorType: errType})
			_, err := llmtest.Collect(t.Context(), newAnthropic(t, srv, llm.Transport{Sleep: (&llmtest.Sleeps{}).Sleep}), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
			if llm.KindOf(err) != kind {
				t.Errorf("kind = %q, want %q: %v", llm.KindOf(err), kind, err)
			}
		})
	}
}
