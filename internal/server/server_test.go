package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/attach/sqliteattach"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/models"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/testrig"
)

const testMetricsToken = "metrics-token-for-tests"

var metricsAuth = map[string]string{"Authorization": "Bearer " + testMetricsToken}

type env struct {
	t      testing.TB
	db     *sqlite.DB
	llm    *llmtest.Server
	clock  *clock.Fake
	srv    *server.Server
	http   *httptest.Server
	models *models.Manager
	setup  string // setup token
}

// newEnv wires a real server: SQLite in a temp dir, the scripted model
// server behind the real OpenAI-compatible client, and the real companion.
func newEnv(t testing.TB, withModel bool) *env {
	t.Helper()
	return newEnvWith(t, withModel, nil, nil)
}

// newEnvWith lets benchmarks use the real clock and watch measurements.
func newEnvWith(t testing.TB, withModel bool, realClock clock.Clock, obs companion.Observer) *env {
	t.Helper()
	r := testrig.New(t)
	mm := r.Models(withModel)
	met := metrics.New()
	var observer companion.Observer = met
	if obs != nil {
		observer = obs
	}
	var compClock clock.Clock = r.Clock
	if realClock != nil {
		compClock = realClock
	}
	atts := sqliteattach.New(r.DB) // as os1 serve wires it (app.go)
	comp := r.Companion(companion.Deps{Models: mm, Clock: compClock, Observer: observer, Attachments: atts}, companion.Options{})
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Clock: compClock, Attachments: atts,
		// Loopback is the proxy, so tests choose a client address with X-Forwarded-For.
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		MetricsToken:   testMetricsToken})
	return &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
}

// client is one browser or script.
type client struct {
	e     *env
	hc    *http.Client
	csrf  string
	token string // bearer token, when set used instead of the cookie
	user  map[string]any
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, hc: &http.Client{Jar: jar}}
}

type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("answer is not JSON (%v): %s", err, r.Body)
	}
	return m
}

func (r resp) code() string {
	var m struct {
		Error struct{ Code, Message string }
	}
	_ = json.Unmarshal(r.Body, &m)
	return m.Error.Code
}

func (c *client) raw(method, path string, body []byte, hdr map[string]string) resp {
	c.e.t.Helper()
	req, err := http.NewRequest(method, c.e.http.URL+path, bytes.NewReader(body))
	if err != nil {
		c.e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (c *client) do(method, path string, body any) resp {
	c.e.t.Helper()
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			c.e.t.Fatal(err)
		}
	}
	return c.raw(method, path, b, nil)
}

func (c *client) want(status int, method, path string, body any) map[string]any {
	c.e.t.Helper()
	r := c.do(method, path, body)
	if r.Status != status {
		c.e.t.Fatalf("%s %s = %d %s, want %d", method, path, r.Status, r.Body, status)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.json(c.e.t)
}

func (c *client) signedIn(m map[string]any) {
	c.csrf, _ = m["csrf_token"].(string)
	c.user, _ = m["user"].(map[string]any)
}

// owner sets the server up and returns the owner's browser.
func (e *env) owner() *client {
	c := e.client()
	c.signedIn(c.want(http.StatusCreated, "POST", "/api/setup", map[string]string{
		"token": e.setup, "username": "theo", "password": "correct horse", "display_name": "Theodore"}))
	return c
}

// member invites and signs up a second user.
func (e *env) member(owner *client, name string) *client {
	inv := owner.want(http.StatusCreated, "POST", "/api/invites", nil)
	_, token, _ := strings.Cut(inv["url"].(string), "/#/invite/")
	c := e.client()
	c.signedIn(c.want(http.StatusCreated, "POST", "/api/invites/accept", map[string]string{
		"token": token, "username": name, "password": "another password", "display_name": name}))
	return c
}

type event struct {
	Type         string         `json:"type"`
	Conversation map[string]any `json:"conversation"`
	Message      map[string]any `json:"message"`
	Text         string         `json:"text"`
	Action       map[string]any `json:"action"`
	Error        map[string]any `json:"error"`
}

// turn posts and reads the SSE stream to the end.
func (c *client) turn(path string, body any) []event {
	c.e.t.Helper()
	r := c.do("POST", path, body)
	if r.Status != http.StatusOK {
		c.e.t.Fatalf("POST %s = %d %s", path, r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		c.e.t.Fatalf("content type %q", ct)
	}
	var evs []event
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var ev event
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				c.e.t.Fatalf("bad event %q: %v", line, err)
			}
			evs = append(evs, ev)
		}
	}
	if len(evs) == 0 || evs[len(evs)-1].Type != "turn_done" {
		c.e.t.Fatalf("stream did not end with turn_done: %+v", evs)
	}
	return evs
}

