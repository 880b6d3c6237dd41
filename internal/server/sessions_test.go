package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/os1ai/os1/internal/server"
)

// signIn signs a new browser in as username.
func (e *env) signIn(username, password string) *client {
	c := e.client()
	c.signedIn(c.want(http.StatusOK, "POST", "/api/login", map[string]string{"username": username, "password": password}))
	return c
}

// endsSoon fails the test unless the socket is closed by the server with
// os1's signed-out status within a few seconds, reading any frames still queued.
func endsSoon(t *testing.T, c *websocket.Conn, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		if got := websocket.CloseStatus(err); got != server.StatusSignedOut {
			t.Errorf("%s: socket ended with %v (status %d), want it closed at once with %d", what, err, got, server.StatusSignedOut)
		}
		return
	}
}

// staysOpen checks a socket still answers: a bad frame gets an error event.
func staysOpen(t *testing.T, w *wsConn, what string) {
	t.Helper()
	w.send(t, map[string]any{"type": "dance"})
	if ev := w.next(t); ev.Type != "error" {
		t.Errorf("%s: socket answered %+v, want an error event", what, ev)
	}
}

func TestLogoutEndsWebSocket(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	other := e.signIn("theo", "correct horse")
	ws, keep := o.dial(t), other.dial(t)
	o.want(http.StatusNoContent, "POST", "/api/logout", nil)
	endsSoon(t, ws.c, "socket of the signed-out session")
	staysOpen(t, keep, "socket of the other session")
}

func TestDeletedTokenEndsWebSocket(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	tok := o.want(http.StatusCreated, "POST", "/api/tokens", map[string]string{"name": "script"})
	script := e.client()
	script.token = tok["token"].(string)
	ws, browser := script.dial(t), o.dial(t)
	o.want(http.StatusNoContent, "DELETE", "/api/tokens/"+tok["id"].(string), nil)
	endsSoon(t, ws.c, "socket opened with the deleted token")
	staysOpen(t, browser, "the browser's socket")
	if r := script.do("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("deleted token: %d", r.Status)
	}
}

