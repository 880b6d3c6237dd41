package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
)

// The package's PostgreSQL tests share one server, stopped after the tests.
func TestMain(m *testing.M) { pgtest.Main(m) }

// withPassword puts a password in a pgtest URL: the test server trusts
// loopback, so it connects all the same, and messages must never show it.
func withPassword(url string) string {
	return strings.Replace(url, "postgres://os1@", "postgres://os1:"+testPassword+"@", 1)
}

const testPassword = "Hunter2-do-not-print"

// Unset, the database is the SQLite file in the data dir, as always.
func TestOpenDBIsSQLiteWithoutAURL(t *testing.T) {
	cfg := testConfig(t)
	db, err := app.OpenDB(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Dialect() != "sqlite" || cfg.Postgres() {
		t.Fatalf("dialect %s, postgres %v", db.Dialect(), cfg.Postgres())
	}
}

// The error of a PostgreSQL that cannot be reached names it without the password.
func TestOpenDBOnAnUnreachablePostgresHidesThePassword(t *testing.T) {
	cfg := testConfigWith(t, "OS1_DATABASE_URL", "postgres://os1:"+testPassword+"@127.0.0.1:1/os1?connect_timeout=2")
	_, err := app.OpenDB(context.Background(), cfg)
	if err == nil {
		t.Fatal("opened a database on port 1")
	}
	if strings.Contains(err.Error(), testPassword) {
		t.Fatalf("the error shows the password: %v", err)
	}
}

// A table os1 has on SQLite but not on PostgreSQL stops os1 from starting
// there, named: part of the data would otherwise have nowhere to go.
func TestOpenDBRefusesAPostgresLackingATable(t *testing.T) {
	ctx := context.Background()
	url := pgtest.New(t)
	pg, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pg.SQL().ExecContext(ctx, `DROP TABLE settings`); err != nil {
		t.Fatal(err)
	}
	pg.Close()
	cfg := testConfigWith(t, "OS1_DATABASE_URL", withPassword(url))
	_, err = app.New(ctx, cfg, app.Options{})
	var missing *app.MissingError
	if !errors.As(err, &missing) || !contains(missing.Tables, "settings") {
		t.Fatalf("app.New on PostgreSQL without settings: %v, want a MissingError naming settings", err)
	}
	if strings.Contains(err.Error(), testPassword) || !strings.Contains(err.Error(), "xxxxx@127.0.0.1") {
		t.Fatalf("the error should name the database without its password: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