func (c *client) newConversation() string {
	c.e.t.Helper()
	return c.want(http.StatusCreated, "POST", "/api/conversations", map[string]string{"title": "t"})["id"].(string)
}

func (c *client) messages(conv string) []any {
	c.e.t.Helper()
	return c.want(http.StatusOK, "GET", "/api/conversations/"+conv, nil)["messages"].([]any)
}

func TestHealthzAndStatus(t *testing.T) {
	e := newEnv(t, true)
	c := e.client()
	if m := c.want(200, "GET", "/healthz", nil); m["status"] != "ok" {
		t.Fatalf("healthz %+v", m)
	}
	if m := c.want(200, "GET", "/api/status", nil); m["setup_required"] != true || m["authenticated"] != false || m["model"] != nil {
		t.Fatalf("status before setup: %+v (the model status must not leak before sign-in)", m)
	}
	o := e.owner()
	m := o.want(200, "GET", "/api/status", nil)
	if m["setup_required"] != false || m["authenticated"] != true || m["model"].(map[string]any)["connected"] != true {
		t.Fatalf("status after setup: %+v", m)
	}
	if r := c.do("GET", "/api/nope", nil); r.Status != 404 || r.code() != "not_found" {
		t.Fatalf("unknown endpoint: %d %s", r.Status, r.Body)
	}
}

func TestSetupIsOneTime(t *testing.T) {
	e := newEnv(t, true)
	c := e.client()
	body := map[string]string{"token": "wrong", "username": "theo", "password": "correct horse"}
	if r := c.do("POST", "/api/setup", body); r.Status != 403 {
		t.Fatalf("wrong token: %d", r.Status)
	}
	for _, bad := range []map[string]string{
		{"token": e.setup, "username": "Theo Twombly!", "password": "correct horse"},
		{"token": e.setup, "username": "theo", "password": "short"},
	} {
		if r := c.do("POST", "/api/setup", bad); r.Status != 400 || !strings.Contains(r.json(t)["error"].(map[string]any)["message"].(string), "must") && !strings.Contains(string(r.Body), "short") {
			t.Fatalf("bad account %v: %d %s", bad, r.Status, r.Body)
		}
	}
	o := e.owner()
	if o.user["role"] != "owner" || o.csrf == "" {
		t.Fatalf("owner: %+v", o.user)
	}
	again := map[string]string{"token": e.setup, "username": "eve", "password": "correct horse"}
	if r := e.client().do("POST", "/api/setup", again); r.Status != 403 {
		t.Fatalf("second setup with the used token: %d", r.Status)
	}
}

