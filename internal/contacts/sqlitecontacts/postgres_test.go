package sqlitecontacts_test

import (
	"testing"

	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func openPostgres(t *testing.T) userDB {
	t.Helper()
	db, err := postgres.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The same contract suite as SQLite, on a real PostgreSQL 15.
func TestContactsContractPostgres(t *testing.T) { contract(t, openPostgres) }

func TestContactsGoWithTheirUserPostgres(t *testing.T) { goWithTheirUser(t, openPostgres(t)) }
