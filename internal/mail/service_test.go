package mail_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// fakeSyncer stands in for IMAP: it accepts one password and "syncs" by
// putting its messages into the store, reporting progress.
type fakeSyncer struct {
	mu       sync.Mutex
	password string
	msgs     []mail.Message
	creds    []mail.Credentials
	block    chan struct{} // when set, Sync waits on it
	panics   bool
}

func (f *fakeSyncer) Check(_ context.Context, a mail.Account, c mail.Credentials) error {
	if c.Password != f.password {
		return errors.Join(mail.ErrAuth, errors.New(a.Address+": wrong password"))
	}
	return nil
}

func (f *fakeSyncer) Sync(ctx context.Context, a mail.Account, c mail.Credentials, st mail.Store, progress func(int, int)) error {
	f.mu.Lock()
	f.creds = append(f.creds, c)
	block, panics := f.block, f.panics
	f.mu.Unlock()
	if panics {
		panic("server sent nonsense")
	}
	if block != nil {
		<-block
	}
	ms := make([]mail.Message, len(f.msgs))
	for i, m := range f.msgs {
		m.AccountID = a.ID
		ms[i] = m
	}
	if err := st.PutMessages(ctx, a.UserID, ms); err != nil {
		return err
	}
	progress(len(ms), len(ms))
	return nil
}

