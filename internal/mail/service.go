package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// Sealer seals and opens secrets at rest (*secret.Box).
type Sealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// Syncer talks IMAP for the service (imapsync, wrapped by app).
type Syncer interface {
	// Check signs in and out, so a new account's mistakes show at once.
	Check(ctx context.Context, a Account, c Credentials) error
	// Sync brings the account's folders up to date in st, calling progress
	// with messages done and the total known so far.
	Sync(ctx context.Context, a Account, c Credentials, st Store, progress func(done, total int)) error
}

// Idler waits on a folder for new mail (IMAP IDLE) and calls onNew when
// some arrives; it returns when ctx ends or the connection fails.
type Idler interface {
	Idle(ctx context.Context, a Account, c Credentials, folder string, onNew func()) error
}

// Renewer keeps OAuth access tokens fresh (*mailoauth.Flow).
type Renewer interface {
	Fresh(ctx context.Context, provider string, c Credentials) (Credentials, bool, error)
}

// TriageFunc decides a message's triage (rules ranker, model, user rules).
type TriageFunc func(ctx context.Context, userID string, ms []Message) ([]Triage, error)

// Progress is where an account's sync stands, for the UI's and the CLI's
// progress bars.
type Progress struct {
	AccountID string    `json:"account_id"`
	Running   bool      `json:"running"`
	Phase     string    `json:"phase,omitempty"` // "connecting", "fetching", "triaging", "done", "failed"
	Done      int       `json:"done"`
	Total     int       `json:"total"`
	Error     string    `json:"error,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
}

// Service is the mail capability as the server and the CLI see it: accounts
// with sealed credentials, syncs in the background with progress, triage of
// what arrives, listings and search. Every method is scoped by user.
type Service struct {
	Store  Store
	Sealer Sealer
	Syncer Syncer
	Triage TriageFunc // nil: messages stay untriaged
	// OAuth renews access tokens of XOAUTH2 accounts; nil: none can sync.
	OAuth Renewer
	// Idle pushes new mail: while the service runs, each account's INBOX is
	// watched and a sync runs as soon as mail arrives; nil: only the
	// periodic sync.
	Idle Idler
	// Budget is model triage's daily token cap ([mail] triage = "model");
	// nil: triage by rules only.
	Budget *Budget
	// People are the people the user knows (memory's people); nil: none.
	People func(ctx context.Context, userID string) ([]Person, error)
	Clock  clock.Clock
	IDs    clock.IDs
	Log    *slog.Logger
	// Every is the background sync period (default 5 minutes; 0 keeps the
	// default, negative turns the loop off).
	Every time.Duration
	// OnChange is told when a user's mail changed (new mail, triage), so the
	// server can tell the user's tabs.
	OnChange func(userID string)
	// OnTriaged is told of each message triage decided on, as it is saved
	// (proactive messages about important new mail); nil: nobody. It must
	// return quickly; its error is logged and does not stop triage.
	OnTriaged func(ctx context.Context, userID string, m Message, t Triage) error

	mu       sync.Mutex
	base     context.Context // background syncs run under it; Close cancels it
	cancel   context.CancelFunc
	progress map[string]*Progress // by account id
	again    map[string]bool      // accounts with new mail while their sync ran
	watching map[string]context.CancelFunc
	started  bool
	wg       sync.WaitGroup
	closed   bool
}

// AccountInput is what a user gives to connect an account.
type AccountInput struct {
	Name     string   `json:"name"`
	Address  string   `json:"address"`
	IMAP     Endpoint `json:"imap"`
	SMTP     Endpoint `json:"smtp"`
	Username string   `json:"username"`
	Password string   `json:"password"`
	SyncDays int      `json:"sync_days"`
}

// InputError is a mistake in what the user typed; its text says what to fix.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// Validate checks an endpoint: a host, a port, a known security, and no
// plaintext to anything but loopback.
func (e Endpoint) Validate(what string) error {
	if strings.TrimSpace(e.Host) == "" {
		return inputErr("The %s server's host name is missing.", what)
	}
	if strings.ContainsAny(e.Host, " /\\@") {
		return inputErr("The %s server's host name %q is not a host name.", what, e.Host)
	}
	if e.Port < 1 || e.Port > 65535 {
		return inputErr("The %s server's port must be between 1 and 65535.", what)
	}
	switch e.Security {
	case TLS, StartTLS:
	case Plain:
		if !IsLoopback(e.Host) {
			return inputErr("The %s server at %s needs TLS or STARTTLS: os1 sends passwords in the clear only to this machine.", what, e.Host)
		}
	default:
		return inputErr("The %s server's security must be tls, starttls or none.", what)
	}
	return nil
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// defaults fills the usual ports and security when the user left them out.
func (in *AccountInput) defaults() {
	if in.IMAP.Security == "" {
		in.IMAP.Security = TLS
	}
	if in.IMAP.Port == 0 {
		in.IMAP.Port = map[Security]int{TLS: 993, StartTLS: 143, Plain: 143}[in.IMAP.Security]
	}
	if in.SMTP.Host == "" {
		in.SMTP.Host = in.IMAP.Host
	}
	if in.SMTP.Security == "" {
		in.SMTP.Security = StartTLS
		if in.IMAP.Security == Plain {
			in.SMTP.Security = Plain
		}
	}
	if in.SMTP.Port == 0 {
		in.SMTP.Port = map[Security]int{TLS: 465, StartTLS: 587, Plain: 587}[in.SMTP.Security]
	}
	if in.Username == "" {
		in.Username = in.Address
	}
	if in.SyncDays == 0 {
		in.SyncDays = DefaultSyncDays
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = in.Address
	}
}

// AddAccount checks the input, signs in once to prove it works, seals the
// password and stores the account. The password is never returned again.
func (s *Service) AddAccount(ctx context.Context, userID string, in AccountInput) (Account, error) {
	if in.Password == "" {
		return Account{}, inputErr("The password (or app password) is missing.")
	}
	a, err := s.newAccount(ctx, userID, in, AuthPassword)
	if err != nil {
		return Account{}, err
	}
	creds := Credentials{Password: in.Password}
	if s.Syncer != nil {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := s.Syncer.Check(cctx, a, creds)
		cancel()
		if err != nil {
			return Account{}, err
		}
	}
	if err := s.store(ctx, &a, creds); err != nil {
		return Account{}, err
	}
	return a, nil
}

// AddOAuthAccount stores an account signed in with OAuth (mailoauth's flow
// ends here): the tokens are sealed like a password.
func (s *Service) AddOAuthAccount(ctx context.Context, userID string, in AccountInput, c Credentials) (Account, error) {
	if c.AccessToken == "" || c.Provider == "" {
		return Account{}, errors.New("the OAuth sign-in gave no access token")
	}
	a, err := s.newAccount(ctx, userID, in, AuthOAuth2)
	if err != nil {
		return Account{}, err
	}
	if err := s.store(ctx, &a, c); err != nil {
		return Account{}, err
	}
	return a, nil
}

// newAccount checks what the user gave (an address, servers that are safe
// to sign in to, an address not yet connected) and fills the defaults.
func (s *Service) newAccount(ctx context.Context, userID string, in AccountInput, auth AuthKind) (Account, error) {
	in.Address = strings.TrimSpace(in.Address)
	addr, err := netmail.ParseAddress(in.Address)
	if err != nil || addr.Name != "" {
		return Account{}, inputErr("%q is not an email address.", in.Address)
	}
	in.Address = addr.Address
	in.defaults()
	if err := in.IMAP.Validate("IMAP"); err != nil {
		return Account{}, err
	}
	if err := in.SMTP.Validate("SMTP"); err != nil {
		return Account{}, err
	}
	if in.SyncDays < 1 || in.SyncDays > 3650 {
		return Account{}, inputErr("How far back to read must be between 1 and 3650 days.")
	}
	existing, err := s.Store.Accounts(ctx, userID)
	if err != nil {
		return Account{}, err
	}
	for _, a := range existing {
		if strings.EqualFold(a.Address, in.Address) {
			return Account{}, fmt.Errorf("%s is already connected: %w", in.Address, ErrConflict)
		}
	}
	return Account{ID: s.IDs.NewID("mac"), UserID: userID, Name: in.Name, Address: in.Address, IMAP: in.IMAP, SMTP: in.SMTP,
		Username: in.Username, Auth: auth, SyncDays: in.SyncDays, CreatedAt: s.Clock.Now().UTC()}, nil
}

// store seals the credentials into a, stores it and starts watching it.
func (s *Service) store(ctx context.Context, a *Account, c Credentials) error {
	var err error
	if a.Secret, err = s.seal(c); err != nil {
		return err
	}
	if err := s.Store.CreateAccount(ctx, *a); err != nil {
		return err
	}
	s.watch(*a)
	return nil
}

// SignIn opens an account's credentials for use, renewing an OAuth access
// token (and saving the renewed one) when it is about to expire.
func (s *Service) SignIn(ctx context.Context, a Account) (Credentials, error) {
	c, err := s.Credentials(a)
	if err != nil || a.Auth != AuthOAuth2 {
		return c, err
	}
	if s.OAuth == nil {
		return c, fmt.Errorf("%s signs in with OAuth, which is not configured on this server ([[mail.oauth]])", a.Address)
	}
	fresh, changed, err := s.OAuth.Fresh(ctx, c.Provider, c)
	if err != nil {
		return c, fmt.Errorf("%s: %w", a.Address, err)
	}
	if changed {
		if a.Secret, err = s.seal(fresh); err != nil {
			return c, err
		}
		if err := s.Store.UpdateAccount(ctx, a); err != nil {
			return c, fmt.Errorf("save the renewed access token of %s: %w", a.Address, err)
		}
	}
	return fresh, nil
}

func (s *Service) seal(c Credentials) (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	sealed, err := s.Sealer.Seal(string(b))
	if err != nil {
		return "", fmt.Errorf("seal the account's credentials: %w", err)
	}
	return sealed, nil
}

// Credentials opens an account's sealed credentials.
func (s *Service) Credentials(a Account) (Credentials, error) {
	var c Credentials
	plain, err := s.Sealer.Open(a.Secret)
	if err != nil {
		return c, fmt.Errorf("open the credentials of %s (was the data dir's secret.key replaced?): %w", a.Address, err)
	}
	if err := json.Unmarshal([]byte(plain), &c); err != nil {
		return c, fmt.Errorf("read the credentials of %s: %w", a.Address, err)
	}
	return c, nil
}

// Accounts lists the user's accounts (secrets stay out of their JSON).
func (s *Service) Accounts(ctx context.Context, userID string) ([]Account, error) {
	return s.Store.Accounts(ctx, userID)
}

// RemoveAccount forgets the account and all its mail in os1 (nothing is
// deleted on the server).
func (s *Service) RemoveAccount(ctx context.Context, userID, id string) error {
	if err := s.Store.DeleteAccount(ctx, userID, id); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.progress, id)
	if stop := s.watching[id]; stop != nil {
		stop()
		delete(s.watching, id)
	}
	s.mu.Unlock()
	return nil
}

// ErrSyncing means a sync of that account is already running.
var ErrSyncing = errors.New("a sync of this account is already running")

// SyncNow starts a sync of one account in the background and returns at
// once; Progress follows it.
func (s *Service) SyncNow(ctx context.Context, userID, accountID string) error {
	a, err := s.Store.Account(ctx, userID, accountID)
	if err != nil {
		return err
	}
	if !s.begin(a.ID) {
		return ErrSyncing
	}
	bg := s.background()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runAgain(bg, a)
	}()
	return nil
}

// background is the context of syncs that outlive their request.
func (s *Service) background() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.base == nil {
		s.base, s.cancel = context.WithCancel(context.Background())
	}
	return s.base
}

// Sync runs one account's sync and waits for it (the CLI, tests).
func (s *Service) Sync(ctx context.Context, userID, accountID string) (Progress, error) {
	a, err := s.Store.Account(ctx, userID, accountID)
	if err != nil {
		return Progress{}, err
	}
	if !s.begin(a.ID) {
		return Progress{}, ErrSyncing
	}
	err = s.run(ctx, a)
	p, _ := s.Progress(ctx, userID, accountID)
	return p, err
}

func (s *Service) begin(accountID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.progress == nil {
		s.progress = map[string]*Progress{}
	}
	if p := s.progress[accountID]; p != nil && p.Running {
		return false
	}
	delete(s.again, accountID)
	s.progress[accountID] = &Progress{AccountID: accountID, Running: true, Phase: "connecting", StartedAt: s.Clock.Now().UTC()}
	return true
}

func (s *Service) update(accountID string, f func(p *Progress)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.progress[accountID]; p != nil {
		f(p)
	}
}

// run syncs and triages one account; it never panics out.
func (s *Service) run(ctx context.Context, a Account) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("mail sync of %s crashed: %v", a.Address, r)
			s.log().Error("mail sync panic", "account", a.ID, "panic", r, "stack", string(debug.Stack()))
		}
		now := s.Clock.Now().UTC()
		s.update(a.ID, func(p *Progress) {
			p.Running, p.EndedAt = false, now
			if err != nil {
				p.Phase, p.Error = "failed", err.Error()
			} else {
				p.Phase, p.Error = "done", ""
			}
		})
		a.LastSyncAt = now
		a.LastError = ""
		if err != nil {
			a.LastError = err.Error()
		}
		if uerr := s.Store.UpdateAccount(context.WithoutCancel(ctx), a); uerr != nil && !errors.Is(uerr, ErrNotFound) {
			s.log().Warn("save mail sync state", "account", a.ID, "err", uerr)
		}
		if s.OnChange != nil {
			s.OnChange(a.UserID)
		}
	}()
	if s.Syncer == nil {
		return errors.New("mail sync is not available in this build")
	}
	creds, err := s.SignIn(ctx, a)
	if err != nil {
		return err
	}
	if a, err = s.Store.Account(ctx, a.UserID, a.ID); err != nil { // a renewed token is saved in it
		return err
	}
	s.update(a.ID, func(p *Progress) { p.Phase = "fetching" })
	err = s.Syncer.Sync(ctx, a, creds, s.Store, func(done, total int) {
		s.update(a.ID, func(p *Progress) { p.Done, p.Total = done, total })
	})
	if err != nil {
		return err
	}
	s.update(a.ID, func(p *Progress) { p.Phase = "triaging" })
	return s.TriagePending(ctx, a.UserID)
}

// TriagePending triages the user's untriaged messages in batches.
func (s *Service) TriagePending(ctx context.Context, userID string) error {
	if s.Triage == nil {
		return nil
	}
	for range 1000 { // at most 50,000 messages a call
		ms, err := s.Store.Untriaged(ctx, userID, 50)
		if err != nil || len(ms) == 0 {
			return err
		}
		ts, err := s.Triage(ctx, userID, ms)
		if err != nil {
			return fmt.Errorf("triage: %w", err)
		}
		if len(ts) != len(ms) {
			return fmt.Errorf("triage answered %d of %d messages", len(ts), len(ms))
		}
		now := s.Clock.Now().UTC()
		for i, m := range ms {
			t := ts[i]
			if t.At.IsZero() {
				t.At = now
			}
			if err := s.Store.SetTriage(ctx, userID, m.ID, t); err != nil {
				return err
			}
			if s.OnTriaged != nil {
				if err := s.OnTriaged(ctx, userID, m, t); err != nil {
					s.log().Warn("mail: after triage", "user", userID, "message", m.ID, "err", err)
				}
			}
		}
		if s.OnChange != nil {
			s.OnChange(userID)
		}
	}
	return nil
}

// Progress is where the account's last or current sync stands.
func (s *Service) Progress(ctx context.Context, userID, accountID string) (Progress, error) {
	a, err := s.Store.Account(ctx, userID, accountID)
	if err != nil {
		return Progress{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.progress[a.ID]; p != nil {
		return *p, nil
	}
	p := Progress{AccountID: a.ID, EndedAt: a.LastSyncAt, Error: a.LastError}
	if !a.LastSyncAt.IsZero() {
		p.Phase = "done"
		if a.LastError != "" {
			p.Phase = "failed"
		}
	}
	return p, nil
}

// Start runs the background sync of every account every s.Every.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	if s.Idle != nil {
		as, err := s.Store.AllAccounts(ctx)
		if err != nil {
			return fmt.Errorf("list mail accounts: %w", err)
		}
		for _, a := range as {
			s.watch(a)
		}
	}
	every := s.Every
	if every == 0 {
		every = 5 * time.Minute
	}
	if every < 0 {
		return nil
	}
	ctx = s.background()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := s.Clock.NewTicker(every)
		defer t.Stop()
		for {
			s.syncAll(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C():
			}
		}
	}()
	return nil
}

func (s *Service) syncAll(ctx context.Context) {
	as, err := s.Store.AllAccounts(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log().Warn("list mail accounts", "err", err)
		}
		return
	}
	for _, a := range as {
		if ctx.Err() != nil || !s.begin(a.ID) {
			continue
		}
		if err := s.run(ctx, a); err != nil && ctx.Err() == nil {
			s.log().Info("mail sync failed", "account", a.ID, "err", err)
		}
	}
}

// Close stops the background loop and waits for running syncs.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	if s.cancel != nil {
		s.cancel() // running syncs stop; what they stored stays, and the next resumes
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// Knowledge gathers what triage knows of the user: their own addresses (the
// accounts), the people memory knows, and what they sent (Sent folders).
func (s *Service) Knowledge(ctx context.Context, userID string) (*Known, error) {
	as, err := s.Store.Accounts(ctx, userID)
	if err != nil {
		return nil, err
	}
	var own []string
	var sent []Message
	for _, a := range as {
		own = append(own, a.Address)
		fs, err := s.Store.Folders(ctx, userID, a.ID)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if f.Role != RoleSent {
				continue
			}
			ms, err := s.Store.Messages(ctx, userID, Query{AccountID: a.ID, Folder: f.Name, Limit: MaxLimit})
			if err != nil {
				return nil, err
			}
			sent = append(sent, ms...)
		}
	}
	var people []Person
	if s.People != nil {
		if people, err = s.People(ctx, userID); err != nil {
			s.log().Warn("read the people triage knows", "err", err)
			people = nil
		}
	}
	return NewKnowledge(own, people, sent), nil
}

// TriageWith is the triage os1 runs on new mail: the model in batches when
// one is given (the rules ranker where it cannot), else the rules ranker;
// then the user's own rules, which win.
func (s *Service) TriageWith(rules Triager, model *ModelTriager) TriageFunc {
	return func(ctx context.Context, userID string, ms []Message) ([]Triage, error) {
		k, err := s.Knowledge(ctx, userID)
		if err != nil {
			return nil, err
		}
		userRules, err := s.Store.Rules(ctx, userID)
		if err != nil {
			return nil, err
		}
		var ts []Triage
		if model != nil {
			if ts, _, err = model.TriageAll(ctx, userID, ms, k); err != nil {
				return nil, err
			}
		} else {
			ts = make([]Triage, len(ms))
			for i, m := range ms {
				ts[i] = rules.Triage(ctx, m, k)
			}
		}
		// A stranger's sales pitch is not mail that needs a reply.
		if ts, err = s.ColdTriage(ctx, userID, ms, ts, k); err != nil {
			return nil, err
		}
		for i, m := range ms {
			ts[i] = ApplyRules(userRules, m, ts[i])
		}
		return ts, nil
	}
}

// AddRule understands a rule in plain words and keeps it; the answer shows
// what os1 understood. A rule it cannot read is an InputError saying so.
func (s *Service) AddRule(ctx context.Context, userID, text string) (Rule, error) {
	text = strings.TrimSpace(text)
	if text == "" || len(text) > 500 {
		return Rule{}, inputErr("Write the rule in a sentence of at most 500 characters.")
	}
	spec, err := ParseRule(text)
	if err != nil {
		return Rule{}, &InputError{Msg: err.Error()}
	}
	if s.People != nil {
		if people, err := s.People(ctx, userID); err == nil {
			spec = ResolveRule(spec, people)
		}
	}
	r := Rule{ID: s.IDs.NewID("mrl"), UserID: userID, Text: text, Understood: spec, Enabled: true, CreatedAt: s.Clock.Now().UTC()}
	if err := s.Store.SaveRule(ctx, r); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// DryRunRule shows which of the user's recent messages (up to 500) a rule
// in plain words would touch, without keeping it or changing anything.
func (s *Service) DryRunRule(ctx context.Context, userID, text string) (RuleSpec, []Hit, error) {
	spec, err := ParseRule(strings.TrimSpace(text))
	if err != nil {
		return RuleSpec{}, nil, &InputError{Msg: err.Error()}
	}
	if s.People != nil {
		if people, err := s.People(ctx, userID); err == nil {
			spec = ResolveRule(spec, people)
		}
	}
	ms, err := s.Store.Messages(ctx, userID, Query{Limit: MaxLimit})
	if err != nil {
		return spec, nil, err
	}
	return spec, DryRun([]Rule{{ID: "dry-run", Text: text, Understood: spec, Enabled: true}}, ms), nil
}

// Backoffs of a watcher whose connection failed: it waits this long before
// trying again, doubling up to the most.
const (
	idleRetryFirst = 30 * time.Second
	idleRetryMost  = 10 * time.Minute
)

// watch keeps an IDLE connection on the account's INBOX while the service
// runs, and syncs when mail arrives. A failing connection is tried again
// with growing pauses; a removed account ends it.
func (s *Service) watch(a Account) {
	if s.Idle == nil {
		return
	}
	s.mu.Lock()
	if !s.started || s.closed || s.watching[a.ID] != nil {
		s.mu.Unlock()
		return
	}
	if s.base == nil {
		s.base, s.cancel = context.WithCancel(context.Background())
	}
	ctx, stop := context.WithCancel(s.base)
	if s.watching == nil {
		s.watching = map[string]context.CancelFunc{}
	}
	s.watching[a.ID] = stop
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			if r := recover(); r != nil {
				s.log().Error("mail watcher panic", "account", a.ID, "panic", r, "stack", string(debug.Stack()))
			}
		}()
		wait := idleRetryFirst
		for ctx.Err() == nil {
			cur, err := s.Store.Account(ctx, a.UserID, a.ID)
			if errors.Is(err, ErrNotFound) {
				return
			}
			if err == nil {
				var creds Credentials
				if creds, err = s.SignIn(ctx, cur); err == nil {
					started := s.Clock.Now()
					err = s.Idle.Idle(ctx, cur, creds, "INBOX", func() { s.arrived(cur) })
					if s.Clock.Now().Sub(started) > idleRetryMost {
						wait = idleRetryFirst // it had worked for a while
					}
				}
			}
			if ctx.Err() != nil {
				return
			}
			s.log().Info("mail watch interrupted; trying again", "account", a.ID, "in", wait, "err", err)
			if clock.Sleep(ctx, s.Clock, wait) != nil {
				return
			}
			wait = min(2*wait, idleRetryMost)
		}
	}()
}

// arrived starts a sync of an account that has new mail; when one is
// running, another follows it.
func (s *Service) arrived(a Account) {
	if s.begin(a.ID) {
		bg := s.background()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.runAgain(bg, a)
		}()
		return
	}
	s.mu.Lock()
	if s.again == nil {
		s.again = map[string]bool{}
	}
	s.again[a.ID] = true
	s.mu.Unlock()
}

// runAgain syncs, then syncs again while mail arrived during the last one.
func (s *Service) runAgain(ctx context.Context, a Account) {
	for {
		if err := s.run(ctx, a); err != nil && ctx.Err() == nil {
			s.log().Info("mail sync failed", "account", a.ID, "err", err)
		}
		s.mu.Lock()
		again := s.again[a.ID]
		s.mu.Unlock()
		if !again || ctx.Err() != nil || !s.begin(a.ID) {
			return
		}
	}
}

// TriageState says how the user's mail is triaged, for Settings.
type TriageState struct {
	Mode        string `json:"mode"` // "rules" or "model"
	DailyTokens int    `json:"daily_tokens,omitempty"`
	UsedToday   int    `json:"used_today"`
}

// TriageStateOf is the user's triage mode and today's model tokens.
func (s *Service) TriageStateOf(userID string) TriageState {
	if s.Budget == nil {
		return TriageState{Mode: "rules"}
	}
	return TriageState{Mode: "model", DailyTokens: s.Budget.Limit(), UsedToday: s.Budget.Used(userID)}
}
