package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/mailoauth"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

// mailSyncer accepts one password and files two messages per sync.
type mailSyncer struct{}

func (mailSyncer) Check(_ context.Context, a mail.Account, c mail.Credentials) error {
	if c.Password != "app-password" && c.AccessToken == "" {
		return errors.Join(mail.ErrAuth, errors.New("the mail server refused the login of "+a.Address))
	}
	return nil
}

func (mailSyncer) Sync(ctx context.Context, a mail.Account, _ mail.Credentials, st mail.Store, progress func(int, int)) error {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	ms := []mail.Message{
		{AccountID: a.ID, Folder: "INBOX", UIDValidity: 1, UID: 1, MessageID: "1@x", Subject: "About the deposit",
			From: mail.Address{Name: "Landlord", Email: "landlord@example.org"}, Text: "The deposit comes back Friday.", Date: now},
		{AccountID: a.ID, Folder: "INBOX", UIDValidity: 1, UID: 2, MessageID: "2@x", Subject: "<img src=x onerror=alert(1)>",
			From: mail.Address{Email: "news@example.org"}, Text: "Weekly news", Date: now.Add(-time.Hour)},
	}
	if err := st.PutMessages(ctx, a.UserID, ms); err != nil {
		return err
	}
	progress(2, 2)
	return nil
}

func newMailEnv(t *testing.T, flow *mailoauth.Flow) *env {
	t.Helper()
	r := testrig.New(t)
	mm := r.Models(false)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	svc := &mail.Service{Store: sqlitemail.New(r.DB), Sealer: r.Box, Syncer: mailSyncer{}, Clock: r.Clock, IDs: clock.RandomIDs{}, Every: -1,
		Triage: func(_ context.Context, _ string, ms []mail.Message) ([]mail.Triage, error) {
			out := make([]mail.Triage, len(ms))
			for i := range ms {
				out[i] = mail.Triage{Category: mail.NeedsReply, Importance: 0.8, Reason: "he asks you something"}
			}
			return out, nil
		}}
	if flow != nil {
		svc.OAuth = flow
	}
	t.Cleanup(func() { svc.Close() })
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Mail: svc, MailOAuth: flow,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, MetricsToken: testMetricsToken})
	return &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
}

func waitSynced(t *testing.T, c *client, id string) map[string]any {
	t.Helper()
	var p map[string]any
	testrig.Eventually(t, 10*time.Second, "the first sync ends", func() (bool, string) {
		p = c.want(http.StatusOK, "GET", "/api/mail/accounts/"+id+"/sync", nil)
		return p["running"] == false && p["phase"] != "connecting", p["phase"].(string)
	})
	return p
}

