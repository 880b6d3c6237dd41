package proactive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/textsafe"
)

// Notes the planner leaves on jobs, which it reads back.
const (
	notePlanned = "planned"
	noteGone    = "the meeting moved or was cancelled"
)

// planID is the user's planning job.
func planID(userID string) string { return jobID(userID, "plan") }

// planSoon makes the user's planning job due now (adding it the first
// time). When the job is running, or has run and is not settled yet, it
// may have read the calendar before the change: the plan runs here, in
// the background, too.
func (s *Service) planSoon(ctx context.Context, userID string) error {
	now := s.clock.Now()
	_, err := s.sched.Add(ctx, schedule.Job{ID: planID(userID), UserID: userID, Kind: KindPlan, Due: now})
	if !errors.Is(err, schedule.ErrConflict) {
		return err
	}
	_, err = s.jobs.Reschedule(ctx, userID, planID(userID), now, "re-planned: something changed")
	if errors.Is(err, schedule.ErrNotPending) {
		s.planBehind(userID)
		return nil
	}
	s.sched.Wake()
	return err
}

// planBehind plans for the user in the background (Close waits for it).
func (s *Service) planBehind(userID string) {
	s.wg.Add(1)
	s.behind.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.behind.Add(-1)
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("proactive: a plan panicked", "user", userID, "panic", r, "stack", string(debug.Stack()))
			}
		}()
		s.mu.Lock()
		delete(s.replan, userID) // a change from now on asks again
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(s.bg, time.Minute)
		defer cancel()
		if err := s.Plan(ctx, userID); err != nil && ctx.Err() == nil {
			s.log.Warn("proactive: plan", "user", userID, "err", err)
		}
	}()
}

// CalendarChanged re-plans the user's meeting notices; it is called after
// every change to the user's events (made, moved, cancelled, imported,
// synced). A sync that writes a thousand events asks for one plan: a
// plan asked for and not started yet is not asked for again. It never
// blocks the caller for long and never fails it.
func (s *Service) CalendarChanged(userID string) {
	s.mu.Lock()
	asked := s.replan[userID]
	s.replan[userID] = true
	s.mu.Unlock()
	if asked {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.bg), 5*time.Second)
	defer cancel()
	if err := s.planSoon(ctx, userID); err != nil {
		s.log.Warn("proactive: re-plan after a calendar change", "user", userID, "err", err)
		s.mu.Lock()
		delete(s.replan, userID)
		s.mu.Unlock()
	}
}

// plan is the handler of KindPlan: plan the coming Horizon, then wait for
// the next day's plan (the job stays, one per user).
func (s *Service) plan(ctx context.Context, f schedule.Firing) error {
	s.mu.Lock()
	delete(s.replan, f.UserID) // a change from now on asks again
	s.mu.Unlock()
	if err := s.Plan(ctx, f.UserID); err != nil {
		// The plan job is the user's only one: it tries again soon rather
		// than failing for good.
		s.log.Warn("proactive: plan", "user", f.UserID, "err", err)
		return schedule.Defer(f.Now.Add(15*time.Minute), "planning failed, trying again: "+err.Error())
	}
	s.mu.Lock()
	again := s.replan[f.UserID] // the calendar changed while this plan ran
	s.mu.Unlock()
	if again {
		return schedule.Defer(f.Now, "the calendar changed while planning")
	}
	return schedule.Defer(f.Now.Add(PlanEvery), notePlanned)
}

// Plan schedules the user's meeting notices and birthday messages of the
// next Horizon, cancels those of meetings that moved or went, and keeps
// the check-in watcher as the settings say.
func (s *Service) Plan(ctx context.Context, userID string) error {
	s.planMu.Lock()
	defer s.planMu.Unlock()
	set, err := s.store.Settings(ctx, userID)
	if err != nil {
		return err
	}
	loc := s.Location(ctx, userID)
	now := s.clock.Now()
	if err := s.planMeetings(ctx, userID, set, loc, now); err != nil {
		return err
	}
	if err := s.planBirthdays(ctx, userID, loc, now); err != nil {
		return err
	}
	return s.watchSilence(ctx, userID, set, now)
}

