package reminders

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
)

// Tools are the companion's reminder tools, registered with
// Registry.RegisterFrom("reminders", …): reminders_add, reminders_list,
// reminders_snooze and reminders_cancel.
//
// Adding and snoozing do not wait for approval, though they change
// something: the user asked in their own words, the change only ever
// speaks to that same user, it is listed and cancellable, and the answer
// gives the exact time understood in the user's zone for the model to
// repeat, so a misunderstanding is heard at once. Cancelling deletes what
// the user asked for earlier, so it waits for their yes.
func (s *Service) Tools() []companion.Tool {
	return []companion.Tool{
		{
			Name: "add",
			Description: "Set a reminder or a wake-up call the user asked for. Give `at` as a local date and time in the user's " +
				"time zone (e.g. 2026-12-06T18:00; resolve words like \"tomorrow at 6\" with the current date and time, and " +
				"prefer the coming evening for an ambiguous \"at 6\" said in the afternoon) or `in_minutes`. Set `wake` for " +
				"\"wake me\" alarms. Then tell the user the exact time this tool answers with.",
			Parameters: json.RawMessage(`{"type":"object","properties":{` +
				`"text":{"type":"string","description":"what to remind of, in the user's words, e.g. call mum"},` +
				`"at":{"type":"string","description":"local date and time, YYYY-MM-DDTHH:MM"},` +
				`"in_minutes":{"type":"integer","description":"minutes from now, instead of at"},` +
				`"wake":{"type":"boolean","description":"a wake-up call: rings even in quiet hours"}},"required":["text"]}`),
			Run: func(ctx context.Context, c companion.Call) (string, error) {
				var in Input
				if err := json.Unmarshal(c.Args, &in); err != nil {
					return "", fmt.Errorf("arguments are not valid JSON: %w", err)
				}
				r, err := s.Add(ctx, c.UserID, in)
				if err != nil {
					return "", err
				}
				what := "Reminder"
				if r.Wake {
					what = "Wake-up call"
				}
				out := fmt.Sprintf("%s set for %s (%s): “%s”. Its id is %s.", what, r.Local, r.Zone, r.Text, r.ID)
				if r.Shift != "" {
					out += " Note: " + r.Shift + "."
				}
				return out, nil
			},
		},
		{
			Name:        "list",
			Description: "List the user's reminders and wake-up calls that have not fired yet, with their ids and times.",
			Parameters:  json.RawMessage(`{"type":"object","properties":{}}`),
			Run: func(ctx context.Context, c companion.Call) (string, error) {
				rs, err := s.List(ctx, c.UserID, false)
				if err != nil {
					return "", err
				}
				if len(rs) == 0 {
					return "The user has no reminders waiting.", nil
				}
				var b strings.Builder
				for _, r := range rs {
					kind := "reminder"
					if r.Wake {
						kind = "wake-up"
					}
					fmt.Fprintf(&b, "%s: %s, %s, “%s”\n", r.ID, r.Local, kind, r.Text)
				}
				return b.String(), nil
			},
		},
		{
			Name:        "snooze",
			Description: "Move a reminder later by some minutes from now (10 when not given), also one that just fired.",
			Parameters: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"},` +
				`"minutes":{"type":"integer","description":"1 to 10080"}},"required":["id"]}`),
			Run: func(ctx context.Context, c companion.Call) (string, error) {
				var a struct {
					ID      string `json:"id"`
					Minutes int    `json:"minutes"`
				}
				if err := json.Unmarshal(c.Args, &a); err != nil {
					return "", fmt.Errorf("arguments are not valid JSON: %w", err)
				}
				r, err := s.Snooze(ctx, c.UserID, a.ID, time.Duration(a.Minutes)*time.Minute)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("Snoozed until %s: “%s”.", r.Local, r.Text), nil
			},
		},
		{
			Name:        "cancel",
			Description: "Cancel a reminder or wake-up call that has not fired. The user must confirm.",
			Parameters:  json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`),
			SideEffects: true,
			Summary: func(args json.RawMessage) string {
				var a struct{ ID string }
				_ = json.Unmarshal(args, &a)
				return "Cancel reminder " + a.ID
			},
			Review: func(ctx context.Context, act store.Action) string {
				var a struct{ ID string }
				_ = json.Unmarshal(act.Arguments, &a)
				r, err := s.Get(ctx, act.UserID, a.ID)
				if err != nil {
					return "Cancel reminder " + a.ID + " (no such reminder)"
				}
				return fmt.Sprintf("Cancel the reminder “%s” of %s", r.Text, r.Local)
			},
			Run: func(ctx context.Context, c companion.Call) (string, error) {
				var a struct{ ID string }
				if err := json.Unmarshal(c.Args, &a); err != nil {
					return "", fmt.Errorf("arguments are not valid JSON: %w", err)
				}
				r, err := s.Cancel(ctx, c.UserID, a.ID)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("Cancelled: “%s” (was due %s).", r.Text, r.Local), nil
			},
		},
	}
}
