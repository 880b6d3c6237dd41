// Package memorytest is the contract every memory.Store backend must pass.
//
// A backend's test calls Run with a function that opens an empty store in
// which the users UserA and UserB exist (backends with foreign keys to an
// accounts table create them first). The same suite then checks SQLite today
// and PostgreSQL later. It uses fixed times and hand-made 8-dimensional
// vectors, never the wall clock or a real embedder, and must depend only on
// what memory.go documents plus the orderings stated here:
//
//   - ListItems: newest ValidFrom first.
//   - Entities: by name, case-insensitively.
//   - Journals: by day, oldest first; the range is inclusive.
//   - SearchText and SearchVector: best first, Score not increasing.
package memorytest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
)

// The users every opened store must hold.
const (
	UserA = "mt_alice"
	UserB = "mt_bob"
)

// Run runs the whole contract suite. open must return a new, empty store for
// each call and arrange for it to be closed when t ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) memory.Store) {
	groups := []struct {
		name  string
		tests map[string]func(*testing.T, *fixture)
	}{
		{"Items", itemTests},
		{"History", historyTests},
		{"Forget", forgetTests},
		{"Entities", entityTests},
		{"Journals", journalTests},
		{"Messages", messageTests},
		{"Text", textTests},
		{"Vector", vectorTests},
		{"Isolation", isolationTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, name := range slices.Sorted(maps.Keys(g.tests)) {
				t.Run(name, func(t *testing.T) {
					g.tests[name](t, &fixture{t: t, s: open(t), ctx: t.Context()})
				})
			}
		})
	}
}

// t0 has nanoseconds so that a backend rounding to micro- or milliseconds fails.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// at returns t0 plus h hours.
func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// fixture is one subtest's store plus helpers that fail the test on error.
type fixture struct {
	t   *testing.T
	s   memory.Store
	ctx context.Context
}

// axis returns the unit vector along dimension i of 8, optionally mixed with
// a little of dimension j so that rankings are unambiguous.
func axis(i int) []float32 {
	v := make([]float32, 8)
	v[i%8] = 1
	return v
}

// mix returns a·axis(i) + b·axis(j).
func mix(i int, a float32, j int, b float32) []float32 {
	v := make([]float32, 8)
	v[i%8] += a
	v[j%8] += b
	return v
}

// item returns a valid fact for user, sourced from a message named after it.
func item(user, id, text string, validFrom time.Time) memory.Item {
	return memory.Item{
		ID: id, UserID: user, Kind: memory.KindFact, Text: text,
		Sources: []string{"msg_" + id}, Confidence: 0.9, Importance: 0.5,
		ValidFrom: validFrom, CreatedAt: validFrom, UpdatedAt: validFrom,
	}
}

func (f *fixture) add(it memory.Item, vec []float32) memory.Item {
	f.t.Helper()
	if err := f.s.AddItem(f.ctx, it, vec); err != nil {
		f.t.Fatalf("AddItem(%s): %v", it.ID, err)
	}
	return it
}

func (f *fixture) msg(user, id, text string, tm time.Time, vec []float32) memory.MessageDoc {
	f.t.Helper()
	// The speaker is a display name no query here uses: full text finds
	// a message by its speaker's name too.
	m := memory.MessageDoc{ID: id, UserID: user, ConversationID: "conv_" + user, Speaker: "Pat", Role: "user", Text: text, Time: tm}
	if err := f.s.IndexMessage(f.ctx, m, vec); err != nil {
		f.t.Fatalf("IndexMessage(%s): %v", id, err)
	}
	return m
}

func (f *fixture) entity(e memory.Entity) memory.Entity {
	f.t.Helper()
	if err := f.s.SaveEntity(f.ctx, e); err != nil {
		f.t.Fatalf("SaveEntity(%s): %v", e.ID, err)
	}
	return e
}

func (f *fixture) journal(j memory.Journal, vec []float32) memory.Journal {
	f.t.Helper()
	if err := f.s.SaveJournal(f.ctx, j, vec); err != nil {
		f.t.Fatalf("SaveJournal(%s): %v", j.Day, err)
	}
	return j
}

