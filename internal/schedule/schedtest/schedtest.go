// Package schedtest is the contract every schedule.Store backend passes:
// jobs kept per user (another user's ids answer schedule.ErrNotFound on
// every method), claimed atomically (two claimers never share a job), a
// lapsed lease claimable again while its old token is refused, finish and
// release only by the claim's holder, snooze and cancel by state, the next
// due time across pending jobs and lapsed leases, quiet hours per user, and
// a user's jobs gone with the user.
package schedtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/schedule"
)

// Backend is a fresh, empty store and the hooks the suite needs on its
// database: newUser creates a user and returns the id, deleteUser deletes
// one.
type Backend struct {
	Store      schedule.Store
	NewUser    func(name string) string
	DeleteUser func(id string)
}

// Open returns a fresh Backend for one test.
type Open func(t *testing.T) Backend

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Run runs the contract suite against open.
func Run(t *testing.T, open Open) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e env)
	}{
		{"AddAndRead", testAddAndRead},
		{"Isolation", testIsolation},
		{"ClaimOnlyDue", testClaimOnlyDue},
		{"ClaimIsAtomic", testClaimIsAtomic},
		{"LapsedLease", testLapsedLease},
		{"FinishAndRelease", testFinishAndRelease},
		{"RescheduleAndCancel", testRescheduleAndCancel},
		{"NextDue", testNextDue},
		{"QuietHours", testQuietHours},
		{"UserDeleted", testUserDeleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := open(t)
			tt.fn(t, env{ctx: t.Context(), Backend: b, ana: b.NewUser("ana"), bob: b.NewUser("bob")})
		})
	}
}

type env struct {
	ctx context.Context
	Backend
	ana, bob string
}

func job(user, id, kind string, due time.Time) schedule.Job {
	return schedule.Job{ID: id, UserID: user, Kind: kind, Payload: []byte(`{"text":"call mum"}`), Due: due,
		State: schedule.Pending, CreatedAt: t0}
}

func (e env) add(t *testing.T, js ...schedule.Job) {
	t.Helper()
	for _, j := range js {
		if err := e.Store.AddJob(e.ctx, j); err != nil {
			t.Fatalf("AddJob %s: %v", j.ID, err)
		}
	}
}

func ids(js []schedule.Job) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

func testAddAndRead(t *testing.T, e env) {
	e.add(t, job(e.ana, "j2", "reminder", t0.Add(2*time.Hour)), job(e.ana, "j1", "reminder", t0.Add(time.Hour)),
		job(e.ana, "w1", "wakeup", t0.Add(3*time.Hour)))
	j, err := e.Store.Job(e.ctx, e.ana, "j1")
	if err != nil {
		t.Fatal(err)
	}
	if j.Kind != "reminder" || string(j.Payload) != `{"text":"call mum"}` || !j.Due.Equal(t0.Add(time.Hour)) ||
		j.State != schedule.Pending || j.Attempts != 0 || !j.CreatedAt.Equal(t0) || !j.FiredAt.IsZero() {
		t.Fatalf("read back %+v", j)
	}
	if err := e.Store.AddJob(e.ctx, job(e.ana, "j1", "reminder", t0)); !errors.Is(err, schedule.ErrConflict) {
		t.Errorf("a taken id: %v", err)
	}
	if err := e.Store.AddJob(e.ctx, job("usr_nobody", "j9", "reminder", t0)); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("a job of a user who does not exist: %v", err)
	}
	all, err := e.Store.ListJobs(e.ctx, e.ana, schedule.Filter{})
	if err != nil || !slices.Equal(ids(all), []string{"j1", "j2", "w1"}) {
		t.Fatalf("list, soonest first: %v %v", ids(all), err)
	}
	rem, _ := e.Store.ListJobs(e.ctx, e.ana, schedule.Filter{Kinds: []string{"wakeup"}})
	if !slices.Equal(ids(rem), []string{"w1"}) {
		t.Errorf("list by kind: %v", ids(rem))
	}
	one, _ := e.Store.ListJobs(e.ctx, e.ana, schedule.Filter{Limit: 1, States: []schedule.State{schedule.Pending}})
	if !slices.Equal(ids(one), []string{"j1"}) {
		t.Errorf("list with a limit: %v", ids(one))
	}
	none, _ := e.Store.ListJobs(e.ctx, e.ana, schedule.Filter{States: []schedule.State{schedule.Done}})
	if len(none) != 0 {
		t.Errorf("list done: %v", ids(none))
	}
}

