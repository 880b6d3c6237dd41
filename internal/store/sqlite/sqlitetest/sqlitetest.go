// Package sqlitetest opens a fresh SQLite database for a test, with the
// accounts the test names. Tests only; never in the os1 binary.
package sqlitetest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// Open opens (migrating) a new database in t's temp dir, closed when t
// ends.
func Open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// User creates the member "usr_"+name and returns its id.
func User(t testing.TB, db *sqlite.DB, name string) string {
	t.Helper()
	id := "usr_" + name
	if err := db.CreateUser(t.Context(), store.User{ID: id, Username: name, DisplayName: name, Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return id
}
