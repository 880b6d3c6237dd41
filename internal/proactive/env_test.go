package proactive_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/proactive/sqliteproactive"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// env is one user's os1 with a scheduler, the real companion on the
// scripted model, a local calendar and the proactive service.
type env struct {
	t     *testing.T
	rig   *testrig.Rig
	comp  *companion.Companion
	cal   *calendar.Service
	sched *schedule.Scheduler
	svc   *proactive.Service
	user  string
	loc   *time.Location
}

const zone = "Europe/Berlin"

func newEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	r := testrig.New(t)
	r.Clock.Set(now)
	u := r.User("theo", store.RoleOwner)
	if err := r.DB.SaveProfile(t.Context(), store.Profile{UserID: u.ID, Timezone: zone, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(zone)
	e := &env{t: t, rig: r, user: u.ID, loc: loc,
		comp: r.Companion(companion.Deps{Models: r.Models(true)}, companion.Options{}),
		cal:  &calendar.Service{Store: sqlitecal.New(r.DB), Clock: r.Clock, IDs: clock.RandomIDs{}}}
	e.cal.OnChange = func(userID string) { e.svc.CalendarChanged(userID) } // the service of the moment
	e.build()
	return e
}

// build makes a scheduler and a service over the rig's database, as a
// fresh start of os1 does.
func (e *env) build() {
	e.sched = schedule.New(sqlitesched.New(e.rig.DB), e.rig.Clock, clock.RandomIDs{}, schedule.Options{MaxSleep: 30 * 24 * time.Hour})
	e.svc = proactive.New(proactive.Deps{Sched: e.sched, Store: sqliteproactive.New(e.rig.DB), Profiles: e.rig.DB,
		Users: e.rig.DB, Clock: e.rig.Clock})
	e.svc.Initiator = e.comp
	e.svc.Calendar = e.cal
	sched, svc := e.sched, e.svc
	e.t.Cleanup(func() { sched.Close(); svc.Close() })
}

func (e *env) start() {
	e.t.Helper()
	if err := e.sched.Start(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.Start(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	e.settle()
}

// restart closes the scheduler and the service and builds new ones over
// the same database.
func (e *env) restart() {
	e.t.Helper()
	e.idle()
	e.sched.Close()
	e.svc.Close()
	e.build()
	e.start()
}

// settleWait bounds a wait for the scheduler or a model's turn: it
// returns as soon as they are done, and under -race on a loaded machine
// (a load of 20 on two cores) 5 s was not always enough for one step.
const settleWait = 30 * time.Second

// settle waits until the scheduler sleeps with every claimed job ended
// and settled, nothing due, and its timer set for the next job in the
// store.
func (e *env) settle() {
	e.t.Helper()
	testrig.Eventually(e.t, settleWait, "the scheduler settles", func() (bool, string) {
		st := e.sched.Stats()
		nw, now := e.sched.NextWake(), e.rig.Clock.Now()
		at, ok, err := e.sched.Store().NextDue(context.Background(), []string{proactive.KindMessage, proactive.KindPlan})
		if err != nil || nw.IsZero() || st.Claimed != st.Done+st.Failed+st.Skipped+st.Deferred || proactive.PlansBehind(e.svc) != 0 {
			return false, fmt.Sprintf("%+v %v", st, err)
		}
		// A job whose handler ended stays running until the settler writes
		// it: moving the clock past its lease then would run it again.
		var running int
		if err := e.rig.DB.SQL().QueryRow(`SELECT count(*) FROM schedule_jobs WHERE state = 'running'`).Scan(&running); err != nil || running > 0 {
			return false, fmt.Sprintf("%d running %v", running, err)
		}
		return !ok || (at.After(now) && (nw.Equal(at) || at.After(nw))), fmt.Sprintf("timer %v, next due %v", nw, at)
	})
}

// to moves the fake clock to t and lets what falls due run.
func (e *env) to(t time.Time) {
	e.t.Helper()
	e.settle()
	e.rig.Clock.Set(t)
	e.settle()
	e.idle()
}

// idle waits for the model's turns to end and their tokens to be logged.
func (e *env) idle() {
	e.t.Helper()
	if err := e.rig.LLM.WaitIdle(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	testrig.Eventually(e.t, settleWait, "every sent message is followed to its end", func() (bool, string) {
		for _, c := range e.conversations() {
			if e.comp.Running(c.ID) {
				return false, c.ID
			}
		}
		for _, x := range e.log() {
			if x.Outcome == proactive.Sent && x.Trigger != proactive.TriggerReminder && x.ConversationID == "" {
				return false, x.Reason
			}
		}
		return true, ""
	})
}

func (e *env) local(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, e.loc)
}

// conversations are those os1 started (their first message has a reason).
func (e *env) conversations() []store.Conversation {
	cs, err := e.rig.DB.ListConversations(context.Background(), e.user)
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// reasons are the reasons of the messages she started, oldest first.
func (e *env) reasons() []string {
	e.t.Helper()
	var out []string
	cs := e.conversations()
	for i := len(cs) - 1; i >= 0; i-- {
		ms, err := e.rig.DB.Messages(context.Background(), e.user, cs[i].ID)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, m := range ms {
			if m.Reason != "" {
				out = append(out, m.Reason)
			}
		}
	}
	return out
}

func (e *env) log() []proactive.Entry {
	e.t.Helper()
	l, err := e.svc.Log(context.Background(), e.user, 500)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// count is how many log entries have outcome o (and hold h, when given).
func count(l []proactive.Entry, o proactive.Outcome, hold string) int {
	n := 0
	for _, x := range l {
		if x.Outcome == o && (hold == "" || x.Hold == hold) {
			n++
		}
	}
	return n
}

func (e *env) set(in proactive.Input) {
	e.t.Helper()
	if _, err := e.svc.Update(context.Background(), e.user, in); err != nil {
		e.t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// newMeeting adds an event to the user's local calendar (its OnChange
// re-plans).
func (e *env) newMeeting(title string, start time.Time) {
	e.t.Helper()
	if _, err := e.cal.Create(context.Background(), e.user, calendar.EventInput{Summary: title, Start: calendar.At(start)}); err != nil {
		e.t.Fatal(err)
	}
}
