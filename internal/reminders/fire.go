package reminders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/schedule"
)

// fire is the handler of both kinds. A reminder in the user's quiet hours
// goes back to wait for their end; a wake-up rings regardless. The user is
// reached through every way there is; the reminder fails only when none
// took it, so a missing Web Push does not repeat a reminder the page showed.
//
// Between the turn starting and the job being marked done there is a
// window (the handler's run) in which a crash makes the reminder fire again
// after its lease: a repeat is preferred to a loss.
func (s *Service) fire(ctx context.Context, f schedule.Firing) error {
	var p payload
	if err := json.Unmarshal(f.Payload, &p); err != nil || p.Text == "" {
		return fmt.Errorf("reminder %s has no words to say (its stored data is unreadable)", f.ID)
	}
	loc := s.Location(ctx, f.UserID)
	wake := f.Kind == KindWakeup
	if !wake {
		q, err := s.store.QuietHours(ctx, f.UserID)
		if err != nil {
			return err
		}
		if end, in := q.Until(f.Now, loc); in {
			return schedule.Defer(end, "held for quiet hours ("+q.String()+") until "+end.In(loc).Format("15:04"))
		}
	}
	line := "Reminder: " + p.Text
	if wake {
		line = "Wake-up call: " + p.Text
	}
	if f.Late > 0 {
		line += fmt.Sprintf(" (this was due at %s; os1 was not running then)", f.Due.In(loc).Format("15:04 on Monday 2 January"))
	}
	n := Notice{UserID: f.UserID, ReminderID: f.ID, Text: p.Text, Line: line, Due: f.Due, Wake: wake, Late: f.Late}
	var errs []error
	reached := false
	for _, nt := range s.Notifiers {
		err := nt.Notify(ctx, n)
		if errors.Is(err, ErrNoRecipient) {
			continue
		}
		if err != nil {
			s.log.Warn("reminder notifier failed", "reminder", f.ID, "user", f.UserID, "err", err)
			errs = append(errs, err)
			continue
		}
		reached = true
	}
	if s.Initiator != nil {
		if err := s.initiate(ctx, f.UserID, line); err != nil {
			errs = append(errs, err)
		} else {
			reached = true
		}
	}
	if !reached {
		if len(errs) == 0 {
			return errors.New("no way to reach the user is configured")
		}
		return fmt.Errorf("no way reached the user: %w", errors.Join(errs...))
	}
	return nil
}

// initiate starts os1's turn for line in a new conversation. Once
// Initiate returns, the turn runs on its own and its reply (failed or not)
// is stored with line as its reason, so the user sees it; the handler does
// not wait for the model, so a slow model holds no scheduler worker and
// delays no other reminder.
func (s *Service) initiate(ctx context.Context, userID, line string) error {
	if len([]rune(line)) > companion.MaxReasonChars {
		line = string([]rune(line)[:companion.MaxReasonChars-1]) + "…"
	}
	evs, err := s.Initiator.Initiate(ctx, userID, "", line)
	if err != nil {
		return fmt.Errorf("start os1's turn: %w", err)
	}
	go func() {
		for range evs { // the turn's own stream; the user's pages follow the bus
		}
	}()
	return nil
}