func TestSessionListAndRevoke(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	e.clock.Advance(time.Hour)
	laptop := e.signIn("theo", "correct horse")
	phone := e.signIn("theo", "correct horse")
	phoneWS := phone.dial(t)
	laptop.want(http.StatusOK, "GET", "/api/me", nil)

	list := o.want(http.StatusOK, "GET", "/api/sessions", nil)["sessions"].([]any)
	if len(list) != 3 {
		t.Fatalf("sessions: %+v", list)
	}
	first := list[0].(map[string]any)
	if first["current"] != true || first["last_used_at"] == nil || first["user_agent"] == "" || first["address"] == "" {
		t.Errorf("the current session comes first, with its last use: %+v", first)
	}
	if strings.Contains(string(o.do("GET", "/api/sessions", nil).Body), "token_hash") {
		t.Error("the session list shows token hashes")
	}

	// Last use is written at most once a minute.
	before := first["last_used_at"]
	e.clock.Advance(30 * time.Second)
	if got := o.want(http.StatusOK, "GET", "/api/sessions", nil)["sessions"].([]any)[0].(map[string]any)["last_used_at"]; got != before {
		t.Errorf("last use moved after 30 s: %v → %v", before, got)
	}
	e.clock.Advance(31 * time.Second)
	if got := o.want(http.StatusOK, "GET", "/api/sessions", nil)["sessions"].([]any)[0].(map[string]any)["last_used_at"]; got == before {
		t.Errorf("last use did not move after a minute: %v", got)
	}

	// Sign the phone out from the laptop.
	phoneID := phone.want(http.StatusOK, "GET", "/api/sessions", nil)["sessions"].([]any)[0].(map[string]any)["id"].(string)
	laptop.want(http.StatusNoContent, "DELETE", "/api/sessions/"+phoneID, nil)
	endsSoon(t, phoneWS.c, "socket of the revoked session")
	if r := phone.do("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("revoked session: %d", r.Status)
	}
	if r := laptop.do("DELETE", "/api/sessions/"+phoneID, nil); r.Status != http.StatusNotFound {
		t.Errorf("revoking twice: %d", r.Status)
	}

	// Another user cannot see or end the owner's sessions.
	amy := e.member(o, "amy")
	if n := len(amy.want(http.StatusOK, "GET", "/api/sessions", nil)["sessions"].([]any)); n != 1 {
		t.Errorf("amy sees %d sessions, want her own 1", n)
	}
	if r := amy.do("DELETE", "/api/sessions/"+first["id"].(string), nil); r.Status != http.StatusNotFound {
		t.Errorf("amy ends the owner's session: %d", r.Status)
	}

	// Sign out everywhere else: the laptop goes, this one stays.
	laptopWS := laptop.dial(t)
	if n := o.want(http.StatusOK, "POST", "/api/sessions/revoke-others", nil)["ended"]; n != 1.0 {
		t.Errorf("revoke-others ended %v sessions, want 1", n)
	}
	endsSoon(t, laptopWS.c, "socket of a session signed out everywhere else")
	o.want(http.StatusOK, "GET", "/api/me", nil)
	if r := laptop.do("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("laptop after revoke-others: %d", r.Status)
	}

	// Sign out everywhere, this session included.
	ws := o.dial(t)
	o.want(http.StatusOK, "POST", "/api/logout-everywhere", nil)
	endsSoon(t, ws.c, "socket after logout-everywhere")
	if r := o.do("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("after logout-everywhere: %d", r.Status)
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	other := e.signIn("theo", "correct horse")
	otherWS, ownWS := other.dial(t), o.dial(t)
	for _, tc := range []struct {
		body   map[string]string
		status int
		code   string
	}{
		{map[string]string{"current": "wrong password", "new": "a new password"}, 403, "wrong_password"},
		{map[string]string{"current": "correct horse", "new": "short"}, 400, "bad_request"},
		{map[string]string{"current": "correct horse", "new": "correct horse"}, 400, "bad_request"},
	} {
		if r := o.do("PUT", "/api/password", tc.body); r.Status != tc.status || r.code() != tc.code {
			t.Errorf("PUT /api/password %v = %d %s, want %d %s", tc.body, r.Status, r.Body, tc.status, tc.code)
		}
	}
	o.want(http.StatusOK, "PUT", "/api/password", map[string]string{"current": "correct horse", "new": "a new password"})
	endsSoon(t, otherWS.c, "the other session's socket after a password change")
	staysOpen(t, ownWS, "the socket of the session that changed the password")
	if r := other.do("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("other session after the password change: %d", r.Status)
	}
	o.want(http.StatusOK, "GET", "/api/me", nil)
	if r := e.client().do("POST", "/api/login", map[string]string{"username": "theo", "password": "correct horse"}); r.Status != http.StatusUnauthorized {
		t.Errorf("old password still signs in: %d", r.Status)
	}
	e.signIn("theo", "a new password")
}

func TestDisableEnableMember(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	amy := e.member(o, "amy")
	amyID := amy.user["id"].(string)
	tok := amy.want(http.StatusCreated, "POST", "/api/tokens", map[string]string{"name": "script"})
	script := e.client()
	script.token = tok["token"].(string)
	browserWS, scriptWS := amy.dial(t), script.dial(t)

	if r := amy.do("POST", "/api/users/"+amyID+"/disable", nil); r.Status != http.StatusForbidden {
		t.Errorf("a member disables an account: %d", r.Status)
	}
	if r := o.do("POST", "/api/users/"+o.user["id"].(string)+"/disable", nil); r.Status != http.StatusForbidden {
		t.Errorf("the owner disables themself: %d %s", r.Status, r.Body)
	}
	if r := o.do("POST", "/api/users/usr_nobody/disable", nil); r.Status != http.StatusNotFound {
		t.Errorf("disable an unknown user: %d", r.Status)
	}
	o.want(http.StatusNoContent, "POST", "/api/users/"+amyID+"/disable", nil)
	endsSoon(t, browserWS.c, "disabled member's browser socket")
	endsSoon(t, scriptWS.c, "disabled member's token socket")
	if r := amy.do("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("disabled member's session: %d %s", r.Status, r.Body)
	}
	if r := script.do("GET", "/api/me", nil); r.Status != http.StatusUnauthorized || !strings.Contains(string(r.Body), "disabled") {
		t.Errorf("disabled member's token: %d %s", r.Status, r.Body)
	}
	if r := e.client().do("POST", "/api/login", map[string]string{"username": "amy", "password": "another password"}); r.Status != 401 || r.code() != "account_disabled" {
		t.Errorf("disabled member signs in: %d %s", r.Status, r.Body)
	}
	if r := e.client().do("POST", "/api/login", map[string]string{"username": "amy", "password": "wrong password"}); r.code() != "bad_credentials" {
		t.Errorf("a wrong password on a disabled account must not say it is disabled: %s", r.Body)
	}
	users := o.want(http.StatusOK, "GET", "/api/users", nil)["users"].([]any)
	if m := users[1].(map[string]any); m["disabled"] != true || m["last_seen_at"] == nil || m["disabled_at"] == nil {
		t.Errorf("member list: %+v", m)
	}

	o.want(http.StatusNoContent, "POST", "/api/users/"+amyID+"/enable", nil)
	e.signIn("amy", "another password")
	script.want(http.StatusOK, "GET", "/api/me", nil)
}

func TestPasswordResetLink(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	amy := e.member(o, "amy")
	amyID := amy.user["id"].(string)
	ws := amy.dial(t)
	if r := amy.do("POST", "/api/users/"+amyID+"/reset-link", nil); r.Status != http.StatusForbidden {
		t.Errorf("a member makes a reset link: %d", r.Status)
	}
	link := o.want(http.StatusCreated, "POST", "/api/users/"+amyID+"/reset-link", nil)["url"].(string)
	_, token, ok := strings.Cut(link, "/#/reset/")
	if !ok || !strings.HasPrefix(link, "http://") {
		t.Fatalf("reset link %q", link)
	}
	anon := e.client()
	if r := anon.do("POST", "/api/password/reset", map[string]string{"token": token, "password": "short"}); r.Status != 400 {
		t.Errorf("short password: %d %s", r.Status, r.Body)
	}
	if r := anon.do("POST", "/api/password/reset", map[string]string{"token": "wrong", "password": "a fresh password"}); r.Status != 403 {
		t.Errorf("wrong token: %d %s", r.Status, r.Body)
	}
	if m := anon.want(http.StatusOK, "POST", "/api/password/reset", map[string]string{"token": token, "password": "a fresh password"}); m["username"] != "amy" {
		t.Errorf("reset answer: %+v", m)
	}
	endsSoon(t, ws.c, "member's socket after a password reset")
	if r := amy.do("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("member's old session after the reset: %d", r.Status)
	}
	if r := anon.do("POST", "/api/password/reset", map[string]string{"token": token, "password": "yet another one"}); r.Status != 403 {
		t.Errorf("link used twice: %d %s", r.Status, r.Body)
	}
	e.signIn("amy", "a fresh password")

	// A link expires after a day.
	link = o.want(http.StatusCreated, "POST", "/api/users/"+amyID+"/reset-link", nil)["url"].(string)
	_, token, _ = strings.Cut(link, "/#/reset/")
	e.clock.Advance(25 * time.Hour)
	if r := anon.do("POST", "/api/password/reset", map[string]string{"token": token, "password": "a late password"}); r.Status != 403 {
		t.Errorf("expired link: %d %s", r.Status, r.Body)
	}
}

func TestConnectionCaps(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	var open []*wsConn
	for range server.MaxSocketsPerUser {
		open = append(open, o.dial(t))
	}
	url := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/api/ws"
	h := http.Header{"Origin": {e.http.URL}}
	_, resp, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPClient: o.hc, HTTPHeader: h})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("socket over the cap: %v %v", err, resp)
	}
	// Another user is not affected by the owner's sockets.
	staysOpen(t, e.member(o, "amy").dial(t), "another user's socket")
	// Closing one frees its place.
	open[0].c.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, resp, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPClient: o.hc, HTTPHeader: h})
		if err == nil {
			c.CloseNow()
			break
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("socket after closing one: %v %v", err, resp)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestVoiceCallsEndAndCap(t *testing.T) {
	e := newVoiceEnv(t, "Hi.")
	o := e.owner()
	calls := []*voiceConn{o.dialVoice(t), o.dialVoice(t)}
	for _, v := range calls {
		v.send(map[string]any{"type": "start", "sample_rate": 16000, "output_rate": 22050})
		if f := v.next(); f.Type != "ready" {
			t.Fatalf("first frame %+v", f)
		}
	}
	url := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/api/voice"
	h := http.Header{"Origin": {e.http.URL}}
	_, resp, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPClient: o.hc, HTTPHeader: h})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a third call: %v %v", err, resp)
	}
	o.want(http.StatusOK, "POST", "/api/logout-everywhere", nil)
	for _, v := range calls {
		endsSoon(t, v.c, "call after signing out everywhere")
	}
}

