package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

const (
	ownerName     = "theo"
	ownerPassword = "correct horse battery"
	ownerDisplay  = "Theo"
)

// TestCLIChatMessage runs `os1 chat --message` against a real os1 serve
// talking to a scripted model, the way a script or a terminal user would.
func TestCLIChatMessage(t *testing.T) {
	model := llmtest.NewServer(t)
	scriptMemory(model)
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	owner := newClient(t, p.URL)
	owner.setup(p.SetupToken, ownerName, ownerPassword, ownerDisplay)
	owner.waitModel()
	token := owner.newToken("e2e cli")
	api := bearer(t, p.URL, token)

	// findConversation is the conversation `os1 chat` made for text (it
	// titles a new conversation with the message).
	findConversation := func(t *testing.T, text string) conversationView {
		t.Helper()
		for _, c := range api.conversations() {
			if c.Title == text {
				return api.conversation(c.ID)
			}
		}
		t.Fatalf("no conversation titled %q: %+v", text, api.conversations())
		return conversationView{}
	}

	t.Run("reply", func(t *testing.T) {
		const text = "What should I plant in April?"
		chunks := []string{"Peas", ", radishes", " and ", "spinach", " — they like the cool."}
		reply := strings.Join(chunks, "")
		model.Enqueue(llmtest.Reply{Chunks: chunks})

		r := runOS1(t, nil, "chat", "--message", text, "--server", p.URL, "--token", token)
		if r.code != 0 {
			t.Fatalf("os1 chat exited %d, want 0\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		if r.stdout != reply+"\n" {
			t.Errorf("os1 chat printed %q, want the scripted reply %q", r.stdout, reply+"\n")
		}
		reqs := chatRequestList(model)
		if len(reqs) == 0 {
			t.Fatal("the model received no request")
		}
		last := reqs[len(reqs)-1]
		if n := len(last.Messages); n == 0 || last.Messages[n-1].Role != "user" || last.Messages[n-1].Content != text {
			t.Errorf("the model's last message is not the user's text %q: %+v", text, last.Messages)
		}
		v := findConversation(t, text)
		if len(v.Messages) != 2 ||
			v.Messages[0].Role != "user" || v.Messages[0].Content != text || v.Messages[0].Status != "complete" ||
			v.Messages[1].Role != "assistant" || v.Messages[1].Content != reply || v.Messages[1].Status != "complete" {
			t.Errorf("stored messages %+v, want the user's text and the complete reply", v.Messages)
		}
	})

	t.Run("model fails", func(t *testing.T) {
		const text = "Are you there?"
		before := chatRequests(model)
		// One call and the three retries os1 makes by default.
		for range 4 {
			model.Enqueue(llmtest.Reply{Status: 500, Error: "the scripted model is down"})
		}
		r := runOS1(t, nil, "chat", "--message", text, "--server", p.URL, "--token", token)
		if r.code == 0 {
			t.Fatalf("os1 chat exited 0 although the model failed\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
		t.Logf("os1 chat exited %d; stderr:\n%s", r.code, r.stderr)
		if !strings.Contains(r.stderr, "could not answer") || !strings.Contains(r.stderr, "the scripted model is down") {
			t.Errorf("stderr does not say the model could not answer and why:\n%s", r.stderr)
		}
		if !strings.Contains(r.stderr, "your message is saved") {
			t.Errorf("stderr does not say the message is saved:\n%s", r.stderr)
		}
		if strings.TrimSpace(r.stdout) != "" {
			t.Errorf("stdout holds %q although there was no reply", r.stdout)
		}
		if got := chatRequests(model) - before; got != 4 {
			t.Errorf("the model got %d requests, want 4 (one call and the 3 default retries)", got)
		}
		if n := model.Pending(); n != 0 {
			t.Errorf("%d scripted failures left unused", n)
		}
		v := findConversation(t, text)
		if len(v.Messages) == 0 || v.Messages[0].Role != "user" || v.Messages[0].Content != text || v.Messages[0].Status != "complete" {
			t.Fatalf("the user's message is not stored: %+v", v.Messages)
		}
		if len(v.Messages) != 2 || v.Messages[1].Role != "assistant" || v.Messages[1].Status != "failed" || v.Messages[1].Error == "" {
			t.Errorf("want a failed assistant message that says why, got %+v", v.Messages)
		}
	})

	t.Run("no token", func(t *testing.T) {
		r := runOS1(t, nil, "chat", "--message", "hello?", "--server", p.URL)
		if r.code != 2 {
			t.Errorf("os1 chat without a token exited %d, want 2\nstderr:\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "os1 login") {
			t.Errorf("stderr does not tell to run `os1 login`:\n%s", r.stderr)
		}
	})

	t.Run("version", func(t *testing.T) {
		r := runOS1(t, nil, "version")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "os1 ") {
			t.Errorf("os1 version: exit %d, stdout %q, stderr %q; want exit 0 and \"os1 …\"", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("doctor without a model", func(t *testing.T) {
		// The same data dir and address as the running server, but no model
		// configured (and no Ollama probe).
		addr := strings.TrimPrefix(p.URL, "http://")
		r := runOS1(t, []string{"OS1_DATA_DIR=" + p.DataDir, "OS1_ADDR=" + addr}, "doctor")
		if r.code != 1 {
			t.Errorf("os1 doctor exited %d, want 1\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		for _, name := range []string{"config", "database"} {
			if !regexp.MustCompile(`(?m)^\[ok\s*\]\s+` + regexp.QuoteMeta(name) + `\s`).MatchString(r.stdout) {
				t.Errorf("no ok line for %s:\n%s", name, r.stdout)
			}
		}
		// The test's data dir is a temp folder that others may read (umask
		// 022): then doctor warns and says how to close it.
		switch {
		case regexp.MustCompile(`(?m)^\[ok\s*\]\s+data dir\s`).MatchString(r.stdout):
		case regexp.MustCompile(`(?m)^\[warn\]\s+data dir\s.*may read it`).MatchString(r.stdout) && strings.Contains(r.stdout, "chmod 700"):
		default:
			t.Errorf("no ok line, nor a warning with the fix, for the data dir:\n%s", r.stdout)
		}
		if !regexp.MustCompile(`(?m)^\[FAIL\]\s+model\s+\S.*\n\s+fix: \S`).MatchString(r.stdout) {
			t.Errorf("no FAIL line for model followed by a fix line:\n%s", r.stdout)
		}
	})
}
