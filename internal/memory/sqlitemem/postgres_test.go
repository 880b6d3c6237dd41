package sqlitemem_test

import (
	"path/filepath"
	"testing"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memorytest"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
)

// The store's tests run on SQLite and on a real PostgreSQL 15 (pgtest);
// under OS1_E2E_REQUIRE=1 a missing PostgreSQL fails them.
func TestMain(m *testing.M) { pgtest.Main(m) }

// coreDB is a core store the memory store keeps its tables beside.
type coreDB interface {
	store.Store
	sqldb.Handle
}

// openPG opens (migrating) a fresh PostgreSQL database with the given users.
func openPG(t *testing.T, users ...string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	for _, u := range users {
		err := db.CreateUser(t.Context(), store.User{ID: u, Username: u, DisplayName: u, Role: store.RoleMember, CreatedAt: t0})
		if err != nil {
			t.Fatalf("CreateUser(%s): %v", u, err)
		}
	}
	return db
}

// eachDB runs f as a subtest on SQLite and on PostgreSQL, each a fresh
// database holding users.
func eachDB(t *testing.T, f func(t *testing.T, db coreDB), users ...string) {
	t.Run("sqlite", func(t *testing.T) { f(t, openDB(t, filepath.Join(t.TempDir(), "os1.db"), users...)) })
	t.Run("postgres", func(t *testing.T) { f(t, openPG(t, users...)) })
}

// The same contract suite as SQLite's, on PostgreSQL.
func TestContractPostgres(t *testing.T) {
	memorytest.Run(t, func(t *testing.T) memory.Store {
		db := openPG(t, memorytest.UserA, memorytest.UserB)
		return sqlitemem.NewFor(db, sqlitemem.Options{Clock: clock.NewFake(t0)})
	})
}

func TestContractFewCandidatesPostgres(t *testing.T) {
	memorytest.Run(t, func(t *testing.T) memory.Store {
		db := openPG(t, memorytest.UserA, memorytest.UserB)
		return sqlitemem.NewFor(db, sqlitemem.Options{Clock: clock.NewFake(t0), Candidates: 12})
	})
}