func testIsolation(t *testing.T, e env) {
	e.add(t, job(e.ana, "j1", "reminder", t0))
	if _, err := e.Store.Job(e.ctx, e.bob, "j1"); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("Job of another user: %v", err)
	}
	if js, _ := e.Store.ListJobs(e.ctx, e.bob, schedule.Filter{}); len(js) != 0 {
		t.Errorf("ListJobs shows another user's: %v", ids(js))
	}
	if _, err := e.Store.Reschedule(e.ctx, e.bob, "j1", t0.Add(time.Hour), ""); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("Reschedule of another user's: %v", err)
	}
	if _, err := e.Store.Cancel(e.ctx, e.bob, "j1", "", t0); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("Cancel of another user's: %v", err)
	}
	if j, _ := e.Store.Job(e.ctx, e.ana, "j1"); j.State != schedule.Pending || !j.Due.Equal(t0) {
		t.Errorf("another user's calls changed it: %+v", j)
	}
}

func testClaimOnlyDue(t *testing.T, e env) {
	e.add(t, job(e.ana, "due", "reminder", t0), job(e.bob, "early", "reminder", t0.Add(-time.Minute)),
		job(e.ana, "later", "reminder", t0.Add(time.Second)), job(e.ana, "other", "brief", t0))
	got, err := e.Store.Claim(e.ctx, []string{"reminder"}, t0, time.Minute, "tok", 10)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b schedule.Job) int { return a.Due.Compare(b.Due) })
	if !slices.Equal(ids(got), []string{"early", "due"}) {
		t.Fatalf("claimed %v, want early and due (not later, not another kind)", ids(got))
	}
	for _, j := range got {
		if j.State != schedule.Running || j.Token != "tok" || j.Attempts != 1 || !j.ClaimedUntil.Equal(t0.Add(time.Minute)) {
			t.Errorf("claimed job %+v", j)
		}
	}
	if again, _ := e.Store.Claim(e.ctx, []string{"reminder"}, t0, time.Minute, "tok2", 10); len(again) != 0 {
		t.Errorf("claimed twice: %v", ids(again))
	}
	if n, _ := e.Store.Claim(e.ctx, []string{"reminder", "brief"}, t0.Add(time.Second), time.Minute, "tok3", 1); len(n) != 1 {
		t.Errorf("limit 1 claimed %v", ids(n))
	}
}