// A session cannot be used to guess the account's password through the
// change-password form.
func TestChangePasswordGuessesAreThrottled(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	limited := false
	for i := 0; i < 14 && !limited; i++ {
		r := o.do("PUT", "/api/password", map[string]string{"current": fmt.Sprintf("guess %d", i), "new": "a new password"})
		switch {
		case r.Status == http.StatusTooManyRequests && r.Header.Get("Retry-After") != "":
			limited = true
		case r.code() != "wrong_password":
			t.Fatalf("guess %d: %d %s", i, r.Status, r.Body)
		}
	}
	if !limited {
		t.Fatal("14 wrong current passwords were never slowed")
	}
	e.clock.Advance(time.Minute)
	o.want(http.StatusOK, "PUT", "/api/password", map[string]string{"current": "correct horse", "new": "a new password"})
}

// At shutdown every live socket is told the server is going away (1001),
// so clients reconnect later instead of asking the user to sign in.
func TestCloseConnectionsAtShutdown(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	a, b := o.dial(t), o.dial(t)
	if n := e.srv.CloseConnections(); n != 2 {
		t.Fatalf("CloseConnections ended %d connections, want 2", n)
	}
	for _, w := range []*wsConn{a, b} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var err error
		for err == nil {
			_, _, err = w.c.Read(ctx)
		}
		cancel()
		if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
			t.Errorf("socket ended with %v (status %d), want %d", err, got, websocket.StatusGoingAway)
		}
	}
}

