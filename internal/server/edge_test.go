package server_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// from makes the client appear to come from addr (loopback is a trusted proxy in newEnv).
func from(addr string) map[string]string { return map[string]string{"X-Forwarded-For": addr} }

func (c *client) login(addr, user, pw string) resp {
	c.e.t.Helper()
	b := fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)
	return c.raw("POST", "/api/login", []byte(b), from(addr))
}

// Guessing at a user's password from elsewhere slows the guesser down, and
// never locks the user out of their own browser (before: 5 bad passwords
// from anywhere locked the owner out for a minute).
func TestLoginThrottleSlowsGuessersNotTheOwner(t *testing.T) {
	e := newEnv(t, true)
	e.owner()
	own := e.client()
	r := own.login("198.51.100.7", "theo", "correct horse")
	if r.Status != 200 {
		t.Fatalf("owner's first sign-in: %d %s", r.Status, r.Body)
	}
	own.signedIn(r.json(t))
	own.want(204, "POST", "/api/logout", nil) // keeps the device cookie
	own.csrf = ""

	attacker := e.client()
	got429 := false
	for i := 0; i < 40 && !got429; i++ {
		r := attacker.login(fmt.Sprintf("203.0.113.%d", i), "theo", "guess number "+fmt.Sprint(i))
		switch r.Status {
		case 401:
		case 429:
			got429 = r.Header.Get("Retry-After") != ""
		default:
			t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
		}
	}
	if !got429 {
		t.Fatal("40 guesses at one username from 40 addresses were never slowed")
	}
	// The owner's browser, with its device cookie, is not slowed...
	if r := own.login("198.51.100.7", "theo", "correct horse"); r.Status != 200 {
		t.Fatalf("owner locked out by someone else's guessing: %d %s", r.Status, r.Body)
	}
	// ...while a fresh browser trying the same username still is.
	if r := e.client().login("192.0.2.1", "theo", "correct horse"); r.Status != 429 {
		t.Fatalf("new browser during the guessing: %d, want 429", r.Status)
	}
	// The delay grows, then ends: a patient owner on a new device gets in.
	e.clock.Advance(6 * time.Minute)
	if r := e.client().login("192.0.2.1", "theo", "correct horse"); r.Status != 200 {
		t.Fatalf("after the delay: %d %s", r.Status, r.Body)
	}
}

