package books_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/books/sqlitebooks"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// desk is the user's documents as books reads them: each user's own.
type desk struct {
	mu   sync.Mutex
	docs map[string][]books.Letter // by user
}

func (d *desk) add(user string, ls ...books.Letter) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.docs == nil {
		d.docs = map[string][]books.Letter{}
	}
	d.docs[user] = append(d.docs[user], ls...)
}

func (d *desk) Letters(_ context.Context, user string) ([]books.Letter, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []books.Letter
	for _, l := range d.docs[user] {
		l.Body = ""
		out = append(out, l)
	}
	return out, nil
}

func (d *desk) Letter(_ context.Context, user, id string) (books.Letter, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range d.docs[user] {
		if l.ID == id {
			return l, nil
		}
	}
	return books.Letter{}, fmt.Errorf("document %s: %w", id, books.ErrNotFound)
}

// press is a typesetter that writes the manuscript as text, one step per
// letter, and may wait at a gate before finishing.
type press struct {
	gate    chan struct{}
	started chan struct{}
}

func (p *press) Typeset(ctx context.Context, format string, m books.Manuscript, w io.Writer, progress func(int, int)) error {
	if p.started != nil {
		p.started <- struct{}{}
	}
	fmt.Fprintf(w, "%s|%s|%s\n", strings.ToUpper(format), m.Title, m.Dedication)
	for i, l := range m.Letters {
		fmt.Fprintf(w, "%s: %s\n", l.Title, l.Body)
		progress(i+1, len(m.Letters))
	}
	if p.gate != nil {
		select {
		case <-p.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

type fixedModel struct{ p llm.Provider }

func (f fixedModel) Provider(context.Context) (llm.Provider, error) { return f.p, nil }

type setup struct {
	r        *testrig.Rig
	svc      *books.Service
	d        *desk
	ana, ben string
}

func newSetup(t *testing.T, p books.Typesetter) *setup {
	r := testrig.New(t)
	d := &desk{}
	ana, ben := r.User("ana", store.RoleOwner).ID, r.User("ben", store.RoleMember).ID
	d.add(ana, books.Letter{ID: "doc_1", Title: "To Chris, at fifty", Kind: "letter", Body: "Dear Chris, fifty years of you."},
		books.Letter{ID: "doc_2", Title: "To Léa", Kind: "letter", Body: "Chère Léa, merci."},
		books.Letter{ID: "doc_3", Title: "To my father", Kind: "letter", Body: "Dad, the garden is yours still."},
		books.Letter{ID: "doc_n", Title: "Shopping", Kind: "note", Body: "eggs"})
	d.add(ben, books.Letter{ID: "doc_b", Title: "Ben's", Kind: "letter", Body: "Ben's secret letter."})
	svc := &books.Service{Store: sqlitebooks.New(r.DB), Letters: d, Typesetter: p, Clock: r.Clock, IDs: clock.NewFakeIDs(),
		Models: fixedModel{r.Provider()}}
	t.Cleanup(func() { svc.Close() })
	return &setup{r: r, svc: svc, d: d, ana: ana, ben: ben}
}

func TestBooksOwnLettersOnly(t *testing.T) {
	s := newSetup(t, &press{})
	ctx := t.Context()
	if _, err := s.svc.Create(ctx, s.ana, books.NewBook{Title: " "}); !isInput(err) {
		t.Fatalf("no title: %v", err)
	}
	if _, err := s.svc.Create(ctx, s.ana, books.NewBook{Title: "Mine", Letters: []string{"doc_1", "doc_b"}}); !isInput(err) {
		t.Fatalf("another user's letter in ana's book: %v", err)
	}
	if _, err := s.svc.Create(ctx, s.ana, books.NewBook{Title: "Mine", Letters: []string{"doc_1", "doc_1"}}); !isInput(err) {
		t.Fatalf("a letter twice: %v", err)
	}
	b, err := s.svc.Create(ctx, s.ana, books.NewBook{Title: "  Letters  ", Author: "Ana", Letters: []string{"doc_1", "doc_2"}})
	if err != nil || b.Title != "Letters" || !slices.Equal(b.Letters, []string{"doc_1", "doc_2"}) {
		t.Fatalf("create: %+v, %v", b, err)
	}
	if b, err = s.svc.AddLetter(ctx, s.ana, b.ID, "doc_3"); err != nil || len(b.Letters) != 3 {
		t.Fatalf("add: %+v, %v", b, err)
	}
	if _, err := s.svc.AddLetter(ctx, s.ana, b.ID, "doc_b"); !isInput(err) {
		t.Fatalf("adding ben's letter: %v", err)
	}
	if _, err := s.svc.Reorder(ctx, s.ana, b.ID, []string{"doc_3", "doc_1"}); !isInput(err) {
		t.Fatalf("an order missing a letter: %v", err)
	}
	if b, err = s.svc.Reorder(ctx, s.ana, b.ID, []string{"doc_3", "doc_1", "doc_2"}); err != nil || b.Letters[0] != "doc_3" {
		t.Fatalf("reorder: %+v, %v", b, err)
	}
	if b, err = s.svc.RemoveLetter(ctx, s.ana, b.ID, "doc_1"); err != nil || !slices.Equal(b.Letters, []string{"doc_3", "doc_2"}) {
		t.Fatalf("remove: %+v, %v", b, err)
	}
	ded := "For Chris"
	if b, err = s.svc.Update(ctx, s.ana, b.ID, books.Edit{Dedication: &ded}); err != nil || b.Dedication != ded || b.Title != "Letters" {
		t.Fatalf("edit: %+v, %v", b, err)
	}
	nul := "For\x00Chris"
	if _, err := s.svc.Update(ctx, s.ana, b.ID, books.Edit{Foreword: &nul}); !isInput(err) {
		t.Fatalf("a NUL in the foreword: %v", err)
	}
	// Ben sees none of it, and cannot change or build it.
	if _, err := s.svc.Get(ctx, s.ben, b.ID); !errors.Is(err, books.ErrNotFound) {
		t.Fatalf("ben reading: %v", err)
	}
	if _, err := s.svc.Update(ctx, s.ben, b.ID, books.Edit{Dedication: &ded}); !errors.Is(err, books.ErrNotFound) {
		t.Fatalf("ben editing: %v", err)
	}
	if _, err := s.svc.Build(ctx, s.ben, b.ID, books.PDF); !errors.Is(err, books.ErrNotFound) {
		t.Fatalf("ben building: %v", err)
	}
	if list, _ := s.svc.List(ctx, s.ben); len(list) != 0 {
		t.Fatalf("ben's list: %+v", list)
	}
}

func isInput(err error) bool {
	var in *books.InputError
	return errors.As(err, &in)
}

// A build runs in the background: Build answers at once, the status moves
// through the steps, Progress hears them, and the stored file is the
// typesetter's output of the letters in order.
func TestBuildInBackground(t *testing.T) {
	p := &press{gate: make(chan struct{}), started: make(chan struct{}, 1)}
	s := newSetup(t, p)
	var mu sync.Mutex
	var heard []books.BuildStatus
	s.svc.Progress = func(user string, st books.BuildStatus) {
		if user != s.ana {
			t.Errorf("progress for %s", user)
		}
		mu.Lock()
		heard = append(heard, st)
		mu.Unlock()
	}
	ctx := t.Context()
	b, err := s.svc.Create(ctx, s.ana, books.NewBook{Title: "Letters", Dedication: "For Chris", Letters: []string{"doc_3", "doc_1", "doc_2"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Build(ctx, s.ana, b.ID, "docx"); !isInput(err) {
		t.Fatalf("docx: %v", err)
	}
	st, err := s.svc.Build(ctx, s.ana, b.ID, books.PDF)
	if err != nil || (st.State != books.StateQueued && st.State != books.StateRunning) || st.Total != 7 {
		t.Fatalf("build: %+v, %v", st, err)
	}
	<-p.started
	// Held at the gate: the build is running, and a second Build joins it.
	testrig.Eventually(t, 5*time.Second, "typesetting at 6 of 7", func() (bool, string) {
		st, _ := s.svc.Status(ctx, s.ana, b.ID, books.PDF)
		return st.State == books.StateRunning && st.Done == 6, fmt.Sprintf("%+v", st)
	})
	if again, _ := s.svc.Build(ctx, s.ana, b.ID, books.PDF); again.State != books.StateRunning {
		t.Fatalf("second build: %+v", again)
	}
	if _, err := s.svc.File(ctx, s.ana, b.ID, books.PDF); !errors.Is(err, books.ErrNotBuilt) {
		t.Fatalf("file before the build ends: %v", err)
	}
	close(p.gate)
	testrig.Eventually(t, 5*time.Second, "built", func() (bool, string) {
		st, _ := s.svc.Status(ctx, s.ana, b.ID, books.PDF)
		return st.State == books.StateDone, fmt.Sprintf("%+v", st)
	})
	f, err := s.svc.File(ctx, s.ana, b.ID, books.PDF)
	want := "PDF|Letters|For Chris\nTo my father: Dad, the garden is yours still.\nTo Chris, at fifty: Dear Chris, fifty years of you.\nTo Léa: Chère Léa, merci.\n"
	if err != nil || string(f.Data) != want || f.Size != len(want) || len(f.SHA256) != 64 {
		t.Fatalf("file: %q, %v", f.Data, err)
	}
	if _, err := s.svc.File(ctx, s.ben, b.ID, books.PDF); !errors.Is(err, books.ErrNotFound) {
		t.Fatalf("ben's download: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(heard) < 4 || heard[len(heard)-1].State != books.StateDone || heard[len(heard)-1].Done != 7 {
		t.Fatalf("progress heard: %+v", heard)
	}
	for i := 1; i < len(heard); i++ {
		if heard[i].Done < heard[i-1].Done {
			t.Fatalf("progress went back: %+v", heard)
		}
	}
}

// A letter deleted since it was put in the book fails the build with a
// message the user can act on; the service keeps serving.
func TestBuildOfDeletedLetterFails(t *testing.T) {
	s := newSetup(t, &press{})
	ctx := t.Context()
	b, err := s.svc.Create(ctx, s.ana, books.NewBook{Title: "Letters", Letters: []string{"doc_1"}})
	if err != nil {
		t.Fatal(err)
	}
	s.d.mu.Lock()
	s.d.docs[s.ana] = s.d.docs[s.ana][1:]
	s.d.mu.Unlock()
	if _, err := s.svc.Build(ctx, s.ana, b.ID, books.EPUB); err != nil {
		t.Fatal(err)
	}
	testrig.Eventually(t, 5*time.Second, "failed", func() (bool, string) {
		st, _ := s.svc.Status(ctx, s.ana, b.ID, books.EPUB)
		return st.State == books.StateFailed && strings.Contains(st.Error, "doc_1 of the book was deleted"), fmt.Sprintf("%+v", st)
	})
}

// "Your best ten" from the scripted model: ids that are not the user's
// letters (ben's, a note's twin made up, a repeat, one without a reason)
// are dropped; the letters reach the model quoted, and ben's never.
func TestProposeKeepsOnlyOwnLetters(t *testing.T) {
	s := newSetup(t, &press{})
	s.r.LLM.Enqueue(llmtest.Reply{Chunks: []string{"<think>hm</think>```json\n{\"picks\":[",
		`{"id":"doc_2","reason":"Tender and specific."},`,
		`{"id":"doc_b","reason":"Ben's."},{"id":"doc_9","reason":"Made up."},{"id":"doc_2","reason":"Again."},`,
		`{"id":"doc_3","reason":""},{"id":"doc_1","reason":"The\nbest."}]}` + "\n```"}})
	picks, err := s.svc.Propose(t.Context(), s.ana, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(picks) != 2 || picks[0].ID != "doc_2" || picks[0].Title != "To Léa" || picks[1].ID != "doc_1" || picks[1].Reason != "The best." {
		t.Fatalf("picks: %+v", picks)
	}
	reqs := s.r.LLM.Requests()
	prompt := reqs[len(reqs)-1].Messages[len(reqs[len(reqs)-1].Messages)-1].Content
	if !strings.Contains(prompt, "Dad, the garden is yours still.") || strings.Contains(prompt, "Ben's secret") || strings.Contains(prompt, "eggs") {
		t.Fatalf("prompt: %s", prompt)
	}
	s.r.LLM.Enqueue(llmtest.Reply{Chunks: []string{"I think doc_1 is best."}})
	if _, err := s.svc.Propose(t.Context(), s.ana, 10); !errors.Is(err, books.ErrBadAnswer) {
		t.Fatalf("prose answer: %v", err)
	}
	s.svc.Models = nil
	if _, err := s.svc.Propose(t.Context(), s.ana, 10); !errors.Is(err, books.ErrNoModel) {
		t.Fatalf("no model: %v", err)
	}
}

func TestDraftForeword(t *testing.T) {
	s := newSetup(t, &press{})
	b, err := s.svc.Create(t.Context(), s.ana, books.NewBook{Title: "Letters", Letters: []string{"doc_1"}})
	if err != nil {
		t.Fatal(err)
	}
	s.r.LLM.Enqueue(llmtest.Reply{Chunks: []string{"<think>x</think>\nThese letters ", "are for the people I love.\n\nAll of them."}})
	got, err := s.svc.DraftForeword(t.Context(), s.ana, b.ID)
	if err != nil || got != "These letters are for the people I love.\n\nAll of them." {
		t.Fatalf("foreword: %q, %v", got, err)
	}
	if _, err := s.svc.DraftForeword(t.Context(), s.ben, b.ID); !errors.Is(err, books.ErrNotFound) {
		t.Fatalf("ben drafting ana's: %v", err)
	}
}

// A long build holds neither requests nor other users: with one
// typesetting slot taken by Ana's held build, Ben's build waits its turn
// (queued), every other call answers at once, and Ben's runs when Ana's ends.
func TestLongBuildBlocksNothing(t *testing.T) {
	p := &press{gate: make(chan struct{}), started: make(chan struct{}, 2)}
	s := newSetup(t, p)
	s.svc.MaxBuilds = 1
	ctx := t.Context()
	a, err := s.svc.Create(ctx, s.ana, books.NewBook{Title: "Ana's", Letters: []string{"doc_1", "doc_2", "doc_3"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.svc.Create(ctx, s.ben, books.NewBook{Title: "Ben's", Letters: []string{"doc_b"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Build(ctx, s.ana, a.ID, books.PDF); err != nil {
		t.Fatal(err)
	}
	<-p.started
	if st, err := s.svc.Build(ctx, s.ben, b.ID, books.EPUB); err != nil || st.State != books.StateQueued {
		t.Fatalf("ben's build while ana's runs: %+v, %v", st, err)
	}
	if list, err := s.svc.List(ctx, s.ben); err != nil || len(list) != 1 {
		t.Fatalf("a list while a build runs: %v, %v", list, err)
	}
	if st, _ := s.svc.Status(ctx, s.ben, b.ID, books.EPUB); st.State != books.StateQueued {
		t.Fatalf("ben's status: %+v", st)
	}
	close(p.gate)
	for _, c := range []struct{ user, id, format string }{{s.ana, a.ID, books.PDF}, {s.ben, b.ID, books.EPUB}} {
		testrig.Eventually(t, 5*time.Second, "built", func() (bool, string) {
			st, _ := s.svc.Status(ctx, c.user, c.id, c.format)
			return st.State == books.StateDone, st.State
		})
	}
}
