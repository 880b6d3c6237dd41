package proactive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/schedule"
)

// payload is what a message job keeps.
type payload struct {
	Trigger Trigger `json:"trigger"`
	Key     string  `json:"key"`
	Reason  string  `json:"reason"`
	// Stale is when the message stops making sense (a meeting's start);
	// zero: never. StaleWhy says so in words.
	Stale    time.Time `json:"stale,omitzero"`
	StaleWhy string    `json:"stale_why,omitempty"`
	// Event and Start are a meeting notice's occurrence, for its brief.
	Event string    `json:"event,omitempty"`
	Start time.Time `json:"start,omitzero"`
}

// fire is the handler of KindMessage.
func (s *Service) fire(ctx context.Context, f schedule.Firing) error {
	var p payload
	if err := json.Unmarshal(f.Payload, &p); err != nil || p.Key == "" || !p.Trigger.Known() {
		return fmt.Errorf("proactive message %s: its stored data is unreadable", f.ID)
	}
	set, err := s.store.Settings(ctx, f.UserID)
	if err != nil {
		return err
	}
	loc := s.Location(ctx, f.UserID)
	if p.Trigger == TriggerSilence {
		return s.checkIn(ctx, f, p, set, loc)
	}
	return s.deliver(ctx, f.UserID, p, set, loc, f.Now)
}

// deliver passes p through the user's gates and, when it passes them all,
// starts her turn. It returns a Deferral to wait (quiet hours, tomorrow's
// budget), nil when the message was sent or dropped (both logged).
func (s *Service) deliver(ctx context.Context, userID string, p payload, set Settings, loc *time.Location, now time.Time) error {
	hold := func(code, note string) error {
		e := Entry{ID: s.ids.NewID("pro_"), UserID: userID, Trigger: p.Trigger, Key: p.Key, Reason: p.Reason,
			Outcome: Held, Hold: code, Note: note, At: now}
		return s.store.Add(ctx, e)
	}
	stale := func(t time.Time) bool { return !p.Stale.IsZero() && !t.Before(p.Stale) }
	if set.IsMuted(p.Trigger) {
		return hold(HoldMuted, "you muted "+string(p.Trigger)+" messages in Settings")
	}
	if stale(now) {
		return hold(HoldStale, "too late: "+p.StaleWhy)
	}
	q, err := s.jobs.QuietHours(ctx, userID)
	if err != nil {
		return err
	}
	if end, in := q.Until(now, loc); in {
		if stale(end) {
			return hold(HoldQuiet, fmt.Sprintf("in your quiet hours (%s), and too late by their end: %s", q, p.StaleWhy))
		}
		why := fmt.Sprintf("held for quiet hours (%s) until %s", q, end.In(loc).Format("15:04"))
		if err := hold(HoldQuiet, why); err != nil {
			return err
		}
		return schedule.Defer(end, why)
	}
	// One message at a time per user: the tokens of one being written
	// count before the next may start.
	switch ok, err := s.acquire(ctx, userID); {
	case err != nil:
		return err
	case !ok:
		return schedule.Defer(now.Add(time.Minute), "waiting for the message she is writing to finish")
	}
	started := false
	defer func() {
		if !started {
			s.release(userID)
		}
	}()
	since := dayStart(now, loc)
	if used := s.tokensToday(ctx, userID, since); used >= set.DailyTokens {
		return s.overBudget(ctx, p, hold, loc, now,
			fmt.Sprintf("today's model tokens are spent (%d of %d)", used, set.DailyTokens))
	}
	e := Entry{ID: s.ids.NewID("pro_"), UserID: userID, Trigger: p.Trigger, Key: p.Key, Reason: p.Reason,
		Outcome: Sent, Counted: p.Trigger != TriggerReminder, At: now}
	switch err := s.store.Claim(ctx, e, since, set.DailyCount); {
	case errors.Is(err, ErrAlreadySent):
		return nil // a restart, or a second scheduler: she said it already
	case errors.Is(err, ErrOverCount):
		return s.overBudget(ctx, p, hold, loc, now, fmt.Sprintf("today's %d messages are sent", set.DailyCount))
	case err != nil:
		return err
	}
	if s.Initiator == nil {
		_ = s.store.Finish(ctx, userID, e.ID, Failed, "os1 cannot speak first here", 0, "")
		return errors.New("no companion to speak through")
	}
	reason := clip(p.Reason, companion.MaxReasonChars)
	briefed := false
	if p.Trigger == TriggerMeeting && p.Event != "" && s.Briefs != nil {
		if err := s.Briefs.PrepareMeeting(ctx, userID, p.Event, p.Start); err != nil {
			s.log.Warn("proactive: the meeting's brief", "user", userID, "err", err) // the notice goes without it
		} else {
			briefed = true
		}
	}
	evs, err := s.Initiator.Initiate(ctx, userID, "", reason)
	if err != nil {
		if briefed {
			s.Briefs.DropMeeting(userID)
		}
		// Marked failed, the key is free again: a retry of the job may send it.
		_ = s.store.Finish(context.WithoutCancel(ctx), userID, e.ID, Failed, err.Error(), 0, "")
		return fmt.Errorf("start os1's turn: %w", err)
	}
	s.follow(userID, e.ID, since, set.DailyTokens, evs)
	started = true // follow releases the user when the turn ends
	if s.Notify != nil {
		s.Notify(ctx, userID, reason)
	}
	return nil
}

// MaxWait is how long a message waits for the user's message being
// written before it is deferred a minute.
const MaxWait = time.Minute

