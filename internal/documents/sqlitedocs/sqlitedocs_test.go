package sqlitedocs_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/documents/docstest"
	"github.com/os1ai/os1/internal/documents/sqlitedocs"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/backendtest"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// db is a core store of either dialect.
type db = backendtest.DB

// backends run every test on SQLite and on a real PostgreSQL 15.
var backends = backendtest.All

var at = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

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

func TestDocumentsContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			docstest.Run(t, func(t *testing.T) (documents.Store, func(string) string) {
				d := b.Open(t)
				return sqlitedocs.New(d), func(name string) string { return newUser(t, d, name) }
			})
		})
	}
}

// Deleting a user deletes their documents and versions (the foreign keys cascade).
func TestUserDeletionRemovesDocuments(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			st := sqlitedocs.New(db)
			ana := newUser(t, db, "ana")
			d, err := st.CreateDocument(t.Context(), documents.Document{ID: "doc_1", UserID: ana, Title: "t", Kind: "letter", Body: "b", Source: "user", CreatedAt: at, UpdatedAt: at})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.AddVersion(t.Context(), ana, d.ID, 1, documents.Version{Title: "t", Body: "b2", Source: "user", SavedAt: at}); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteUser(t.Context(), ana); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.SQL().QueryRow(`SELECT (SELECT count(*) FROM documents) + (SELECT count(*) FROM document_versions)`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%d rows of a deleted user's documents left", n)
			}
		})
	}
}

// BenchmarkSave5MB: one new version of a 5 MB document (the whole text is
// kept per version, and re-indexed).
func BenchmarkSave5MB(b *testing.B) {
	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "os1.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.CreateUser(b.Context(), store.User{ID: "usr_a", Username: "a", DisplayName: "a", Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	st := sqlitedocs.New(db)
	body := strings.Repeat("Dear Chris, the lighthouse, the ferry, fifty years. ", documents.MaxBodyBytes/52)
	d, err := st.CreateDocument(b.Context(), documents.Document{ID: "doc_1", UserID: "usr_a", Title: "Big", Kind: "letter", Body: body, Source: "user", CreatedAt: at, UpdatedAt: at})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if d, err = st.AddVersion(b.Context(), "usr_a", d.ID, d.Version, documents.Version{Title: "Big", Body: body + strconv.Itoa(d.Version), Source: "user", SavedAt: at}); err != nil {
			b.Fatal(err)
		}
	}
}
