package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/smtpsend"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

// bulkSyncer files a mailbox worth cleaning up for me@example.org: a list
// with one-click unsubscribe, one whose one-click points into a private
// network, a shop whose six mails went unread, a landlord owed an answer
// and a question of the user's nobody answered. Any other account gets one
// mail from the same shop.
type bulkSyncer struct {
	site string // the one-click site's URL
	now  time.Time
}

func (bulkSyncer) Check(context.Context, mail.Account, mail.Credentials) error { return nil }

func (s bulkSyncer) Sync(ctx context.Context, a mail.Account, _ mail.Credentials, st mail.Store, progress func(int, int)) error {
	for _, f := range []mail.Folder{{Name: "INBOX", Role: mail.RoleInbox}, {Name: "Archive", Role: mail.RoleArchive}, {Name: "Sent", Role: mail.RoleSent}} {
		f.AccountID = a.ID
		if err := st.SaveFolder(ctx, a.UserID, f); err != nil {
			return err
		}
	}
	uid := uint32(0)
	msg := func(folder, from, subject string, ago time.Duration) mail.Message {
		uid++
		return mail.Message{AccountID: a.ID, Folder: folder, UIDValidity: 1, UID: uid, MessageID: fmt.Sprintf("%d.%s", uid, a.Address),
			ThreadID: fmt.Sprintf("t%d", uid), From: mail.Address{Email: from}, To: []mail.Address{{Email: a.Address}}, Subject: subject, Date: s.now.Add(-ago)}
	}
	var ms []mail.Message
	if a.Address != "me@example.org" {
		ms = append(ms, msg("INBOX", "promo@shop.example", "Sale", time.Hour))
	} else {
		for i := range 2 {
			m := msg("INBOX", "deals@list.example", "Deals", time.Duration(i+1)*time.Hour)
			m.ListID, m.ListUnsubscribe, m.ListUnsubscribePost = "<deals.list.example>", "<"+s.site+"/deals>, <mailto:leave@list.example>", "List-Unsubscribe=One-Click"
			ms = append(ms, m)
		}
		m := msg("INBOX", "intra@corp.example", "Internal digest", 3*time.Hour)
		m.ListID, m.ListUnsubscribe, m.ListUnsubscribePost = "<intra.corp.example>", "<https://intranet.example/unsub>", "List-Unsubscribe=One-Click"
		m.Flags = []string{mail.FlagSeen}
		ms = append(ms, m)
		for i := range 6 {
			ms = append(ms, msg("INBOX", "promo@shop.example", fmt.Sprintf("Sale %d", i), time.Duration(i+1)*time.Hour))
		}
		landlord := msg("INBOX", "landlord@example.org", "The deposit", 4*24*time.Hour)
		landlord.Flags = []string{mail.FlagSeen}
		ms = append(ms, landlord)
		asked := msg("Sent", a.Address, "Can you send the invoice?", 5*24*time.Hour)
		asked.To, asked.Text, asked.Flags = []mail.Address{{Name: "Bob Smith", Email: "bob@example.net"}}, "Could you send me the invoice?", []string{mail.FlagSeen}
		ms = append(ms, asked)
	}
	if err := st.PutMessages(ctx, a.UserID, ms); err != nil {
		return err
	}
	progress(len(ms), len(ms))
	return nil
}

// recordingMover stands in for the IMAP server's MOVE.
type recordingMover struct {
	mu    sync.Mutex
	calls []string
}

func (m *recordingMover) Move(_ context.Context, a mail.Account, _ mail.Credentials, folder string, uids []uint32, dest string) (map[uint32]uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, fmt.Sprintf("%s %s %d -> %s", a.Address, folder, len(uids), dest))
	out := map[uint32]uint32{}
	for _, u := range uids {
		out[u] = 100 + u
	}
	return out, nil
}

