package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/calendar"
)

// `os1 calendar …` works with the signed-in user's calendar on a running
// server (like `os1 mail`, it needs `os1 login` or a token): CalDAV
// accounts (the password goes to the server once, sealed there), .ics
// import and export, and the agenda.

func (e *env) calendarCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "calendar",
		Short: "Your calendar: add, list, remove, sync, import, export, agenda, subscribe",
		Long: "Your calendar in os1 (on the server you signed in to with `os1 login`): connect CalDAV accounts,\n" +
			"subscribe to read-only .ics calendars (holidays), import and export .ics files, and read your agenda.",
	}
	connect := e.connectFlags(cmd)
	cmd.AddCommand(e.calAddCmd(connect), e.calListCmd(connect), e.calRemoveCmd(connect), e.calSyncCmd(connect),
		e.calImportCmd(connect), e.calExportCmd(connect), e.calAgendaCmd(connect),
		e.calSubscribeCmd(connect), e.calSubscriptionsCmd(connect), e.calUnsubscribeCmd(connect), e.calRefreshCmd(connect))
	return cmd
}

func (e *env) calAddCmd(connect connectFunc) *cobra.Command {
	var in calendar.AccountInput
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "add --url https://caldav.example.org/ --username you",
		Short: "Connect a CalDAV account (signs in once to check it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.URL == "" || in.Username == "" {
				return &exitError{code: 2, err: errors.New("give --url and --username")}
			}
			var err error
			if in.Password, err = e.readPassword(passwordStdin); err != nil {
				return err
			}
			in.Password = strings.TrimRight(in.Password, "\r\n")
			c, err := connect()
			if err != nil {
				return err
			}
			var a calendar.Account
			if err := c.do(cmd.Context(), http.MethodPost, "/api/calendar/accounts", in, &a); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Connected %s (%s). Sync it with `os1 calendar sync %s`.\n", a.Name, a.ID, a.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.URL, "url", "", "the CalDAV server's address")
	f.StringVar(&in.Username, "username", "", "your login name there")
	f.StringVar(&in.Name, "name", "", "a label for it (default: username@host)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	return cmd
}

func calAccounts(ctx context.Context, c *client) ([]calendar.Account, error) {
	var out struct {
		Accounts []calendar.Account `json:"accounts"`
	}
	err := c.do(ctx, http.MethodGet, "/api/calendar/accounts", nil, &out)
	return out.Accounts, err
}

func (e *env) calListCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List your CalDAV accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			as, err := calAccounts(cmd.Context(), c)
			if err != nil {
				return err
			}
			if len(as) == 0 {
				fmt.Fprintln(e.stdout, "No calendar account yet: connect one with `os1 calendar add`.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tURL\tLAST SYNC")
			for _, a := range as {
				last := "never"
				if !a.LastSyncAt.IsZero() {
					last = a.LastSyncAt.Local().Format("Jan 2 15:04")
				}
				if a.LastError != "" {
					last = "failed " + last + ": " + a.LastError
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.ID, a.Name, a.URL, last)
			}
			return tw.Flush()
		},
	}
}

func (e *env) calRemoveCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "remove ID",
		Short: "Disconnect a CalDAV account (os1 forgets its calendars; nothing is deleted on the server)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), http.MethodDelete, "/api/calendar/accounts/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Removed %s.\n", args[0])
			return nil
		},
	}
}

func (e *env) calSyncCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "sync [ID]",
		Short: "Sync one CalDAV account (or all) now",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			as, err := calAccounts(cmd.Context(), c)
			if err != nil {
				return err
			}
			var failed error
			found := false
			for _, a := range as {
				if len(args) == 1 && a.ID != args[0] && a.Name != args[0] {
					continue
				}
				found = true
				var rep calendar.Report
				if err := c.do(cmd.Context(), http.MethodPost, "/api/calendar/accounts/"+url.PathEscape(a.ID)+"/sync", nil, &rep); err != nil {
					fmt.Fprintf(e.stderr, "%s: %v\n", a.Name, err)
					failed = err
					continue
				}
				fmt.Fprintf(e.stdout, "%s: %d calendars, %d in, %d out, %d deleted", a.Name, rep.Calendars, rep.Pulled, rep.Pushed, rep.Deleted)
				if len(rep.Conflicts) > 0 {
					fmt.Fprintf(e.stdout, ", %d conflicts", len(rep.Conflicts))
				}
				fmt.Fprintln(e.stdout, ".")
				for _, x := range rep.Errors {
					fmt.Fprintf(e.stdout, "  could not read: %s\n", x)
				}
			}
			if !found {
				if len(args) == 1 {
					return fmt.Errorf("no calendar account %q: see `os1 calendar list`", args[0])
				}
				fmt.Fprintln(e.stdout, "No calendar account yet: connect one with `os1 calendar add`.")
			}
			return failed
		},
	}
}

