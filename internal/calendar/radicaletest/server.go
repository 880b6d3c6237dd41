// Package radicaletest starts Debian's radicale (package radicale) for
// tests: a temp config and storage, a free loopback port, users in a
// plain htpasswd file, each user's calendars only theirs. Tests only; it
// never touches the system's radicale configuration, and never listens
// beyond 127.0.0.1.
//
// Without radicale a test that calls Start is skipped with the reason;
// OS1_E2E_REQUIRE=1 (make test, CI) makes that a failure.
package radicaletest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/daemontest"
)

// Binary is where Debian's radicale package puts the server.
const Binary = "/usr/bin/radicale"

// Server is a running radicale.
type Server struct {
	URL string // http://127.0.0.1:port/
	Dir string

	t     testing.TB
	mu    sync.Mutex
	users map[string]string
	out   *daemontest.Output
}

// Require returns radicale's path, or skips the test with the reason
// (fails it with OS1_E2E_REQUIRE=1).
func Require(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		msg := "radicale test needs Debian's radicale (apt-get install radicale; scripts/deps.sh test): " + err.Error()
		if os.Getenv("OS1_E2E_REQUIRE") == "1" {
			t.Fatal(msg + " (OS1_E2E_REQUIRE=1 makes this a failure)")
		}
		t.Skip(msg)
	}
	return Binary
}

// Start runs radicale until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Require(t)
	dir := t.TempDir()
	s := &Server{Dir: dir, t: t, users: map[string]string{}, out: &daemontest.Output{}}
	if err := os.WriteFile(s.htpasswd(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := daemontest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.URL = "http://" + addr + "/"
	conf := fmt.Sprintf(`[server]
hosts = %[2]s

[auth]
type = htpasswd
htpasswd_filename = %[1]s/users
htpasswd_encryption = plain
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = %[1]s/collections

[web]
type = none

[logging]
level = warning
mask_passwords = True
`, dir, addr)
	confPath := filepath.Join(dir, "config")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", confPath)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.Env = append(os.Environ(), "HOME="+dir)
	exited := daemontest.Start(t, "radicale", cmd)
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("radicale exited at start: %v\n%s", err, s.out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("radicale did not listen on %s within 20 s: %v\n%s", addr, err, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) htpasswd() string { return filepath.Join(s.Dir, "users") }

// AddUser adds (or changes the password of) a user; radicale reads the
// htpasswd file at each sign-in.
func (s *Server) AddUser(name, pass string) {
	s.t.Helper()
	if strings.ContainsAny(name+pass, ":\n") || strings.ContainsAny(name, "/") {
		s.t.Fatalf("radicaletest: a user name or password with ':', '/' or a newline")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[name] = pass
	var b strings.Builder
	for u, p := range s.users {
		fmt.Fprintf(&b, "%s:%s\n", u, p)
	}
	if err := os.WriteFile(s.htpasswd(), []byte(b.String()), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// MakeCalendar creates a calendar collection of the user with MKCALENDAR
// and returns its path ("/ana/work/").
func (s *Server) MakeCalendar(user, name, displayName string) string {
	s.t.Helper()
	path := "/" + user + "/" + name + "/"
	body := `<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop><D:displayname>` + displayName + `</D:displayname>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>`
	resp := s.Do("MKCALENDAR", user, path, "application/xml", body)
	if resp.StatusCode != http.StatusCreated {
		s.t.Fatalf("MKCALENDAR %s: %s\n%s", path, resp.Status, s.out.String())
	}
	return path
}

// Do sends one request as user (for a test that edits the server behind
// os1's back) and returns the response with its body read and closed.
func (s *Server) Do(method, user, path, contentType, body string) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(s.URL, "/")+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	req.SetBasicAuth(user, s.users[user])
	s.mu.Unlock()
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	resp.Body.Close()
	resp.Body = http.NoBody
	resp.Header.Set("X-Test-Body", strings.ReplaceAll(b.String(), "\n", " "))
	return resp
}

// Log is radicale's output so far (for a failing test's message).
func (s *Server) Log() string { return s.out.String() }
