// Package docstest is for tests only: the contract suite every
// documents.Store backend passes, run through documents.Service so the
// numbering, conflicts and restores are checked end to end.
package docstest

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/documents"
)

// Factory returns an empty store and a function that creates a user (by
// name) and returns the user's ID.
type Factory func(t *testing.T) (documents.Store, func(name string) string)

var at = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

func service(t *testing.T, newStore Factory) (*documents.Service, *clock.Fake, func(string) string) {
	st, user := newStore(t)
	c := clock.NewFake(at)
	return documents.New(st, c, clock.NewFakeIDs()), c, user
}

// Run runs the suite.
func Run(t *testing.T, newStore Factory) {
	t.Run("CreateGetList", func(t *testing.T) {
		svc, c, user := service(t, newStore)
		ctx := t.Context()
		ana := user("ana")
		d, err := svc.Create(ctx, ana, documents.NewDocument{Title: "  For  Chris ", Body: "Dear Chris,\n\nHappy 50th! 🎉 — Zoë, שלום\n"})
		if err != nil {
			t.Fatal(err)
		}
		if d.ID == "" || d.Title != "For Chris" || d.Kind != documents.KindLetter || d.Version != 1 || d.Source != documents.SourceUser ||
			!d.CreatedAt.Equal(at) || !d.UpdatedAt.Equal(at) {
			t.Fatalf("created: %+v", d)
		}
		got, err := svc.Get(ctx, ana, d.ID)
		if err != nil || got.Body != d.Body || got.Title != d.Title || got.Version != 1 || !got.CreatedAt.Equal(at) {
			t.Fatalf("get: %+v, %v", got, err)
		}
		c.Advance(time.Minute)
		n, err := svc.Create(ctx, ana, documents.NewDocument{Kind: "note", Body: "# Ideas for the book\n- one"})
		if err != nil || n.Title != "Ideas for the book" || n.Kind != documents.KindNote {
			t.Fatalf("untitled note: %+v, %v", n, err)
		}
		list, err := svc.List(ctx, ana)
		if err != nil || len(list) != 2 || list[0].ID != n.ID || list[1].ID != d.ID {
			t.Fatalf("list (newest first): %+v, %v", list, err)
		}
		for _, l := range list {
			if l.Body != "" {
				t.Fatalf("list carries a body: %+v", l)
			}
		}
	})

	t.Run("IsolationBetweenUsers", func(t *testing.T) {
		svc, _, user := service(t, newStore)
		ctx := t.Context()
		ana, ben := user("ana"), user("ben")
		d, err := svc.Create(ctx, ana, documents.NewDocument{Title: "Private", Body: "only Ana's words"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Get(ctx, ben, d.ID); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("ben reads ana's: %v", err)
		}
		if _, err := svc.Save(ctx, ben, d.ID, documents.Edit{Body: "ben was here", BaseVersion: 1}); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("ben saves ana's: %v", err)
		}
		if _, err := svc.Versions(ctx, ben, d.ID); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("ben lists ana's versions: %v", err)
		}
		if _, err := svc.Version(ctx, ben, d.ID, 1); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("ben reads ana's version: %v", err)
		}
		if _, err := svc.Restore(ctx, ben, d.ID, 1); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("ben restores ana's: %v", err)
		}
		if err := svc.Delete(ctx, ben, d.ID); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("ben deletes ana's: %v", err)
		}
		if list, _ := svc.List(ctx, ben); len(list) != 0 {
			t.Fatalf("ben's list: %+v", list)
		}
		if hits, _ := svc.Search(ctx, ben, "Ana's words", 10); len(hits) != 0 {
			t.Fatalf("ben's search finds ana's: %+v", hits)
		}
		if got, err := svc.Get(ctx, ana, d.ID); err != nil || got.Body != "only Ana's words" || got.Version != 1 {
			t.Fatalf("ana's after ben's tries: %+v, %v", got, err)
		}
	})

	t.Run("EverySaveIsAVersion", func(t *testing.T) {
		svc, c, user := service(t, newStore)
		ctx := t.Context()
		ana := user("ana")
		d, _ := svc.Create(ctx, ana, documents.NewDocument{Title: "Draft", Body: "one"})
		c.Advance(time.Minute)
		d2, err := svc.Save(ctx, ana, d.ID, documents.Edit{Body: "one\ntwo", BaseVersion: 1})
		if err != nil || d2.Version != 2 || d2.Title != "Draft" || d2.Body != "one\ntwo" || !d2.UpdatedAt.Equal(at.Add(time.Minute)) || !d2.CreatedAt.Equal(at) {
			t.Fatalf("save 2: %+v, %v", d2, err)
		}
		c.Advance(time.Minute)
		d3, err := svc.Save(ctx, ana, d.ID, documents.Edit{Title: "Final", Body: "one\ntwo\nthree", BaseVersion: 2, Source: documents.SourceOS1})
		if err != nil || d3.Version != 3 || d3.Title != "Final" || d3.Source != documents.SourceOS1 {
			t.Fatalf("save 3: %+v, %v", d3, err)
		}
		// Saving what is already there adds nothing.
		same, err := svc.Save(ctx, ana, d.ID, documents.Edit{Title: "Final", Body: "one\ntwo\nthree", BaseVersion: 3})
		if err != nil || same.Version != 3 {
			t.Fatalf("unchanged save: %+v, %v", same, err)
		}
		vs, err := svc.Versions(ctx, ana, d.ID)
		if err != nil || len(vs) != 3 || vs[0].N != 3 || vs[1].N != 2 || vs[2].N != 1 {
			t.Fatalf("versions: %+v, %v", vs, err)
		}
		if vs[0].Source != "os1" || vs[1].Source != "user" || vs[2].Title != "Draft" || vs[0].Body != "" || !vs[1].SavedAt.Equal(at.Add(time.Minute)) {
			t.Fatalf("versions: %+v", vs)
		}
		v1, err := svc.Version(ctx, ana, d.ID, 1)
		if err != nil || v1.Body != "one" || v1.Title != "Draft" || v1.N != 1 {
			t.Fatalf("version 1: %+v, %v", v1, err)
		}
		if _, err := svc.Version(ctx, ana, d.ID, 4); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("version 4: %v", err)
		}
	})

	t.Run("ConflictOnStaleBase", func(t *testing.T) {
		svc, _, user := service(t, newStore)
		ctx := t.Context()
		ana := user("ana")
		d, _ := svc.Create(ctx, ana, documents.NewDocument{Title: "Shared", Body: "tab one and tab two"})
		if _, err := svc.Save(ctx, ana, d.ID, documents.Edit{Body: "tab one wrote this", BaseVersion: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := svc.Save(ctx, ana, d.ID, documents.Edit{Body: "tab two wrote that", BaseVersion: 1})
		var ce *documents.ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, documents.ErrConflict) {
			t.Fatalf("stale save: %v", err)
		}
		if ce.Current.Version != 2 || ce.Current.Body != "tab one wrote this" || ce.Base != 1 {
			t.Fatalf("conflict's current: %+v", ce)
		}
		// A retried save whose answer was lost is no conflict.
		again, err := svc.Save(ctx, ana, d.ID, documents.Edit{Body: "tab one wrote this", BaseVersion: 1})
		if err != nil || again.Version != 2 {
			t.Fatalf("retried save: %+v, %v", again, err)
		}
		if vs, _ := svc.Versions(ctx, ana, d.ID); len(vs) != 2 {
			t.Fatalf("%d versions after a conflict, want 2", len(vs))
		}
	})

	t.Run("ConcurrentSavesOneWins", func(t *testing.T) {
		st, user := newStore(t)
		ctx := t.Context()
		ana := user("ana")
		svc := documents.New(st, clock.NewFake(at), clock.NewFakeIDs())
		d, _ := svc.Create(ctx, ana, documents.NewDocument{Title: "Race", Body: "start"})
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, conflicts := 0, 0
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := st.AddVersion(ctx, ana, d.ID, 1, documents.Version{Title: "Race", Body: strings.Repeat("x", i+1), Source: "user", SavedAt: at})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, documents.ErrConflict):
					conflicts++
				default:
					t.Errorf("save: %v", err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || conflicts != 7 {
			t.Fatalf("%d saves on version 1 won, %d conflicted; want 1 and 7", won, conflicts)
		}
		if vs, _ := svc.Versions(ctx, ana, d.ID); len(vs) != 2 {
			t.Fatalf("%d versions", len(vs))
		}
	})

	t.Run("RestoreIsANewVersion", func(t *testing.T) {
		svc, c, user := service(t, newStore)
		ctx := t.Context()
		ana := user("ana")
		d, _ := svc.Create(ctx, ana, documents.NewDocument{Title: "First title", Body: "the first words"})
		c.Advance(time.Minute)
		if _, err := svc.Save(ctx, ana, d.ID, documents.Edit{Title: "Second", Body: "rewritten entirely", BaseVersion: 1}); err != nil {
			t.Fatal(err)
		}
		c.Advance(time.Minute)
		r, err := svc.Restore(ctx, ana, d.ID, 1)
		if err != nil || r.Version != 3 || r.Title != "First title" || r.Body != "the first words" || r.Source != documents.SourceRestore {
			t.Fatalf("restore: %+v, %v", r, err)
		}
		vs, _ := svc.Versions(ctx, ana, d.ID)
		if len(vs) != 3 || vs[0].Source != documents.SourceRestore || vs[1].Title != "Second" {
			t.Fatalf("versions after restore: %+v", vs)
		}
		if v2, _ := svc.Version(ctx, ana, d.ID, 2); v2.Body != "rewritten entirely" {
			t.Fatalf("version 2 changed by the restore: %+v", v2)
		}
		if _, err := svc.Restore(ctx, ana, d.ID, 9); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("restore of a missing version: %v", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		svc, _, user := service(t, newStore)
		ctx := t.Context()
		ana := user("ana")
		d, _ := svc.Create(ctx, ana, documents.NewDocument{Title: "Gone", Body: "soon gone"})
		if err := svc.Delete(ctx, ana, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Get(ctx, ana, d.ID); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("get after delete: %v", err)
		}
		if _, err := svc.Version(ctx, ana, d.ID, 1); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("version after delete: %v", err)
		}
		if hits, _ := svc.Search(ctx, ana, "gone", 5); len(hits) != 0 {
			t.Fatalf("search after delete: %+v", hits)
		}
		if err := svc.Delete(ctx, ana, d.ID); !errors.Is(err, documents.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
	})

	t.Run("Limits", func(t *testing.T) {
		svc, _, user := service(t, newStore)
		ctx := t.Context()
		ana := user("ana")
		big := strings.Repeat("a", documents.MaxBodyBytes+1)
		_, err := svc.Create(ctx, ana, documents.NewDocument{Title: "Big", Body: big})
		var in *documents.InputError
		if !errors.As(err, &in) || !in.TooLarge || !strings.Contains(in.Msg, "5 MB") {
			t.Fatalf("a body over 5 MB: %v", err)
		}
		full, err := svc.Create(ctx, ana, documents.NewDocument{Title: "Exactly 5 MB", Body: big[:documents.MaxBodyBytes]})
		if err != nil {
			t.Fatalf("a 5 MB body: %v", err)
		}
		if _, err := svc.Save(ctx, ana, full.ID, documents.Edit{Body: big, BaseVersion: 1}); !errors.As(err, &in) || !in.TooLarge {
			t.Fatalf("saving over 5 MB: %v", err)
		}
		broken := "# Unclosed [link(\n**bold _mixed*\n```\nno closing fence\n<div>"
		d, err := svc.Create(ctx, ana, documents.NewDocument{Title: "Broken", Body: broken})
		if err != nil || d.Body != broken {
			t.Fatalf("broken Markdown is just text: %+v, %v", d, err)
		}
		for _, bad := range []documents.NewDocument{
			{Title: "k", Kind: "poem", Body: "x"},
			{Title: "s", Source: "someone", Body: "x"},
			{Title: "nul", Body: "a\x00b"},
			{Title: "utf8", Body: "a\xffb"},
			{Title: strings.Repeat("t", documents.MaxTitleChars+1), Body: "x"},
		} {
			if _, err := svc.Create(ctx, ana, bad); !errors.As(err, &in) || in.TooLarge {
				t.Fatalf("%+.40v: %v", bad, err)
			}
		}
	})

	t.Run("Search", func(t *testing.T) {
		svc, c, user := service(t, newStore)
		ctx := t.Context()
		ana := user("ana")
		chris, _ := svc.Create(ctx, ana, documents.NewDocument{Title: "For Chris", Body: "Fifty years, and the lighthouse trip still makes me laugh."})
		c.Advance(time.Minute)
		svc.Create(ctx, ana, documents.NewDocument{Title: "Shopping", Body: "eggs, bread, candles for the cake"})
		hits, err := svc.Search(ctx, ana, "what did I write about the lighthouse?", 5)
		if err != nil || len(hits) != 1 || hits[0].ID != chris.ID || hits[0].Body == "" {
			t.Fatalf("search: %+v, %v", hits, err)
		}
		// Saves re-index: the old words go, the new ones are found.
		svc.Save(ctx, ana, chris.ID, documents.Edit{Body: "Fifty years, and the harbour walk still makes me laugh.", BaseVersion: 1})
		if hits, _ := svc.Search(ctx, ana, "lighthouse", 5); len(hits) != 0 {
			t.Fatalf("old words still found: %+v", hits)
		}
		if hits, _ := svc.Search(ctx, ana, "harbour", 5); len(hits) != 1 {
			t.Fatalf("new words not found: %+v", hits)
		}
		for _, q := range []string{`"`, `* OR NOT (`, `title:x NEAR(a b)`, ""} {
			if _, err := svc.Search(ctx, ana, q, 5); err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
		}
	})

	// A word in the title weighs more than one in the body (ranked before
	// a newer document); accents fold both ways (Zoë, Zoe).
	t.Run("SearchRanksTitleAndFoldsAccents", func(t *testing.T) {
		svc, c, user := service(t, newStore)
		ctx := t.Context()
		ana := user("ana")
		inTitle, _ := svc.Create(ctx, ana, documents.NewDocument{Title: "Lighthouse", Body: "we walked there at dusk together"})
		c.Advance(time.Minute)
		inBody, _ := svc.Create(ctx, ana, documents.NewDocument{Title: "Dusk", Body: "we walked to the lighthouse together"})
		c.Advance(time.Minute)
		zoe, _ := svc.Create(ctx, ana, documents.NewDocument{Title: "For Zoë", Body: "the café by the harbour"})
		hits, err := svc.Search(ctx, ana, "lighthouse", 5)
		if err != nil || len(hits) != 2 || hits[0].ID != inTitle.ID || hits[1].ID != inBody.ID {
			t.Fatalf("search lighthouse: %+v, %v; want the title's match first", hits, err)
		}
		for _, q := range []string{"zoe", "Zoë", "CAFE", "cafés"} {
			if hits, err := svc.Search(ctx, ana, q, 5); err != nil || len(hits) != 1 || hits[0].ID != zoe.ID {
				t.Errorf("search %q: %+v, %v; want the letter for Zoë", q, hits, err)
			}
		}
	})

	t.Run("StyleIsTheUsersOwnLetters", func(t *testing.T) {
		svc, c, user := service(t, newStore)
		ctx := t.Context()
		ana := user("ana")
		mine, _ := svc.Create(ctx, ana, documents.NewDocument{Title: "To Mum", Body: "Mum — you daft, wonderful woman. Ta for the jumper."})
		c.Advance(time.Minute)
		svc.Save(ctx, ana, mine.ID, documents.Edit{Body: "Polished by os1, not my voice.", BaseVersion: 1, Source: documents.SourceOS1})
		c.Advance(time.Minute)
		svc.Create(ctx, ana, documents.NewDocument{Title: "os1's draft", Body: "Dearest friend, I hope this finds you well.", Source: documents.SourceOS1})
		svc.Create(ctx, ana, documents.NewDocument{Title: "A note", Kind: "note", Body: "not a letter"})
		got, err := svc.Style(ctx, ana, 5, 30)
		if err != nil || len(got) != 1 || got[0].DocumentID != mine.ID || got[0].Title != "To Mum" || got[0].Excerpt != "Mum — you daft, wonderful…" {
			t.Fatalf("style: %+v, %v", got, err)
		}
		if got, _ := svc.Style(ctx, user("ben"), 5, 30); len(got) != 0 {
			t.Fatalf("ben's style holds ana's letters: %+v", got)
		}
	})
}
