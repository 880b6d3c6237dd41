package cli

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/reminders"
)

// `os1 reminders …` lists and sets the signed-in user's reminders and
// wake-up calls on a running server (like `os1 mail`, it needs
// `os1 login` or a token). Times are read and shown in the user's own
// zone, the one the first meeting saved.

func (e *env) remindersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reminders",
		Short: "Your reminders and wake-up calls: list, add, snooze, cancel, quiet",
		Long: "What os1 will remind you of, and when (in your time zone). A reminder due in your quiet hours\n" +
			"waits until they end; a wake-up call rings anyway.",
	}
	connect := e.connectFlags(cmd)
	// `os1 reminders` alone shows its help, like every command group, so
	// a mistyped subcommand gets "did you mean"; `os1 reminders list` lists.
	cmd.AddCommand(e.remindersListCmd(connect), e.remindersAddCmd(connect), e.remindersCancelCmd(connect), e.remindersSnoozeCmd(connect),
		e.remindersQuietCmd(connect))
	return cmd
}

func (e *env) remindersListCmd(connect connectFunc) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List reminders still to come (--all: with the fired and cancelled ones)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			path := "/api/reminders"
			if all {
				path += "?all=1"
			}
			var out struct {
				Reminders []reminders.Reminder `json:"reminders"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, path, nil, &out); err != nil {
				return err
			}
			if len(out.Reminders) == 0 {
				fmt.Fprintln(e.stdout, "No reminders: set one with `os1 reminders add \"call mum\" --at 2026-12-06T18:00`, or ask os1.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tWHEN\tKIND\tSTATE\tTEXT")
			for _, r := range out.Reminders {
				kind := "reminder"
				if r.Wake {
					kind = "wake-up"
				}
				state := string(r.State)
				if r.Note != "" {
					state += " (" + r.Note + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Local, kind, state, r.Text)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "show fired, failed and cancelled reminders too")
	return cmd
}

func (e *env) remindersAddCmd(connect connectFunc) *cobra.Command {
	var in reminders.Input
	var after time.Duration
	cmd := &cobra.Command{
		Use:   `add "TEXT" (--at 2026-12-06T18:00 | --in 20m) [--wake]`,
		Short: "Set a reminder (or with --wake, a wake-up call)",
		Long: "--at is a date and time in your time zone (or with an offset, e.g. 2026-12-06T18:00:00+01:00);\n" +
			"--in is from now, in whole minutes. os1 answers with the exact time it understood.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Text = args[0]
			if after < 0 {
				return &exitError{code: 2, err: errors.New("--in is how long from now, so it must be positive: 20m, 2h")}
			}
			if after != 0 {
				in.InMinutes = int((after + time.Minute - 1) / time.Minute)
			}
			if (in.At == "") == (after == 0) {
				return &exitError{code: 2, err: errors.New("give one of --at or --in")}
			}
			c, err := connect()
			if err != nil {
				return err
			}
			var r reminders.Reminder
			if err := c.do(cmd.Context(), http.MethodPost, "/api/reminders", in, &r); err != nil {
				return err
			}
			what := "Reminder"
			if r.Wake {
				what = "Wake-up call"
			}
			zone := " (" + r.Zone + ")"
			if r.Zone == "" || r.Zone == "Local" { // the server's own zone has no name to show
				zone = ""
			}
			fmt.Fprintf(e.stdout, "%s set for %s%s: %q [%s]\n", what, r.Local, zone, r.Text, r.ID)
			if r.Shift != "" {
				fmt.Fprintf(e.stdout, "Note: %s.\n", r.Shift)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.At, "at", "", "when, in your time zone: YYYY-MM-DDTHH:MM")
	f.DurationVar(&after, "in", 0, "when, from now: 20m, 2h")
	f.BoolVar(&in.Wake, "wake", false, "a wake-up call (rings even in quiet hours)")
	return cmd
}

func (e *env) remindersCancelCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a reminder that has not fired",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			var r reminders.Reminder
			if err := c.do(cmd.Context(), http.MethodDelete, "/api/reminders/"+url.PathEscape(args[0]), nil, &r); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Cancelled %q (was due %s).\n", r.Text, r.Local)
			return nil
		},
	}
}

func (e *env) remindersSnoozeCmd(connect connectFunc) *cobra.Command {
	var d time.Duration
	cmd := &cobra.Command{
		Use:   "snooze ID [--for 10m]",
		Short: "Move a reminder later, from now (also one that just fired)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			body := map[string]int{"minutes": int((d + time.Minute - 1) / time.Minute)}
			var r reminders.Reminder
			if err := c.do(cmd.Context(), http.MethodPost, "/api/reminders/"+url.PathEscape(args[0])+"/snooze", body, &r); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Snoozed until %s: %q.\n", r.Local, r.Text)
			return nil
		},
	}
	cmd.Flags().DurationVar(&d, "for", reminders.DefaultSnooze, "how long, from now")
	return cmd
}

func (e *env) remindersQuietCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "quiet [HH:MM-HH:MM | off]",
		Short: "Show or set your quiet hours (reminders wait until they end; wake-up calls do not)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			var out struct {
				QuietHours string `json:"quiet_hours"`
			}
			if len(args) == 0 {
				err = c.do(cmd.Context(), http.MethodGet, "/api/reminders/quiet-hours", nil, &out)
			} else {
				err = c.do(cmd.Context(), http.MethodPut, "/api/reminders/quiet-hours", map[string]string{"quiet_hours": args[0]}, &out)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Quiet hours: %s\n", out.QuietHours)
			return nil
		},
	}
}
