package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/imapsync"
	"github.com/os1ai/os1/internal/mail/mailoauth"
	"github.com/os1ai/os1/internal/mail/mailtools"
	"github.com/os1ai/os1/internal/mail/smtpsend"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/memory"
)

// Mail is the mail capability as os serve wires it: the service (accounts,
// sync, triage), the OAuth sign-in, and the companion's mail tools.
type Mail struct {
	Service *mail.Service
	OAuth   *mailoauth.Flow // nil without [[mail.oauth]]
	Engine  *imapsync.Engine
	Bulk    *mail.Bulk // bulk unsubscribe and archive
	deps    mailtools.Deps
}

// oauthProviders turns [[mail.oauth]] into providers, filling the known
// ones' URLs, scopes and servers.
func oauthProviders(cfg []config.MailOAuth) []mailoauth.Provider {
	var out []mailoauth.Provider
	for _, c := range cfg {
		p := mailoauth.Known[c.Name]
		p.Name, p.ClientID, p.ClientSecret = c.Name, c.ClientID, c.ClientSecret
		if c.AuthURL != "" {
			p.AuthURL = c.AuthURL
		}
		if c.TokenURL != "" {
			p.TokenURL = c.TokenURL
		}
		if len(c.Scopes) > 0 {
			p.Scopes = c.Scopes
		}
		if c.IMAPHost != "" {
			p.IMAP = mail.Endpoint{Host: c.IMAPHost, Port: 993, Security: mail.TLS}
		}
		if c.SMTPHost != "" {
			p.SMTP = mail.Endpoint{Host: c.SMTPHost, Port: 587, Security: mail.StartTLS}
		}
		out = append(out, p)
	}
	return out
}

// newMail builds the mail capability over the app's database, secrets and
// models, and registers the mail tools (and mail's warning on every other
// side-effect tool) in tools.
func (a *App) newMail(cfg config.Config, log *slog.Logger, tools *companion.Registry) (*Mail, error) {
	st := sqlitemail.New(a.DB)
	c := a.Clock
	engine := &imapsync.Engine{Now: c.Now}
	m := &Mail{Engine: engine}
	m.Service = &mail.Service{Store: st, Sealer: a.Secrets, Syncer: imapsync.Syncer{Engine: engine}, Idle: engine, Clock: c,
		IDs: clock.RandomIDs{}, Log: log.With("component", "mail"), Every: cfg.Mail.SyncEvery.Duration,
		People: func(ctx context.Context, userID string) ([]mail.Person, error) {
			ents, err := a.MemStore.Entities(ctx, userID)
			if err != nil {
				return nil, err
			}
			items, err := a.MemStore.ListItems(ctx, userID, memory.ItemFilter{Limit: 2000})
			if err != nil {
				return nil, err
			}
			return mail.PeopleFromMemory(ents, items), nil
		}}
	if cfg.Mail.SyncEvery.Duration == 0 {
		m.Service.Every = -1 // "0s": only when asked
	}
	if ps := oauthProviders(cfg.Mail.OAuth); len(ps) > 0 {
		m.OAuth = mailoauth.New(ps, c, clock.RandomIDs{}, nil)
		m.Service.OAuth = m.OAuth
	}
	var model *mail.ModelTriager
	rules := mail.Triager{Clock: c}
	if cfg.Mail.Triage == "model" {
		model = &mail.ModelTriager{Models: a.Models, Budget: mail.NewBudget(cfg.Mail.DailyTokens, c, time.Local), Rules: rules,
			Log: log.With("component", "mail")}
	}
	if model != nil {
		m.Service.Budget = model.Budget // shown in Settings → Mail
	}
	m.Service.Triage = m.Service.TriageWith(rules, model)

	mbox := mailtools.IMAP{SignIn: m.Service.SignIn, Engine: engine}
	m.deps = mailtools.Deps{Source: st, Correspondents: mailtools.SentTo{Store: st},
		Sender: sendAndFile{svc: m.Service, engine: engine, log: log}, History: a.DB, Clock: c, IDs: clock.RandomIDs{},
		Mailbox: mbox, Attachments: mailtools.ServerAttachments{Source: st, Mailbox: mbox}, Local: st, FollowUps: m.Service, Rules: m.Service,
		Changed: func(userID string) {
			if m.Service.OnChange != nil {
				m.Service.OnChange(userID)
			}
		}}
	m.Bulk = newBulk(m.Service, engine, sendAndFile{svc: m.Service, engine: engine, log: log})
	if err := mailtools.Register(tools, m.deps); err != nil {
		return nil, fmt.Errorf("register the mail tools: %w", err)
	}
	a.onStart(m.Service)
	a.onClose(m.Service)
	return m, nil
}

// Guard gives a side-effect tool of another source mail's warning: its
// approval names the emails read in the turn before it was proposed.
func (m *Mail) Guard(t companion.Tool) companion.Tool { return mailtools.Guard(m.deps, t) }

// sendAndFile submits a message over SMTP, then files a copy in the
// account's Sent folder over IMAP (most servers do not do it themselves).
// The copy is best effort: the mail has gone, so a failure is only logged.
type sendAndFile struct {
	svc    *mail.Service
	engine *imapsync.Engine
	log    *slog.Logger
}

func (s sendAndFile) Send(ctx context.Context, acct mail.Account, raw []byte, from string, rcpts []string) error {
	smtp := mailtools.SMTP{SignIn: s.svc.SignIn, Sender: &smtpsend.Sender{}}
	if err := smtp.Send(ctx, acct, raw, from, rcpts); err != nil {
		return err
	}
	folders, err := s.svc.Store.Folders(ctx, acct.UserID, acct.ID)
	if err != nil {
		s.log.Warn("file the sent copy", "account", acct.ID, "err", err)
		return nil
	}
	for _, f := range folders {
		if f.Role != mail.RoleSent {
			continue
		}
		creds, err := s.svc.SignIn(ctx, acct)
		if err == nil {
			_, err = s.engine.Append(ctx, acct, creds, f.Name, raw, []string{mail.FlagSeen})
		}
		if err != nil {
			s.log.Warn("file the sent copy", "account", acct.ID, "folder", f.Name, "err", err)
		}
		return nil
	}
	return nil
}

// Recall makes memory's recall tool say when the user's emails match the
// question too, pointing her to mail_search, which quotes them as untrusted
// text: recall itself never puts an email's words into the turn.
func (m *Mail) Recall(t companion.Tool) companion.Tool {
	run := t.Run
	t.Description += " The user's emails are searched with mail_search."
	t.Run = func(ctx context.Context, c companion.Call) (string, error) {
		out, err := run(ctx, c)
		if err != nil {
			return out, err
		}
		var a struct {
			Query string `json:"query"`
		}
		if json.Unmarshal(c.Args, &a) != nil || strings.TrimSpace(a.Query) == "" {
			return out, nil
		}
		ms, err := m.Service.Store.Search(ctx, c.UserID, a.Query, 5)
		if err != nil || len(ms) == 0 {
			return out, nil //nolint:nilerr // the memory answer stands without the pointer
		}
		more := fmt.Sprintf("%d", len(ms))
		if len(ms) == 5 {
			more = "5 or more"
		}
		return out + "\n" + more + " of the user's emails also match; read them with mail_search (" + strconv.Quote(a.Query) + ").", nil
	}
	return t
}