func testClaimIsAtomic(t *testing.T, e env) {
	const n = 300
	for i := range n {
		e.add(t, job(e.ana, fmt.Sprintf("j%03d", i), "reminder", t0.Add(time.Duration(i)*time.Millisecond)))
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := fmt.Sprintf("worker%d", w)
			for {
				js, err := e.Store.Claim(e.ctx, []string{"reminder"}, t0.Add(time.Second), time.Minute, tok, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(js) == 0 {
					return
				}
				mu.Lock()
				for _, j := range js {
					if prev, dup := seen[j.ID]; dup {
						t.Errorf("%s claimed by %s and %s", j.ID, prev, tok)
					}
					seen[j.ID] = tok
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d of %d", len(seen), n)
	}
}

func testLapsedLease(t *testing.T, e env) {
	e.add(t, job(e.ana, "j1", "reminder", t0))
	first, _ := e.Store.Claim(e.ctx, []string{"reminder"}, t0, time.Minute, "dead", 1)
	if len(first) != 1 {
		t.Fatalf("first claim: %v", ids(first))
	}
	if js, _ := e.Store.Claim(e.ctx, []string{"reminder"}, t0.Add(59*time.Second), time.Minute, "new", 1); len(js) != 0 {
		t.Fatalf("claimed inside the lease: %v", ids(js))
	}
	js, _ := e.Store.Claim(e.ctx, []string{"reminder"}, t0.Add(time.Minute), time.Minute, "new", 1)
	if len(js) != 1 || js[0].Attempts != 2 || js[0].Token != "new" {
		t.Fatalf("after the lease: %+v", js)
	}
	if err := e.Store.Settle(e.ctx, schedule.Outcome{ID: "j1", Token: "dead", State: schedule.Done, Note: "", At: t0}); !errors.Is(err, schedule.ErrLostClaim) {
		t.Errorf("Finish with the dead claim's token: %v", err)
	}
	if err := e.Store.Settle(e.ctx, schedule.Outcome{ID: "j1", Token: "new", State: schedule.Done, Note: "", At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if js, _ := e.Store.Claim(e.ctx, []string{"reminder"}, t0.Add(time.Hour), time.Minute, "late", 1); len(js) != 0 {
		t.Errorf("a done job claimed again: %v", ids(js))
	}
}

func testFinishAndRelease(t *testing.T, e env) {
	e.add(t, job(e.ana, "ok", "reminder", t0), job(e.ana, "bad", "reminder", t0), job(e.ana, "quiet", "reminder", t0))
	if _, err := e.Store.Claim(e.ctx, []string{"reminder"}, t0, time.Minute, "tok", 10); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(time.Second)
	if err := e.Store.Settle(e.ctx, schedule.Outcome{ID: "ok", Token: "tok", State: schedule.Done, Note: "ran late", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.Settle(e.ctx, schedule.Outcome{ID: "bad", Token: "tok", State: schedule.Failed, Note: "the model was down", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.Settle(e.ctx, schedule.Outcome{ID: "ok", Token: "tok", State: schedule.Failed, Note: "", At: at}); !errors.Is(err, schedule.ErrLostClaim) {
		t.Errorf("finishing a finished job: %v", err)
	}
	until := t0.Add(8 * time.Hour)
	if err := e.Store.Settle(e.ctx, schedule.Outcome{ID: "quiet", Token: "tok", State: schedule.Pending, Due: until, Note: "quiet hours"}); err != nil {
		t.Fatal(err)
	}
	ok, _ := e.Store.Job(e.ctx, e.ana, "ok")
	if ok.State != schedule.Done || ok.Note != "ran late" || !ok.FiredAt.Equal(at) || ok.Token != "" || !ok.ClaimedUntil.IsZero() {
		t.Errorf("done job %+v", ok)
	}
	if bad, _ := e.Store.Job(e.ctx, e.ana, "bad"); bad.State != schedule.Failed || bad.Note != "the model was down" {
		t.Errorf("failed job %+v", bad)
	}
	q, _ := e.Store.Job(e.ctx, e.ana, "quiet")
	if q.State != schedule.Pending || !q.Due.Equal(until) || q.Note != "quiet hours" || q.Token != "" || q.Attempts != 0 {
		t.Errorf("released job %+v", q)
	}
	if err := e.Store.Settle(e.ctx, schedule.Outcome{ID: "quiet", Token: "tok", State: schedule.Pending, Due: until, Note: ""}); !errors.Is(err, schedule.ErrLostClaim) {
		t.Errorf("releasing a pending job: %v", err)
	}
	// One lost claim in a batch leaves the others settled.
	e.add(t, job(e.ana, "b1", "reminder", t0), job(e.ana, "b2", "reminder", t0))
	if _, err := e.Store.Claim(e.ctx, []string{"reminder"}, t0, time.Minute, "tok2", 10); err != nil {
		t.Fatal(err)
	}
	err := e.Store.Settle(e.ctx, schedule.Outcome{ID: "b1", Token: "tok2", State: schedule.Done, At: at},
		schedule.Outcome{ID: "ok", Token: "tok2", State: schedule.Done, At: at},
		schedule.Outcome{ID: "b2", Token: "tok2", State: schedule.Skipped, Note: "missed", At: at})
	if !errors.Is(err, schedule.ErrLostClaim) {
		t.Errorf("a batch with a lost claim: %v", err)
	}
	if b1, _ := e.Store.Job(e.ctx, e.ana, "b1"); b1.State != schedule.Done {
		t.Errorf("b1 %+v", b1)
	}
	if b2, _ := e.Store.Job(e.ctx, e.ana, "b2"); b2.State != schedule.Skipped || b2.Note != "missed" {
		t.Errorf("b2 %+v", b2)
	}
}

func testRescheduleAndCancel(t *testing.T, e env) {
	e.add(t, job(e.ana, "p", "reminder", t0), job(e.ana, "r", "reminder", t0.Add(-time.Hour)), job(e.ana, "c", "reminder", t0.Add(time.Hour)))
	if _, err := e.Store.Claim(e.ctx, []string{"reminder"}, t0.Add(-time.Hour), time.Minute, "tok", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Reschedule(e.ctx, e.ana, "r", t0, ""); !errors.Is(err, schedule.ErrNotPending) {
		t.Errorf("snoozing a running job: %v", err)
	}
	if err := e.Store.Settle(e.ctx, schedule.Outcome{ID: "r", Token: "tok", State: schedule.Done, Note: "", At: t0}); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(10 * time.Minute)
	j, err := e.Store.Reschedule(e.ctx, e.ana, "r", later, "snoozed")
	if err != nil || j.State != schedule.Pending || !j.Due.Equal(later) || j.Attempts != 0 || !j.FiredAt.IsZero() || j.Note != "snoozed" {
		t.Fatalf("snoozing a done job: %+v %v", j, err)
	}
	if j, err = e.Store.Reschedule(e.ctx, e.ana, "p", later, ""); err != nil || !j.Due.Equal(later) {
		t.Fatalf("moving a pending job: %+v %v", j, err)
	}
	c, err := e.Store.Cancel(e.ctx, e.ana, "c", "cancelled", t0)
	if err != nil || c.State != schedule.Skipped || c.Note != "cancelled" {
		t.Fatalf("cancel: %+v %v", c, err)
	}
	if _, err := e.Store.Cancel(e.ctx, e.ana, "c", "cancelled", t0); !errors.Is(err, schedule.ErrNotPending) {
		t.Errorf("cancelling twice: %v", err)
	}
	if _, err := e.Store.Cancel(e.ctx, e.ana, "nope", "", t0); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("cancelling what does not exist: %v", err)
	}
	if js, _ := e.Store.Claim(e.ctx, []string{"reminder"}, t0.Add(24*time.Hour), time.Minute, "t2", 10); slices.Contains(ids(js), "c") {
		t.Error("a cancelled job was claimed")
	}
}

func testNextDue(t *testing.T, e env) {
	if _, ok, err := e.Store.NextDue(e.ctx, []string{"reminder"}); ok || err != nil {
		t.Fatalf("empty store: %v %v", ok, err)
	}
	e.add(t, job(e.ana, "a", "reminder", t0), job(e.bob, "b", "reminder", t0.Add(time.Hour)), job(e.ana, "x", "brief", t0.Add(-time.Hour)))
	if at, ok, _ := e.Store.NextDue(e.ctx, []string{"reminder"}); !ok || !at.Equal(t0) {
		t.Errorf("next due: %v %v", at, ok)
	}
	// Claimed, job a is next claimable when its lease ends, before b.
	if _, err := e.Store.Claim(e.ctx, []string{"reminder"}, t0, 5*time.Minute, "tok", 1); err != nil {
		t.Fatal(err)
	}
	if at, ok, _ := e.Store.NextDue(e.ctx, []string{"reminder"}); !ok || !at.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("next due with a claim out: %v %v", at, ok)
	}
	if err := e.Store.Settle(e.ctx, schedule.Outcome{ID: "a", Token: "tok", State: schedule.Done, Note: "", At: t0}); err != nil {
		t.Fatal(err)
	}
	if at, _, _ := e.Store.NextDue(e.ctx, []string{"reminder"}); !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("next due after a is done: %v", at)
	}
	if at, _, _ := e.Store.NextDue(e.ctx, []string{"reminder", "brief"}); !at.Equal(t0.Add(-time.Hour)) {
		t.Errorf("next due of two kinds: %v", at)
	}
	// A time with nanoseconds, as the real clock gives, comes back whole.
	odd := time.Date(2026, 12, 5, 12, 29, 8, 753123456, time.UTC)
	e.add(t, job(e.bob, "n", "wakeup", odd))
	if at, ok, err := e.Store.NextDue(e.ctx, []string{"wakeup"}); err != nil || !ok || !at.Equal(odd) {
		t.Errorf("next due with nanoseconds: %v %v %v", at, ok, err)
	}
}

func testQuietHours(t *testing.T, e env) {
	if q, err := e.Store.QuietHours(e.ctx, e.ana); err != nil || !q.Off() {
		t.Fatalf("none set: %v %v", q, err)
	}
	want := schedule.QuietHours{Start: 22 * 60, End: 7 * 60}
	if err := e.Store.SetQuietHours(e.ctx, e.ana, want); err != nil {
		t.Fatal(err)
	}
	if q, _ := e.Store.QuietHours(e.ctx, e.ana); q != want {
		t.Errorf("read back %v", q)
	}
	if q, _ := e.Store.QuietHours(e.ctx, e.bob); !q.Off() {
		t.Errorf("another user's: %v", q)
	}
	if err := e.Store.SetQuietHours(e.ctx, e.ana, schedule.QuietHours{Start: 1440, End: 0}); err == nil {
		t.Error("minute 1440 accepted")
	}
	if err := e.Store.SetQuietHours(e.ctx, "usr_nobody", want); !errors.Is(err, schedule.ErrNotFound) {
		t.Errorf("quiet hours of a user who does not exist: %v", err)
	}
	if err := e.Store.SetQuietHours(e.ctx, e.ana, schedule.QuietHours{}); err != nil {
		t.Fatal(err)
	}
	if q, _ := e.Store.QuietHours(e.ctx, e.ana); !q.Off() {
		t.Errorf("cleared: %v", q)
	}
}

func testUserDeleted(t *testing.T, e env) {
	e.add(t, job(e.ana, "a", "reminder", t0), job(e.bob, "b", "reminder", t0))
	if err := e.Store.SetQuietHours(e.ctx, e.ana, schedule.QuietHours{Start: 60, End: 120}); err != nil {
		t.Fatal(err)
	}
	e.DeleteUser(e.ana)
	js, err := e.Store.Claim(e.ctx, []string{"reminder"}, t0, time.Minute, "tok", 10)
	if err != nil || !slices.Equal(ids(js), []string{"b"}) {
		t.Fatalf("after deleting ana: claimed %v %v", ids(js), err)
	}
	if q, _ := e.Store.QuietHours(e.ctx, e.ana); !q.Off() {
		t.Errorf("ana's quiet hours outlived her: %v", q)
	}
}