// composingMailer writes each unsubscribe mail with smtpsend.Compose, as
// the app does, and keeps it.
type composingMailer struct {
	clock clock.Clock
	mu    sync.Mutex
	raw   []string
}

func (c *composingMailer) SendText(_ context.Context, a mail.Account, to mail.Address, subject, body string) error {
	raw, err := smtpsend.Compose(smtpsend.Draft{From: mail.Address{Email: a.Address}, To: []mail.Address{to}, Subject: subject, Body: body}, c.clock, clock.NewFakeIDs())
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.raw = append(c.raw, string(raw))
	return nil
}

type bulkEnv struct {
	*env
	site   *httptest.Server
	hits   func() []string
	mover  *recordingMover
	mailer *composingMailer
}

type mapResolver map[string]netip.Addr

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := m[host]; ok {
		return []netip.Addr{a}, nil
	}
	return nil, errors.New("no such host " + host)
}

// newBulkEnv is newMailEnv with bulk clean-up wired. allowLoopback lets
// the one-click client reach the test's site on 127.0.0.1, which os1
// itself never allows.
func newBulkEnv(t *testing.T, allowLoopback bool) *bulkEnv {
	t.Helper()
	var mu sync.Mutex
	var hits []string
	site := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
	}))
	t.Cleanup(site.Close)
	pool := x509.NewCertPool()
	pool.AddCert(site.Certificate())
	web := &mail.OneClick{TLS: &tls.Config{RootCAs: pool}, Timeout: 5 * time.Second,
		Resolver: mapResolver{"intranet.example": netip.MustParseAddr("10.0.0.5")}}
	if allowLoopback {
		web.Allow = func(a netip.Addr) bool { return a.IsLoopback() }
	}
	r := testrig.New(t)
	mm := r.Models(false)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	svc := &mail.Service{Store: sqlitemail.New(r.DB), Sealer: r.Box, Syncer: bulkSyncer{site: site.URL, now: r.Clock.Now()},
		Clock: r.Clock, IDs: clock.RandomIDs{}, Every: -1,
		Triage: func(_ context.Context, _ string, ms []mail.Message) ([]mail.Triage, error) {
			out := make([]mail.Triage, len(ms))
			for i, m := range ms {
				out[i] = mail.Triage{Category: mail.FYI, Importance: 0.3, Reason: "news", By: "rules"}
				if m.From.Email == "landlord@example.org" {
					out[i] = mail.Triage{Category: mail.NeedsReply, Importance: 0.8, Reason: "from your landlord", By: "rules"}
				}
			}
			return out, nil
		}}
	t.Cleanup(func() { svc.Close() })
	be := &bulkEnv{site: site, mover: &recordingMover{}, mailer: &composingMailer{clock: r.Clock},
		hits: func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), hits...) }}
	bulk := &mail.Bulk{Service: svc, Mover: be.mover, Mailer: be.mailer, Web: web}
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Mail: svc, MailBulk: bulk,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, MetricsToken: testMetricsToken})
	be.env = &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
	return be
}

func connect(t *testing.T, c *client, addr string) {
	t.Helper()
	a := c.want(http.StatusCreated, "POST", "/api/mail/accounts", map[string]any{"address": addr, "imap": map[string]any{"host": "imap.example.org"}, "password": "pw"})
	if p := waitSynced(t, c, a["id"].(string)); p["phase"] != "done" {
		t.Fatalf("sync: %v", p)
	}
}

func results(t *testing.T, m map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, x := range m["results"].([]any) {
		r := x.(map[string]any)
		out[r["sender"].(string)] = r
	}
	return out
}

