// Package sqlite is the SQLite backend of store.Store, the default for a
// self-hosted os1: one file on disk, no server to run, pure Go (no cgo).
//
// It opens the file in WAL mode with foreign keys on and brings the schema up
// to date with embedded goose migrations; the queries are package
// sqlstore's, the same on PostgreSQL. It must never log or alter message
// content, and must never hold package-level mutable state.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"
	sqlitedriver "github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"
	"github.com/pressly/goose/v3"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeout is how long a write waits for another writer before failing.
// Writers hold the lock for milliseconds, so reaching it means something is
// badly stuck.
const busyTimeout = 10 * time.Second

// maxConns bounds the connection pool. WAL lets readers run beside the one
// writer; more connections than this only add memory and lock contention.
const maxConns = 4

// DB is a store.Store kept in one SQLite file: sqlstore's queries on a
// pool of connections to it.
type DB struct {
	*sqlstore.Store
	db   *sql.DB
	path string

	stop chan struct{} // ends the checkpointer
	done chan struct{} // closed when the checkpointer has ended
	once sync.Once
}

// checkpointEvery is how often the write-ahead log is folded back into the
// database file. SQLite would otherwise do it inside whichever commit
// crosses 1000 pages, adding tens of milliseconds to that user's turn.
const checkpointEvery = 5 * time.Second

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the SQLite database at path and migrates
// its schema to the latest version. The parent directory is created with mode
// 0700 and a new database file with mode 0600, because it holds private
// conversations.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: no path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("open database %s: create directory: %w", abs, unwrapPathError(err))
	}
	// Touch the file ourselves: SQLite would create it world-readable, and its
	// own error for an unreadable file ("unable to open database file") does
	// not say why.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, unwrapPathError(err))
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}

	// Every pooled connection gets FTS5 (full-text search for memory recall).
	db, err := sqlitedriver.Open(dsn(abs), fts5.Register)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		if errors.Is(err, sqlite3.NOTADB) {
			return nil, fmt.Errorf("open database %s: not an SQLite database (move the file away or choose another path)", abs)
		}
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", abs, err)
	}
	d := &DB{Store: sqlstore.New(db, sqldb.SQLite), db: db, path: abs, stop: make(chan struct{}), done: make(chan struct{})}
	go d.checkpointer()
	return d, nil
}

// SQL (the pool, for the other stores of os1 to keep their tables in the
// same file and transactions) and Dialect (sqldb.SQLite) come from the
// embedded sqlstore.Store.
var _ sqldb.Handle = (*DB)(nil)

// checkpointer folds the WAL into the database off the request path. A
// PASSIVE checkpoint never blocks readers or writers.
func (d *DB) checkpointer() {
	defer close(d.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			_, _ = d.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// dsn builds a file: URI so that any path (spaces, '?', '#') is escaped, with
// the PRAGMAs every pooled connection needs. busy_timeout comes first so the
// others wait for a concurrent opener instead of failing.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(normal)")
	// Forgotten memories and deleted messages leave no readable bytes in
	// freed pages (FAST: without extra I/O).
	q.Add("_pragma", "secure_delete(fast)")
	// Checkpoints run in the background (see checkpointer), not in commits.
	q.Add("_pragma", "wal_autocheckpoint(0)")
	// Statement journals and temporary indexes stay in memory: an upsert
	// of a batch of mail was 2.3× slower writing them to a file.
	q.Add("_pragma", "temp_store(memory)")
	// Transactions take the write lock up front, so a read-then-write
	// transaction never fails with SQLITE_BUSY halfway through.
	q.Set("_txlock", "immediate")
	// The -wal file holds recent messages: give it the 0600 of the main file.
	q.Set("modeof", path)
	// SQLite decodes %XX in URIs but not '+', so spaces must be %20.
	query := strings.ReplaceAll(q.Encode(), "+", "%20")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: query}
	return u.String()
}

// Migrations returns the schema's goose migrations, for tests that build
// the database an older os1 wrote.
func Migrations() fs.FS {
	return sqlstore.Sub(migrations, "migrations")
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys := Migrations()
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return sqlstore.Migrate(ctx, p)
}

// unwrapPathError drops the *fs.PathError wrapper so the message names the
// database once ("open database X: permission denied") while errors.Is still
// matches fs.ErrPermission and friends.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Path returns the absolute path of the database file.
func (d *DB) Path() string { return d.path }

// Ping checks the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database %s: %w", d.path, err)
	}
	return nil
}

// Close closes the database. Later calls fail.
func (d *DB) Close() error {
	d.once.Do(func() { close(d.stop) })
	<-d.done
	// Leave a compact file behind: fold the whole log in before closing.
	_, _ = d.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	_ = d.Store.Close() // the prepared statements, before their pool
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", d.path, err)
	}
	return nil
}