type rig struct {
	svc   *mail.Service
	db    *sqlite.DB
	sync  *fakeSyncer
	box   *secret.Box
	clock *clock.Fake
	ana   string
	bob   string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := secret.LoadOrCreateKey(filepath.Join(t.TempDir(), "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{db: db, box: box, clock: clock.NewFake(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)),
		sync: &fakeSyncer{password: "app-password-1"}}
	for _, name := range []string{"ana", "bob"} {
		err := db.CreateUser(t.Context(), store.User{ID: "usr_" + name, Username: name, DisplayName: name,
			Role: store.RoleMember, PasswordHash: "x", CreatedAt: r.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
	}
	r.ana, r.bob = "usr_ana", "usr_bob"
	r.svc = &mail.Service{Store: sqlitemail.New(db), Sealer: box, Syncer: r.sync, Clock: r.clock, IDs: clock.NewFakeIDs(),
		Every: -1, Triage: func(_ context.Context, _ string, ms []mail.Message) ([]mail.Triage, error) {
			out := make([]mail.Triage, len(ms))
			for i, m := range ms {
				out[i] = mail.Triage{Category: mail.FYI, Importance: 0.5, Reason: "about " + m.Subject, By: "rules"}
			}
			return out, nil
		}}
	t.Cleanup(func() { r.svc.Close() })
	return r
}

func input(addr, pass string) mail.AccountInput {
	return mail.AccountInput{Address: addr, IMAP: mail.Endpoint{Host: "imap.example.org"}, Password: pass}
}

func TestAddAccountSealsThePassword(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	a, err := r.svc.AddAccount(ctx, r.ana, input("ana@example.org", "app-password-1"))
	if err != nil {
		t.Fatal(err)
	}
	// The defaults a demanding user expects.
	if a.IMAP.Port != 993 || a.IMAP.Security != mail.TLS || a.SMTP.Host != "imap.example.org" || a.SMTP.Port != 587 ||
		a.SMTP.Security != mail.StartTLS || a.Username != "ana@example.org" || a.SyncDays != mail.DefaultSyncDays {
		t.Fatalf("defaults: %+v", a)
	}
	var raw string
	if err := r.db.SQL().QueryRowContext(ctx, `SELECT secret FROM mail_accounts WHERE id = ?`, a.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw == "" || strings.Contains(raw, "app-password-1") {
		t.Fatalf("the stored secret is %q: not sealed", raw)
	}
	c, err := r.svc.Credentials(a)
	if err != nil || c.Password != "app-password-1" {
		t.Fatalf("opened: %+v, %v", c, err)
	}
	// Another key cannot open it.
	other, _ := secret.NewBox(make([]byte, secret.KeySize))
	svc2 := &mail.Service{Store: r.svc.Store, Sealer: other}
	if _, err := svc2.Credentials(a); err == nil || !strings.Contains(err.Error(), "secret.key") {
		t.Fatalf("opened with another key: %v", err)
	}
}

func TestAddAccountRefusesMistakes(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	cases := map[string]struct {
		in   mail.AccountInput
		want string
	}{
		"not an address":   {input("Ana <ana@example.org>", "x"), "not an email address"},
		"no host":          {mail.AccountInput{Address: "ana@example.org", Password: "x"}, "host name is missing"},
		"bad port":         {mail.AccountInput{Address: "ana@example.org", Password: "x", IMAP: mail.Endpoint{Host: "h", Port: 70000}}, "between 1 and 65535"},
		"plain to network": {mail.AccountInput{Address: "ana@example.org", Password: "x", IMAP: mail.Endpoint{Host: "imap.example.org", Security: mail.Plain}}, "needs TLS or STARTTLS"},
		"no password":      {input("ana@example.org", ""), "password"},
		"wrong password":   {input("ana@example.org", "guess"), "ana@example.org"},
	}
	for name, c := range cases {
		_, err := r.svc.AddAccount(ctx, r.ana, c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
	if as, _ := r.svc.Accounts(ctx, r.ana); len(as) != 0 {
		t.Fatalf("a refused account was stored: %+v", as)
	}
	// Plain IMAP to this machine is fine (a local bridge).
	in := input("ana@example.org", "app-password-1")
	in.IMAP = mail.Endpoint{Host: "127.0.0.1", Port: 1143, Security: mail.Plain}
	a, err := r.svc.AddAccount(ctx, r.ana, in)
	if err != nil || a.SMTP.Security != mail.Plain {
		t.Fatalf("a loopback bridge: %+v, %v", a, err)
	}
	if _, err := r.svc.AddAccount(ctx, r.ana, in); !errors.Is(err, mail.ErrConflict) {
		t.Fatalf("the same address twice: %v", err)
	}
}

func TestSyncTriagesAndReports(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	r.sync.msgs = []mail.Message{
		{Folder: "INBOX", UIDValidity: 7, UID: 1, MessageID: "a@x", Subject: "Deposit", From: mail.Address{Email: "landlord@example.org"}, Date: r.clock.Now()},
		{Folder: "INBOX", UIDValidity: 7, UID: 2, MessageID: "b@x", Subject: "Sunday", From: mail.Address{Email: "sis@example.org"}, Date: r.clock.Now()},
	}
	var changed, triaged []string
	r.svc.OnChange = func(u string) { changed = append(changed, u) }
	r.svc.OnTriaged = func(_ context.Context, u string, m mail.Message, tr mail.Triage) error {
		triaged = append(triaged, u+" "+m.Subject+" "+tr.Reason)
		return errors.New("a listener's failure does not stop triage")
	}
	a, err := r.svc.AddAccount(ctx, r.ana, input("ana@example.org", "app-password-1"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.svc.Sync(ctx, r.ana, a.ID)
	if err != nil || p.Phase != "done" || p.Done != 2 || p.Total != 2 || p.Running {
		t.Fatalf("progress %+v, %v", p, err)
	}
	ms, err := r.svc.Store.Messages(ctx, r.ana, mail.Query{})
	if err != nil || len(ms) != 2 {
		t.Fatalf("messages: %d, %v", len(ms), err)
	}
	for _, m := range ms {
		if !m.Triage.Triaged() || m.Triage.Reason != "about "+m.Subject {
			t.Errorf("%s not triaged: %+v", m.Subject, m.Triage)
		}
	}
	slices.Sort(triaged)
	if want := []string{r.ana + " Deposit about Deposit", r.ana + " Sunday about Sunday"}; !slices.Equal(triaged, want) {
		t.Errorf("told of triage: %q, want %q", triaged, want)
	}
	if len(changed) == 0 || changed[0] != r.ana {
		t.Fatalf("the user's pages were not told: %v", changed)
	}
	got, _ := r.svc.Store.Account(ctx, r.ana, a.ID)
	if !got.LastSyncAt.Equal(r.clock.Now()) || got.LastError != "" {
		t.Fatalf("last sync: %+v", got)
	}
	// Bob can neither sync nor read Ana's account.
	if _, err := r.svc.Sync(ctx, r.bob, a.ID); !errors.Is(err, mail.ErrNotFound) {
		t.Fatalf("bob syncs ana's account: %v", err)
	}
	if _, err := r.svc.Progress(ctx, r.bob, a.ID); !errors.Is(err, mail.ErrNotFound) {
		t.Fatalf("bob reads ana's progress: %v", err)
	}
	if err := r.svc.RemoveAccount(ctx, r.bob, a.ID); !errors.Is(err, mail.ErrNotFound) {
		t.Fatalf("bob removes ana's account: %v", err)
	}
}

// A sync that panics is a failed sync with a sentence, not a dead server;
// one already running is not started twice.
func TestSyncFailuresAreContained(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	a, err := r.svc.AddAccount(ctx, r.ana, input("ana@example.org", "app-password-1"))
	if err != nil {
		t.Fatal(err)
	}
	r.sync.panics = true
	p, err := r.svc.Sync(ctx, r.ana, a.ID)
	if err == nil || p.Phase != "failed" || !strings.Contains(p.Error, "ana@example.org") {
		t.Fatalf("a panicking sync: %+v, %v", p, err)
	}
	got, _ := r.svc.Store.Account(ctx, r.ana, a.ID)
	if got.LastError == "" {
		t.Fatal("the failure was not recorded on the account")
	}

	r.sync.panics = false
	r.sync.block = make(chan struct{})
	if err := r.svc.SyncNow(ctx, r.ana, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.SyncNow(ctx, r.ana, a.ID); !errors.Is(err, mail.ErrSyncing) {
		t.Fatalf("a second sync while one runs: %v", err)
	}
	if p, _ := r.svc.Progress(ctx, r.ana, a.ID); !p.Running {
		t.Fatalf("progress while running: %+v", p)
	}
	close(r.sync.block)
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, _ := r.svc.Progress(ctx, r.ana, a.ID)
		if !p.Running {
			if p.Phase != "done" {
				t.Fatalf("after the sync: %+v", p)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background sync never ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// renewer renews any token once: the renewed token must be what the sync
// gets, and what is saved, sealed, for next time.
type renewer struct{ calls int }

func (r *renewer) Fresh(_ context.Context, provider string, c mail.Credentials) (mail.Credentials, bool, error) {
	r.calls++
	if c.RefreshToken == "revoked" {
		return c, false, errors.New("the provider refused to renew access; reconnect the account")
	}
	if c.AccessToken == "renewed" {
		return c, false, nil
	}
	c.AccessToken = "renewed"
	return c, true, nil
}

func TestOAuthAccountsRenewBeforeSync(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	ren := &renewer{}
	r.svc.OAuth = ren
	in := mail.AccountInput{Address: "ana@gmail.com", IMAP: mail.Endpoint{Host: "imap.gmail.com"}}
	a, err := r.svc.AddOAuthAccount(ctx, r.ana, in, mail.Credentials{Provider: "google", AccessToken: "old", RefreshToken: "r1"})
	if err != nil || a.Auth != mail.AuthOAuth2 {
		t.Fatalf("%+v, %v", a, err)
	}
	if _, err := r.svc.Sync(ctx, r.ana, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := r.sync.creds[0]; got.AccessToken != "renewed" {
		t.Fatalf("the sync signed in with %+v", got)
	}
	saved, _ := r.svc.Store.Account(ctx, r.ana, a.ID)
	c, err := r.svc.Credentials(saved)
	if err != nil || c.AccessToken != "renewed" || c.RefreshToken != "r1" {
		t.Fatalf("saved credentials %+v, %v", c, err)
	}

	b, _ := r.svc.AddOAuthAccount(ctx, r.ana, mail.AccountInput{Address: "ana@outlook.com", IMAP: mail.Endpoint{Host: "outlook.office365.com"}},
		mail.Credentials{Provider: "microsoft", AccessToken: "old", RefreshToken: "revoked"})
	p, err := r.svc.Sync(ctx, r.ana, b.ID)
	if err == nil || !strings.Contains(p.Error, "reconnect") || !strings.Contains(p.Error, "ana@outlook.com") {
		t.Fatalf("a revoked token: %+v, %v", p, err)
	}
}

// idler is a server's IDLE: each send on arrive is new mail; a send on
// drop cuts the connection.
type idler struct {
	only   string // the account arrive and drop are about; others just idle
	arrive chan struct{}
	drop   chan struct{}
	opened chan string
}

func (i *idler) Idle(ctx context.Context, a mail.Account, _ mail.Credentials, folder string, onNew func()) error {
	i.opened <- a.Address + " " + folder
	if a.Address != i.only {
		<-ctx.Done()
		return ctx.Err()
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-i.drop:
			return errors.New("connection reset")
		case <-i.arrive:
			onNew()
		}
	}
}

// New mail pushed by IDLE is synced and triaged without waiting for the
// periodic sync; a dropped connection is reopened after a pause; a removed
// account is no longer watched.
func TestIdlePushesNewMail(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	id := &idler{only: "ana@example.org", arrive: make(chan struct{}), drop: make(chan struct{}), opened: make(chan string, 4)}
	r.svc.Idle = id
	// An account there at start is watched, and so is one added later.
	if _, err := r.svc.AddAccount(ctx, r.ana, input("ana@example.net", "app-password-1")); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-id.opened; got != "ana@example.net INBOX" {
		t.Fatalf("watching %q", got)
	}
	a, err := r.svc.AddAccount(ctx, r.ana, input("ana@example.org", "app-password-1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := <-id.opened; got != "ana@example.org INBOX" {
		t.Fatalf("watching %q", got)
	}
	r.sync.msgs = []mail.Message{{Folder: "INBOX", UIDValidity: 7, UID: 9, MessageID: "n@x", Subject: "Just now", Date: r.clock.Now()}}
	id.arrive <- struct{}{}
	waitFor(t, "the pushed mail is synced and triaged", func() bool {
		ms, _ := r.svc.Store.Messages(ctx, r.ana, mail.Query{})
		return len(ms) == 1 && ms[0].Triage.Triaged()
	})

	id.drop <- struct{}{}
	waitFor(t, "the watcher waits before reconnecting", func() bool { return r.clock.Armed() > 0 })
	select {
	case got := <-id.opened:
		t.Fatalf("reopened at once: %q", got)
	default:
	}
	r.clock.Advance(time.Minute)
	if got := <-id.opened; got != "ana@example.org INBOX" {
		t.Fatalf("reopened %q", got)
	}
	if err := r.svc.RemoveAccount(ctx, r.ana, a.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case id.arrive <- struct{}{}:
		t.Fatal("a removed account is still watched")
	case <-time.After(200 * time.Millisecond):
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Settings shows how mail is triaged: by rules, or by the model with the
// user's tokens today against the cap.
func TestTriageState(t *testing.T) {
	r := newRig(t)
	if got := r.svc.TriageStateOf(r.ana); got != (mail.TriageState{Mode: "rules"}) {
		t.Fatalf("rules: %+v", got)
	}
	r.svc.Budget = mail.NewBudget(1000, r.clock, time.UTC)
	res, ok := r.svc.Budget.Reserve(r.ana, 300)
	if !ok {
		t.Fatal("could not reserve")
	}
	r.svc.Budget.Settle(res, 250)
	if got := r.svc.TriageStateOf(r.ana); got != (mail.TriageState{Mode: "model", DailyTokens: 1000, UsedToday: 250}) {
		t.Fatalf("model: %+v", got)
	}
	if got := r.svc.TriageStateOf(r.bob); got.UsedToday != 0 {
		t.Fatalf("bob's tokens: %+v", got)
	}
}