// TestMailBulkOverHTTP: proposals change nothing; an approved batch acts on
// the user's own senders only; another user naming them touches nothing.
func TestMailBulkOverHTTP(t *testing.T) {
	e := newBulkEnv(t, true)
	o := e.owner()
	connect(t, o, "me@example.org")
	ana := e.member(o, "ana")
	connect(t, ana, "ana@example.org")

	cands := o.want(http.StatusOK, "GET", "/api/mail/unsubscribe", nil)["candidates"].([]any)
	if len(cands) != 2 {
		t.Fatalf("candidates: %v", cands)
	}
	first := cands[0].(map[string]any)
	if first["sender"] != "deals.list.example" || first["read"] != 0.0 || first["messages"] != 2.0 || first["method"] != "one-click" ||
		first["target"] != e.site.URL+"/deals" || cands[1].(map[string]any)["sender"] != "intra.corp.example" {
		t.Fatalf("candidates: %v", cands)
	}
	sug := o.want(http.StatusOK, "GET", "/api/mail/archive-suggestions", nil)["suggestions"].([]any)
	if len(sug) != 1 || sug[0].(map[string]any)["sender"] != "promo@shop.example" || sug[0].(map[string]any)["messages"] != 6.0 {
		t.Fatalf("suggestions: %v", sug)
	}
	if len(e.hits()) != 0 || len(e.mover.calls) != 0 {
		t.Fatalf("a proposal acted: %v %v", e.hits(), e.mover.calls)
	}

	// Ana names the owner's senders: nothing happens to the owner's mail.
	if got := ana.want(http.StatusOK, "GET", "/api/mail/unsubscribe", nil)["candidates"].([]any); len(got) != 0 {
		t.Fatalf("ana's candidates: %v", got)
	}
	if got := ana.want(http.StatusOK, "GET", "/api/mail/archive-suggestions", nil)["suggestions"].([]any); len(got) != 0 {
		t.Fatalf("ana's suggestions: %v", got)
	}
	res := results(t, ana.want(http.StatusOK, "POST", "/api/mail/unsubscribe", map[string]any{"senders": []string{"deals.list.example", "intra.corp.example"}}))
	if res["deals.list.example"]["status"] != "failed" || res["intra.corp.example"]["status"] != "failed" {
		t.Fatalf("ana unsubscribes the owner: %v", res)
	}
	res = results(t, ana.want(http.StatusOK, "POST", "/api/mail/archive", map[string]any{"senders": []string{"promo@shop.example"}}))
	if res["promo@shop.example"]["status"] != "failed" {
		t.Fatalf("ana archives the owner's shop: %v", res)
	}
	if len(e.hits()) != 0 || len(e.mover.calls) != 0 || len(e.mailer.raw) != 0 {
		t.Fatalf("ana's batches acted: %v %v %d", e.hits(), e.mover.calls, len(e.mailer.raw))
	}
	if got := ana.want(http.StatusOK, "GET", "/api/mail/replies", nil); len(got["owed"].([]any))+len(got["awaiting"].([]any)) != 0 {
		t.Fatalf("ana's replies: %v", got)
	}

	// The owner's approved batches.
	res = results(t, o.want(http.StatusOK, "POST", "/api/mail/unsubscribe", map[string]any{"senders": []string{"deals.list.example", "intra.corp.example"}}))
	if d := res["deals.list.example"]; d["status"] != "done" || d["method"] != "one-click" {
		t.Fatalf("deals: %v", d)
	}
	// The intranet's one-click is refused by the guard, even with loopback
	// allowed: 10.0.0.5 is private; the user gets the link to judge.
	if in := res["intra.corp.example"]; in["status"] != "manual" || !strings.Contains(in["message"].(string), "private") || in["url"] != "https://intranet.example/unsub" {
		t.Fatalf("intranet: %v", in)
	}
	if h := e.hits(); len(h) != 1 || h[0] != "POST /deals List-Unsubscribe=One-Click" {
		t.Fatalf("the site saw %q", h)
	}
	res = results(t, o.want(http.StatusOK, "POST", "/api/mail/archive", map[string]any{"senders": []string{"promo@shop.example"}}))
	if p := res["promo@shop.example"]; p["status"] != "done" || p["moved"] != 6.0 {
		t.Fatalf("archive: %v", p)
	}
	if len(e.mover.calls) != 1 || e.mover.calls[0] != "me@example.org INBOX 6 -> Archive" {
		t.Fatalf("moves: %q", e.mover.calls)
	}
	if got := o.want(http.StatusOK, "GET", "/api/mail/messages?folder=Archive", nil)["messages"].([]any); len(got) != 6 {
		t.Fatalf("the archive holds %d", len(got))
	}
	if got := ana.want(http.StatusOK, "GET", "/api/mail/messages?folder=INBOX", nil)["messages"].([]any); len(got) != 1 {
		t.Fatalf("ana's inbox holds %d", len(got))
	}
	for _, bad := range []map[string]any{{"senders": []string{}}, {}, {"senders": []string{" "}}} {
		if r := o.do("POST", "/api/mail/unsubscribe", bad); r.Status != http.StatusBadRequest {
			t.Errorf("batch %v: %d %s", bad, r.Status, r.Body)
		}
		if r := o.do("POST", "/api/mail/archive", bad); r.Status != http.StatusBadRequest {
			t.Errorf("archive batch %v: %d %s", bad, r.Status, r.Body)
		}
	}

	// Reply tracking: owed (the landlord, 4 days) and awaited (Bob, 5 days).
	rep := o.want(http.StatusOK, "GET", "/api/mail/replies", nil)
	owed, awaiting := rep["owed"].([]any), rep["awaiting"].([]any)
	if len(owed) != 1 || len(awaiting) != 1 {
		t.Fatalf("replies: %v", rep)
	}
	ow, aw := owed[0].(map[string]any), awaiting[0].(map[string]any)
	if ow["age_days"] != 4.0 || !strings.Contains(ow["nudge"].(string), "your landlord's email about “The deposit”") {
		t.Fatalf("owed: %v", ow)
	}
	if !strings.HasPrefix(aw["nudge"].(string), "Bob hasn't answered your email about “Can you send the invoice?”") {
		t.Fatalf("awaiting: %v", aw)
	}
}

