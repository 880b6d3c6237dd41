package sqlitebooks_test

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/books/bookstest"
	"github.com/os1ai/os1/internal/books/sqlitebooks"
	"github.com/os1ai/os1/internal/store/sqlite/sqlitetest"
)

var (
	open    = sqlitetest.Open
	newUser = sqlitetest.User
)

func TestBooksContract(t *testing.T) {
	bookstest.Run(t, func(t *testing.T) (books.Store, func(string) string) {
		db := open(t)
		return sqlitebooks.New(db), func(name string) string { return newUser(t, db, name) }
	})
}

// Deleting a user deletes their books and files (the foreign keys cascade).
func TestUserDeletionRemovesBooks(t *testing.T) {
	db := open(t)
	st := sqlitebooks.New(db)
	ana := newUser(t, db, "ana")
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if _, err := st.CreateBook(t.Context(), books.Book{ID: "bok_1", UserID: ana, Title: "T", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutFile(t.Context(), books.File{BookID: "bok_1", UserID: ana, Format: books.EPUB, Data: []byte("PK"), SHA256: "x", BuiltAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(t.Context(), ana); err != nil {
		t.Fatal(err)
	}
	var n int
	db.SQL().QueryRow(`SELECT (SELECT count(*) FROM books) + (SELECT count(*) FROM book_files)`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows of a deleted user's books left", n)
	}
}