func (e *env) calImportCmd(connect connectFunc) *cobra.Command {
	var calID string
	cmd := &cobra.Command{
		Use:   "import FILE.ics",
		Short: "Import an .ics file into your calendar (events already there by UID are updated)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			c, err := connect()
			if err != nil {
				return err
			}
			path := "/api/calendar/import"
			if calID != "" {
				path += "?calendar=" + url.QueryEscape(calID)
			}
			var res calendar.ImportResult
			if err := c.do(cmd.Context(), http.MethodPost, path, rawBody{Type: "text/calendar", R: f}, &res); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Imported %s, updated %d from %s.\n", countOf(res.Imported, "event"), res.Updated, filepath.Base(args[0]))
			for _, x := range res.Errors {
				fmt.Fprintf(e.stdout, "  skipped: %s\n", x)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&calID, "calendar", "", "the calendar's id (default: your calendar in os1)")
	return cmd
}

func (e *env) calExportCmd(connect connectFunc) *cobra.Command {
	var calID string
	cmd := &cobra.Command{
		Use:   "export [FILE.ics]",
		Short: "Write your calendar as an .ics file (to standard output without FILE)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			path := "/api/calendar/export.ics"
			if calID != "" {
				path += "?calendar=" + url.QueryEscape(calID)
			}
			resp, err := c.send(cmd.Context(), http.MethodGet, path, nil)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if len(args) == 0 {
				_, err = io.Copy(e.stdout, resp.Body)
				return err
			}
			tmp := args[0] + ".part"
			f, err := os.Create(tmp)
			if err != nil {
				return err
			}
			if _, err := io.Copy(f, resp.Body); err != nil {
				f.Close()
				os.Remove(tmp)
				return fmt.Errorf("export: %w", err)
			}
			if err := f.Close(); err != nil {
				os.Remove(tmp)
				return err
			}
			if err := os.Rename(tmp, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Wrote %s.\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&calID, "calendar", "", "the calendar's id (default: your calendar in os1)")
	return cmd
}

func (e *env) calAgendaCmd(connect connectFunc) *cobra.Command {
	var days int
	var from string
	cmd := &cobra.Command{
		Use:   "agenda [--days N] [--from YYYY-MM-DD]",
		Short: "Your events from today (in your time zone), every calendar, repeats expanded",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days < 1 || days > 366 {
				return &exitError{code: 2, err: errors.New("--days must be between 1 and 366")}
			}
			c, err := connect()
			if err != nil {
				return err
			}
			var out struct {
				From        time.Time             `json:"from"`
				Occurrences []calendar.Occurrence `json:"occurrences"`
			}
			q := url.Values{}
			if from != "" {
				start, err := time.Parse(time.DateOnly, from)
				if err != nil {
					return &exitError{code: 2, err: errors.New("--from must be a date like 2026-12-05")}
				}
				q.Set("from", from)
				q.Set("to", start.AddDate(0, 0, days).Format(time.DateOnly))
			} else {
				// Today's midnight in the user's zone is the server's default from.
				var first struct {
					From time.Time `json:"from"`
				}
				if err := c.do(cmd.Context(), http.MethodGet, "/api/calendar/agenda", nil, &first); err != nil {
					return err
				}
				q.Set("from", first.From.Format(time.RFC3339))
				q.Set("to", first.From.AddDate(0, 0, days).Format(time.RFC3339))
			}
			if err := c.do(cmd.Context(), http.MethodGet, "/api/calendar/agenda?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if len(out.Occurrences) == 0 {
				if days == 1 {
					fmt.Fprintln(e.stdout, "Nothing in your calendar that day.")
				} else {
					fmt.Fprintf(e.stdout, "Nothing in your calendar in these %d days.\n", days)
				}
				return nil
			}
			day := ""
			for _, o := range out.Occurrences {
				if d := o.Start.Format("Mon Jan 2"); d != day {
					day = d
					fmt.Fprintln(e.stdout, d)
				}
				when := o.Start.Format("15:04") + "–" + o.End.Format("15:04")
				if !o.End.After(o.Start) { // no end (DTEND): a moment, not "12:00–12:00"
					when = o.Start.Format("15:04") + "      "
				}
				if o.AllDay {
					when = "all day    "
				}
				line := "  " + when + "  " + o.Event.Summary
				if o.Event.Location != "" {
					line += " (" + o.Event.Location + ")"
				}
				if o.Event.Status == calendar.StatusCancelled {
					line += " [cancelled]"
				}
				fmt.Fprintln(e.stdout, line)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&days, "days", 7, "how many days to show")
	cmd.Flags().StringVar(&from, "from", "", "the first day (default today)")
	return cmd
}

func calSubscriptions(ctx context.Context, c *client) ([]calendar.Calendar, error) {
	var out struct {
		Subscriptions []calendar.Calendar `json:"subscriptions"`
	}
	err := c.do(ctx, http.MethodGet, "/api/calendar/subscriptions", nil, &out)
	return out.Subscriptions, err
}

// findSubscription is the subscription named by id, name or address.
func findSubscription(ctx context.Context, c *client, arg string) (calendar.Calendar, error) {
	subs, err := calSubscriptions(ctx, c)
	if err != nil {
		return calendar.Calendar{}, err
	}
	for _, s := range subs {
		if s.ID == arg || s.Name == arg || s.URL == arg {
			return s, nil
		}
	}
	return calendar.Calendar{}, fmt.Errorf("no calendar subscription %q: see `os1 calendar subscriptions`", arg)
}

func (e *env) printFeedReport(name string, rep calendar.FeedReport) {
	if rep.NotModified {
		fmt.Fprintf(e.stdout, "%s: unchanged since the last fetch.\n", name)
	} else {
		fmt.Fprintf(e.stdout, "%s: %d new, %d updated, %d removed.\n", name, rep.Added, rep.Updated, rep.Removed)
	}
	for _, x := range rep.Errors {
		fmt.Fprintf(e.stdout, "  could not read: %s\n", x)
	}
}

func (e *env) calSubscribeCmd(connect connectFunc) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:   "subscribe URL",
		Short: "Subscribe to a read-only .ics calendar (holidays, a published calendar); fetched now and every 6 hours",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			var out struct {
				Subscription calendar.Calendar   `json:"subscription"`
				Report       calendar.FeedReport `json:"report"`
			}
			if err := c.do(cmd.Context(), http.MethodPost, "/api/calendar/subscriptions", calendar.SubscriptionInput{URL: args[0], Name: name}, &out); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Subscribed to %s (%s).\n", out.Subscription.Name, out.Subscription.ID)
			e.printFeedReport(out.Subscription.Name, out.Report)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "a name for it (default: the file's name)")
	return cmd
}

func (e *env) calSubscriptionsCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "subscriptions",
		Short: "List your calendar subscriptions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			subs, err := calSubscriptions(cmd.Context(), c)
			if err != nil {
				return err
			}
			if len(subs) == 0 {
				fmt.Fprintln(e.stdout, "No calendar subscription yet: add one with `os1 calendar subscribe URL`.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tURL\tLAST FETCH")
			for _, s := range subs {
				last := "never"
				if !s.FetchedAt.IsZero() {
					last = s.FetchedAt.Local().Format("Jan 2 15:04")
				}
				if s.FetchError != "" {
					last = "failed: " + s.FetchError
				} else if n := len(s.FeedErrors); n > 0 {
					last += fmt.Sprintf(" (%d events unreadable)", n)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, s.Name, s.URL, last)
			}
			return tw.Flush()
		},
	}
}