// TestMailBulkSSRFGuard: as os1 runs (no loopback allowed), a one-click
// address on this machine is never posted to; the mailto is used instead.
func TestMailBulkSSRFGuard(t *testing.T) {
	e := newBulkEnv(t, false)
	o := e.owner()
	connect(t, o, "me@example.org")
	res := results(t, o.want(http.StatusOK, "POST", "/api/mail/unsubscribe", map[string]any{"senders": []string{"deals.list.example"}}))
	d := res["deals.list.example"]
	if d["status"] != "done" || d["method"] != "mailto" {
		t.Fatalf("deals: %v", d)
	}
	if h := e.hits(); len(h) != 0 {
		t.Fatalf("the guard let %q through to 127.0.0.1", h)
	}
	if len(e.mailer.raw) != 1 || !strings.Contains(e.mailer.raw[0], "To: <leave@list.example>") || !strings.Contains(e.mailer.raw[0], "From: <me@example.org>") {
		t.Fatalf("the unsubscribe mail: %q", e.mailer.raw)
	}
}

// TestMailBulkUnavailable: without the bulk runner, 503 (and replies still work).
func TestMailBulkUnavailable(t *testing.T) {
	e := newMailEnv(t, nil)
	o := e.owner()
	for _, c := range []struct{ method, path string }{{"GET", "/api/mail/unsubscribe"}, {"POST", "/api/mail/unsubscribe"},
		{"GET", "/api/mail/archive-suggestions"}, {"POST", "/api/mail/archive"}} {
		if r := o.do(c.method, c.path, map[string]any{"senders": []string{"x"}}); r.Status != http.StatusServiceUnavailable {
			t.Errorf("%s %s = %d", c.method, c.path, r.Status)
		}
	}
	o.want(http.StatusOK, "GET", "/api/mail/replies", nil)
}
