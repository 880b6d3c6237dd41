package pgtest_test

import (
	"database/sql"
	"testing"

	"github.com/os1ai/os1/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Two tests' databases are apart: a table made in one is not in the other.
func TestNewGivesEachTestItsOwnDatabase(t *testing.T) {
	a, b := pgtest.New(t), pgtest.New(t)
	if a == b {
		t.Fatalf("the same URL twice: %s", a)
	}
	da, err := sql.Open("pgx", a)
	if err != nil {
		t.Fatal(err)
	}
	defer da.Close()
	db, err := sql.Open("pgx", b)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := da.ExecContext(t.Context(), `CREATE TABLE only_in_a (x int)`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Error("a table made in one test's database shows in another's")
	}
	var version string
	if err := da.QueryRowContext(t.Context(), `SHOW server_version`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version[:3] != "15." {
		t.Errorf("server_version %s, want 15.x", version)
	}
}
