package schedule_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/schedule"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/testrig"
)

var t0 = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// rig is a database file, a fake clock and users for scheduler tests.
type rig struct {
	t     *testing.T
	path  string
	db    *sqlite.DB
	st    *sqlitesched.Store
	clock *clock.Fake
	users []string
}

func newRig(t *testing.T, users int) *rig {
	t.Helper()
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "os1.db"), clock: clock.NewFake(t0)}
	r.open()
	for i := range users {
		id := fmt.Sprintf("usr_%04d", i)
		if err := r.db.CreateUser(t.Context(), store.User{ID: id, Username: fmt.Sprintf("u%d", i), DisplayName: "U",
			Role: store.RoleMember, PasswordHash: "x", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		r.users = append(r.users, id)
	}
	return r
}

// open opens (or reopens, as a restarted process would) the database.
func (r *rig) open() {
	db, err := sqlite.Open(r.t.Context(), r.path)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { db.Close() })
	r.db, r.st = db, sqlitesched.New(db)
}

// recorder counts each job's runs.
type recorder struct {
	mu   sync.Mutex
	runs map[string]int
	last map[string]schedule.Firing
}

func newRecorder() *recorder {
	return &recorder{runs: map[string]int{}, last: map[string]schedule.Firing{}}
}

func (rec *recorder) handle(_ context.Context, f schedule.Firing) error {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.runs[f.ID]++
	rec.last[f.ID] = f
	return nil
}

func (rec *recorder) total() (jobs, runs int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, n := range rec.runs {
		runs += n
	}
	return len(rec.runs), runs
}

func (rec *recorder) count(id string) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.runs[id]
}

// scheduler starts a scheduler on the rig's store with kinds.
func (r *rig) scheduler(kinds map[string]schedule.Kind) *schedule.Scheduler {
	s := schedule.New(r.st, r.clock, clock.RandomIDs{}, schedule.Options{MaxSleep: 24 * time.Hour})
	for name, k := range kinds {
		s.Handle(name, k)
	}
	if err := s.Start(r.t.Context()); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { s.Close() })
	return s
}

// armedAt waits until the scheduler's timer is set for at.
func (r *rig) armedAt(at time.Time) {
	r.t.Helper()
	testrig.Eventually(r.t, 5*time.Second, "the timer is set for "+at.String(), func() (bool, string) {
		next, ok := r.clock.Next()
		return ok && next.Equal(at), next.String()
	})
}

func (r *rig) job(id string) schedule.Job {
	r.t.Helper()
	for _, u := range r.users {
		if j, err := r.st.Job(r.t.Context(), u, id); err == nil {
			return j
		}
	}
	r.t.Fatalf("no job %s", id)
	return schedule.Job{}
}

func (r *rig) waitState(id string, want schedule.State) schedule.Job {
	r.t.Helper()
	var j schedule.Job
	testrig.Eventually(r.t, 5*time.Second, id+" is "+string(want), func() (bool, string) {
		j = r.job(id)
		return j.State == want, string(j.State) + " " + j.Note
	})
	return j
}