// TestMailOverHTTP: connecting an account, its first sync, the triaged
// listing and search; the password never comes back; another user sees
// none of it (404 on every id).
func TestMailOverHTTP(t *testing.T) {
	e := newMailEnv(t, nil)
	o := e.owner()
	in := map[string]any{"address": "me@example.org", "imap": map[string]any{"host": "imap.example.org"}, "password": "wrong"}
	r := o.do("POST", "/api/mail/accounts", in)
	if r.Status != http.StatusBadRequest || r.code() != "mail_auth" || !strings.Contains(string(r.Body), "me@example.org") {
		t.Fatalf("a wrong password: %d %s", r.Status, r.Body)
	}
	in["password"] = "app-password"
	a := o.want(http.StatusCreated, "POST", "/api/mail/accounts", in)
	id := a["id"].(string)
	if strings.Contains(string(o.do("GET", "/api/mail/accounts", nil).Body), "app-password") || a["secret"] != nil {
		t.Fatal("the password came back")
	}
	if p := waitSynced(t, o, id); p["phase"] != "done" || p["done"] != 2.0 {
		t.Fatalf("sync progress %v", p)
	}
	list := o.want(http.StatusOK, "GET", "/api/mail/messages?folder=INBOX&category=needs_reply", nil)["messages"].([]any)
	if len(list) != 2 {
		t.Fatalf("listing: %v", list)
	}
	first := list[0].(map[string]any)
	if first["subject"] != "About the deposit" || first["triage"].(map[string]any)["reason"] != "he asks you something" {
		t.Fatalf("first: %v", first)
	}
	found := o.want(http.StatusOK, "GET", "/api/mail/search?q=deposit", nil)["messages"].([]any)
	if len(found) != 1 || found[0].(map[string]any)["id"] != first["id"] {
		t.Fatalf("search: %v", found)
	}
	if r := o.do("GET", "/api/mail/messages?category=junk", nil); r.Status != 400 {
		t.Fatalf("an unknown category: %d", r.Status)
	}

	m := e.member(o, "ana")
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/mail/accounts/" + id + "/sync"}, {"POST", "/api/mail/accounts/" + id + "/sync"},
		{"DELETE", "/api/mail/accounts/" + id}, {"GET", "/api/mail/messages/" + first["id"].(string)},
	} {
		if r := m.do(c.method, c.path, nil); r.Status != http.StatusNotFound {
			t.Errorf("ana %s %s = %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if got := m.want(http.StatusOK, "GET", "/api/mail/messages", nil)["messages"].([]any); len(got) != 0 {
		t.Errorf("ana lists the owner's mail: %v", got)
	}
	if got := m.want(http.StatusOK, "GET", "/api/mail/search?q=deposit", nil)["messages"].([]any); len(got) != 0 {
		t.Errorf("ana finds the owner's mail: %v", got)
	}
	// Rules in plain words: understood, tried on recent mail, kept, and the
	// user's own.
	dry := o.want(http.StatusOK, "POST", "/api/mail/rules/dry-run", map[string]any{"text": "archive anything from news@example.org"})
	if hits := dry["hits"].([]any); len(hits) != 1 || !strings.Contains(string(mustJSON(hits[0])), "Weekly") && !strings.Contains(string(mustJSON(hits[0])), "onerror") {
		t.Fatalf("dry run: %v", dry)
	}
	if r := o.do("POST", "/api/mail/rules", map[string]any{"text": "please make me a sandwich"}); r.Status != 400 || !strings.Contains(string(r.Body), "understand") {
		t.Fatalf("a rule os1 can't read: %d %s", r.Status, r.Body)
	}
	rule := o.want(http.StatusCreated, "POST", "/api/mail/rules", map[string]any{"text": "archive anything from news@example.org"})
	if rule["understood"].(map[string]any)["archive"] != true {
		t.Fatalf("rule: %v", rule)
	}
	if got := m.want(http.StatusOK, "GET", "/api/mail/rules", nil)["rules"].([]any); len(got) != 0 {
		t.Fatalf("ana sees the owner's rules: %v", got)
	}
	if r := m.do("DELETE", "/api/mail/rules/"+rule["id"].(string), nil); r.Status != 404 {
		t.Fatalf("ana deletes the owner's rule: %d", r.Status)
	}
	o.want(http.StatusNoContent, "DELETE", "/api/mail/rules/"+rule["id"].(string), nil)

	if got := o.want(http.StatusOK, "GET", "/api/mail/triage", nil); got["mode"] != "rules" {
		t.Errorf("triage state: %v", got)
	}

	o.want(http.StatusNoContent, "DELETE", "/api/mail/accounts/"+id, nil)
	if got := o.want(http.StatusOK, "GET", "/api/mail/messages", nil)["messages"].([]any); len(got) != 0 {
		t.Errorf("mail of a removed account: %v", got)
	}
}

// TestMailOAuthSignIn: the whole OAuth round trip through the server, with
// a local authorization server checking PKCE; the callback carries no
// session (SameSite=Strict) and only hands the code to the page.
func TestMailOAuthSignIn(t *testing.T) {
	challenges := map[string]string{}
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if challenges[r.PostForm.Get("code")] != base64.RawURLEncoding.EncodeToString(sum[:]) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "refresh_token": "rt", "expires_in": 3600, "token_type": "Bearer"})
	}))
	defer as.Close()
	p := mailoauth.Known["google"]
	p.ClientID, p.AuthURL, p.TokenURL = "cid", as.URL+"/authorize", as.URL+"/token"
	e := newMailEnv(t, mailoauth.New([]mailoauth.Provider{p}, clock.System{}, clock.RandomIDs{}, as.Client()))
	o := e.owner()
	if got := o.want(http.StatusOK, "GET", "/api/mail/oauth", nil)["providers"].([]any); len(got) != 1 || got[0] != "google" {
		t.Fatalf("providers: %v", got)
	}
	start := o.want(http.StatusOK, "POST", "/api/mail/oauth/start", map[string]any{"provider": "google", "address": "me@gmail.com"})
	u, _ := url.Parse(start["url"].(string))
	if !strings.HasPrefix(u.Query().Get("redirect_uri"), e.http.URL+"/api/mail/oauth/callback") {
		t.Fatalf("redirect_uri %q", u.Query().Get("redirect_uri"))
	}
	state := u.Query().Get("state")
	challenges["the-code"] = u.Query().Get("code_challenge")

	// The provider sends the browser back, without the session cookie.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(e.http.URL + "/api/mail/oauth/callback?state=" + url.QueryEscape(state) + "&code=the-code")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/#/mail-oauth?") || !strings.Contains(loc, "code=the-code") {
		t.Fatalf("callback: %d %q", res.StatusCode, loc)
	}
	// Another user cannot finish the owner's sign-in with the same state.
	m := e.member(o, "ana")
	if r := m.do("POST", "/api/mail/oauth/finish", map[string]any{"state": state, "code": "the-code"}); r.Status != 400 {
		t.Fatalf("ana finishes the owner's sign-in: %d %s", r.Status, r.Body)
	}
	a := o.want(http.StatusCreated, "POST", "/api/mail/oauth/finish", map[string]any{"state": state, "code": "the-code"})
	if a["auth"] != "xoauth2" || a["address"] != "me@gmail.com" || a["imap"].(map[string]any)["host"] != "imap.gmail.com" {
		t.Fatalf("account: %v", a)
	}
	if p := waitSynced(t, o, a["id"].(string)); p["phase"] != "done" {
		t.Fatalf("the first sync of an OAuth account: %v", p)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
