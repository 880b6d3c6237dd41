// Package backendtest opens a core store on each database os1 runs on, so
// that a store package's tests run on SQLite and on a real PostgreSQL 15
// alike. Tests only.
//
// A package that uses Postgres (or All) must call pgtest.Main from its
// TestMain. Under OS1_E2E_REQUIRE=1 a missing PostgreSQL fails the test.
package backendtest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite/sqlitetest"
)

// DB is a core store of either dialect, whose pool other stores share.
type DB interface {
	store.Store
	sqldb.Handle
	AppendMessageWith(ctx context.Context, m store.Message, with func(context.Context, *sql.Tx) error) error
}

// Backend names a database and opens a fresh, empty core store on it,
// closed when the test ends.
type Backend struct {
	Name string
	Open func(t *testing.T) DB
}

// All is SQLite, then PostgreSQL.
var All = []Backend{{"SQLite", SQLite}, {"PostgreSQL", Postgres}}

// SQLite opens a core store in a temp file.
func SQLite(t *testing.T) DB { return sqlitetest.Open(t) }

// Postgres opens a core store in a fresh database of pgtest's server.
func Postgres(t *testing.T) DB {
	t.Helper()
	d, err := postgres.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}
