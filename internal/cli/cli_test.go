package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// running is a wired os1 (the same build as `os1 serve`) on an httptest listener.
type running struct {
	url  string
	llm  *llmtest.Server
	env  map[string]string
	home string
}

func startApp(t testing.TB, extraEnv ...string) *running {
	t.Helper()
	home := t.TempDir()
	ls := llmtest.NewServer(t)
	ls.SetModels("test")
	// Background memory requests (extraction, journals) get their own answers
	// so they never take a reply scripted for the conversation.
	ls.Route(func(r llmtest.Request) bool {
		return strings.Contains(r.System, "deciding what to remember") || strings.Contains(r.System, "private journal entry")
	}, func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{`{"operations":[]}`}} })
	// An empty answer: conversations keep their first-message titles.
	ls.Route(isTitleRequest, func(llmtest.Request) llmtest.Reply { return llmtest.Reply{} })
	env := map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "OS1_DATA_DIR": filepath.Join(home, "data"),
		"OS1_LLM_URL": ls.OpenAIBaseURL(), "OS1_LLM_MODEL": "test", "OS1_OLLAMA_URL": "off",
	}
	for i := 0; i+1 < len(extraEnv); i += 2 {
		env[extraEnv[i]] = extraEnv[i+1]
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, config.Flags{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Log: slog.New(slog.DiscardHandler), Version: Version,
		PasswordCost: auth.TestCost}) // real argon2id, cheap: these test the flows around it
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Server.Handler())
	t.Cleanup(func() { hs.Close(); a.Close() })
	a.Models.Refresh(context.Background())
	link, err := a.Server.Prepare(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, token, _ := strings.Cut(link, "token=")
	body, _ := json.Marshal(map[string]string{"token": token, "username": "theo", "password": "correct horse"})
	res, err := http.Post(hs.URL+"/api/setup", "application/json", bytes.NewReader(body))
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("setup: %v %v", err, res)
	}
	res.Body.Close()
	env["OS1_SERVER"] = hs.URL
	return &running{url: hs.URL, llm: ls, env: env, home: home}
}

func (r *running) run(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, func(k string) string { return r.env[k] }, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestLoginThenChat(t *testing.T) {
	r := startApp(t)
	if code, _, stderr := r.run("", "chat", "--message", "hi"); code != 2 || !strings.Contains(stderr, "os1 login") {
		t.Fatalf("chat before login: %d %q", code, stderr)
	}
	if code, _, stderr := r.run("wrong password\n", "login", "-u", "theo", "--password-stdin"); code == 0 || !strings.Contains(stderr, "Wrong username or password") {
		t.Fatalf("login with a wrong password: %d %q", code, stderr)
	}
	code, out, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin")
	if code != 0 || !strings.Contains(out, "Signed in") {
		t.Fatalf("login: %d %q %q", code, out, stderr)
	}
	creds := filepath.Join(r.home, "config", "os1", "credentials.json")
	if st, err := os.Stat(creds); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v", st, err)
	}
	r.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hello", " from", " the model."}})
	code, out, stderr = r.run("", "chat", "--message", "hi there")
	if code != 0 || out != "Hello from the model.\n" {
		t.Fatalf("chat: %d %q %q", code, out, stderr)
	}
	if got := chatRequests(r.llm)[0].Messages[0].Content; got != "hi there" {
		t.Fatalf("model got %q", got)
	}
	r.llm.Enqueue(llmtest.Reply{Status: 401, Error: "bad key"})
	code, _, stderr = r.run("", "chat", "--message", "again")
	if code != 1 || !strings.Contains(stderr, "401") || !strings.Contains(stderr, "your message is saved") {
		t.Fatalf("chat with a failing model: %d %q", code, stderr)
	}
	_, conv, ok := strings.Cut(stderr, "--retry -c ")
	conv, _, _ = strings.Cut(conv, "`")
	if !ok || !strings.HasPrefix(conv, "cnv_") {
		t.Fatalf("no retry hint in %q", stderr)
	}
	r.llm.EnqueueFunc(func(req llmtest.Request) llmtest.Reply {
		if last := req.Messages[len(req.Messages)-1]; last.Content != "again" {
			t.Errorf("retry answered %q, want the failed message", last.Content)
		}
		return llmtest.Reply{Chunks: []string{"Now it works."}}
	})
	if code, out, stderr := r.run("", "chat", "--retry", "-c", conv); code != 0 || out != "Now it works.\n" {
		t.Fatalf("chat --retry: %d %q %q", code, out, stderr)
	}
}

