package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/server"
)

// sentenceCase fails t when an error answer's message is not a sentence a
// person reads: it starts with a capital letter (or a quote or digit), and
// shows no Go-style error chain ("openai: …: dial tcp …").
func sentenceCase(t *testing.T, what string, r resp) {
	t.Helper()
	var m struct {
		Error struct{ Code, Message, Details string }
	}
	if err := json.Unmarshal(r.Body, &m); err != nil || m.Error.Message == "" {
		t.Errorf("%s: %d %s is not an error answer", what, r.Status, r.Body)
		return
	}
	first, _ := utf8.DecodeRuneInString(m.Error.Message)
	if unicode.IsLower(first) {
		t.Errorf("%s: %q does not start with a capital letter", what, m.Error.Message)
	}
	for _, goStyle := range []string{"dial tcp", "connect: connection refused", "sqlite", "context canceled", "json: "} {
		if strings.Contains(m.Error.Message, goStyle) {
			t.Errorf("%s: %q shows a Go error (%q)", what, m.Error.Message, goStyle)
		}
	}
}

// TestErrorAnswersAreSentences walks the error answers a browser or script
// can reach and checks each reads as a sentence.
func TestErrorAnswersAreSentences(t *testing.T) {
	e := newEnv(t, true)
	stranger := e.client()
	sentenceCase(t, "signed out", stranger.do("GET", "/api/me", nil))
	sentenceCase(t, "bad login", stranger.do("POST", "/api/login", map[string]string{"username": "nobody", "password": "wrong password"}))
	sentenceCase(t, "bad invite", stranger.do("POST", "/api/invites/accept", map[string]string{"token": "bogus", "username": "amy", "password": "another password"}))
	sentenceCase(t, "bad invite check", stranger.do("POST", "/api/invites/check", map[string]string{"token": "bogus"}))
	o := e.owner()
	conv := o.newConversation()
	path := "/api/conversations/" + conv + "/messages"
	sentenceCase(t, "empty message", o.do("POST", path, map[string]string{"text": "  "}))
	sentenceCase(t, "unknown field", o.raw("POST", path, []byte(`{"txt":"hi"}`), nil))
	sentenceCase(t, "truncated JSON", o.raw("POST", path, []byte(`{"text":`), nil))
	sentenceCase(t, "two objects", o.raw("POST", path, []byte(`{"text":"a"} {"text":"b"}`), nil))
	sentenceCase(t, "NUL", o.raw("POST", path, []byte(`{"text":"a\u0000b"}`), nil))
	sentenceCase(t, "unknown conversation", o.do("POST", "/api/conversations/cnv_unknown/messages", map[string]string{"text": "hi"}))
	sentenceCase(t, "long title", o.do("POST", "/api/conversations", map[string]string{"title": strings.Repeat("t", 201)}))
	sentenceCase(t, "empty title", o.do("PATCH", "/api/conversations/"+conv, map[string]string{"title": ""}))
	sentenceCase(t, "bad confirm", o.raw("POST", "/api/actions/act_x", []byte(`{}`), nil))
	sentenceCase(t, "naming before the meeting", o.do("POST", "/api/persona/name", map[string]bool{"again": false}))
	m := e.member(o, "amy")
	sentenceCase(t, "member invites", m.do("POST", "/api/invites", nil))

	// A model failure in a turn: a sentence, with the provider's words as details.
	for range 4 {
		e.llm.Enqueue(llmtest.Reply{Status: 500, Error: "the scripted model is down"})
	}
	var errEv map[string]any
	for _, ev := range o.turn(path, map[string]string{"text": "are you there?"}) {
		if ev.Type == "error" {
			errEv = ev.Error
		}
	}
	msg, _ := errEv["message"].(string)
	details, _ := errEv["details"].(string)
	if !strings.HasPrefix(msg, "The model could not answer") || !strings.Contains(details, "the scripted model is down") {
		t.Fatalf("turn error event %+v", errEv)
	}
	last := o.messages(conv)
	stored := last[len(last)-1].(map[string]any)
	if stored["error"] != msg || stored["error_details"] != details {
		t.Errorf("stored failure %q / %q, sent %q / %q", stored["error"], stored["error_details"], msg, details)
	}
}

// TestInviteCheck: the invite page learns whether a link can be used
// before the form, without spending it; used and expired links get the
// same answer.
func TestInviteCheck(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	newLink := func() string {
		inv := o.want(201, "POST", "/api/invites", nil)
		_, token, _ := strings.Cut(inv["url"].(string), "/#/invite/")
		return token
	}
	check := func(token string) resp {
		return e.client().do("POST", "/api/invites/check", map[string]string{"token": token})
	}
	good := newLink()
	if r := check(good); r.Status != 200 || r.json(t)["valid"] != true {
		t.Fatalf("valid link: %d %s", r.Status, r.Body)
	}
	if r := check(good); r.Status != 200 {
		t.Fatalf("checking spent the link: %d %s", r.Status, r.Body)
	}
	e.client().want(201, "POST", "/api/invites/accept", map[string]string{"token": good, "username": "amy", "password": "another password"})
	used := check(good)
	expiring := newLink()
	e.clock.Advance(server.InviteTTL + time.Minute)
	expired := check(expiring)
	bogus := check("made-up")
	for name, r := range map[string]resp{"used": used, "expired": expired, "made up": bogus} {
		if r.Status != 403 || r.code() != "invite_unusable" || !strings.Contains(string(r.Body), "This invite link was used or has expired") {
			t.Errorf("%s link: %d %s", name, r.Status, r.Body)
		}
	}
	if string(used.Body) != string(expired.Body) {
		t.Errorf("used and expired links are told apart:\n%s\n%s", used.Body, expired.Body)
	}
	// Made-up links are throttled like the accept endpoint's.
	limited := false
	for i := 0; i < 14 && !limited; i++ {
		r := e.client().raw("POST", "/api/invites/check", []byte(`{"token":"guess-`+strings.Repeat("x", i)+`"}`), from("203.0.113.60"))
		limited = r.Status == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("14 guessed invite links from one address were never slowed")
	}
}
