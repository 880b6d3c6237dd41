package app

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"

	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// DB is the database os1 keeps every store's tables in: the SQLite file in
// the data dir (the default) or PostgreSQL ([database] url, docs/scale.md).
// Every store is built on it, so all of a user's data is in one database.
type DB interface {
	store.Store
	sqldb.Handle
	// AppendMessageWith stores a message and runs with in its transaction
	// (attachments are stored with their message).
	AppendMessageWith(ctx context.Context, m store.Message, with func(context.Context, *sql.Tx) error) error
}

var (
	_ DB = (*sqlite.DB)(nil)
	_ DB = (*postgres.DB)(nil)
)

// OpenDB opens the configured database and brings its schema up to date:
// SQLite at cfg.DBPath(), or PostgreSQL at cfg.Database.URL. On PostgreSQL
// it refuses to go on while any of os1's tables has no PostgreSQL
// counterpart (a store not yet ported): os1 never runs with part of its
// data in one database and part in another, or missing.
func OpenDB(ctx context.Context, cfg config.Config) (DB, error) {
	if !cfg.Postgres() {
		db, err := sqlite.Open(ctx, cfg.DBPath())
		if err != nil {
			return nil, err // not a nil *sqlite.DB in a non-nil DB
		}
		return db, nil
	}
	db, err := postgres.Open(ctx, cfg.Database.URL)
	if err != nil {
		// pgx names host, user and database, never the password; with
		// sslmode=prefer it also reports the TLS attempt, which misleads.
		return nil, fmt.Errorf("open PostgreSQL %s: %w (run `os1 doctor` for the cause and the fix)", cfg.DatabaseName(), err)
	}
	if err := checkPostgresSchema(ctx, db.SQL()); err != nil {
		db.Close()
		return nil, fmt.Errorf("os1 cannot run on PostgreSQL %s: %w", cfg.DatabaseName(), err)
	}
	return db, nil
}

// MissingError lists what of the SQLite schema PostgreSQL's lacks.
type MissingError struct {
	Tables  []string // tables with no PostgreSQL counterpart
	Columns []string // table.column present in a table that exists
}

func (e *MissingError) Error() string {
	var parts []string
	if len(e.Tables) > 0 {
		parts = append(parts, "no PostgreSQL table for "+strings.Join(e.Tables, ", "))
	}
	if len(e.Columns) > 0 {
		parts = append(parts, "no PostgreSQL column for "+strings.Join(e.Columns, ", "))
	}
	return strings.Join(parts, "; ") + " (their stores are not on PostgreSQL in this build: see docs/scale.md, \"Not built yet\")"
}

// checkPostgresSchema compares pg's tables with those SQLite's migrations
// make (built in a scratch file): every table and column os1's stores use
// must be there.
func checkPostgresSchema(ctx context.Context, pg *sql.DB) error {
	ref, err := referenceSchema(ctx)
	if err != nil {
		return err
	}
	have, err := postgresColumns(ctx, pg)
	if err != nil {
		return err
	}
	return compareSchemas(ref, have)
}

// referenceSchema is the schema of a fresh SQLite database of this build.
func referenceSchema(ctx context.Context) ([]table, error) {
	dir, err := os.MkdirTemp("", "os1-schema-")
	if err != nil {
		return nil, fmt.Errorf("read os1's schema: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, dir+"/schema.db")
	if err != nil {
		return nil, fmt.Errorf("read os1's schema: %w", err)
	}
	defer db.Close()
	return sqliteTables(ctx, db.SQL())
}

// compareSchemas reports the tables and columns of ref that have lacks.
func compareSchemas(ref []table, have map[string]map[string]bool) error {
	var miss MissingError
	for _, t := range ref {
		cols, ok := have[t.name]
		if !ok {
			miss.Tables = append(miss.Tables, t.name)
			continue
		}
		for _, c := range t.cols {
			if !cols[c] {
				miss.Columns = append(miss.Columns, t.name+"."+c)
			}
		}
	}
	if len(miss.Tables) > 0 || len(miss.Columns) > 0 {
		return &miss
	}
	return nil
}