// acquire takes the user's one writing slot, waiting at most MaxWait for
// the message being written. It reports false when that one is still
// being written, and an error when ctx ended (a shutdown).
func (s *Service) acquire(ctx context.Context, userID string) (bool, error) {
	var t interface{ Stop() bool }
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	var timeout <-chan time.Time
	for {
		s.mu.Lock()
		busy, ok := s.writing[userID]
		if !ok {
			s.writing[userID] = make(chan struct{})
			s.mu.Unlock()
			return true, nil
		}
		s.mu.Unlock()
		if timeout == nil {
			tm := s.clock.NewTimer(MaxWait)
			t, timeout = tm, tm.C()
		}
		select {
		case <-busy:
		case <-timeout:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// release frees the user's writing slot.
func (s *Service) release(userID string) {
	s.mu.Lock()
	busy := s.writing[userID]
	delete(s.writing, userID)
	s.mu.Unlock()
	if busy != nil {
		close(busy)
	}
}

// overBudget holds p back: until tomorrow when it still makes sense then,
// for good otherwise.
func (s *Service) overBudget(_ context.Context, p payload, hold func(code, note string) error, loc *time.Location, now time.Time, why string) error {
	next := nextDay(now, loc)
	if p.Stale.IsZero() || next.Before(p.Stale) {
		note := why + "; tried again tomorrow"
		if err := hold(HoldBudget, note); err != nil {
			return err
		}
		return schedule.Defer(next, note)
	}
	return hold(HoldBudget, why)
}

// checkIn is the silence trigger's job: it waits for a silence of the
// user's length, says one word per silence (the key is the last message's
// time), and keeps watching. Turned off, the job ends.
func (s *Service) checkIn(ctx context.Context, f schedule.Firing, p payload, set Settings, loc *time.Location) error {
	if !set.CheckIn {
		return nil
	}
	gap := time.Duration(set.SilenceDays) * 24 * time.Hour
	last, err := s.store.LastUserMessage(ctx, f.UserID)
	if err != nil {
		return err
	}
	if last.IsZero() {
		return schedule.Defer(f.Now.Add(gap), "waiting for a first conversation")
	}
	if f.Now.Sub(last) < gap {
		return schedule.Defer(last.Add(gap), "watching for a long silence")
	}
	p.Key = "silence:" + last.UTC().Format(time.RFC3339Nano)
	p.Reason = fmt.Sprintf("We have not talked for %d days, and you asked me to check in after a silence like that", int(f.Now.Sub(last).Hours()/24))
	if err := s.deliver(ctx, f.UserID, p, set, loc, f.Now); err != nil {
		return err // a deferral (quiet hours, budget) or a failure
	}
	return schedule.Defer(f.Now.Add(gap), "watching for the next long silence")
}

// tokensToday is the user's tokens of the day starting at since: read
// from the log at the first message of the day, then counted here.
func (s *Service) tokensToday(ctx context.Context, userID string, since time.Time) int {
	s.mu.Lock()
	sp := s.spent[userID]
	s.mu.Unlock()
	if sp != nil && sp.since.Equal(since) {
		s.mu.Lock()
		defer s.mu.Unlock()
		return sp.tokens
	}
	_, tokens, err := s.store.Usage(ctx, userID, since)
	if err != nil {
		s.log.Warn("proactive: read today's usage", "user", userID, "err", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sp := s.spent[userID]; sp != nil && sp.since.Equal(since) {
		return sp.tokens // another message read it meanwhile
	}
	s.spent[userID] = &spent{since: since, tokens: tokens}
	return tokens
}

// spend adds n tokens to the user's day and reports the day's total.
func (s *Service) spend(userID string, since time.Time, n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	sp := s.spent[userID]
	if sp == nil || !sp.since.Equal(since) {
		sp = &spent{since: since}
		s.spent[userID] = sp
	}
	sp.tokens += n
	return sp.tokens
}

// tokensOf estimates the tokens of n characters of the model's text: the
// companion does not pass on the provider's counts, so a message is
// counted at about four characters a token, rounded up.
func tokensOf(n int) int { return (n + 3) / 4 }

// follow reads the turn to its end in the background (the handler holds
// no scheduler worker while the model writes), counts its tokens against
// the user's day and stops the turn when the day's tokens reach the cap.
func (s *Service) follow(userID, entryID string, since time.Time, capTokens int, evs iter.Seq[companion.Event]) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.release(userID)
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("proactive: following a turn panicked", "user", userID, "panic", r, "stack", string(debug.Stack()))
			}
		}()
		var conv, note string
		chars, counted, cut := 0, 0, false
		for ev := range evs {
			switch ev.Type {
			case companion.EvConversation:
				if ev.Conversation != nil {
					conv = ev.Conversation.ID
				}
			case companion.EvDelta, companion.EvReasoning:
				chars += utf8.RuneCountInString(ev.Text)
				n := tokensOf(chars) - counted
				counted += n
				if total := s.spend(userID, since, n); total >= capTokens && !cut && conv != "" {
					cut = true
					note = "stopped at the daily token budget"
					if _, err := s.Initiator.Cancel(s.bg, userID, conv); err != nil {
						s.log.Warn("proactive: stop a turn at the budget", "user", userID, "err", err)
					}
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.bg), 10*time.Second)
		defer cancel()
		if err := s.store.Finish(ctx, userID, entryID, Sent, note, counted, conv); err != nil {
			s.log.Warn("proactive: record a message's tokens", "user", userID, "err", err)
		}
	}()
}