func TestLoginRateLimitAndCSRF(t *testing.T) {
	e := newEnv(t, true)
	e.owner()
	c := e.client()
	for i := 0; i < 11; i++ { // 10 free, then a delay doubling from 1 s
		r := c.do("POST", "/api/login", map[string]string{"username": "theo", "password": "wrong password"})
		if r.Status != 401 || r.code() != "bad_credentials" {
			t.Fatalf("attempt %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := c.do("POST", "/api/login", map[string]string{"username": "theo", "password": "correct horse"})
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("12th attempt: %d %s (want 429 with Retry-After)", r.Status, r.Header)
	}
	e.clock.Advance(61 * time.Second)
	c.signedIn(c.want(200, "POST", "/api/login", map[string]string{"username": "THEO ", "password": "correct horse"}))

	// A cookie session must send the CSRF token on changes.
	csrf := c.csrf
	c.csrf = ""
	if r := c.do("POST", "/api/conversations", nil); r.Status != 403 || r.code() != "csrf_failed" {
		t.Fatalf("POST without CSRF: %d %s", r.Status, r.Body)
	}
	c.csrf = "forged"
	if r := c.do("POST", "/api/conversations", nil); r.Status != 403 {
		t.Fatalf("POST with a wrong CSRF token: %d", r.Status)
	}
	c.csrf = csrf
	c.want(201, "POST", "/api/conversations", nil)
	// GET /api/me hands the token back after a reload.
	if m := c.want(200, "GET", "/api/me", nil); m["csrf_token"] != csrf {
		t.Fatalf("me: %+v", m)
	}
	c.want(204, "POST", "/api/logout", nil)
	if r := c.do("GET", "/api/me", nil); r.Status != 401 {
		t.Fatalf("after logout: %d", r.Status)
	}
}

func TestExpiredSessionAndTokens(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	tok := o.want(201, "POST", "/api/tokens", map[string]string{"name": "laptop"})
	cli := e.client()
	cli.token = tok["token"].(string)
	if !strings.HasPrefix(cli.token, "os1_") {
		t.Fatalf("token %q", cli.token)
	}
	cli.want(201, "POST", "/api/conversations", nil) // no CSRF needed with a bearer token
	list := o.want(200, "GET", "/api/tokens", nil)["tokens"].([]any)
	if len(list) != 1 || strings.Contains(fmt.Sprint(list), cli.token) {
		t.Fatalf("token list %+v must not contain the secret", list)
	}
	e.clock.Advance(server.SessionTTL + time.Second)
	r := o.do("GET", "/api/me", nil)
	if r.Status != 401 || !strings.Contains(string(r.Body), "expired") {
		t.Fatalf("expired session: %d %s", r.Status, r.Body)
	}
	cli.want(200, "GET", "/api/me", nil) // tokens do not expire with sessions
	bad := e.client()
	bad.token = "os1_nope"
	if r := bad.do("GET", "/api/me", nil); r.Status != 401 {
		t.Fatalf("unknown token: %d", r.Status)
	}
}

func TestOnboardingAndNaming(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	if m := o.want(200, "GET", "/api/me", nil); m["onboarded"] != false || m["named"] != false {
		t.Fatalf("me before meeting: %+v", m)
	}
	if r := o.do("POST", "/api/persona/name", nil); r.Status != 409 {
		t.Fatalf("naming before the meeting: %d", r.Status)
	}
	o.want(200, "PUT", "/api/profile", map[string]any{"answers": map[string]string{"social": "a little"}})
	p := o.want(200, "PUT", "/api/profile", map[string]any{"answers": map[string]string{"matters": "my letters", "sound": "warm"}, "timezone": "America/Los_Angeles", "finish": true})
	if p["onboarded"] != true || p["answers"].(map[string]any)["social"] != "a little" {
		t.Fatalf("profile %+v", p)
	}
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{`{"name":"Samantha"}`}})
	if m := o.want(200, "POST", "/api/persona/name", nil); m["name"] != "Samantha" || m["voice"] != "warm" {
		t.Fatalf("persona %+v", m)
	}
	if m := o.want(200, "GET", "/api/me", nil); m["named"] != true || m["onboarded"] != true {
		t.Fatalf("me after naming: %+v", m)
	}
	o.want(200, "PUT", "/api/persona", map[string]string{"style": "short answers"})
	if m := o.want(200, "GET", "/api/persona", nil); m["name"] != "Samantha" || m["style"] != "short answers" {
		t.Fatalf("persona after edit: %+v", m)
	}
	if r := o.do("PUT", "/api/profile", map[string]any{"timezone": "Nowhere/Atlantis"}); r.Status != 400 {
		t.Fatalf("bad time zone: %d", r.Status)
	}
}

func TestNamingWithoutModel(t *testing.T) {
	e := newEnv(t, false)
	o := e.owner()
	o.want(200, "PUT", "/api/profile", map[string]any{"answers": map[string]string{"sound": "calm"}, "finish": true})
	r := o.do("POST", "/api/persona/name", nil)
	if r.Status != 503 || r.code() != "no_model" || !strings.Contains(string(r.Body), "OS1_LLM_URL") {
		t.Fatalf("naming without a model: %d %s", r.Status, r.Body)
	}
	m := o.want(200, "GET", "/api/model", nil)
	if m["connected"] != false || !strings.Contains(m["how_to_connect"].(string), "Ollama") {
		t.Fatalf("model status: %+v", m)
	}
}

// oneDelta joins runs of "delta" in a list of event types: a reader that
// falls behind gets the deltas that piled up as one (events.Queue.Coalesce),
// so how many there are depends on timing; their text does not.
func oneDelta(types string) string {
	for strings.Contains(types, "delta delta") {
		types = strings.ReplaceAll(types, "delta delta", "delta")
	}
	return types
}