func (f *fixture) getItem(user, id string) memory.Item {
	f.t.Helper()
	it, err := f.s.Item(f.ctx, user, id)
	if err != nil {
		f.t.Fatalf("Item(%s, %s): %v", user, id, err)
	}
	return it
}

func (f *fixture) list(user string, flt memory.ItemFilter) []string {
	f.t.Helper()
	items, err := f.s.ListItems(f.ctx, user, flt)
	if err != nil {
		f.t.Fatalf("ListItems(%s, %+v): %v", user, flt, err)
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return ids
}

// text runs SearchText and returns the hit IDs, checking the invariants
// every hit list keeps (scores not increasing, sources set, user's own).
func (f *fixture) text(user string, q memory.Query) []string {
	f.t.Helper()
	hits, err := f.s.SearchText(f.ctx, user, q)
	if err != nil {
		f.t.Fatalf("SearchText(%s, %q): %v", user, q.Text, err)
	}
	return f.checkHits(hits, q)
}

func (f *fixture) vector(user string, vec []float32, q memory.Query) []string {
	f.t.Helper()
	hits, err := f.s.SearchVector(f.ctx, user, vec, q)
	if err != nil {
		f.t.Fatalf("SearchVector(%s, %v): %v", user, vec, err)
	}
	return f.checkHits(hits, q)
}

func (f *fixture) checkHits(hits []memory.Hit, q memory.Query) []string {
	f.t.Helper()
	limit := q.Limit
	if limit <= 0 {
		limit = 10
	}
	if len(hits) > limit {
		f.t.Errorf("%d hits, more than the limit %d", len(hits), limit)
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
		if i > 0 && h.Score > hits[i-1].Score {
			f.t.Errorf("hit %d (%s) scores %v, above hit %d's %v: not best first", i, h.ID, h.Score, i-1, hits[i-1].Score)
		}
		if len(h.Sources) == 0 {
			f.t.Errorf("hit %s has no Sources", h.ID)
		}
		if h.Kind == memory.DocMessage && !slices.Equal(h.Sources, []string{h.ID}) {
			f.t.Errorf("message hit %s has Sources %v, want itself", h.ID, h.Sources)
		}
		if (h.Kind == memory.DocItem) != (h.Item != nil) {
			f.t.Errorf("hit %s of kind %s: Item set = %v", h.ID, h.Kind, h.Item != nil)
		}
		if h.Item != nil && !q.History && !h.Item.Current() {
			f.t.Errorf("hit %s is a closed item, but History was not asked for", h.ID)
		}
		if !q.From.IsZero() || !q.To.IsZero() {
			in := func(t time.Time) bool {
				return !t.IsZero() && (q.From.IsZero() || !t.Before(q.From)) && (q.To.IsZero() || t.Before(q.To))
			}
			if !in(h.Time) && (h.Item == nil || !in(h.Item.EventTime)) {
				f.t.Errorf("hit %s at %s is outside [%s, %s)", h.ID, h.Time, q.From, q.To)
			}
		}
		if len(q.Kinds) > 0 && !slices.Contains(q.Kinds, h.Kind) {
			f.t.Errorf("hit %s is a %s, not one of %v", h.ID, h.Kind, q.Kinds)
		}
	}
	return ids
}

func (f *fixture) wantErr(err, target error, what string) {
	f.t.Helper()
	if !errors.Is(err, target) {
		f.t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func (f *fixture) wantIDs(what string, got []string, want ...string) {
	f.t.Helper()
	if len(want) == 0 {
		want = []string{}
	}
	if got == nil {
		got = []string{}
	}
	if !slices.Equal(got, want) {
		f.t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// wantSet is wantIDs ignoring order.
func (f *fixture) wantSet(what string, got []string, want ...string) {
	f.t.Helper()
	f.wantIDs(what, slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))...)
}

func ptr[T any](v T) *T { return &v }