func (e *env) calUnsubscribeCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "unsubscribe ID|NAME|URL",
		Short: "Remove a calendar subscription and its events",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			s, err := findSubscription(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if err := c.do(cmd.Context(), http.MethodDelete, "/api/calendar/subscriptions/"+url.PathEscape(s.ID), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Unsubscribed from %s.\n", s.Name)
			return nil
		},
	}
}

func (e *env) calRefreshCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "refresh [ID|NAME]",
		Short: "Fetch one calendar subscription (or all) now",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			subs, err := calSubscriptions(cmd.Context(), c)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				s, err := findSubscription(cmd.Context(), c, args[0])
				if err != nil {
					return err
				}
				subs = []calendar.Calendar{s}
			}
			if len(subs) == 0 {
				fmt.Fprintln(e.stdout, "No calendar subscription yet: add one with `os1 calendar subscribe URL`.")
				return nil
			}
			var failed error
			for _, s := range subs {
				var rep calendar.FeedReport
				if err := c.do(cmd.Context(), http.MethodPost, "/api/calendar/subscriptions/"+url.PathEscape(s.ID)+"/refresh", nil, &rep); err != nil {
					fmt.Fprintf(e.stderr, "%s: %v\n", s.Name, err)
					failed = err
					continue
				}
				e.printFeedReport(s.Name, rep)
			}
			return failed
		},
	}
}
