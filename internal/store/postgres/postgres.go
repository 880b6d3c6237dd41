// Package postgres is the PostgreSQL backend of store.Store, for os1 run as
// a cluster (issue 15): the core store (accounts, conversations, messages,
// actions, personas, settings) on PostgreSQL 15 or newer through pgx v5.
//
// It speaks database/sql through pgx's stdlib driver (a pool that numbers
// '?' placeholders, sqldb.OpenPostgres), so the queries are package
// sqlstore's, the same as on SQLite, and the other stores of os1 share the
// pool; this package connects and brings the schema up to date with its
// own embedded goose migrations (one migration set per dialect). It must
// never log or alter message content, and must never hold package-level
// mutable state.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// maxConns bounds the connection pool of one os1 process. PostgreSQL's
// own limit (max_connections, 100 by default) is shared by every node.
const maxConns = 16

// DB is a store.Store kept in a PostgreSQL database: sqlstore's queries on
// a pool of connections to it.
type DB struct {
	*sqlstore.Store
	db   *sql.DB
	name string // the URL without its password, for error messages
}

var _ store.Store = (*DB)(nil)

// Open connects to the database at url (postgres://user:pass@host:port/db)
// and migrates its schema to the latest version.
func Open(ctx context.Context, dbURL string) (*DB, error) {
	name := redact(dbURL)
	if dbURL == "" {
		return nil, errors.New("open database: no URL given")
	}
	db, err := sqldb.OpenPostgres(dbURL)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", name, err)
	}
	return &DB{Store: sqlstore.New(db, sqldb.Postgres), db: db, name: name}, nil
}

// redact drops the password from a URL, for messages; a string that is not
// a URL is not shown at all (a key=value DSN may hold one in plain text).
func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.Scheme == "" {
		return "(PostgreSQL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.Redacted()
}

// SQL (the pool, for the other stores of os1 to keep their tables in the
// same database; its queries may use '?' placeholders) and Dialect
// (sqldb.Postgres) come from the embedded sqlstore.Store.
var _ sqldb.Handle = (*DB)(nil)

// Migrations returns the schema's goose migrations.
func Migrations() fs.FS {
	return sqlstore.Sub(migrations, "migrations")
}

func migrate(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectPostgres, db, Migrations(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// goose takes no lock here: two nodes starting at once on an empty
	// database could both run 00001. An advisory lock makes them take turns.
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock) //nolint:errcheck // the session ends with the conn anyway
	return sqlstore.Migrate(ctx, p)
}

// migrateLock is the advisory lock key os1's migrations hold ("os1").
const migrateLock int64 = 0x6f7331

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database %s: %w", d.name, err)
	}
	return nil
}

// Close closes the connection pool. Later calls fail.
func (d *DB) Close() error {
	_ = d.Store.Close() // the prepared statements, before their pool
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", d.name, err)
	}
	return nil
}
