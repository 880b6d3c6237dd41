package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/mail"
)

// `os1 mail …` manages the signed-in user's mail accounts on a running
// server (like `os1 chat`, it needs `os1 login` or a token): the password
// goes to the server once, sealed there, and is never printed again.

func (e *env) mailCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mail",
		Short: "Your mail accounts: add, list, remove, sync, status, inbox, search",
		Long: "Connect your own IMAP + SMTP accounts to os1 (on the server you signed in to with `os1 login`).\n" +
			"os1 reads them, triages what arrives, and sends only what you approve.",
	}
	connect := e.connectFlags(cmd)
	cmd.AddCommand(e.mailAddCmd(connect), e.mailListCmd(connect), e.mailRemoveCmd(connect),
		e.mailSyncCmd(connect), e.mailStatusCmd(connect), e.mailInboxCmd(connect), e.mailSearchCmd(connect))
	return cmd
}

// splitHostPort splits "host[:port]"; port 0 when none is given.
func splitHostPort(s string) (string, int, error) {
	if s == "" {
		return "", 0, nil
	}
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return s, 0, nil //nolint:nilerr // no port: the default for its security
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("%q: the port must be a number between 1 and 65535", s)
	}
	return h, n, nil
}

func (e *env) mailAddCmd(connect connectFunc) *cobra.Command {
	var in mail.AccountInput
	var imapAddr, smtpAddr, imapSec, smtpSec string
	var passwordStdin, noWait bool
	cmd := &cobra.Command{
		Use:   "add --address you@example.org --imap imap.example.org[:993]",
		Short: "Connect a mail account (IMAP + SMTP, password or app password)",
		Long: "Signs in once to check the account, stores the password sealed with the server's secret key,\n" +
			"and starts the first sync (the last 90 days by default, newest first).\n" +
			"Security: tls (993/465), starttls (143/587), or none (only to this machine, e.g. a local bridge).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if in.IMAP.Host, in.IMAP.Port, err = splitHostPort(imapAddr); err != nil {
				return err
			}
			if in.SMTP.Host, in.SMTP.Port, err = splitHostPort(smtpAddr); err != nil {
				return err
			}
			in.IMAP.Security, in.SMTP.Security = mail.Security(imapSec), mail.Security(smtpSec)
			if in.Address == "" || in.IMAP.Host == "" {
				return &exitError{code: 2, err: errors.New("give at least --address and --imap")}
			}
			if in.Password, err = e.readPassword(passwordStdin); err != nil {
				return err
			}
			c, err := connect()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			var a mail.Account
			if err := c.do(ctx, http.MethodPost, "/api/mail/accounts", in, &a); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Connected %s (%s). First sync started.\n", a.Address, a.ID)
			if noWait {
				return nil
			}
			return e.followSync(ctx, c, a)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Address, "address", "", "your email address on this account")
	f.StringVar(&in.Name, "name", "", "a label for it (default: the address)")
	f.StringVar(&imapAddr, "imap", "", "IMAP server host[:port]")
	f.StringVar(&imapSec, "imap-security", "", "tls, starttls or none (default tls)")
	f.StringVar(&smtpAddr, "smtp", "", "SMTP submission server host[:port] (default: the IMAP host)")
	f.StringVar(&smtpSec, "smtp-security", "", "tls, starttls or none (default starttls)")
	f.StringVar(&in.Username, "username", "", "login name (default: the address)")
	f.IntVar(&in.SyncDays, "days", 0, "how far back the first sync reads (default 90)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	f.BoolVar(&noWait, "no-wait", false, "don't follow the first sync")
	return cmd
}

func (e *env) mailAccounts(ctx context.Context, c *client) ([]mail.Account, error) {
	var out struct {
		Accounts []mail.Account `json:"accounts"`
	}
	err := c.do(ctx, http.MethodGet, "/api/mail/accounts", nil, &out)
	return out.Accounts, err
}

func (e *env) mailListCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List your mail accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			as, err := e.mailAccounts(cmd.Context(), c)
			if err != nil {
				return err
			}
			if len(as) == 0 {
				fmt.Fprintln(e.stdout, "No mail account yet: connect one with `os1 mail add`.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tADDRESS\tIMAP\tLAST SYNC")
			for _, a := range as {
				fmt.Fprintf(tw, "%s\t%s\t%s:%d (%s)\t%s\n", a.ID, a.Address, a.IMAP.Host, a.IMAP.Port, a.IMAP.Security, syncWords(a))
			}
			return tw.Flush()
		},
	}
}

func syncWords(a mail.Account) string {
	switch {
	case a.LastSyncAt.IsZero():
		return "never"
	case a.LastError != "":
		return "failed " + a.LastSyncAt.Local().Format("Jan 2 15:04") + ": " + a.LastError
	default:
		return a.LastSyncAt.Local().Format("Jan 2 15:04")
	}
}

func (e *env) mailRemoveCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID",
		Short: "Disconnect a mail account (os1 forgets its mail; nothing is deleted on the server)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), http.MethodDelete, "/api/mail/accounts/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Removed %s.\n", args[0])
			return nil
		},
	}
}

