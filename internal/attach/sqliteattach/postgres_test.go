package sqliteattach_test

import (
	"testing"

	"github.com/os1ai/os1/internal/attach"
	"github.com/os1ai/os1/internal/attach/attachtest"
	"github.com/os1ai/os1/internal/attach/sqliteattach"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The same contract as on SQLite, on a real PostgreSQL 15.
func TestContractPostgres(t *testing.T) {
	attachtest.Run(t, func(t *testing.T) (store.Store, attach.Store) {
		db, err := postgres.Open(t.Context(), pgtest.New(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, sqliteattach.New(db)
	})
}
