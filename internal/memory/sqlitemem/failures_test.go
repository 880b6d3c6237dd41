package sqlitemem_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
)

// twoHandles runs f as a subtest on SQLite and on PostgreSQL with two
// Progress handles on one database, each over its own connection pool, as
// two nodes (or two processes) have them.
func twoHandles(t *testing.T, f func(t *testing.T, a, b *sqlitemem.Progress), users ...string) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "os1.db")
		first := openDB(t, path, users...)
		second := openDB(t, path)
		f(t, sqlitemem.NewProgressFor(first), sqlitemem.NewProgressFor(second))
	})
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.New(t)
		var h [2]*postgres.DB
		for i := range h {
			db, err := postgres.Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			h[i] = db
		}
		for _, u := range users {
			if err := h[0].CreateUser(t.Context(), store.User{ID: u, Username: u, DisplayName: u, Role: store.RoleMember, CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		f(t, sqlitemem.NewProgressFor(h[0]), sqlitemem.NewProgressFor(h[1]))
	})
}

func panicOf(id, user string, at time.Time) memory.Failure {
	return memory.Failure{Kind: memory.FailedConversation, ID: id, UserID: user, Error: "boom " + id, At: at}
}

// Panics counted through two handles at the same time add up: every count
// is taken once, exactly one panic quarantines the record, and the other
// handle sees it quarantined. A release through one handle deletes that
// record alone, and the other sees it gone.
func TestFailuresAddUpAcrossHandles(t *testing.T) {
	twoHandles(t, func(t *testing.T, a, b *sqlitemem.Progress) {
		ctx := t.Context()
		const after = 3
		if _, err := a.CountPanic(ctx, panicOf("c_other", "u1", t0), after); err != nil {
			t.Fatal(err)
		}
		const each = 8
		counts := make(chan memory.Failure, 2*each)
		var wg sync.WaitGroup
		for i := range 2 * each {
			p := a
			if i%2 == 1 {
				p = b
			}
			wg.Go(func() {
				f, err := p.CountPanic(ctx, panicOf("c1", "u1", t0.Add(time.Duration(i)*time.Second)), after)
				if err != nil {
					t.Error(err)
				}
				counts <- f
			})
		}
		wg.Wait()
		close(counts)
		var seen []int
		quarantining := 0
		for f := range counts {
			seen = append(seen, f.Count)
			if f.Quarantined != (f.Count >= after) {
				t.Errorf("count %d came back quarantined=%v", f.Count, f.Quarantined)
			}
			if f.Count == after {
				quarantining++
			}
		}
		slices.Sort(seen)
		want := make([]int, 2*each)
		for i := range want {
			want[i] = i + 1
		}
		if !slices.Equal(seen, want) {
			t.Fatalf("counts returned %v, want each of 1..%d once", seen, 2*each)
		}
		if quarantining != 1 {
			t.Errorf("%d panics reached the quarantine, want 1", quarantining)
		}
		for _, p := range []*sqlitemem.Progress{a, b} {
			f, found, err := p.Failure(ctx, memory.FailedConversation, "c1")
			if err != nil || !found || f.Count != 2*each || !f.Quarantined || f.UserID != "u1" {
				t.Fatalf("failure of c1: %+v, %v, %v; want quarantined, counted %d", f, found, err, 2*each)
			}
		}

		// Below the limit across the two: not quarantined; at it: quarantined.
		for i, p := range []*sqlitemem.Progress{a, b, a} {
			f, err := p.CountPanic(ctx, panicOf("c2", "u1", t0.Add(time.Duration(i)*time.Minute)), after)
			if err != nil || f.Count != i+1 || f.Quarantined != (i+1 == after) || f.Error != "boom c2" || !f.At.Equal(t0.Add(time.Duration(i)*time.Minute)) {
				t.Fatalf("panic %d of c2: %+v, %v", i+1, f, err)
			}
		}
		if q, err := memory.Quarantined(ctx, b, "u1"); err != nil || len(q) != 2 {
			t.Fatalf("quarantined seen through b: %+v, %v", q, err)
		}

		// A success forgets a count, never a quarantine.
		if err := b.ForgetFailure(ctx, memory.FailedConversation, "c2"); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := a.Failure(ctx, memory.FailedConversation, "c2"); !found {
			t.Fatal("a success dropped a quarantine")
		}

		// Release: another user's is not found; the owner's deletes one row.
		if _, err := b.ReleaseFailure(ctx, "u2", "c1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another user's release: %v, want ErrNotFound", err)
		}
		if _, err := b.ReleaseFailure(ctx, "u1", "c_other"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("releasing a record that is not quarantined: %v, want ErrNotFound", err)
		}
		f, err := b.ReleaseFailure(ctx, "u1", "c1")
		if err != nil || f.Kind != memory.FailedConversation || f.ID != "c1" || f.Count != 2*each {
			t.Fatalf("release of c1: %+v, %v", f, err)
		}
		if _, found, err := a.Failure(ctx, memory.FailedConversation, "c1"); err != nil || found {
			t.Fatalf("a still sees c1 after b released it (%v)", err)
		}
		if _, err := a.ReleaseFailure(ctx, "u1", "c1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("releasing twice: %v, want ErrNotFound", err)
		}
		fs, err := a.Failures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(ids(fs)); got != "[c_other:1:false c2:3:true]" {
			t.Errorf("failures left: %s", got)
		}
		// Counting afresh after the release.
		if f, err := a.CountPanic(ctx, panicOf("c1", "u1", t0), after); err != nil || f.Count != 1 || f.Quarantined {
			t.Errorf("first panic after the release: %+v, %v", f, err)
		}
		// A user who no longer exists keeps no failure.
		if f, err := a.CountPanic(ctx, panicOf("c9", "nobody", t0), after); err != nil || f != (memory.Failure{}) {
			t.Errorf("a panic of an unknown user's record: %+v, %v", f, err)
		}
		if _, found, _ := b.Failure(ctx, memory.FailedConversation, "c9"); found {
			t.Error("an unknown user's failure was saved")
		}
	}, "u1", "u2")
}

func ids(fs []memory.Failure) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%s:%d:%v", f.ID, f.Count, f.Quarantined)
	}
	return out
}