func TestTurnOverSSE(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	conv := o.newConversation()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hello", " there"}})
	evs := o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "hi"})
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	if got := oneDelta(strings.Join(types, " ")); got != "conversation user_message assistant_start delta assistant_done turn_done" {
		t.Fatalf("events: %s", got)
	}
	if done := evs[len(evs)-2].Message; done["content"] != "Hello there" || done["status"] != "complete" {
		t.Fatalf("assistant_done %+v", done)
	}
	msgs := o.messages(conv)
	if len(msgs) != 2 || msgs[1].(map[string]any)["content"] != "Hello there" {
		t.Fatalf("history %+v", msgs)
	}
	convs := o.want(200, "GET", "/api/conversations", nil)["conversations"].([]any)
	if len(convs) != 1 {
		t.Fatalf("conversations %+v", convs)
	}
	met := o.raw("GET", "/metrics", nil, metricsAuth)
	for _, name := range []string{"os1_turn_duration_seconds_count{outcome=\"complete\"} 1", "os1_llm_time_to_first_token_seconds_count{provider=\"openai\"} 1"} {
		if !strings.Contains(string(met.Body), name) {
			t.Errorf("/metrics lacks %q", name)
		}
	}
}

func TestModelDownKeepsMessageAndRetry(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	conv := o.newConversation()
	e.llm.Enqueue(llmtest.Reply{Status: 429, RetryAfter: "120", Error: "slow down"})
	evs := o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "are you there?"})
	var errEv map[string]any
	for _, ev := range evs {
		if ev.Type == "error" {
			errEv = ev.Error
		}
	}
	if errEv == nil || errEv["code"] != "model_error" || !strings.Contains(errEv["message"].(string), "Try again in 2m0s") || !strings.Contains(errEv["details"].(string), "429") {
		t.Fatalf("error event %+v", errEv)
	}
	msgs := o.messages(conv)
	if len(msgs) != 2 || msgs[0].(map[string]any)["content"] != "are you there?" || msgs[1].(map[string]any)["status"] != "failed" {
		t.Fatalf("history after failure %+v", msgs)
	}
	if !strings.Contains(string(o.raw("GET", "/metrics", nil, metricsAuth).Body), `os1_errors_total{kind="rate_limited"} 1`) {
		t.Error("the 429 is not counted in os1_errors_total")
	}
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"I am."}})
	o.turn("/api/conversations/"+conv+"/retry", nil)
	msgs = o.messages(conv)
	if len(msgs) != 3 || msgs[2].(map[string]any)["content"] != "I am." {
		t.Fatalf("history after retry %+v", msgs)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	conv := o.newConversation()
	path := "/api/conversations/" + conv + "/messages"

	huge := strings.Repeat("a", server.MaxMessageBytes+1)
	r := o.do("POST", path, map[string]string{"text": huge})
	if r.Status != 413 || r.code() != "payload_too_large" || !strings.Contains(string(r.Body), "1 MiB") {
		t.Fatalf("message over 1 MiB: %d %.200s", r.Status, r.Body)
	}
	r = o.raw("POST", path, []byte(`{"text":"`+strings.Repeat("b", 2<<20)+`"}`), nil)
	if r.Status != 413 {
		t.Fatalf("body over the limit: %d %.200s", r.Status, r.Body)
	}
	r = o.raw("POST", path, []byte("{\"text\":\"bad \xff\xfe bytes\"}"), nil)
	if r.Status != 400 || r.code() != "invalid_utf8" {
		t.Fatalf("invalid UTF-8: %d %s", r.Status, r.Body)
	}
	for _, body := range []string{`{"text":`, `{"txt":"hi"}`, `{"text":"a"} {"text":"b"}`, `["hi"]`} {
		if r := o.raw("POST", path, []byte(body), nil); r.Status != 400 || r.code() != "bad_request" {
			t.Fatalf("malformed %s: %d %s", body, r.Status, r.Body)
		}
	}
	if r := o.do("POST", path, map[string]string{"text": "   "}); r.Status != 400 {
		t.Fatalf("empty message: %d", r.Status)
	}
	if r := o.do("POST", "/api/conversations/cnv_unknown/messages", map[string]string{"text": "hi"}); r.Status != 404 || r.code() != "not_found" {
		t.Fatalf("unknown conversation: %d %s", r.Status, r.Body)
	}
	if got := len(o.messages(conv)); got != 0 {
		t.Fatalf("rejected requests stored %d messages", got)
	}
	r = o.raw("GET", "/api/me", nil, map[string]string{"X-Big": strings.Repeat("x", 2*server.MaxHeaderBytes)})
	if r.Status != 431 {
		t.Fatalf("oversize headers: %d", r.Status)
	}
	// A message of exactly 1 MiB is accepted and stored byte for byte.
	exact := strings.Repeat("é", server.MaxMessageBytes/2)
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"That is long."}})
	o.turn(path, map[string]string{"text": exact})
	if got := o.messages(conv)[0].(map[string]any)["content"]; got != exact {
		t.Fatal("1 MiB message not stored exactly")
	}
}