// A new session says where it signed in before it is used again (before:
// browser and address stayed empty until its first later request).
func TestNewSessionShowsWhereItSignedIn(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	c := e.client()
	r := c.raw("POST", "/api/login", []byte(`{"username":"theo","password":"correct horse"}`),
		map[string]string{"User-Agent": "Firefox on the phone", "X-Forwarded-For": "198.51.100.77"})
	if r.Status != 200 {
		t.Fatalf("login: %d", r.Status)
	}
	list := o.want(200, "GET", "/api/sessions", nil)["sessions"].([]any)
	found := false
	for _, x := range list {
		s := x.(map[string]any)
		found = found || (s["user_agent"] == "Firefox on the phone" && s["address"] == "198.51.100.77")
	}
	if !found {
		t.Fatalf("sessions %v: the new one does not say where it signed in", list)
	}
}

// An account disabled where this server does not hear of it (another node
// of a cluster whose message was lost, or `os1 user disable`) leaves the
// socket open, but the socket checks its credential before each frame: the
// next send ends it as signed out, and no turn runs in the user's name. A
// revocation from another node (EndConnections) ends it at once.
func TestSocketChecksItsCredentialBeforeEachFrame(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	amy := e.member(o, "amy")
	amyID := amy.user["id"].(string)
	ws := amy.dial(t)
	before := len(e.llm.Requests())
	if err := e.db.SetUserDisabled(context.Background(), amyID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	ws.send(t, map[string]any{"type": "send", "text": "Are you still there?"})
	endsSoon(t, ws.c, "a disabled member's socket, at its next frame")
	if n := len(e.llm.Requests()); n != before {
		t.Errorf("a disabled member's frame reached the model: %d requests", n-before)
	}
	if convs, err := e.db.ListConversations(context.Background(), amyID); err != nil || len(convs) != 0 {
		t.Errorf("a disabled member's frame stored a conversation: %+v, %v", convs, err)
	}

	// Another node's revocation of the owner's sessions ends the owner's
	// socket here.
	ows := o.dial(t)
	if n := e.srv.EndConnections(server.Revocation{User: o.user["id"].(string), Reason: "this account was disabled"}); n != 1 {
		t.Errorf("EndConnections ended %d connections, want the owner's one", n)
	}
	endsSoon(t, ows.c, "a socket whose user another node disabled")
}
