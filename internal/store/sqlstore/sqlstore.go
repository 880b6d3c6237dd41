// Package sqlstore is os1's core store.Store (accounts, conversations,
// messages, actions, personas, settings) written once for both databases
// os1 runs on: SQLite (package sqlite, the default) and PostgreSQL
// (package postgres, a cluster: docs/scale.md).
//
// Those packages open the connection pool and bring the schema up to date
// with their own migrations; this one holds every query. Queries use '?'
// placeholders, which the PostgreSQL pool numbers (sqldb.OpenPostgres), and
// SQL both databases accept; the few places they differ branch on the
// Dialect: which column orders rows inserted in the same instant, the name
// of the substring search function, and how an append keeps racing
// appends on one path. Every query on user data is scoped by user ID. It
// must never log or alter message content, and must never hold
// package-level mutable state.
package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
)

// Store is every method of store.Store but Ping and Close, which the
// opener (sqlite.DB, postgres.DB) adds, on a connection pool whose schema
// is up to date.
type Store struct {
	db      *sql.DB
	dialect sqldb.Dialect
	// seq is the column that orders rows created in the same instant (the
	// tables without a seq of their own): SQLite's implicit rowid,
	// PostgreSQL's identity column seq.
	seq string
	// stmts is the hot statements, prepared once on SQLite (stmts.go).
	stmts *stmts
}

var _ sqldb.Handle = (*Store)(nil)

// New is the store on db, a pool of the given dialect whose schema its
// opener has migrated. It does not own db: the opener closes it.
func New(db *sql.DB, dialect sqldb.Dialect) *Store {
	seq := "rowid"
	if dialect == sqldb.Postgres {
		seq = "seq"
	}
	return &Store{db: db, dialect: dialect, seq: seq, stmts: &stmts{db: db, off: dialect == sqldb.Postgres}}
}

// Close closes the store's prepared statements, not the pool: the opener
// calls it before it closes the pool. Calls after it run unprepared.
func (d *Store) Close() error { return d.stmts.close() }

// hot runs a statement of the hot path prepared (stmts.go).
func (d *Store) hot() prepared { return prepared{d.stmts} }

// SQL exposes the connection pool so other stores of os1 (memory, mail, …)
// can keep their tables in the same database and transactions. Callers
// must scope every query by user ID as this package does.
func (d *Store) SQL() *sql.DB { return d.db }

// Dialect is which database the pool talks to.
func (d *Store) Dialect() sqldb.Dialect { return d.dialect }

// Migrate brings a schema up to date with p, the opener's migrations (one
// set per dialect). goose ignores versions it does not know, so a schema a
// newer os1 migrated is refused here: an older os1 must stop rather than
// half-work.
func Migrate(ctx context.Context, p *goose.Provider) error {
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current > target {
		return fmt.Errorf("schema version %d is newer than this os1 knows (%d); upgrade os1", current, target)
	}
	return nil
}

// Sub is the folder dir of an embedded file system (an opener's
// migrations), which is always there.
func Sub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the embedded directory is always there
	}
	return sub
}

// querier is a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// all runs a query on db and scans every row it returns with scan.
func all[T any](ctx context.Context, db querier, scan func(rowScanner) (T, error), what, query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, v)
	}
	return out, mapErr(rows.Err(), what)
}

func scanString(r rowScanner) (string, error) {
	var s string
	err := r.Scan(&s)
	return s, err
}

// errs maps driver errors to the store's sentinels, the same on both
// databases: no row is ErrNotFound, a taken unique key ErrConflict, a
// dangling foreign key (a row pointing at a user or conversation that does
// not exist) "owner not found".
var errs = sqlerr.Sentinels{NotFound: store.ErrNotFound, Conflict: store.ErrConflict, Dangling: "owner"}

// mapErr turns driver errors into the store's sentinel errors, keeping what
// (a description of the operation) in the message.
func mapErr(err error, what string) error { return errs.Map(err, what) }

// affected reports ErrNotFound when an UPDATE or DELETE matched no row.
func affected(res sql.Result, err error, what string) error { return errs.Affected(res, err, what) }

// Times are stored as package sqltime says (shared by every SQL store).
type dbTime = sqltime.Value

func scanTime(t *time.Time) sqltime.Scanner { return sqltime.Scanner{T: t} }
