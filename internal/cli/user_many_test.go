package cli

import (
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
	"github.com/os1ai/os1/internal/config"
)

func TestUserAddMany(t *testing.T) {
	env := freshInstall(t)
	tokens := filepath.Join(t.TempDir(), "tokens.tsv")

	// No owner yet: refused, and no tokens file is left.
	must := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runWith(env, stdin, args...)
		if code != 0 {
			t.Fatalf("os1 %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	fails := func(want string, args ...string) {
		t.Helper()
		code, out, errOut := runWith(env, "", args...)
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("os1 %s: exit %d, %q%q; want a failure saying %q", strings.Join(args, " "), code, out, errOut, want)
		}
	}
	must("correct horse\n", "user", "add", "theo", "--owner", "--password-stdin")
	fails("--count", "user", "add-many", "--prefix", "u", "--count", "0", "--tokens", tokens)
	fails("username must be", "user", "add-many", "--prefix", "Bad Name", "--count", "2", "--tokens", tokens)
	if _, err := os.Stat(tokens); err == nil {
		t.Fatal("a refused add-many wrote the tokens file")
	}
	must("", "user", "add-many", "--prefix", "u", "--count", "3", "--tokens", tokens)
	fails("must not exist", "user", "add-many", "--prefix", "v", "--count", "1", "--tokens", tokens)
	fails("taken", "user", "add-many", "--prefix", "u", "--count", "1", "--start", "2", "--tokens", tokens+".2")

	st, err := os.Stat(tokens)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("tokens file: %v, mode %v (want 0600)", err, st.Mode())
	}
	raw, _ := os.ReadFile(tokens)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 3 {
		t.Fatalf("tokens file has %d lines, want 3:\n%s", len(lines), raw)
	}

	cfg, err := config.Load(func(k string) string { return env[k] }, config.Flags{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, app.Options{Log: slog.New(slog.DiscardHandler), Version: Version})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Server.Handler())
	defer func() { hs.Close(); a.Close() }()

	// Each token acts as its own member, and only as that member.
	for i, line := range lines {
		name, token, ok := strings.Cut(line, "\t")
		if !ok || name != "u"+string(rune('1'+i)) || !strings.HasPrefix(token, "os1_") {
			t.Fatalf("line %d: %q", i, line)
		}
		req, _ := http.NewRequest("GET", hs.URL+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var me struct {
			User           struct{ Username, Role string } `json:"user"`
			Username, Role string
		}
		_ = json.NewDecoder(res.Body).Decode(&me)
		res.Body.Close()
		got, role := me.User.Username+me.Username, me.User.Role+me.Role
		if res.StatusCode != 200 || got != name || role != "member" {
			t.Errorf("%s's token: %d, user %q role %q", name, res.StatusCode, got, role)
		}
	}
	// No password signs them in.
	res, err := http.Post(hs.URL+"/api/login", "application/json", strings.NewReader(`{"username":"u1","password":"correct horse"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("a bulk-made member signed in with a guessed password: %d", res.StatusCode)
	}
	if out := must("", "user", "list"); !strings.Contains(out, "u3") || !strings.Contains(out, "member") {
		t.Errorf("user list:\n%s", out)
	}
}