func TestOwnerOnlyEndpoints(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	b := e.member(o, "amy")
	if b.user["role"] != "member" {
		t.Fatalf("member %+v", b.user)
	}
	for _, ep := range []struct{ method, path string }{{"PUT", "/api/model"}, {"POST", "/api/invites"}, {"GET", "/api/users"}} {
		if r := b.do(ep.method, ep.path, map[string]string{}); r.Status != 403 || r.code() != "forbidden" {
			t.Errorf("member %s %s: %d %s", ep.method, ep.path, r.Status, r.Body)
		}
	}
	users := o.want(200, "GET", "/api/users", nil)["users"].([]any)
	if len(users) != 2 {
		t.Fatalf("users %+v", users)
	}
	if strings.Contains(fmt.Sprint(users), "argon2") {
		t.Fatal("user list leaks password hashes")
	}
}

func TestInviteIsSingleUse(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	inv := o.want(201, "POST", "/api/invites", nil)
	_, token, _ := strings.Cut(inv["url"].(string), "/#/invite/")
	body := map[string]string{"token": token, "username": "amy", "password": "another password"}
	e.client().want(201, "POST", "/api/invites/accept", body)
	body["username"] = "eve"
	if r := e.client().do("POST", "/api/invites/accept", body); r.Status != 403 {
		t.Fatalf("second use: %d", r.Status)
	}
	inv = o.want(201, "POST", "/api/invites", nil)
	_, token, _ = strings.Cut(inv["url"].(string), "/#/invite/")
	e.clock.Advance(server.InviteTTL + time.Minute)
	body["token"] = token
	if r := e.client().do("POST", "/api/invites/accept", body); r.Status != 403 {
		t.Fatalf("expired invite: %d", r.Status)
	}
	// Without a valid link nobody learns which usernames exist (before: 409
	// "taken" for any token told a stranger "theo" is a user).
	body["username"] = "theo"
	if r := e.client().do("POST", "/api/invites/accept", body); r.Status != 403 {
		t.Fatalf("taken username with an expired link: %d, want 403 like any bad link", r.Status)
	}
	body["token"] = "bogus-token"
	if r := e.client().do("POST", "/api/invites/accept", body); r.Status != 403 {
		t.Fatalf("taken username with a made-up link: %d, want 403", r.Status)
	}
	// With a valid link, a taken name is said, and the link stays usable.
	inv = o.want(201, "POST", "/api/invites", nil)
	_, token, _ = strings.Cut(inv["url"].(string), "/#/invite/")
	body["token"] = token
	if r := e.client().do("POST", "/api/invites/accept", body); r.Status != 409 {
		t.Fatalf("taken username with a valid link: %d, want 409", r.Status)
	}
	body["username"] = "eve"
	e.client().want(201, "POST", "/api/invites/accept", body)
}

// Made-up invite links are throttled like failed sign-ins.
func TestBogusInviteLinksAreThrottled(t *testing.T) {
	e := newEnv(t, true)
	e.owner()
	limited := false
	for i := 0; i < 14 && !limited; i++ {
		body := fmt.Sprintf(`{"token":"bogus-%d","username":"someone","password":"another password"}`, i)
		switch r := e.client().raw("POST", "/api/invites/accept", []byte(body), from("203.0.113.50")); r.Status {
		case 403:
		case 429:
			limited = true
		default:
			t.Fatalf("bogus link %d: %d %s", i, r.Status, r.Body)
		}
	}
	if !limited {
		t.Fatal("14 made-up invite links from one address were never slowed")
	}
}

