// Package proactivetest is for tests only: the contract suite every
// proactive.Store backend passes.
package proactivetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/proactive"
)

// Factory returns an empty store, a function that creates a user (by
// name) and returns the user's ID, and one that stores a message the user
// wrote at a time (for LastUserMessage).
type Factory func(t *testing.T) (st proactive.Store, user func(name string) string, say func(userID string, at time.Time))

var day = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// Run runs the suite.
func Run(t *testing.T, newStore Factory) {
	// Settings: defaults until saved, saved per user.
	t.Run("Settings", func(t *testing.T) {
		st, user, _ := newStore(t)
		ana, ben := user("ana"), user("ben")
		s, err := st.Settings(t.Context(), ana)
		if err != nil || s.DailyCount != proactive.DefaultCount || s.DailyTokens != proactive.DefaultTokens || s.CheckIn {
			t.Fatalf("defaults %+v %v", s, err)
		}
		want := proactive.Settings{DailyCount: 1, DailyTokens: 500, MeetingLead: 5, CheckIn: true, SilenceDays: 7,
			Muted: []proactive.Trigger{proactive.TriggerMail, proactive.TriggerBirthday}, UpdatedAt: day}
		if err := st.SaveSettings(t.Context(), ana, want); err != nil {
			t.Fatal(err)
		}
		got, _ := st.Settings(t.Context(), ana)
		if got.DailyCount != 1 || got.DailyTokens != 500 || got.MeetingLead != 5 || !got.CheckIn || got.SilenceDays != 7 ||
			!slices.Equal(got.Muted, want.Muted) || !got.UpdatedAt.Equal(day) {
			t.Fatalf("saved %+v, read %+v", want, got)
		}
		if b, _ := st.Settings(t.Context(), ben); b.DailyCount != proactive.DefaultCount || len(b.Muted) != 0 {
			t.Fatalf("another user's settings: %+v", b)
		}
		if err := st.SaveSettings(t.Context(), "usr_nobody", want); !errors.Is(err, proactive.ErrNotFound) {
			t.Fatalf("settings of no user: %v", err)
		}
	})

	// Claim: a key is sent once per user; the count holds from since;
	// uncounted messages (reminders) pass it; a failed message frees its
	// key; the log and usage are the user's alone.
	t.Run("Claim", func(t *testing.T) {
		st, user, _ := newStore(t)
		ana, ben := user("ana"), user("ben")
		n := 0
		entry := func(user, key string, counted bool, at time.Time) proactive.Entry {
			n++
			return proactive.Entry{ID: "pro_" + string(rune('a'+n)), UserID: user, Trigger: proactive.TriggerFollowup, Key: key,
				Reason: "r", Outcome: proactive.Sent, Counted: counted, At: at}
		}
		if err := st.Claim(t.Context(), entry(ana, "k1", true, day.Add(time.Hour)), day, 2); err != nil {
			t.Fatal(err)
		}
		if err := st.Claim(t.Context(), entry(ana, "k1", true, day.Add(2*time.Hour)), day, 2); !errors.Is(err, proactive.ErrAlreadySent) {
			t.Fatalf("the same key twice: %v", err)
		}
		if err := st.Claim(t.Context(), entry(ben, "k1", true, day.Add(time.Hour)), day, 2); err != nil {
			t.Fatalf("another user's same key: %v", err)
		}
		if err := st.Claim(t.Context(), entry(ana, "k2", true, day.Add(3*time.Hour)), day, 2); err != nil {
			t.Fatal(err)
		}
		if err := st.Claim(t.Context(), entry(ana, "k3", true, day.Add(4*time.Hour)), day, 2); !errors.Is(err, proactive.ErrOverCount) {
			t.Fatalf("a third of two: %v", err)
		}
		if err := st.Claim(t.Context(), entry(ana, "r1", false, day.Add(4*time.Hour)), day, 2); err != nil {
			t.Fatalf("an uncounted message over the count: %v", err)
		}
		if err := st.Claim(t.Context(), entry(ana, "k3", true, day.Add(25*time.Hour)), day.Add(24*time.Hour), 2); err != nil {
			t.Fatalf("the next day: %v", err)
		}
		// A failed message frees its key.
		e := entry(ana, "k4", true, day.Add(26*time.Hour))
		if err := st.Claim(t.Context(), e, day.Add(24*time.Hour), 5); err != nil {
			t.Fatal(err)
		}
		if err := st.Finish(t.Context(), ana, e.ID, proactive.Failed, "no model", 0, ""); err != nil {
			t.Fatal(err)
		}
		if err := st.Claim(t.Context(), entry(ana, "k4", true, day.Add(27*time.Hour)), day.Add(24*time.Hour), 5); err != nil {
			t.Fatalf("a failed key again: %v", err)
		}
		if err := st.Finish(t.Context(), ben, e.ID, proactive.Sent, "", 10, "c"); !errors.Is(err, proactive.ErrNotFound) {
			t.Fatalf("another user's entry finished: %v", err)
		}
		if err := st.Add(t.Context(), proactive.Entry{ID: "pro_held", UserID: ana, Trigger: proactive.TriggerMeeting, Key: "m",
			Reason: "r", Outcome: proactive.Held, Hold: proactive.HoldQuiet, Note: "held", At: day.Add(28 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := st.Finish(t.Context(), ana, "pro_b", proactive.Sent, "", 40, "conv1"); err != nil {
			t.Fatal(err)
		}
		c, tokens, err := st.Usage(t.Context(), ana, day)
		if err != nil || c != 4 || tokens != 40 {
			t.Fatalf("usage %d %d %v; want 4 counted (k1, k2, k3, k4) and 40 tokens", c, tokens, err)
		}
		l, err := st.Log(t.Context(), ana, 100)
		if err != nil || len(l) != 7 || l[0].ID != "pro_held" || l[0].Hold != proactive.HoldQuiet {
			t.Fatalf("log %+v %v", l, err)
		}
		if l, _ := st.Log(t.Context(), ben, 100); len(l) != 1 {
			t.Fatalf("ben's log %+v", l)
		}
	})

	// Claims racing (schedulers on several nodes, or a re-plan beside a
	// send) keep the count and the key: of claims of different keys over
	// a count of 3, exactly 3 pass; of claims of one key, exactly one.
	t.Run("ClaimRace", func(t *testing.T) {
		st, user, _ := newStore(t)
		ana, ben := user("ana"), user("ben")
		const n = 16
		race := func(claim func(i int) error) []error {
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = claim(i)
				}()
			}
			close(start)
			wg.Wait()
			return errs
		}
		count := func(errs []error, want error) (ok, matched int) {
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, want):
					matched++
				default:
					t.Errorf("claim: %v", err)
				}
			}
			return ok, matched
		}
		errs := race(func(i int) error {
			return st.Claim(t.Context(), proactive.Entry{ID: fmt.Sprintf("pro_c%02d", i), UserID: ana, Trigger: proactive.TriggerMail,
				Key: fmt.Sprintf("k%02d", i), Reason: "r", Outcome: proactive.Sent, Counted: true, At: day.Add(time.Hour)}, day, 3)
		})
		if ok, over := count(errs, proactive.ErrOverCount); ok != 3 || over != n-3 {
			t.Errorf("%d claims of a count of 3 passed, %d over the count; want 3 and %d", ok, over, n-3)
		}
		if c, _, err := st.Usage(t.Context(), ana, day); err != nil || c != 3 {
			t.Errorf("usage after the race: %d, %v; want 3", c, err)
		}
		errs = race(func(i int) error {
			return st.Claim(t.Context(), proactive.Entry{ID: fmt.Sprintf("pro_k%02d", i), UserID: ben, Trigger: proactive.TriggerMeeting,
				Key: "meeting-1", Reason: "r", Outcome: proactive.Sent, At: day.Add(time.Hour)}, day, 1)
		})
		if ok, sent := count(errs, proactive.ErrAlreadySent); ok != 1 || sent != n-1 {
			t.Errorf("%d claims of one key passed, %d found it sent; want 1 and %d", ok, sent, n-1)
		}
		if l, err := st.Log(t.Context(), ben, 100); err != nil || len(l) != 1 {
			t.Errorf("ben's log after the race: %+v, %v; want one entry", l, err)
		}
	})

	// A failure whose note holds a NUL and bytes that are not UTF-8 (a
	// model's error) is still recorded, so its key is free again.
	t.Run("FinishWithOddNote", func(t *testing.T) {
		st, user, _ := newStore(t)
		ana := user("ana")
		e := proactive.Entry{ID: "pro_odd", UserID: ana, Trigger: proactive.TriggerMail, Key: "k", Reason: "r",
			Outcome: proactive.Sent, Counted: true, At: day.Add(time.Hour)}
		if err := st.Claim(t.Context(), e, day, 5); err != nil {
			t.Fatal(err)
		}
		if err := st.Finish(t.Context(), ana, e.ID, proactive.Failed, "model said \x00\xff\xfe no", 0, ""); err != nil {
			t.Fatalf("finish with an odd note: %v", err)
		}
		l, err := st.Log(t.Context(), ana, 10)
		if err != nil || len(l) != 1 || l[0].Outcome != proactive.Failed || !strings.HasPrefix(l[0].Note, "model said ") || !strings.HasSuffix(l[0].Note, " no") {
			t.Fatalf("log: %+v, %v", l, err)
		}
		e.ID, e.At = "pro_odd2", day.Add(2*time.Hour)
		if err := st.Claim(t.Context(), e, day, 5); err != nil {
			t.Fatalf("the failed key again: %v", err)
		}
	})

	// LastUserMessage: the user's own newest message, zero before any.
	t.Run("LastUserMessage", func(t *testing.T) {
		st, user, say := newStore(t)
		ana, ben := user("ana"), user("ben")
		if last, err := st.LastUserMessage(t.Context(), ana); err != nil || !last.IsZero() {
			t.Fatalf("before any message: %v %v", last, err)
		}
		say(ana, day.Add(time.Hour))
		say(ana, day.Add(3*time.Hour))
		say(ben, day.Add(5*time.Hour))
		if last, err := st.LastUserMessage(t.Context(), ana); err != nil || !last.Equal(day.Add(3*time.Hour)) {
			t.Fatalf("ana's last message: %v %v", last, err)
		}
	})
}
