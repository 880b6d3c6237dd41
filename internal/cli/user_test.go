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
	"github.com/os1ai/os1/internal/config"
)

// freshInstall is a data dir path where nothing exists yet.
func freshInstall(t *testing.T) map[string]string {
	home := t.TempDir()
	return map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "OS1_DATA_DIR": filepath.Join(home, "data"),
		"OS1_CACHE_DIR": filepath.Join(home, "cache"), "OS1_OLLAMA_URL": "off", "OS1_PUBLIC_URL": "https://os1.example",
	}
}

func runWith(env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUserCommandsOnAFreshInstall(t *testing.T) {
	env := freshInstall(t)
	must := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runWith(env, stdin, args...)
		if code != 0 {
			t.Fatalf("os1 %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	fails := func(want, stdin string, args ...string) {
		t.Helper()
		code, out, errOut := runWith(env, stdin, args...)
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("os1 %s: exit %d, %q%q; want a failure saying %q", strings.Join(args, " "), code, out, errOut, want)
		}
	}

	// Before anything exists, reading says what to do; nothing is created.
	fails("os1 user add", "", "user", "list")
	if _, err := os.Stat(filepath.Join(env["OS1_DATA_DIR"], "os1.db")); err == nil {
		t.Fatal("`os1 user list` created a database")
	}
	fails("first account", "a member pw\n", "user", "add", "amy", "--password-stdin")
	must("correct horse\n", "user", "add", "Theo", "--owner", "--display-name", "Theodore", "--password-stdin")
	fails("owner already (theo)", "another password\n", "user", "add", "eve", "--owner", "--password-stdin")
	fails("too short", "short\n", "user", "add", "amy", "--password-stdin")
	fails("username must be", "another password\n", "user", "add", "Amy Smith!", "--password-stdin")
	must("another password\n", "user", "add", "amy", "--password-stdin")
	fails("taken", "another password\n", "user", "add", "amy", "--password-stdin")

	// `os1 memory` works on the fresh install now (it failed with "no os1 database").
	must("", "memory", "search", "--user", "theo", "anything")

	token := strings.TrimSpace(must("", "token", "create", "--user", "amy", "--name", "script"))
	if !strings.HasPrefix(token, "os1_") {
		t.Fatalf("token create printed %q", token)
	}
	fails("no user \"nobody\"", "", "token", "create", "--user", "nobody")

	// A server started on this data dir has no setup link and knows both users.
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
	if link, err := a.Server.Prepare(context.Background()); err != nil || link != "" {
		t.Fatalf("Prepare after `os1 user add --owner`: %q, %v (want no setup link)", link, err)
	}
	call := func(method, path, bearer string, body any) int {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, hs.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := call("POST", "/api/login", "", map[string]string{"username": "theo", "password": "correct horse"}); code != 200 {
		t.Errorf("owner made on the command line signs in: %d", code)
	}
	if code := call("GET", "/api/me", token, nil); code != 200 {
		t.Errorf("token made on the command line: %d", code)
	}

	list := must("", "user", "list")
	for _, want := range []string{"NAME", "LAST SEEN", "theo", "owner", "amy", "member", "active"} {
		if !strings.Contains(list, want) {
			t.Errorf("user list lacks %q:\n%s", want, list)
		}
	}

	// Disable and enable; the owner cannot be disabled or deleted.
	must("", "user", "disable", "amy")
	if !strings.Contains(must("", "user", "list"), "disabled") {
		t.Error("user list does not show amy disabled")
	}
	if code := call("GET", "/api/me", token, nil); code != 401 {
		t.Errorf("disabled user's token: %d", code)
	}
	fails("cannot be disabled", "", "user", "disable", "theo")
	must("", "user", "enable", "amy")
	if code := call("GET", "/api/me", token, nil); code != 200 {
		t.Errorf("token after enable: %d", code)
	}

	// Reset: a one-time link on the public URL, or a password set directly.
	out := must("", "user", "reset-password", "amy")
	if !strings.Contains(out, "https://os1.example/#/reset/") {
		t.Errorf("reset-password printed %q", out)
	}
	must("a brand new password\n", "user", "reset-password", "amy", "--password-stdin")
	if code := call("POST", "/api/login", "", map[string]string{"username": "amy", "password": "a brand new password"}); code != 200 {
		t.Errorf("amy signs in with the password set on the command line: %d", code)
	}

	// Delete asks first, unless --yes.
	fails("not confirmed", "ann\n", "user", "delete", "amy")
	if !strings.Contains(must("", "user", "list"), "amy") {
		t.Fatal("amy was deleted without confirmation")
	}
	fails("cannot be disabled or deleted", "", "user", "delete", "theo", "--yes")
	must("amy\n", "user", "delete", "amy")
	if strings.Contains(must("", "user", "list"), "amy") {
		t.Error("amy is still listed after delete")
	}
	if code := call("GET", "/api/me", token, nil); code != 401 {
		t.Errorf("deleted user's token: %d", code)
	}
}
