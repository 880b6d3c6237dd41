package llm_test

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

func newOpenAI(t *testing.T, srv *llmtest.Server, tr llm.Transport) llm.Provider {
	return llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL() + "/", APIKey: "sk-test", Model: "llama3.2", Transport: tr})
}

func TestOpenAIContract(t *testing.T) {
	llmtest.RunProviderContract(t, newOpenAI)
}

func TestOpenAIHeaders(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.RequireAPIKey("sk-test")
	srv.Enqueue(llmtest.Reply{Chunks: []string{"ok"}})
	p := newOpenAI(t, srv, llm.Transport{})
	if _, err := llmtest.Collect(t.Context(), p, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if got := r.Header.Get("Authorization"); got != "Bearer sk-test" {
		t.Errorf("Authorization = %q", got)
	}
	if !strings.Contains(string(r.Body), `"stream_options":{"include_usage":true}`) {
		t.Errorf("request does not ask for usage: %s", r.Body)
	}
}

func TestOpenAIWithoutKeySendsNoAuthorization(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Reply{Chunks: []string{"ok"}})
	p := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "llama3.2"})
	if _, err := llmtest.Collect(t.Context(), p, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests()[0].Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none for a keyless local server", got)
	}
}

func TestOpenAIErrorMessageSaysWhereAndWhat(t *testing.T) {
	srv := llmtest.NewServer(t)
	for range 4 {
		srv.Enqueue(llmtest.Reply{Status: 429, RetryAfter: "30"})
	}
	sl := &llmtest.Sleeps{}
	p := newOpenAI(t, srv, llm.Transport{Sleep: sl.Sleep})
	_, err := llmtest.Collect(t.Context(), p, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	want := "openai-compatible model at " + srv.OpenAIBaseURL() + " answered 429 Too Many Requests 4 times: Too Many Requests; try again in 30s"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v\nwant it to contain %q", err, want)
	}
}