func TestModelSettingsEncryptKey(t *testing.T) {
	e := newEnv(t, false)
	o := e.owner()
	e.llm.RequireAPIKey("sk-very-secret-123")
	dead := httptest.NewServer(nil)
	deadURL := dead.URL + "/v1"
	dead.Close()
	r := o.do("PUT", "/api/model", map[string]string{"provider": "openai", "url": deadURL, "model": "m"})
	if r.Status != 502 || !strings.Contains(string(r.Body), "did not answer") {
		t.Fatalf("an unreachable server must be refused by the live check: %d %s", r.Status, r.Body)
	}
	if st := o.want(200, "GET", "/api/model", nil); st["connected"] != false {
		t.Fatalf("a refused connection was saved: %+v", st)
	}
	r = o.do("PUT", "/api/model", map[string]string{"provider": "openai", "url": e.llm.OpenAIBaseURL(), "model": "m", "api_key": "wrong-key"})
	if r.Status != 502 || !strings.Contains(string(r.Body), "401") {
		t.Fatalf("a wrong key must be refused by the live check: %d %s", r.Status, r.Body)
	}
	if r := o.do("PUT", "/api/model", map[string]string{"provider": "gemini"}); r.Status != 400 {
		t.Fatalf("unknown provider: %d", r.Status)
	}
	st := o.want(200, "PUT", "/api/model", map[string]string{"provider": "openai", "url": e.llm.OpenAIBaseURL(), "model": "m", "api_key": "sk-very-secret-123"})
	if st["connected"] != true || st["source"] != "settings" {
		t.Fatalf("status %+v", st)
	}
	raw, err := e.db.Setting(context.Background(), "llm.connection")
	if err != nil || strings.Contains(raw, "sk-very-secret") {
		t.Fatalf("saved connection %q: the key must be encrypted at rest (%v)", raw, err)
	}
	if strings.Contains(string(o.do("GET", "/api/model", nil).Body), "sk-very") {
		t.Fatal("the API key is returned to the client")
	}
	if m := o.want(200, "GET", "/api/model/models", nil); len(m["models"].([]any)) == 0 {
		t.Fatalf("models %+v", m)
	}
	// The saved connection is what answers now.
	e.llm.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		if r.Header.Get("Authorization") != "Bearer sk-very-secret-123" {
			t.Errorf("auth header %q", r.Header.Get("Authorization"))
		}
		return llmtest.Reply{Chunks: []string{"ok"}}
	})
	o.turn("/api/conversations/"+o.newConversation()+"/messages", map[string]string{"text": "hi"})
}

func TestSideEffectActionOverHTTP(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	conv := o.newConversation()
	e.llm.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "rename_conversation", Arguments: json.RawMessage(`{"title":"Letters"}`)}}})
	evs := o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "call this Letters"})
	var act map[string]any
	for _, ev := range evs {
		if ev.Type == "action_required" {
			act = ev.Action
		}
	}
	if act == nil || act["summary"] == "" || act["status"] != "pending" {
		t.Fatalf("no pending action: %+v", evs)
	}
	got := o.want(200, "GET", "/api/conversations/"+conv, nil)
	if len(got["pending_actions"].([]any)) != 1 || got["conversation"].(map[string]any)["title"] != "t" {
		t.Fatalf("before approval %+v", got)
	}
	if r := o.do("POST", "/api/actions/"+act["id"].(string), map[string]any{}); r.Status != 400 {
		t.Fatalf("decision without approve: %d", r.Status)
	}
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Renamed."}})
	o.turn("/api/actions/"+act["id"].(string), map[string]bool{"approve": true})
	got = o.want(200, "GET", "/api/conversations/"+conv, nil)
	if got["conversation"].(map[string]any)["title"] != "Letters" || len(got["pending_actions"].([]any)) != 0 {
		t.Fatalf("after approval %+v", got)
	}
}

// The model status follows real turns: a turn that fails because the model
// server is down marks it not reachable with the reason, and a turn that
// succeeds after it came back marks it reachable again (issue 10).
func TestModelStatusFollowsTurns(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	if st := o.want(200, "GET", "/api/model", nil); st["connected"] != true || st["reachable"] != true {
		t.Fatalf("status with the model up: %+v", st)
	}
	addr := strings.TrimPrefix(e.llm.URL, "http://")
	e.llm.Close()
	conv := o.newConversation()
	o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "hi"})
	st := o.want(200, "GET", "/api/model", nil)
	if st["connected"] != true || st["reachable"] != false || st["last_error"] != "I can't reach the model at "+addr+" — is it running?" ||
		!strings.Contains(fmt.Sprint(st["last_error_details"]), "connection refused") {
		t.Fatalf("status after a turn failed with the model down: %+v", st)
	}
	if st := o.want(200, "GET", "/api/model?check=1", nil); st["reachable"] != false || st["last_error"] == "" {
		t.Fatalf("Check again with the model down: %+v", st)
	}
	back, err := llmtest.Start(addr, llmtest.Options{Handler: func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"back"}} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(back.Close)
	o.turn("/api/conversations/"+conv+"/retry", nil)
	if st := o.want(200, "GET", "/api/model", nil); st["reachable"] != true || st["last_error"] != "" {
		t.Fatalf("status after a turn succeeded again: %+v", st)
	}
}