func TestInteractiveChatAsksBeforeActing(t *testing.T) {
	r := startApp(t)
	r.run("correct horse\n", "login", "-u", "theo", "--password-stdin")
	r.llm.Enqueue(
		llmtest.Reply{Chunks: []string{"Shall I?"}, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "rename_conversation", Arguments: json.RawMessage(`{"title":"Letters"}`)}}},
		llmtest.Reply{Chunks: []string{"Renamed it."}},
		llmtest.Reply{Chunks: []string{"Second answer."}},
	)
	code, out, stderr := r.run("name this Letters\ny\nand now?\n/quit\n", "chat")
	if code != 0 {
		t.Fatalf("interactive chat: %d %q", code, stderr)
	}
	for _, want := range []string{"Shall I?", "Renamed it.", "Second answer."} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "Rename this conversation to “Letters”") || !strings.Contains(stderr, "Allow this?") {
		t.Errorf("no confirmation prompt:\n%s", stderr)
	}
	reqs := chatRequests(r.llm)
	if len(reqs) != 3 || reqs[2].Messages[len(reqs[2].Messages)-1].Content != "and now?" {
		t.Fatalf("the second message did not continue the same conversation: %d requests", len(reqs))
	}
	// Declining leaves the title alone.
	r.llm.Enqueue(
		llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c2", Name: "rename_conversation", Arguments: json.RawMessage(`{"title":"Nope"}`)}}},
		llmtest.Reply{Chunks: []string{"Fine."}},
	)
	_, out, _ = r.run("rename to Nope\nn\n", "chat")
	if !strings.Contains(out, "Fine.") {
		t.Fatalf("after declining: %q", out)
	}
	chats := chatRequests(r.llm)
	last := chats[len(chats)-1]
	if got := last.Messages[len(last.Messages)-1].Content; got != "The user declined this action." {
		t.Fatalf("model was told %q", got)
	}
}

func TestVersionAndDoctor(t *testing.T) {
	r := startApp(t)
	if code, out, _ := r.run("", "version"); code != 0 || !strings.HasPrefix(out, "os1 dev") {
		t.Fatalf("version: %d %q", code, out)
	}
	r.env["OS1_ADDR"] = strings.TrimPrefix(r.url, "http://")
	code, out, _ := r.run("", "doctor")
	if code != 0 {
		t.Fatalf("doctor with everything working: %d\n%s", code, out)
	}
	for _, want := range []string{"[ok  ] config", "[ok  ] data dir", "[ok  ] database", "1 user(s)", "[ok  ] model", "[ok  ] server"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	r.env["OS1_LLM_URL"] = "http://127.0.0.1:1/v1"
	code, out, _ = r.run("", "doctor")
	if code != 1 || !strings.Contains(out, "[FAIL] model") || !strings.Contains(out, "fix:") {
		t.Fatalf("doctor with the model down: %d\n%s", code, out)
	}
	r.env["OS1_ADDR"] = "nonsense"
	if code, out, _ = r.run("", "doctor"); code != 1 || !strings.Contains(out, "[FAIL] config") {
		t.Fatalf("doctor with bad config: %d\n%s", code, out)
	}
}

// chatRequests drops background memory requests from what the model received.
func chatRequests(srv *llmtest.Server) []llmtest.Request {
	var out []llmtest.Request
	for _, r := range srv.Requests() {
		if !strings.Contains(r.System, "deciding what to remember") && !strings.Contains(r.System, "private journal entry") && !isTitleRequest(r) {
			out = append(out, r)
		}
	}
	return out
}

// isTitleRequest tells the background request for a conversation's title
// (companion/titles.go) from chat turns.
func isTitleRequest(r llmtest.Request) bool {
	return strings.HasPrefix(r.System, "You write short titles for conversations.")
}
