// Package bookstest is for tests only: the contract suite every
// books.Store backend passes.
package bookstest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/books"
)

// Factory returns an empty store and a function that creates a user (by
// name) and returns the user's ID.
type Factory func(t *testing.T) (books.Store, func(name string) string)

var at = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// Run runs the suite.
func Run(t *testing.T, newStore Factory) {
	t.Run("CreateListUpdateDelete", func(t *testing.T) {
		st, user := newStore(t)
		ctx := t.Context()
		ana, ben := user("ana"), user("ben")
		b1 := books.Book{ID: "bok_1", UserID: ana, Title: "Letters", Subtitle: "to friends", Author: "Ana", Dedication: "For Chris",
			Foreword: "Why.", Letters: []string{"doc_b", "doc_a"}, CreatedAt: at, UpdatedAt: at}
		got, err := st.CreateBook(ctx, b1)
		if err != nil || !equal(got, b1) {
			t.Fatalf("create: %+v, %v", got, err)
		}
		if _, err := st.CreateBook(ctx, b1); !errors.Is(err, books.ErrConflict) {
			t.Fatalf("create twice: %v", err)
		}
		b2 := books.Book{ID: "bok_2", UserID: ana, Title: "Second", CreatedAt: at.Add(time.Minute), UpdatedAt: at.Add(time.Minute)}
		if _, err := st.CreateBook(ctx, b2); err != nil {
			t.Fatal(err)
		}
		bb := books.Book{ID: "bok_3", UserID: ben, Title: "Ben's", CreatedAt: at, UpdatedAt: at}
		if _, err := st.CreateBook(ctx, bb); err != nil {
			t.Fatal(err)
		}
		list, err := st.Books(ctx, ana)
		if err != nil || len(list) != 2 || list[0].ID != "bok_1" || list[1].ID != "bok_2" || list[1].Letters == nil {
			t.Fatalf("ana's list: %+v, %v", list, err)
		}
		if _, err := st.Book(ctx, ben, "bok_1"); !errors.Is(err, books.ErrNotFound) {
			t.Fatalf("ben reading ana's book: %v", err)
		}
		// Ben cannot update Ana's book by its id.
		steal := b1
		steal.UserID, steal.Title = ben, "Mine now"
		if _, err := st.UpdateBook(ctx, steal); !errors.Is(err, books.ErrNotFound) {
			t.Fatalf("ben updating ana's book: %v", err)
		}
		up := b1
		up.Title, up.Letters, up.UpdatedAt = "Letters, revised", []string{"doc_a", "doc_b", "doc_c"}, at.Add(time.Hour)
		got, err = st.UpdateBook(ctx, up)
		if err != nil || !equal(got, up) {
			t.Fatalf("update: %+v, %v", got, err)
		}
		if got, _ := st.Book(ctx, ana, "bok_1"); !equal(got, up) {
			t.Fatalf("after update: %+v", got)
		}
		if err := st.DeleteBook(ctx, ben, "bok_1"); !errors.Is(err, books.ErrNotFound) {
			t.Fatalf("ben deleting ana's book: %v", err)
		}
		if err := st.DeleteBook(ctx, ana, "bok_1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Book(ctx, ana, "bok_1"); !errors.Is(err, books.ErrNotFound) {
			t.Fatalf("deleted book: %v", err)
		}
		if list, _ := st.Books(ctx, ben); len(list) != 1 {
			t.Fatalf("ana's delete touched ben's: %+v", list)
		}
	})
	t.Run("Files", func(t *testing.T) {
		st, user := newStore(t)
		ctx := t.Context()
		ana, ben := user("ana"), user("ben")
		if _, err := st.CreateBook(ctx, books.Book{ID: "bok_1", UserID: ana, Title: "T", CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.File(ctx, ana, "bok_1", books.PDF); !errors.Is(err, books.ErrNotFound) {
			t.Fatalf("no file yet: %v", err)
		}
		f := books.File{BookID: "bok_1", UserID: ana, Format: books.PDF, Data: []byte("%PDF-1.7 one"), SHA256: "aa", BuiltAt: at}
		if err := st.PutFile(ctx, f); err != nil {
			t.Fatal(err)
		}
		// Kept byte for byte: a built file is binary (NUL, high bytes).
		f.Data, f.SHA256, f.BuiltAt = []byte("%PDF-1.7 two, longer\x00\xff\xfe\n%%EOF"), "bb", at.Add(time.Minute)
		if err := st.PutFile(ctx, f); err != nil {
			t.Fatal(err)
		}
		got, err := st.File(ctx, ana, "bok_1", books.PDF)
		if err != nil || string(got.Data) != "%PDF-1.7 two, longer\x00\xff\xfe\n%%EOF" || got.SHA256 != "bb" || !got.BuiltAt.Equal(f.BuiltAt) || got.Size != len(f.Data) {
			t.Fatalf("file: %+v, %v", got, err)
		}
		info, err := st.FileInfo(ctx, ana, "bok_1", books.PDF)
		if err != nil || info.Size != len(f.Data) || info.Data != nil || info.SHA256 != "bb" {
			t.Fatalf("info: %+v, %v", info, err)
		}
		if _, err := st.File(ctx, ana, "bok_1", books.EPUB); !errors.Is(err, books.ErrNotFound) {
			t.Fatalf("other format: %v", err)
		}
		if _, err := st.File(ctx, ben, "bok_1", books.PDF); !errors.Is(err, books.ErrNotFound) {
			t.Fatalf("ben reading ana's file: %v", err)
		}
		if err := st.PutFile(ctx, books.File{BookID: "bok_1", UserID: ben, Format: books.EPUB, Data: []byte("x"), SHA256: "cc"}); !errors.Is(err, books.ErrNotFound) {
			t.Fatalf("ben writing a file to ana's book: %v", err)
		}
		if err := st.DeleteBook(ctx, ana, "bok_1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.File(ctx, ana, "bok_1", books.PDF); !errors.Is(err, books.ErrNotFound) {
			t.Fatalf("a deleted book's file: %v", err)
		}
	})
}

func equal(a, b books.Book) bool {
	return a.ID == b.ID && a.UserID == b.UserID && a.Title == b.Title && a.Subtitle == b.Subtitle && a.Author == b.Author &&
		a.Dedication == b.Dedication && a.Foreword == b.Foreword && slices.Equal(norm(a.Letters), norm(b.Letters)) &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func norm(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