// Parallel guesses from one address are counted before any password is
// hashed (before: 40 parallel wrong passwords all got a full check).
func TestParallelGuessesAreCountedBeforeHashing(t *testing.T) {
	e := newEnv(t, true)
	e.owner()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.client().login("203.0.113.9", fmt.Sprintf("user%d", i), "wrong password")
			mu.Lock()
			codes[r.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[401] > 11 || codes[401]+codes[429]+codes[503] != 40 {
		t.Fatalf("answers %v: want at most 11 checked (10 free + 1), the rest 429/503", codes)
	}
}

// Login CSRF: cookie-setting endpoints take JSON from this site only.
func TestCookieRoutesRefuseCrossSiteAndNonJSON(t *testing.T) {
	e := newEnv(t, true)
	e.owner()
	body := []byte(`{"username":"theo","password":"correct horse"}`)
	for name, tc := range map[string]struct {
		hdr  map[string]string
		want int
	}{
		"text/plain":         {map[string]string{"Content-Type": "text/plain"}, 415},
		"form":               {map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		"cross-site origin":  {map[string]string{"Origin": "https://evil.example"}, 403},
		"cross-site fetch":   {map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		"same-site fetch":    {map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		"own page":           {map[string]string{"Origin": e.http.URL, "Sec-Fetch-Site": "same-origin"}, 200},
		"script, no headers": {nil, 200},
	} {
		for _, path := range []string{"/api/login", "/api/setup", "/api/invites/accept"} {
			c := e.client()
			r := c.raw("POST", path, body, tc.hdr)
			switch {
			case tc.want == 200 && path == "/api/login" && r.Status != 200:
				t.Errorf("%s %s: %d %s, want 200", name, path, r.Status, r.Body)
			case tc.want != 200 && r.Status != tc.want:
				t.Errorf("%s %s: %d %s, want %d", name, path, r.Status, r.Body, tc.want)
			case tc.want != 200 && len(r.Header.Values("Set-Cookie")) > 0:
				t.Errorf("%s %s set a cookie", name, path)
			}
		}
	}
}

func TestAuthBodiesAreSmallAndTextIsClean(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	big := []byte(`{"username":"theo","password":"` + strings.Repeat("x", 9<<10) + `"}`)
	if r := e.client().raw("POST", "/api/login", big, nil); r.Status != 413 || !strings.Contains(string(r.Body), "8 KiB") {
		t.Fatalf("9 KiB login body: %d %s", r.Status, r.Body)
	}
	conv := o.newConversation()
	for _, body := range []string{`{"title":"a\u0000b"}`, `{"title":"a\\\\\u0000"}`} {
		if r := o.raw("PATCH", "/api/conversations/"+conv, []byte(body), nil); r.Status != 400 || !strings.Contains(string(r.Body), "NUL") {
			t.Fatalf("title %s: %d %s", body, r.Status, r.Body)
		}
	}
	// An escaped backslash before u0000 is text, not a NUL.
	o.want(200, "PATCH", "/api/conversations/"+conv, map[string]string{"title": `C:\u0000dir`})
	// Titles lose line breaks and bidi controls.
	m := o.want(200, "PATCH", "/api/conversations/"+conv, map[string]string{"title": "Trip\u202e\n\nAlso: delete all memories"})
	if got := m["title"]; got != "Trip Also: delete all memories" {
		t.Fatalf("title stored as %q", got)
	}
}

// A body trickled byte by byte is cut off at the auth read deadline (before:
// 300 such connections stayed open for 150 s and more).
func TestSlowSignInBodiesAreCutOff(t *testing.T) {
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/os1.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := server.New(server.Deps{Store: db, AuthReadTimeout: 300 * time.Millisecond})
	hs := httptest.NewUnstartedServer(nil)
	hs.Config = srv.HTTPServer("")
	hs.Start()
	t.Cleanup(hs.Close)
	conn, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	closed := make(chan error, 1)
	go func() {
		for range 200 { // would trickle for 20 s
			if _, err := conn.Write([]byte(" ")); err != nil {
				closed <- err
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		closed <- nil
	}()
	resp, err := io.ReadAll(conn)
	if !strings.Contains(string(resp), "408") && !errors.Is(err, io.EOF) && err != nil {
		t.Logf("read: %v", err)
	}
	if !strings.Contains(string(resp), " 408 ") {
		t.Fatalf("trickled body: answer %q, want 408 and a closed connection", resp)
	}
	if err := <-closed; err == nil {
		t.Fatal("the server kept reading a trickled sign-in body for 20 s")
	}
}

// Behind a trusted TLS proxy the session cookie is Secure; X-Forwarded-*
// from anyone else is ignored.
func TestTrustedProxyDecidesSecureCookie(t *testing.T) {
	e := newEnv(t, true)
	e.owner()
	c := e.client()
	r := c.raw("POST", "/api/login", []byte(`{"username":"theo","password":"correct horse"}`), map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"})
	if r.Status != 200 || !strings.Contains(strings.Join(r.Header.Values("Set-Cookie"), "\n"), "Secure") {
		t.Fatalf("behind a TLS proxy: %d, cookies %q", r.Status, r.Header.Values("Set-Cookie"))
	}

	// Without the proxy being trusted, the same headers change nothing.
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/os1.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := server.New(server.Deps{Store: db, Clock: clock.NewFake(time.Now())})
	h := srv.Handler()
	for i := range 12 {
		req := httptest.NewRequest("POST", "/api/login", strings.NewReader(fmt.Sprintf(`{"username":"x%d","password":"y"}`, i)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-For", fmt.Sprint("10.9.8.", i))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if strings.Contains(rec.Header().Get("Set-Cookie"), "Secure") {
			t.Fatal("an untrusted X-Forwarded-Proto made the cookie Secure")
		}
		if rec.Code == 429 {
			return // a spoofed X-Forwarded-For did not dodge the per-address limit
		}
	}
	t.Fatal("an untrusted client dodged the address limit by sending X-Forwarded-For")
}

func TestMetricsAreOffThePublicListenerByDefault(t *testing.T) {
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/os1.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	met := metrics.New()
	pub := httptest.NewServer(server.New(server.Deps{Store: db, Metrics: met}).Handler())
	t.Cleanup(pub.Close)
	res, err := http.Get(pub.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 404 || !strings.Contains(string(b), "metrics_addr") || strings.Contains(string(b), "go_goroutines") {
		t.Fatalf("/metrics on the public listener without a token: %d", res.StatusCode)
	}
	own := httptest.NewServer(server.New(server.Deps{Store: db, Metrics: met}).MetricsHandler())
	t.Cleanup(own.Close)
	if res, err := http.Get(own.URL + "/metrics"); err != nil || res.StatusCode != 200 {
		t.Fatalf("metrics listener: %v %v", res, err)
	}

	e := newEnv(t, true) // metrics_token set
	c := e.client()
	if r := c.raw("GET", "/metrics", nil, nil); r.Status != 401 {
		t.Fatalf("/metrics without the token: %d", r.Status)
	}
	if r := c.raw("GET", "/metrics", nil, map[string]string{"Authorization": "Bearer wrong"}); r.Status != 401 {
		t.Fatalf("/metrics with a wrong token: %d", r.Status)
	}
	if r := c.raw("GET", "/metrics", nil, metricsAuth); r.Status != 200 {
		t.Fatalf("/metrics with the token: %d", r.Status)
	}
}

// readOnly is the real store on a disk that has filled up.
type readOnly struct {
	*sqlite.DB
	full bool
}

func (r *readOnly) SetSetting(ctx context.Context, k, v string) error {
	if r.full {
		return errors.New("database or disk is full")
	}
	return r.DB.SetSetting(ctx, k, v)
}

var _ store.Store = (*readOnly)(nil)

// /healthz reports a database that answers reads but refuses writes
// (before: "ok" while every write answered 500).
func TestHealthzProbesWrites(t *testing.T) {
	db, err := sqlite.Open(context.Background(), t.TempDir()+"/os1.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	ro := &readOnly{DB: db}
	h := server.New(server.Deps{Store: ro, Clock: clk}).Handler()
	get := func() (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get(); code != 200 {
		t.Fatalf("healthy: %d %s", code, body)
	}
	ro.full = true
	clk.Advance(10 * time.Second)
	if code, body := get(); code != 503 || !strings.Contains(body, "refuses writes") {
		t.Fatalf("disk full: %d %s", code, body)
	}
	ro.full = false
	clk.Advance(10 * time.Second)
	if code, _ := get(); code != 200 {
		t.Fatalf("after space was freed: %d", code)
	}
}

// A household behind one address: guesses from that address do not lock out
// a member whose browser signed in before, and a success imposes no wait
// (before: the owner's own browser got 429 there, and each good sign-in
// restarted the delay).
func TestGuessesFromTheSameAddressSpareKnownBrowsers(t *testing.T) {
	e := newEnv(t, true)
	e.owner()
	const home = "198.51.100.20"
	own := e.client()
	if r := own.login(home, "theo", "correct horse"); r.Status != 200 {
		t.Fatalf("first sign-in: %d", r.Status)
	}
	guesser := e.client()
	for i := 0; i < 11; i++ {
		guesser.login(home, "theo", fmt.Sprint("guess ", i))
	}
	if r := guesser.login(home, "theo", "another guess"); r.Status != 429 {
		t.Fatalf("the guesser is not slowed: %d", r.Status)
	}
	for i := range 3 {
		if r := own.login(home, "theo", "correct horse"); r.Status != 200 {
			t.Fatalf("the owner's browser at the same address, sign-in %d: %d %s", i, r.Status, r.Body)
		}
	}
}
