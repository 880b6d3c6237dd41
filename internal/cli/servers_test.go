package cli

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// credentialsFile reads the saved logins as the CLI wrote them.
func credentialsFile(t *testing.T, r *running) (credentials, os.FileMode) {
	t.Helper()
	path := filepath.Join(r.home, "config", "os1", "credentials.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var c credentials
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("credentials file: %v\n%s", err, b)
	}
	return c, st.Mode().Perm()
}

// tokenWorks says whether a server accepts a bearer token.
func tokenWorks(t *testing.T, server, token string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, server+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

func hostPort(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}

func TestLoginRemembersServers(t *testing.T) {
	r, r2 := startApp(t), startApp(t)
	delete(r.env, "OS1_SERVER") // as on a real machine: nothing but the login says where the server is
	first := hostPort(t, r.url)

	if code, out, stderr := r.run("correct horse\n", "login", "--server", r.url+"/", "-u", "theo", "--password-stdin"); code != 0 || !strings.Contains(out, `saved as "`+first+`"`) {
		t.Fatalf("login to the first server: %d %q %q", code, out, stderr)
	}
	r.llm.Enqueue(llmtest.Reply{Chunks: []string{"From the first."}})
	if code, out, stderr := r.run("", "chat", "-m", "hi"); code != 0 || out != "From the first.\n" {
		t.Fatalf("chat after logging in to the first server: %d %q %q", code, out, stderr)
	}

	if code, out, stderr := r.run("correct horse\n", "login", "--server", r2.url, "--name", "home", "-u", "theo", "--password-stdin"); code != 0 || !strings.Contains(out, `saved as "home"`) {
		t.Fatalf("login to the second server: %d %q %q", code, out, stderr)
	}
	r2.llm.Enqueue(llmtest.Reply{Chunks: []string{"From home."}})
	if code, out, stderr := r.run("", "chat", "-m", "hi"); code != 0 || out != "From home.\n" {
		t.Fatalf("chat talks to the most recent login: %d %q %q", code, out, stderr)
	}
	r.llm.Enqueue(llmtest.Reply{Chunks: []string{"First again."}})
	if code, out, stderr := r.run("", "chat", "--server", first, "-m", "hi"); code != 0 || out != "First again.\n" {
		t.Fatalf("chat --server with the first login's name: %d %q %q", code, out, stderr)
	}
	r.env["OS1_SERVER"] = "home"
	r2.llm.Enqueue(llmtest.Reply{Chunks: []string{"Home by name."}})
	if code, out, stderr := r.run("", "chat", "-m", "hi"); code != 0 || out != "Home by name.\n" {
		t.Fatalf("OS1_SERVER=home: %d %q %q", code, out, stderr)
	}
	delete(r.env, "OS1_SERVER")

	c, perm := credentialsFile(t, r)
	if perm != 0o600 || c.Version != credentialsVersion || c.Current != "home" || c.Servers["home"].URL != r2.url || c.Servers[first].URL != r.url {
		t.Fatalf("credentials file (mode %#o): %+v", perm, c)
	}
	code, out, _ := r.run("", "login", "--list")
	if code != 0 || !strings.Contains(out, "* home") || !strings.Contains(out, "  "+first) || !strings.Contains(out, r2.url) {
		t.Fatalf("login --list: %d\n%s", code, out)
	}

	// Logging out revokes the token and hands the default back to the other login.
	homeToken := c.Servers["home"].Token
	if !tokenWorks(t, r2.url, homeToken) {
		t.Fatal("the saved token does not work before logout")
	}
	code, out, stderr := r.run("", "logout")
	if code != 0 || !strings.Contains(out, "revoked") || !strings.Contains(out, "now talks to "+r.url) {
		t.Fatalf("logout: %d %q %q", code, out, stderr)
	}
	if tokenWorks(t, r2.url, homeToken) {
		t.Error("the token still works after logout")
	}
	if c, _ := credentialsFile(t, r); len(c.Servers) != 1 || c.Current != first {
		t.Fatalf("after logout: %+v", c)
	}
	r.llm.Enqueue(llmtest.Reply{Chunks: []string{"Back to first."}})
	if code, out, stderr := r.run("", "chat", "-m", "hi"); code != 0 || out != "Back to first.\n" {
		t.Fatalf("chat after logging out of home: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := r.run("", "logout", "work"); code != 1 || !strings.Contains(stderr, `no saved login is named "work"`) || !strings.Contains(stderr, first) {
		t.Fatalf("logout of an unknown name: %d %q", code, stderr)
	}
	if code, _, stderr := r.run("", "logout", r.url); code != 0 {
		t.Fatalf("logout by URL: %d %q", code, stderr)
	}
	if code, _, stderr := r.run("", "chat", "-m", "hi"); code != 2 || !strings.Contains(stderr, "not signed in") {
		t.Fatalf("chat after logging out of everything: %d %q", code, stderr)
	}
}

// A credentials file from before named logins (keyed by URL) keeps working
// and is rewritten in the new format, 0600, on the next login.
func TestOldCredentialsFileMigrates(t *testing.T) {
	r, r2 := startApp(t), startApp(t)
	delete(r.env, "OS1_SERVER")
	tok, err := login(context.Background(), r.url, "theo", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(r.home, "config", "os1", "credentials.json")
	old, _ := json.Marshal(map[string]any{"servers": map[string]any{
		r.url: map[string]any{"username": "theo", "token": tok.Token, "saved_at": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
	}})
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	r.llm.Enqueue(llmtest.Reply{Chunks: []string{"Still here."}})
	if code, out, stderr := r.run("", "chat", "-m", "hi"); code != 0 || out != "Still here.\n" {
		t.Fatalf("chat with an old credentials file: %d %q %q", code, out, stderr)
	}
	if code, out, _ := r.run("", "login", "--list"); code != 0 || !strings.Contains(out, "* "+hostPort(t, r.url)) {
		t.Fatalf("login --list with an old file: %d\n%s", code, out)
	}
	if code, _, stderr := r.run("correct horse\n", "login", "--server", r2.url, "--name", "other", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %d %q", code, stderr)
	}
	c, perm := credentialsFile(t, r)
	if perm != 0o600 || c.Version != credentialsVersion || c.Current != "other" {
		t.Fatalf("rewritten file (mode %#o): %+v", perm, c)
	}
	if l := c.Servers[hostPort(t, r.url)]; l.URL != r.url || l.Token != tok.Token || l.Username != "theo" {
		t.Fatalf("the old login was lost in the rewrite: %+v", c.Servers)
	}
	// An old login has no token ID: logout forgets it and says the server still honours it.
	code, out, _ := r.run("", "logout", hostPort(t, r.url))
	if code != 0 || !strings.Contains(out, "did not revoke") || !tokenWorks(t, r.url, tok.Token) {
		t.Fatalf("logout of an old login: %d %q", code, out)
	}
}

func TestServerWithoutScheme(t *testing.T) {
	r := startApp(t)
	delete(r.env, "OS1_SERVER")
	port := strings.TrimPrefix(hostPort(t, r.url), "127.0.0.1:")

	// On this machine http:// is assumed, and said.
	code, out, stderr := r.run("correct horse\n", "login", "--server", "localhost:"+port, "-u", "theo", "--password-stdin")
	if code != 0 || !strings.Contains(stderr, "using http://localhost:"+port) || !strings.Contains(out, "Signed in to http://localhost:"+port) {
		t.Fatalf("login --server localhost:PORT: %d %q %q", code, out, stderr)
	}
	// Elsewhere it is refused with the likely URL; nothing is sent.
	for _, args := range [][]string{
		{"login", "--server", "os1.example.org:7810", "-u", "theo", "--password-stdin"},
		{"chat", "--server", "os1.example.org:7810", "-m", "hi"},
	} {
		code, _, stderr := r.run("correct horse\n", args...)
		if code == 0 || !strings.Contains(stderr, "did you mean http://os1.example.org:7810?") || !strings.Contains(stderr, "localhost:"+port) {
			t.Errorf("%s --server os1.example.org:7810: %d %q", args[0], code, stderr)
		}
	}
	if code, _, stderr := r.run("", "chat", "--server", "ftp://example.org", "-m", "hi"); code == 0 || !strings.Contains(stderr, "not an http:// or https:// URL") {
		t.Errorf("chat --server ftp://: %d %q", code, stderr)
	}
	if code, _, stderr := r.run("correct horse\n", "login", "--server", r.url, "--name", "a/b", "-u", "theo", "--password-stdin"); code == 0 || !strings.Contains(stderr, "may not contain") {
		t.Errorf("login --name a/b: %d %q", code, stderr)
	}
}

func TestNotFoundNamesWhatAndWhere(t *testing.T) {
	r := startApp(t)
	if code, _, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %d %q", code, stderr)
	}
	code, _, stderr := r.run("", "chat", "-c", "cnv_nosuch", "-m", "hi")
	if want := "conversation cnv_nosuch not found on " + r.url; code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("chat in a missing conversation: %d %q, want %q", code, stderr, want)
	}
	c, err := (&env{getenv: func(k string) string { return r.env[k] }}).client(mustConfig(t, r))
	if err != nil {
		t.Fatal(err)
	}
	err = c.do(context.Background(), http.MethodGet, "/api/nothing-here", nil, nil)
	if !errors.Is(err, errNotFound) || !strings.Contains(err.Error(), "No API endpoint") || !strings.Contains(err.Error(), "on "+r.url) {
		t.Fatalf("an unknown endpoint: %v", err)
	}
}

func mustConfig(t *testing.T, r *running) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return r.env[k] }, config.Flags{})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