func (s *Service) planMeetings(ctx context.Context, userID string, set Settings, loc *time.Location, now time.Time) error {
	if s.Calendar == nil {
		return nil
	}
	occ, err := s.Calendar.Agenda(ctx, userID, calendar.Range{From: now, To: now.Add(Horizon)}, loc)
	if err != nil {
		return fmt.Errorf("read the agenda: %w", err)
	}
	lead := time.Duration(set.MeetingLead) * time.Minute
	want := map[string]bool{}
	for _, o := range occ {
		if o.AllDay || !o.Busy() || !o.Start.After(now) {
			continue
		}
		key := "meeting:" + o.Event.UID + "@" + o.Start.UTC().Format(time.RFC3339)
		title := clip(textsafe.CleanTitle(o.Event.Summary), 80)
		if title == "" {
			title = "(no title)"
		}
		p := payload{Trigger: TriggerMeeting, Key: key, Stale: o.Start, StaleWhy: "the meeting had started", Event: o.Event.ID, Start: o.Start,
			Reason: fmt.Sprintf("Your meeting “%s” starts at %s", title, o.Start.In(loc).Format("15:04"))}
		want[jobID(userID, key)] = true
		if err := s.put(ctx, userID, p, later(o.Start.Add(-lead), now)); err != nil {
			return err
		}
	}
	js, err := s.jobs.ListJobs(ctx, userID, schedule.Filter{Kinds: []string{KindMessage},
		States: []schedule.State{schedule.Pending}, Limit: schedule.MaxLimit})
	if err != nil {
		return err
	}
	for _, j := range js {
		var p payload
		if json.Unmarshal(j.Payload, &p) != nil || p.Trigger != TriggerMeeting || want[j.ID] {
			continue
		}
		if _, err := s.jobs.Cancel(ctx, userID, j.ID, noteGone, now); err != nil && !errors.Is(err, schedule.ErrNotPending) {
			return err
		}
	}
	return nil
}

func (s *Service) planBirthdays(ctx context.Context, userID string, loc *time.Location, now time.Time) error {
	if s.Birthdays == nil {
		return nil
	}
	from := dayStart(now, loc)
	to := nextDay(nextDay(from, loc), loc)
	bs, err := s.Birthdays.Birthdays(ctx, userID, from, to)
	if err != nil {
		return fmt.Errorf("read the birthdays: %w", err)
	}
	for _, b := range bs {
		name := clip(textsafe.CleanTitle(b.Name), 60)
		if name == "" {
			continue
		}
		for day := from; day.Before(to); day = nextDay(day, loc) {
			l := day.In(loc)
			if l.Month() != b.Date.Month() || l.Day() != b.Date.Day() {
				continue
			}
			end := nextDay(day, loc)
			if !now.Before(end) {
				continue
			}
			at, _ := schedule.Local(l.Year(), l.Month(), l.Day(), 9, 0, loc)
			p := payload{Trigger: TriggerBirthday, Key: "birthday:" + name + ":" + l.Format("2006-01-02"), Stale: end,
				StaleWhy: "the birthday was over", Reason: fmt.Sprintf("It is %s's birthday today", name)}
			if err := s.put(ctx, userID, p, later(at, now)); err != nil {
				return err
			}
		}
	}
	return nil
}

// silenceKey is the key of the user's check-in watcher job.
const silenceKey = "silence"

// watchSilence keeps one check-in job while the user wants check-ins,
// and cancels it when they do not.
func (s *Service) watchSilence(ctx context.Context, userID string, set Settings, now time.Time) error {
	id := jobID(userID, silenceKey)
	if !set.CheckIn {
		if _, err := s.jobs.Cancel(ctx, userID, id, "check-ins are off", now); err != nil &&
			!errors.Is(err, schedule.ErrNotFound) && !errors.Is(err, schedule.ErrNotPending) {
			return err
		}
		return nil
	}
	b, _ := json.Marshal(payload{Trigger: TriggerSilence, Key: silenceKey})
	_, err := s.sched.Add(ctx, schedule.Job{ID: id, UserID: userID, Kind: KindMessage, Due: now, Payload: b})
	if !errors.Is(err, schedule.ErrConflict) {
		return err
	}
	j, err := s.jobs.Job(ctx, userID, id)
	if err != nil || j.State == schedule.Pending || j.State == schedule.Running {
		return err
	}
	if _, err := s.jobs.Reschedule(ctx, userID, id, now, "check-ins are on"); err != nil && !errors.Is(err, schedule.ErrNotPending) {
		return err
	}
	s.sched.Wake()
	return nil
}

// put schedules p at due, once: the job of its key is added the first
// time; planned again, a waiting job moves to the new time (the lead
// changed), a meeting's cancelled job comes back (it moved back), and a
// sent, dropped or deferred one is left as it is.
func (s *Service) put(ctx context.Context, userID string, p payload, due time.Time) error {
	id := jobID(userID, p.Key)
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = s.sched.Add(ctx, schedule.Job{ID: id, UserID: userID, Kind: KindMessage, Due: due, Payload: b})
	if !errors.Is(err, schedule.ErrConflict) {
		return err
	}
	j, err := s.jobs.Job(ctx, userID, id)
	if err != nil {
		return err
	}
	again := (j.State == schedule.Pending && !j.Due.Equal(due) && (j.Note == "" || j.Note == notePlanned)) ||
		(j.State == schedule.Skipped && j.Note == noteGone)
	if !again {
		return nil
	}
	if _, err := s.jobs.Reschedule(ctx, userID, id, due, notePlanned); err != nil && !errors.Is(err, schedule.ErrNotPending) {
		return err
	}
	s.sched.Wake()
	return nil
}
