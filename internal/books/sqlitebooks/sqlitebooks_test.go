package sqlitebooks_test

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/books/bookstest"
	"github.com/os1ai/os1/internal/books/sqlitebooks"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/backendtest"
	"github.com/os1ai/os1/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// db is a core store of either dialect.
type db = backendtest.DB

// backends run every test on SQLite and on a real PostgreSQL 15.
var backends = backendtest.All

var at = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// newUser creates the member "usr_"+name and returns its id.
func newUser(t *testing.T, d db, name string) string {
	t.Helper()
	id := "usr_" + name
	if err := d.CreateUser(t.Context(), store.User{ID: id, Username: name, DisplayName: name, Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestBooksContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			bookstest.Run(t, func(t *testing.T) (books.Store, func(string) string) {
				d := b.Open(t)
				return sqlitebooks.New(d), func(name string) string { return newUser(t, d, name) }
			})
		})
	}
}

// Deleting a user deletes their books and files (the foreign keys cascade).
func TestUserDeletionRemovesBooks(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			st := sqlitebooks.New(db)
			ana := newUser(t, db, "ana")
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
			if err := db.SQL().QueryRow(`SELECT (SELECT count(*) FROM books) + (SELECT count(*) FROM book_files)`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%d rows of a deleted user's books left", n)
			}
		})
	}
}
