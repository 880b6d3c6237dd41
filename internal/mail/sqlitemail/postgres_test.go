package sqlitemail_test

import (
	"database/sql"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/pressly/goose/v3"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/mailtest"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openPostgres opens a fresh database on the test binary's PostgreSQL 15
// (skipped without one, failed under OS1_E2E_REQUIRE=1).
func openPostgres(t *testing.T) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The same contract as on SQLite (TestContract), on a real PostgreSQL.
func TestContractPostgres(t *testing.T) {
	mailtest.Run(t, func(t *testing.T) (mail.Store, func(string) string) {
		db := openPostgres(t)
		return sqlitemail.New(db), func(name string) string { return newUser(t, db, name) }
	})
}

// pgHandle is a PostgreSQL pool as a sqldb.Handle.
type pgHandle struct{ db *sql.DB }

func (h pgHandle) SQL() *sql.DB           { return h.db }
func (h pgHandle) Dialect() sqldb.Dialect { return sqldb.Postgres }

// Migration 00004 of the PostgreSQL set goes down and up again cleanly.
// Only it and 00001 (users) are run, so other stores' migrations play no
// part.
func TestMigrationDownUpPostgres(t *testing.T) {
	ctx := t.Context()
	db, err := sqldb.OpenPostgres(pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	fsys := fstest.MapFS{}
	for _, name := range []string{"00001_core.sql", "00004_mail.sql"} {
		b, err := fs.ReadFile(postgres.Migrations(), name)
		if err != nil {
			t.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: b}
	}
	gp, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gp.Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_class WHERE relname LIKE 'mail\_%'`).Scan(&n); err != nil || n < 4 {
		t.Fatalf("after up: %d mail objects (%v)", n, err)
	}
	if _, err := gp.DownTo(ctx, 1); err != nil {
		t.Fatalf("down to 1: %v", err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_class WHERE relname LIKE 'mail\_%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("after down: %d mail objects left (%v)", n, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_proc WHERE proname LIKE 'mail\_%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("after down: %d mail functions left (%v)", n, err)
	}
	if _, err := gp.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	s := sqlitemail.New(pgHandle{db})
	if _, err := db.ExecContext(ctx, `INSERT INTO users (id, username, display_name, role, password_hash)
		VALUES ('u', 'ana', 'Ana', 'member', 'x')`); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, mail.Account{ID: "a", UserID: "u", Address: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMessages(ctx, "u", []mail.Message{{AccountID: "a", Folder: "INBOX", UID: 1, Subject: "hello"}}); err != nil {
		t.Fatal(err)
	}
	if hits, err := s.Search(ctx, "u", "hello", 0); err != nil || len(hits) != 1 {
		t.Errorf("search after down and up: %d hits, %v", len(hits), err)
	}
}
