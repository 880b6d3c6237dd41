package mail_test

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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
)

// unsubSite is an httptest https server that records every request.
type unsubSite struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string // "METHOD /path body cookie=…"
}

func newUnsubSite(t *testing.T) *unsubSite {
	t.Helper()
	s := &unsubSite{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, fmt.Sprintf("%s %s %s type=%s cookie=%s", r.Method, r.URL.Path, b, r.Header.Get("Content-Type"), r.Header.Get("Cookie")))
		s.mu.Unlock()
		switch r.URL.Path {
		case "/gone":
			http.Error(w, "no such list", http.StatusNotFound)
		case "/away":
			http.Redirect(w, r, "https://unsub.other.example/x", http.StatusTemporaryRedirect)
		case "/hop": // same host: followed, its cookie not sent back
			http.SetCookie(w, &http.Cookie{Name: "track", Value: "1"})
			http.Redirect(w, r, "/deals", http.StatusTemporaryRedirect)
		default:
			http.SetCookie(w, &http.Cookie{Name: "track", Value: "1"})
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *unsubSite) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// trusting is a OneClick that trusts the site's certificate and, for the
// test only, lets loopback through.
func trusting(s *unsubSite) *mail.OneClick {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return &mail.OneClick{TLS: &tls.Config{RootCAs: pool}, Allow: func(a netip.Addr) bool { return a.IsLoopback() }, Timeout: 5 * time.Second}
}

// mailerFake records the unsubscribe mails it is asked to send.
type mailerFake struct {
	mu   sync.Mutex
	sent []string
	fail error
}

func (f *mailerFake) SendText(_ context.Context, acct mail.Account, to mail.Address, subject, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.sent = append(f.sent, acct.Address+" -> "+to.Email+" | "+subject+" | "+body)
	return nil
}

// moverFake moves on a pretend server, answering new UIDs (+1000).
type moverFake struct {
	mu    sync.Mutex
	calls []string
	creds []mail.Credentials
}

func (f *moverFake) Move(_ context.Context, acct mail.Account, c mail.Credentials, folder string, uids []uint32, dest string) (map[uint32]uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fmt.Sprintf("%s %s %v -> %s", acct.Address, folder, uids, dest))
	f.creds = append(f.creds, c)
	out := map[uint32]uint32{}
	for _, u := range uids {
		out[u] = u + 1000
	}
	return out, nil
}

