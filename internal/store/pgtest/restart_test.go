package pgtest_test

import (
	"database/sql"
	"testing"

	"github.com/os1ai/os1/internal/store/pgtest"
)

// A restart keeps the data, and a pool that was open reconnects.
func TestRestartKeepsData(t *testing.T) {
	db, err := sql.Open("pgx", pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	pgtest.Stop(t)
	if err := db.PingContext(t.Context()); err == nil {
		t.Fatal("the database answers while stopped")
	}
	pgtest.Start(t)
	var x int
	if err := db.QueryRowContext(t.Context(), `SELECT x FROM kept`).Scan(&x); err != nil || x != 7 {
		t.Fatalf("after the restart: %d, %v; want 7", x, err)
	}
}
