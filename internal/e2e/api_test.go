package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
)

// The API's objects, as far as these tests look at them (docs/api.md).
type (
	conversation struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	message struct {
		ID             string `json:"id"`
		ConversationID string `json:"conversation_id"`
		Role           string `json:"role"`
		Content        string `json:"content"`
		Status         string `json:"status"`
		Error          string `json:"error"`
	}
	conversationView struct {
		Conversation conversation `json:"conversation"`
		Messages     []message    `json:"messages"`
		Running      bool         `json:"running"`
	}
	apiError struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	// event is one turn event of a server-sent event stream.
	event struct {
		Type           string        `json:"type"`
		Conversation   *conversation `json:"conversation"`
		Message        *message      `json:"message"`
		MessageID      string        `json:"message_id"`
		Text           string        `json:"text"`
		ConversationID string        `json:"conversation_id"`
		Error          *apiError     `json:"error"`
	}
)

// client talks to an os1 server as one user: with the session cookie and
// CSRF token after setup or login, or with an API token.
type client struct {
	t     testing.TB
	base  string
	hc    *http.Client
	csrf  string
	token string
}

func newClient(t testing.TB, base string) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: waitTimeout}}
}

// bearer is a client that authenticates with API token tok only.
func bearer(t testing.TB, base, tok string) *client {
	c := newClient(t, base)
	c.hc.Jar = nil
	c.token = tok
	return c
}

func (c *client) request(ctx context.Context, method, path string, in any) *http.Request {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			c.t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.csrf != "" && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	return req
}

// call sends a JSON request and decodes a 2xx answer into out (if not nil).
// It returns the status and the raw body.
func (c *client) call(method, path string, in, out any) (int, string) {
	c.t.Helper()
	resp, err := c.hc.Do(c.request(context.Background(), method, path, in))
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: answer is not the expected JSON: %v\n%s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

// must is call that fails the test unless the answer is 2xx.
func (c *client) must(method, path string, in, out any) {
	c.t.Helper()
	if status, body := c.call(method, path, in, out); status/100 != 2 {
		c.t.Fatalf("%s %s: HTTP %d: %s", method, path, status, body)
	}
}

// setup creates the owner account with the token os1 serve printed; the
// client keeps the session.
func (c *client) setup(token, username, password, display string) {
	c.t.Helper()
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.must(http.MethodPost, "/api/setup", map[string]string{"token": token, "username": username, "password": password, "display_name": display}, &out)
	if out.CSRFToken == "" {
		c.t.Fatal("POST /api/setup answered no csrf_token")
	}
	c.csrf = out.CSRFToken
}

// login signs in with a password; the client keeps the session.
func (c *client) login(username, password string) {
	c.t.Helper()
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.must(http.MethodPost, "/api/login", map[string]string{"username": username, "password": password}, &out)
	c.csrf = out.CSRFToken
}

// onboard finishes the first meeting and lets her choose a name over the
// API (the model must be scripted to answer the naming request).
func (c *client) onboard() string {
	c.t.Helper()
	c.must(http.MethodPut, "/api/profile", map[string]any{
		"answers":  map[string]string{"social": "somewhere in between", "matters": "my garden", "sound": "warm and calm"},
		"timezone": "Europe/Berlin", "finish": true}, nil)
	var persona struct {
		Name string `json:"name"`
	}
	c.must(http.MethodPost, "/api/persona/name", nil, &persona)
	return persona.Name
}

// newToken makes an API token for the signed-in user.
func (c *client) newToken(name string) string {
	c.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	c.must(http.MethodPost, "/api/tokens", map[string]string{"name": name}, &out)
	if !strings.HasPrefix(out.Token, "os1_") {
		c.t.Fatalf("POST /api/tokens answered token %q, want os1_…", out.Token)
	}
	return out.Token
}

func (c *client) newConversation() string {
	c.t.Helper()
	var conv conversation
	c.must(http.MethodPost, "/api/conversations", map[string]string{}, &conv)
	if conv.ID == "" {
		c.t.Fatal("POST /api/conversations answered no id")
	}
	return conv.ID
}

func (c *client) conversation(id string) conversationView {
	c.t.Helper()
	var v conversationView
	c.must(http.MethodGet, "/api/conversations/"+id, nil, &v)
	return v
}

func (c *client) conversations() []conversation {
	c.t.Helper()
	var out struct {
		Conversations []conversation `json:"conversations"`
	}
	c.must(http.MethodGet, "/api/conversations", nil, &out)
	return out.Conversations
}

// waitModel waits until os1 reports a connected model (it looks for one in
// the background after it starts listening).
func (c *client) waitModel() {
	c.t.Helper()
	eventually(c.t, "GET /api/model says connected", func() (bool, string) {
		var st struct {
			Connected bool   `json:"connected"`
			Error     string `json:"error"`
		}
		status, body := c.call(http.MethodGet, "/api/model", nil, &st)
		return status == http.StatusOK && st.Connected, body
	})
}

// sse is a turn streamed as server-sent events.
type sse struct {
	t      testing.TB
	resp   *http.Response
	sc     *bufio.Scanner
	cancel context.CancelFunc
}

// stream POSTs in to path and returns the event stream it answers.
func (c *client) stream(path string, in any) *sse {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	req := c.request(ctx, http.MethodPost, path, in)
	req.Header.Set("Accept", "text/event-stream")
	hc := *c.hc
	hc.Timeout = 0 // a turn streams for as long as the model talks; ctx bounds it
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		c.t.Fatalf("POST %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		c.t.Fatalf("POST %s: HTTP %d %s: %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	s := &sse{t: c.t, resp: resp, sc: sc, cancel: cancel}
	c.t.Cleanup(s.close)
	return s
}

// next returns the next event; ok is false at the end of the stream.
func (s *sse) next() (ev event, ok bool) {
	s.t.Helper()
	for s.sc.Scan() {
		data, found := strings.CutPrefix(s.sc.Text(), "data: ")
		if !found {
			continue
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			s.t.Fatalf("event is not JSON: %v\n%s", err, data)
		}
		return ev, true
	}
	if err := s.sc.Err(); err != nil {
		s.t.Fatalf("reading the event stream: %v", err)
	}
	return ev, false
}

// rest reads the stream to its end.
func (s *sse) rest() []event {
	s.t.Helper()
	var evs []event
	for {
		ev, ok := s.next()
		if !ok {
			return evs
		}
		evs = append(evs, ev)
	}
}

func (s *sse) close() {
	s.cancel()
	s.resp.Body.Close()
}

// types lists the events' types, for failure messages.
func types(evs []event) string {
	var b strings.Builder
	for i, ev := range evs {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(ev.Type)
		if ev.Error != nil {
			fmt.Fprintf(&b, "(%s: %s)", ev.Error.Code, ev.Error.Message)
		}
	}
	return b.String()
}

func getJSON(url string, out any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: HTTP %d: %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}