// TestFiresOnTimeWithOneTimer: a job fires when due, not before; the
// scheduler holds one timer, set for the soonest job and reset when a
// sooner one is added.
func TestScheduleFiresOnTimeWithOneTimer(t *testing.T) {
	r := newRig(t, 1)
	rec := newRecorder()
	s := r.scheduler(map[string]schedule.Kind{"reminder": {Handler: rec.handle}})
	later, err := s.Add(t.Context(), schedule.Job{UserID: r.users[0], Kind: "reminder", Due: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	r.armedAt(t0.Add(2 * time.Hour))
	sooner, _ := s.Add(t.Context(), schedule.Job{UserID: r.users[0], Kind: "reminder", Due: t0.Add(10 * time.Minute)})
	r.armedAt(t0.Add(10 * time.Minute))
	if n := r.clock.Armed(); n != 1 {
		t.Fatalf("%d timers armed, want one", n)
	}
	r.clock.Advance(10*time.Minute - time.Second)
	if rec.count(sooner.ID) != 0 {
		t.Fatal("fired a second early")
	}
	r.clock.Advance(time.Second)
	j := r.waitState(sooner.ID, schedule.Done)
	if rec.count(sooner.ID) != 1 || j.Attempts != 1 || !j.FiredAt.Equal(t0.Add(10*time.Minute)) || j.Note != "" {
		t.Fatalf("fired %d times: %+v", rec.count(sooner.ID), j)
	}
	r.armedAt(t0.Add(2 * time.Hour))
	if rec.count(later.ID) != 0 {
		t.Fatal("the later job fired early")
	}
	if _, err := s.Add(t.Context(), schedule.Job{UserID: r.users[0], Kind: "nobody-handles"}); err == nil {
		t.Error("a job of an unregistered kind was accepted")
	}
}

// TestSchedulePanicIsContained: a handler's panic fails its job with the
// reason, and the scheduler runs the next job.
func TestSchedulePanicIsContained(t *testing.T) {
	r := newRig(t, 1)
	rec := newRecorder()
	s := r.scheduler(map[string]schedule.Kind{
		"boom":     {Handler: func(context.Context, schedule.Firing) error { panic("the payload was nil") }},
		"reminder": {Handler: rec.handle},
	})
	bad, _ := s.Add(t.Context(), schedule.Job{UserID: r.users[0], Kind: "boom", Due: t0})
	good, _ := s.Add(t.Context(), schedule.Job{UserID: r.users[0], Kind: "reminder", Due: t0.Add(time.Minute)})
	r.clock.Advance(0)
	j := r.waitState(bad.ID, schedule.Failed)
	if !strings.Contains(j.Note, "panicked") || !strings.Contains(j.Note, "the payload was nil") {
		t.Fatalf("note %q", j.Note)
	}
	r.armedAt(t0.Add(time.Minute))
	r.clock.Advance(time.Minute)
	r.waitState(good.ID, schedule.Done)
	if st := s.Stats(); st.Failed != 1 || st.Done != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestScheduleMissedPolicy: jobs that fell due while no scheduler ran:
// a reminder fires late and says so; a wake-up is skipped with a note.
func TestScheduleMissedPolicy(t *testing.T) {
	r := newRig(t, 1)
	for _, j := range []schedule.Job{
		{ID: "rem", UserID: r.users[0], Kind: "reminder", Due: t0.Add(-2 * time.Hour), Payload: []byte("{}"), State: schedule.Pending, CreatedAt: t0},
		{ID: "wake", UserID: r.users[0], Kind: "wakeup", Due: t0.Add(-2 * time.Hour), Payload: []byte("{}"), State: schedule.Pending, CreatedAt: t0},
		{ID: "fresh", UserID: r.users[0], Kind: "wakeup", Due: t0.Add(-30 * time.Second), Payload: []byte("{}"), State: schedule.Pending, CreatedAt: t0},
	} {
		if err := r.st.AddJob(t.Context(), j); err != nil {
			t.Fatal(err)
		}
	}
	rec := newRecorder()
	r.scheduler(map[string]schedule.Kind{
		"reminder": {Handler: rec.handle, Missed: schedule.FireLate},
		"wakeup":   {Handler: rec.handle, Missed: schedule.Skip, Grace: time.Minute},
	})
	rem := r.waitState("rem", schedule.Done)
	if rem.Note != "ran 2h0m0s late: os1 was not running when it was due" {
		t.Errorf("late note %q", rem.Note)
	}
	rec.mu.Lock()
	late := rec.last["rem"].Late
	rec.mu.Unlock()
	if late != 2*time.Hour {
		t.Errorf("handler told late %v", late)
	}
	wake := r.waitState("wake", schedule.Skipped)
	if !strings.Contains(wake.Note, "missed") || rec.count("wake") != 0 {
		t.Errorf("skipped wake-up: %q, ran %d times", wake.Note, rec.count("wake"))
	}
	if r.waitState("fresh", schedule.Done); rec.count("fresh") != 1 {
		t.Error("a wake-up within its grace was not run")
	}
}

// TestScheduleDeadClaimRunsOnceAfterLease: a job claimed by a process that
// died runs once, when the claim's lease ends, and never again.
func TestScheduleDeadClaimRunsOnceAfterLease(t *testing.T) {
	r := newRig(t, 1)
	if err := r.st.AddJob(t.Context(), schedule.Job{ID: "j", UserID: r.users[0], Kind: "reminder", Due: t0,
		Payload: []byte("{}"), State: schedule.Pending, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	// The dead process claimed it with a 5-minute lease and never finished.
	if js, err := r.st.Claim(t.Context(), []string{"reminder"}, t0, 5*time.Minute, "dead", 1); err != nil || len(js) != 1 {
		t.Fatalf("claim: %v %v", js, err)
	}
	rec := newRecorder()
	r.scheduler(map[string]schedule.Kind{"reminder": {Handler: rec.handle, Lease: 5 * time.Minute}})
	r.armedAt(t0.Add(5 * time.Minute))
	if rec.count("j") != 0 {
		t.Fatal("ran inside the dead claim's lease")
	}
	r.clock.Advance(5 * time.Minute)
	j := r.waitState("j", schedule.Done)
	if j.Attempts != 2 {
		t.Errorf("attempts %d, want 2", j.Attempts)
	}
	r.clock.Advance(time.Hour)
	if _, ok := r.clock.Next(); rec.count("j") != 1 {
		t.Fatalf("ran %d times (timer armed: %v)", rec.count("j"), ok)
	}
	if err := r.st.Settle(t.Context(), schedule.Outcome{ID: "j", Token: "dead", State: schedule.Done, Note: "", At: t0}); err == nil {
		t.Error("the dead process's token still finishes the job")
	}
}

// TestScheduleRestartLosesNoneRepeatsNone: 1,000 pending reminders of 100
// users; the scheduler is closed halfway and a new one opened on the same
// database file, as a restart does. Every reminder runs, each once.
func TestScheduleRestartLosesNoneRepeatsNone(t *testing.T) {
	const n = 1000
	r := newRig(t, 100)
	rec := newRecorder()
	kinds := map[string]schedule.Kind{"reminder": {Handler: rec.handle}}
	s1 := r.scheduler(kinds)
	for i := range n {
		if _, err := s1.Add(t.Context(), schedule.Job{UserID: r.users[i%100], Kind: "reminder",
			Due: t0.Add(time.Duration(i+1) * time.Second), Payload: []byte(fmt.Sprintf(`{"i":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	r.clock.Set(t0.Add(n / 2 * time.Second))
	testrig.Eventually(t, 30*time.Second, "the first half ran", func() (bool, string) {
		jobs, _ := rec.total()
		return jobs == n/2, fmt.Sprint(jobs)
	})
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.db.Close(); err != nil {
		t.Fatal(err)
	}

	r.open()
	s2 := r.scheduler(kinds)
	r.clock.Set(t0.Add(n*time.Second + time.Minute))
	testrig.Eventually(t, 30*time.Second, "all ran", func() (bool, string) {
		jobs, runs := rec.total()
		return jobs == n && runs == n, fmt.Sprint(jobs, " jobs ", runs, " runs")
	})
	rec.mu.Lock()
	for id, c := range rec.runs {
		if c != 1 {
			t.Errorf("%s ran %d times", id, c)
		}
	}
	rec.mu.Unlock()
	var done int
	for _, u := range r.users {
		js, err := r.st.ListJobs(t.Context(), u, schedule.Filter{States: []schedule.State{schedule.Done}})
		if err != nil {
			t.Fatal(err)
		}
		done += len(js)
	}
	if done != n {
		t.Errorf("%d jobs done in the database, want %d", done, n)
	}
	if st := s2.Stats(); st.Done != n/2 {
		t.Errorf("the second scheduler ran %d, want %d", st.Done, n/2)
	}
}

// TestScheduleIdleWakeups: with nothing due, the scheduler wakes once per
// MaxSleep, not once a second.
func TestScheduleIdleWakeups(t *testing.T) {
	r := newRig(t, 1)
	s := schedule.New(r.st, r.clock, clock.RandomIDs{}, schedule.Options{MaxSleep: time.Minute})
	s.Handle("reminder", schedule.Kind{Handler: newRecorder().handle})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 10 {
		r.armedAt(t0.Add(time.Duration(i+1) * time.Minute))
		r.clock.Advance(time.Minute)
	}
	r.armedAt(t0.Add(11 * time.Minute))
	if w := s.Stats().Wakeups; w != 10 {
		t.Errorf("%d wake-ups in 10 idle minutes, want 10", w)
	}
}