func (e *env) mailSyncCmd(connect connectFunc) *cobra.Command {
	var noWait bool
	cmd := &cobra.Command{
		Use:   "sync [ID]",
		Short: "Sync one account (or all) now, with a progress bar",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			as, err := e.mailAccounts(ctx, c)
			if err != nil {
				return err
			}
			var failed error
			found := false
			for _, a := range as {
				if len(args) == 1 && a.ID != args[0] && !strings.EqualFold(a.Address, args[0]) {
					continue
				}
				found = true
				if err := c.do(ctx, http.MethodPost, "/api/mail/accounts/"+a.ID+"/sync", nil, nil); err != nil {
					return err
				}
				if noWait {
					fmt.Fprintf(e.stdout, "Sync of %s started.\n", a.Address)
					continue
				}
				if err := e.followSync(ctx, c, a); err != nil {
					failed = err
				}
			}
			if !found {
				if len(args) == 1 {
					return fmt.Errorf("no mail account %q: see `os1 mail list`", args[0])
				}
				fmt.Fprintln(e.stdout, "No mail account yet: connect one with `os1 mail add`.")
			}
			return failed
		},
	}
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "start the sync and return")
	return cmd
}

// followSync polls the account's progress and draws it until the sync ends.
func (e *env) followSync(ctx context.Context, c *client, a mail.Account) error {
	pr := newReindexPrinter(e.stderr, isTerminal(e.stderr))
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		var p mail.Progress
		if err := c.do(ctx, http.MethodGet, "/api/mail/accounts/"+a.ID+"/sync", nil, &p); err != nil {
			return err
		}
		done := !p.Running && p.Phase != "" && p.Phase != "connecting"
		pr.showMail(a.Address, p, done)
		if done {
			pr.end()
			if p.Phase == "failed" {
				return fmt.Errorf("sync of %s failed: %s", a.Address, p.Error)
			}
			fmt.Fprintf(e.stdout, "%s: synced %d messages.\n", a.Address, p.Done)
			return nil
		}
		select {
		case <-ctx.Done():
			pr.end()
			fmt.Fprintln(e.stderr, "os1: stopped following; the sync goes on in the server (os1 mail status)")
			return nil
		case <-tick.C:
		}
	}
}

// showMail draws a mail sync's progress with the reindex bar.
func (r *reindexPrinter) showMail(who string, p mail.Progress, done bool) {
	pct := 0.0
	if p.Total > 0 {
		pct = 100 * float64(p.Done) / float64(p.Total)
	}
	if r.tty {
		const width = 30
		n := min(int(pct/100*width), width)
		fmt.Fprintf(r.w, "\r%s %s [%s%s] %d/%d\x1b[K", who, p.Phase, strings.Repeat("#", n), strings.Repeat(".", width-n), p.Done, p.Total)
		r.drawn = true
		return
	}
	now := time.Now()
	if done || r.last.IsZero() || now.Sub(r.last) >= plainEvery {
		fmt.Fprintf(r.w, "%s %s %d/%d messages (%.0f%%)\n", who, p.Phase, p.Done, p.Total, pct)
		r.last = now
	}
}

func (e *env) mailStatusCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Where each account's sync stands",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			as, err := e.mailAccounts(cmd.Context(), c)
			if err != nil {
				return err
			}
			if len(as) == 0 {
				fmt.Fprintln(e.stdout, "No mail account yet: connect one with `os1 mail add`.")
			}
			for _, a := range as {
				var p mail.Progress
				if err := c.do(cmd.Context(), http.MethodGet, "/api/mail/accounts/"+a.ID+"/sync", nil, &p); err != nil {
					return err
				}
				switch {
				case p.Running:
					fmt.Fprintf(e.stdout, "%s: syncing (%s, %d/%d)\n", a.Address, p.Phase, p.Done, p.Total)
				case p.Phase == "failed":
					fmt.Fprintf(e.stdout, "%s: last sync failed: %s\n", a.Address, p.Error)
				case p.Phase == "":
					fmt.Fprintf(e.stdout, "%s: not synced yet\n", a.Address)
				default:
					fmt.Fprintf(e.stdout, "%s: synced %s\n", a.Address, p.EndedAt.Local().Format("Jan 2 15:04"))
				}
			}
			return nil
		},
	}
}

func (e *env) mailInboxCmd(connect connectFunc) *cobra.Command {
	var category string
	var limit int
	cmd := &cobra.Command{
		Use:   "inbox",
		Short: "Your triaged inbox, most important first, with her reasons",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			q := url.Values{"folder": {"INBOX"}, "limit": {strconv.Itoa(limit)}}
			if category != "" {
				q.Set("category", category)
			}
			var out struct {
				Messages []mail.Message `json:"messages"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, "/api/mail/messages?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			return e.printMessages(out.Messages)
		},
	}
	cmd.Flags().StringVar(&category, "category", "", "only this category: needs_reply, waiting, fyi, newsletter, receipt, notification, spam")
	cmd.Flags().IntVar(&limit, "limit", 30, "how many")
	return cmd
}

func (e *env) mailSearchCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "search WORDS…",
		Short: "Search your mail",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			var out struct {
				Messages []mail.Message `json:"messages"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, "/api/mail/search?q="+url.QueryEscape(strings.Join(args, " ")), nil, &out); err != nil {
				return err
			}
			return e.printMessages(out.Messages)
		},
	}
}

func (e *env) printMessages(ms []mail.Message) error {
	if len(ms) == 0 {
		fmt.Fprintln(e.stdout, "Nothing.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATE\tFROM\tSUBJECT\tCATEGORY\tWHY")
	for _, m := range ms {
		from := m.From.Name
		if from == "" {
			from = m.From.Email
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Date.Local().Format("Jan 2 15:04"), oneLine(from, 28),
			oneLine(m.Subject, 50), m.Triage.Category, oneLine(m.Triage.Reason, 50))
	}
	return tw.Flush()
}

// oneLine cuts s to n runes on one line, for a table cell.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