// addAccount connects an account for user and files its folders.
func (r *rig) addAccount(t *testing.T, user, addr string, folders ...mail.Folder) mail.Account {
	t.Helper()
	a, err := r.svc.AddAccount(t.Context(), user, input(addr, "app-password-1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range folders {
		f.AccountID = a.ID
		if err := r.svc.Store.SaveFolder(t.Context(), user, f); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

var uidSeq uint32

// msg is a message of a in INBOX, n hours before the rig's now.
func (r *rig) msg(a mail.Account, from, subject string, hoursAgo int, flags ...string) mail.Message {
	uidSeq++
	return mail.Message{AccountID: a.ID, Folder: "INBOX", UIDValidity: 1, UID: uidSeq, MessageID: fmt.Sprintf("m%d@x", uidSeq),
		From: mail.Address{Email: from}, To: []mail.Address{{Email: a.Address}}, Subject: subject,
		Date: r.clock.Now().Add(-time.Duration(hoursAgo) * time.Hour), Flags: flags}
}

func (r *rig) put(t *testing.T, user string, ms ...mail.Message) {
	t.Helper()
	if err := r.svc.Store.PutMessages(t.Context(), user, ms); err != nil {
		t.Fatal(err)
	}
}

func list(m mail.Message, id, unsub, post string) mail.Message {
	m.ListID, m.ListUnsubscribe, m.ListUnsubscribePost = id, unsub, post
	return m
}

// unsubRig: ana's mail from three lists and one plain sender; bob's list.
func unsubRig(t *testing.T, site *unsubSite) (*rig, mail.Account) {
	r := newRig(t)
	a := r.addAccount(t, r.ana, "ana@example.org", mail.Folder{Name: "INBOX", Role: mail.RoleInbox})
	b := r.addAccount(t, r.bob, "bob@example.org", mail.Folder{Name: "INBOX", Role: mail.RoleInbox})
	oneClick := "<" + site.URL + "/deals>, <mailto:leave-deals@shop.example>"
	var ms []mail.Message
	for i := range 3 { // never read, one-click
		ms = append(ms, list(r.msg(a, "deals@shop.example", fmt.Sprintf("Deal %d", i), i+1), "Shop deals <deals.shop.example>", oneClick, "List-Unsubscribe=One-Click"))
	}
	for i := range 4 { // half read, mailto only
		var flags []string
		if i%2 == 0 {
			flags = []string{mail.FlagSeen}
		}
		ms = append(ms, list(r.msg(a, "club@climb.example", "Climbing news", i+10, flags...), "<climb.example>",
			"<mailto:climb-leave@climb.example?subject=unsubscribe%20climb&cc=boss@evil.example>", ""))
	}
	// read once, only a plain link (GET): os1 must never open it.
	ms = append(ms, list(r.msg(a, "news@paper.example", "Morning paper", 30, mail.FlagSeen), "", "<"+site.URL+"/paper-get>", ""))
	// one-click claimed but only over http: a link for the user, never posted.
	ms = append(ms, list(r.msg(a, "promo@plain.example", "Promo", 31), "", "<http://plain.example/u>", "List-Unsubscribe=One-Click"))
	ms = append(ms, r.msg(a, "friend@example.org", "Lunch?", 2)) // no header: no candidate
	own := r.msg(a, "ana@example.org", "to myself", 3)
	own.ListUnsubscribe = "<mailto:x@example.org>"
	ms = append(ms, own)
	r.put(t, r.ana, ms...)
	r.put(t, r.bob, list(r.msg(b, "bobs@list.example", "Bob's list", 1), "<bobs.list.example>", "<"+site.URL+"/bob>", "List-Unsubscribe=One-Click"))
	return r, a
}

func TestUnsubscribeCandidates(t *testing.T) {
	site := newUnsubSite(t)
	r, _ := unsubRig(t, site)
	bulk := &mail.Bulk{Service: r.svc}
	cs, err := bulk.UnsubscribeCandidates(t.Context(), r.ana)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, fmt.Sprintf("%s %s %d/%d %s %s", c.Sender, c.Name, c.Read, c.Messages, c.Method, c.Target))
	}
	want := []string{
		"deals.shop.example Shop deals 0/3 one-click " + site.URL + "/deals", // never read, most mail
		"promo@plain.example promo@plain.example 0/1 link http://plain.example/u",
		"climb.example climb 2/4 mailto climb-leave@climb.example",
		"news@paper.example news@paper.example 1/1 link " + site.URL + "/paper-get",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("candidates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(site.requests()) != 0 {
		t.Fatalf("a proposal fetched something: %v", site.requests())
	}
	bobs, err := bulk.UnsubscribeCandidates(t.Context(), r.bob)
	if err != nil || len(bobs) != 1 || bobs[0].Sender != "bobs.list.example" {
		t.Fatalf("bob's candidates: %v %v", bobs, err)
	}
}

func TestUnsubscribeBatch(t *testing.T) {
	site := newUnsubSite(t)
	r, _ := unsubRig(t, site)
	mailer := &mailerFake{}
	bulk := &mail.Bulk{Service: r.svc, Web: trusting(site), Mailer: mailer}
	res, err := bulk.Unsubscribe(t.Context(), r.ana, []string{"deals.shop.example", "Climb.example", "news@paper.example",
		"promo@plain.example", "bobs.list.example", "deals.shop.example"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range res {
		got = append(got, x.Sender+" "+x.Status+" "+x.Method)
	}
	want := []string{"deals.shop.example done one-click", "climb.example done mailto", "news@paper.example manual link",
		"promo@plain.example manual link", "bobs.list.example failed "}
	if !slices.Equal(got, want) {
		t.Fatalf("results %q, want %q", got, want)
	}
	reqs := site.requests()
	if len(reqs) != 1 || reqs[0] != "POST /deals List-Unsubscribe=One-Click type=application/x-www-form-urlencoded cookie=" {
		t.Fatalf("the list's server saw %q (one POST, nothing for the GET link nor bob's list)", reqs)
	}
	// The mailto's subject is kept; its cc (a header the email asked for) is not.
	if len(mailer.sent) != 1 || mailer.sent[0] != "ana@example.org -> climb-leave@climb.example | unsubscribe climb | unsubscribe" {
		t.Fatalf("mails: %q", mailer.sent)
	}
	if !strings.Contains(res[2].Message, "open "+site.URL+"/paper-get yourself") || res[2].URL != site.URL+"/paper-get" {
		t.Fatalf("manual: %+v", res[2])
	}
	if !strings.Contains(res[4].Message, "did nothing") {
		t.Fatalf("another user's list: %+v", res[4])
	}
	if _, err := bulk.Unsubscribe(t.Context(), r.ana, nil); err == nil {
		t.Fatal("an empty batch was accepted")
	}
}

// TestUnsubscribeFallsBack: a one-click that fails tries the mailto, and a
// failed mailto leaves the link to the user.
func TestUnsubscribeFallsBack(t *testing.T) {
	site := newUnsubSite(t)
	r := newRig(t)
	a := r.addAccount(t, r.ana, "ana@example.org")
	r.put(t, r.ana, list(r.msg(a, "x@shop.example", "Deal", 1), "<shop.example>", "<"+site.URL+"/gone>, <mailto:leave@shop.example>", "List-Unsubscribe=One-Click"))
	mailer := &mailerFake{}
	bulk := &mail.Bulk{Service: r.svc, Web: trusting(site), Mailer: mailer}
	res, err := bulk.Unsubscribe(t.Context(), r.ana, []string{"shop.example"})
	if err != nil || res[0].Status != mail.StatusDone || res[0].Method != mail.MethodMailto || len(mailer.sent) != 1 {
		t.Fatalf("fallback to mailto: %+v %v %q", res, err, mailer.sent)
	}
	mailer.fail = errors.New("smtp down")
	res, _ = bulk.Unsubscribe(t.Context(), r.ana, []string{"shop.example"})
	if res[0].Status != mail.StatusManual || !strings.Contains(res[0].Message, "404") || !strings.Contains(res[0].Message, "Smtp down") {
		t.Fatalf("both failed: %+v", res[0])
	}
}

type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host")
}

// TestOneClickGuard: an address from an email never reaches loopback, a
// private network or link-local, however it is spelled, nor follows a
// redirect to another host; only https is posted to.
func TestOneClickGuard(t *testing.T) {
	site := newUnsubSite(t)
	port := site.URL[strings.LastIndexByte(site.URL, ':'):]
	guarded := trusting(site)
	guarded.Allow = nil // as os1 runs
	guarded.Resolver = fakeResolver{
		"rebind.example":   {netip.MustParseAddr("127.0.0.1")},
		"intranet.example": {netip.MustParseAddr("10.1.2.3")},
		"metadata.example": {netip.MustParseAddr("169.254.169.254")},
		"mapped.example":   {netip.MustParseAddr("::ffff:127.0.0.1")},
		"nat64.example":    {netip.MustParseAddr("64:ff9b::7f00:1")},
	}
	for _, target := range []string{site.URL + "/x", "https://localhost" + port + "/x", "https://rebind.example" + port + "/x",
		"https://intranet.example/x", "https://metadata.example/latest", "https://mapped.example" + port + "/x",
		"https://nat64.example" + port + "/x", "https://[::1]" + port + "/x"} {
		err := guarded.Post(t.Context(), target)
		if !errors.Is(err, mail.ErrBlockedAddress) && !(strings.Contains(target, "localhost") && err != nil) {
			t.Errorf("%s: %v, want refused", target, err)
		}
	}
	if err := guarded.Post(t.Context(), strings.Replace(site.URL, "https", "http", 1)+"/x"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("http: %v", err)
	}
	if err := guarded.Post(t.Context(), "https://user:pw@example.org/x"); err == nil {
		t.Error("a URL with credentials was posted to")
	}
	if n := len(site.requests()); n != 0 {
		t.Fatalf("the guarded client reached the loopback site %d times", n)
	}
	// Allowed (tests only), a redirect to another host is still refused.
	err := trusting(site).Post(t.Context(), site.URL+"/away")
	if err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("redirect: %v", err)
	}
	if err := trusting(site).Post(t.Context(), site.URL+"/gone"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a 404: %v", err)
	}
	before := len(site.requests())
	if err := trusting(site).Post(t.Context(), site.URL+"/hop"); err != nil {
		t.Fatalf("a redirect on the same host: %v", err)
	}
	if got := site.requests()[before:]; len(got) != 2 || got[1] != "POST /deals List-Unsubscribe=One-Click type=application/x-www-form-urlencoded cookie=" {
		t.Fatalf("after the same-host redirect: %q", got)
	}
}

func TestPrivateAddr(t *testing.T) {
	for addr, private := range map[string]bool{
		"127.0.0.1": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.1.1": true, "169.254.169.254": true,
		"100.64.0.1": true, "0.0.0.0": true, "::1": true, "fe80::1": true, "fd00::1": true, "::ffff:10.0.0.1": true,
		"224.0.0.1": true, "255.255.255.255": true, "64:ff9b::a00:1": true,
		"93.184.216.34": false, "2606:4700::1111": false, "64:ff9b::5db8:d822": false, "8.8.8.8": false,
	} {
		if got := mail.PrivateAddr(netip.MustParseAddr(addr)); got != private {
			t.Errorf("PrivateAddr(%s) = %v", addr, got)
		}
	}
}

func TestArchiveSuggestionsAndBatch(t *testing.T) {
	r := newRig(t)
	a := r.addAccount(t, r.ana, "ana@example.org", mail.Folder{Name: "INBOX", Role: mail.RoleInbox}, mail.Folder{Name: "Old mail", Role: mail.RoleArchive})
	b := r.addAccount(t, r.bob, "bob@example.org", mail.Folder{Name: "INBOX", Role: mail.RoleInbox})
	var ms []mail.Message
	for i := range 6 {
		ms = append(ms, r.msg(a, "promo@shop.example", fmt.Sprintf("Sale %d", i), i+1)) // never read
	}
	for i := range 6 { // the latest read
		var flags []string
		if i == 0 {
			flags = []string{mail.FlagSeen}
		}
		ms = append(ms, r.msg(a, "friend@example.org", "hi", i+1, flags...))
	}
	for i := range 5 { // unread but one flagged: kept on purpose
		var flags []string
		if i == 3 {
			flags = []string{mail.FlagFlagged}
		}
		ms = append(ms, r.msg(a, "bank@bank.example", "Statement", i+1, flags...))
	}
	for i := range 4 { // too few
		ms = append(ms, r.msg(a, "rare@example.org", "Rare", i+1))
	}
	// older, read mail from promo does not count: the latest 6 are unread.
	ms = append(ms, r.msg(a, "promo@shop.example", "Old sale", 500, mail.FlagSeen))
	r.put(t, r.ana, ms...)
	var bobs []mail.Message
	for i := range 5 {
		bobs = append(bobs, r.msg(b, "promo@shop.example", "Sale", i+1))
	}
	r.put(t, r.bob, bobs...)

	mover := &moverFake{}
	bulk := &mail.Bulk{Service: r.svc, Mover: mover}
	sug, err := bulk.ArchiveSuggestions(t.Context(), r.ana)
	if err != nil {
		t.Fatal(err)
	}
	if len(sug) != 1 || sug[0].Sender != "promo@shop.example" || sug[0].Unread != 6 || sug[0].Messages != 7 || sug[0].Subjects[0] != "Sale 0" {
		t.Fatalf("suggestions: %+v", sug)
	}
	res, err := bulk.Archive(t.Context(), r.ana, []string{"promo@shop.example", "friend@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != mail.StatusDone || res[0].Moved != 7 || res[1].Status != mail.StatusFailed {
		t.Fatalf("results: %+v", res)
	}
	if len(mover.calls) != 1 || !strings.HasPrefix(mover.calls[0], "ana@example.org INBOX [") || !strings.HasSuffix(mover.calls[0], "-> Old mail") ||
		mover.creds[0].Password != "app-password-1" {
		t.Fatalf("moves: %q %+v", mover.calls, mover.creds)
	}
	moved, _ := r.svc.Store.Messages(t.Context(), r.ana, mail.Query{Folder: "Old mail", Limit: 50})
	if len(moved) != 7 || moved[0].UID < 1000 {
		t.Fatalf("the store: %d moved, %+v", len(moved), moved)
	}
	// Bob's mail from the same sender is untouched by ana's batch.
	left, _ := r.svc.Store.Messages(t.Context(), r.bob, mail.Query{Folder: "INBOX", Limit: 50})
	if len(left) != 5 {
		t.Fatalf("bob's inbox holds %d", len(left))
	}
	// Done once, there is nothing left to propose or move.
	if sug, _ := bulk.ArchiveSuggestions(t.Context(), r.ana); len(sug) != 0 {
		t.Fatalf("after archiving: %+v", sug)
	}
	// An account without an archive folder: "Archive", and the result says so.
	res, _ = bulk.Archive(t.Context(), r.bob, []string{"promo@shop.example"})
	if res[0].Status != mail.StatusDone || !strings.Contains(res[0].Message, "named “Archive”") || !strings.HasSuffix(mover.calls[1], "-> Archive") {
		t.Fatalf("bob: %+v %q", res, mover.calls)
	}
	if _, err := (&mail.Bulk{Service: r.svc}).Archive(t.Context(), r.ana, make([]string, 0)); err == nil {
		t.Fatal("an empty batch was accepted")
	}
}

func TestColdEmail(t *testing.T) {
	known := mail.NewKnowledge([]string{"me@example.org"}, []mail.Person{{Name: "Sam", Emails: []string{"sam@corp.example"}}},
		[]mail.Message{{To: []mail.Address{{Email: "vendor@corp.example"}}, ThreadID: "t-mine"}})
	base := mail.Message{From: mail.Address{Name: "Jordan", Email: "jordan@growth.example"}, Subject: "Quick question",
		Text: "Hi, I came across your company and would love 15 minutes to show you our platform."}
	cases := []struct {
		name  string
		edit  func(m *mail.Message)
		first bool
		cold  bool
	}{
		{"a stranger's pitch", func(*mail.Message) {}, true, true},
		{"not the first email", func(*mail.Message) {}, false, false},
		{"a person the user knows", func(m *mail.Message) { m.From.Email = "sam@corp.example" }, true, false},
		{"someone the user wrote to", func(m *mail.Message) { m.From.Email = "vendor@corp.example" }, true, false},
		{"a thread the user wrote in", func(m *mail.Message) { m.ThreadID = "t-mine" }, true, false},
		{"a list", func(m *mail.Message) { m.ListUnsubscribe = "<mailto:x@y>" }, true, false},
		{"bulk", func(m *mail.Message) { m.Precedence = "bulk" }, true, false},
		{"no outreach phrasing", func(m *mail.Message) { m.Subject, m.Text = "Your parcel", "It arrives Monday." }, true, false},
		{"phrasing only in a quote", func(m *mail.Message) {
			m.Subject, m.Text = "Re: the report", "Thanks!\n\nOn Mon, Dec 1, 2026 at 9:00 Sam wrote:\n> quick question about partnership"
		}, true, false},
		{"book a demo", func(m *mail.Message) { m.Subject, m.Text = "Hello", "Would you like to book a demo?" }, true, true},
		{"a machine's message", func(m *mail.Message) { m.From.Email = "no-reply@growth.example" }, true, false},
		{"a code that expires", func(m *mail.Message) {
			m.From.Email, m.Subject, m.Text = "hello@newapp.example", "Your sign-in code", "Your code 123456 expires in 10 minutes."
		}, true, false},
		{"fifteen minutes of your time", func(m *mail.Message) { m.Subject, m.Text = "Intro", "Could I have 15 min next week?" }, true, true},
	}
	for _, c := range cases {
		m := base
		c.edit(&m)
		cold, why := mail.ColdEmail(m, known, c.first)
		if cold != c.cold {
			t.Errorf("%s: cold=%v (%q)", c.name, cold, why)
		}
		if cold && !strings.HasPrefix(why, mail.ColdReasonPrefix+": first email from them, sales phrasing “") {
			t.Errorf("%s: reason %q", c.name, why)
		}
	}
	if _, why := mail.ColdEmail(base, known, true); why != "cold email: first email from them, sales phrasing “quick question”, “i came across your”" {
		t.Errorf("reason %q", why)
	}
}

// TestColdTriage: the signal over the store: the first email of a stranger
// sinks and owes nothing; their second email is not "first time".
func TestColdTriage(t *testing.T) {
	r := newRig(t)
	a := r.addAccount(t, r.ana, "ana@example.org")
	pitch := r.msg(a, "jordan@growth.example", "Quick question", 1)
	pitch.Text = "Do you have 15 minutes this week?"
	again := r.msg(a, "old@growth.example", "Quick question", 1)
	earlier := r.msg(a, "old@growth.example", "Hello", 48)
	r.put(t, r.ana, pitch, again, earlier)
	ms, _ := r.svc.Store.Messages(t.Context(), r.ana, mail.Query{Limit: 10})
	k, err := r.svc.Knowledge(t.Context(), r.ana)
	if err != nil {
		t.Fatal(err)
	}
	ts := make([]mail.Triage, len(ms))
	for i := range ts {
		ts[i] = mail.Triage{Category: mail.NeedsReply, Importance: 0.7, Reason: "asks you something", By: "rules"}
	}
	out, err := r.svc.ColdTriage(t.Context(), r.ana, ms, ts, k)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		cold := strings.HasPrefix(out[i].Reason, mail.ColdReasonPrefix)
		if want := m.From.Email == "jordan@growth.example"; cold != want {
			t.Errorf("%s %q: %+v", m.From.Email, m.Subject, out[i])
		}
		if cold && (out[i].Category != mail.FYI || out[i].Importance > 0.15 || out[i].By != "rules") {
			t.Errorf("cold triage %+v", out[i])
		}
	}
	if ts[0].Reason != "asks you something" {
		t.Error("ColdTriage changed its input")
	}
}

// TestProposalsReadPastAPage: a proposal reads more than one page of mail,
// even when messages sharing one date straddle the page's end.
func TestProposalsReadPastAPage(t *testing.T) {
	r := newRig(t)
	a := r.addAccount(t, r.ana, "ana@example.org", mail.Folder{Name: "INBOX", Role: mail.RoleInbox})
	var ms []mail.Message
	for i := range 400 {
		ms = append(ms, list(r.msg(a, "big@list.example", "Daily", i+1), "<big.list.example>", "<mailto:leave@list.example>", ""))
	}
	for range 300 { // all at one date, across the first page's end
		ms = append(ms, list(r.msg(a, "big@list.example", "Daily", 1000), "<big.list.example>", "<mailto:leave@list.example>", ""))
	}
	ms = append(ms, list(r.msg(a, "big@list.example", "Daily", 2000, mail.FlagSeen), "<big.list.example>", "<mailto:leave@list.example>", ""))
	r.put(t, r.ana, ms...)
	cs, err := (&mail.Bulk{Service: r.svc}).UnsubscribeCandidates(t.Context(), r.ana)
	if err != nil || len(cs) != 1 || cs[0].Messages != 701 || cs[0].Read != 1 {
		t.Fatalf("candidates: %+v %v", cs, err)
	}
	cs, _ = (&mail.Bulk{Service: r.svc, Scan: 450}).UnsubscribeCandidates(t.Context(), r.ana)
	if cs[0].Messages != 450 {
		t.Fatalf("Scan 450 read %d", cs[0].Messages)
	}
}

// TestUnsubscribeForgedHeaders: mail that failed the sender checks could
// carry anyone's unsubscribe address: nothing is posted nor mailed.
func TestUnsubscribeForgedHeaders(t *testing.T) {
	site := newUnsubSite(t)
	r := newRig(t)
	a := r.addAccount(t, r.ana, "ana@example.org")
	m := list(r.msg(a, "deals@shop.example", "Deal", 1), "<shop.example>", "<"+site.URL+"/deals>, <mailto:leave@evil.example>", "List-Unsubscribe=One-Click")
	m.AuthResults = "mx.example.org; spf=pass smtp.mailfrom=shop.example; dkim=fail header.d=shop.example"
	r.put(t, r.ana, m)
	mailer := &mailerFake{}
	bulk := &mail.Bulk{Service: r.svc, Web: trusting(site), Mailer: mailer}
	cs, _ := bulk.UnsubscribeCandidates(t.Context(), r.ana)
	if len(cs) != 1 || cs[0].Method != mail.MethodLink || !strings.Contains(cs[0].Warning, "DKIM") {
		t.Fatalf("candidate: %+v", cs)
	}
	res, err := bulk.Unsubscribe(t.Context(), r.ana, []string{"shop.example"})
	if err != nil || res[0].Status != mail.StatusManual || !strings.Contains(res[0].Message, "sender checks") {
		t.Fatalf("result: %+v %v", res, err)
	}
	if len(site.requests()) != 0 || len(mailer.sent) != 0 {
		t.Fatalf("acted on forged headers: %v %v", site.requests(), mailer.sent)
	}
}
