package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/sqldb"
)

// os1 serve's app on PostgreSQL: the owner signs up and talks, the turn is
// in PostgreSQL (and no SQLite file is made), and after a restart she signs
// in again and finds the conversation whole.
func TestServeOnPostgresKeepsATurnAcrossARestart(t *testing.T) {
	ctx := context.Background()
	url := pgtest.New(t)
	model := llmtest.NewServer(t)
	model.SetModels("m")
	model.Route(func(r llmtest.Request) bool {
		return strings.Contains(r.System, "deciding what to remember") || strings.Contains(r.System, "private journal entry")
	}, func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{`{"operations":[]}`}} })
	model.Route(func(r llmtest.Request) bool { return strings.HasPrefix(r.System, "You write short titles") },
		func(llmtest.Request) llmtest.Reply { return llmtest.Reply{} })
	model.Handle(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"Hello", " from", " PostgreSQL."}}
	})
	cfg := testConfigWith(t, "OS1_DATABASE_URL", withPassword(url), "OS1_LLM_URL", model.OpenAIBaseURL(), "OS1_LLM_MODEL", "m")

	start := func() (*app.App, *httptest.Server) {
		t.Helper()
		a, err := app.New(ctx, cfg, app.Options{PasswordCost: auth.TestCost})
		if err != nil {
			t.Fatal(err)
		}
		if a.DB.Dialect() != sqldb.Postgres {
			t.Fatalf("os1 runs on %s with a PostgreSQL URL", a.DB.Dialect())
		}
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		a.Models.Refresh(ctx)
		return a, httptest.NewServer(a.Server.Handler())
	}

	a, hs := start()
	link, err := a.Server.Prepare(ctx)
	if err != nil || link == "" {
		t.Fatalf("no setup link on an empty PostgreSQL: %q %v", link, err)
	}
	_, token, _ := strings.Cut(link, "token=")
	c := newClient(t, hs.URL)
	c.call("POST", "/api/setup", map[string]string{"token": token, "username": "theo", "password": "correct horse"}, http.StatusCreated, nil)
	var conv struct{ ID string }
	c.call("POST", "/api/conversations", map[string]string{}, http.StatusCreated, &conv)
	stream := c.call("POST", "/api/conversations/"+conv.ID+"/messages", map[string]string{"text": "Are you on PostgreSQL?"}, http.StatusOK, nil)
	if !strings.Contains(stream, "PostgreSQL.") {
		t.Fatalf("the streamed turn:\n%s", stream)
	}
	// The memory worker has read the turn: its background writes are done.
	if err := a.Memory.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var stored []string
	rows, err := a.DB.SQL().QueryContext(ctx, `SELECT role || ': ' || content FROM messages WHERE conversation_id = ? ORDER BY seq`, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		must(t, rows.Scan(&s))
		stored = append(stored, s)
	}
	rows.Close()
	if strings.Join(stored, "\n") != "user: Are you on PostgreSQL?\nassistant: Hello from PostgreSQL." {
		t.Fatalf("messages in PostgreSQL: %q", stored)
	}
	// Memory indexed the turn in PostgreSQL too.
	var indexed int
	must(t, a.DB.SQL().QueryRowContext(ctx, `SELECT count(*) FROM memory_messages`).Scan(&indexed))
	if indexed != 2 {
		t.Fatalf("memory indexed %d messages of the turn, want 2", indexed)
	}
	hs.Close()
	must(t, a.Close())
	if _, err := os.Stat(cfg.DBPath()); !os.IsNotExist(err) {
		t.Fatalf("os1 on PostgreSQL made an SQLite file at %s (%v)", cfg.DBPath(), err)
	}

	// Restarted: the same account, the same conversation.
	a, hs = start()
	defer func() { hs.Close(); a.Close() }()
	if link, _ := a.Server.Prepare(ctx); link != "" {
		t.Fatalf("a restarted server asks for setup again: %s", link)
	}
	c = newClient(t, hs.URL)
	c.call("POST", "/api/login", map[string]string{"username": "theo", "password": "correct horse"}, http.StatusOK, nil)
	var got struct {
		Messages []struct{ Role, Content, Status string }
	}
	c.call("GET", "/api/conversations/"+conv.ID, nil, http.StatusOK, &got)
	if len(got.Messages) != 2 || got.Messages[0].Content != "Are you on PostgreSQL?" || got.Messages[1].Content != "Hello from PostgreSQL." ||
		got.Messages[1].Status != "complete" {
		t.Fatalf("after the restart: %+v", got.Messages)
	}
}

// client is a browser: a cookie jar and the session's CSRF token.
type client struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{Jar: jar}}
}

// call sends a JSON request, wants status, decodes the reply into out
// (when given) and returns its body.
func (c *client) call(method, path string, in any, status int, out any) string {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		c.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, b, status)
	}
	var sess struct {
		CSRF string `json:"csrf_token"`
	}
	if json.Unmarshal(b, &sess) == nil && sess.CSRF != "" {
		c.csrf = sess.CSRF
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return string(b)
}
