package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	sqlitedriver "github.com/ncruces/go-sqlite3/driver"
	"github.com/pressly/goose/v3"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// dbTimeout bounds each question doctor asks the database: a server that
// does not answer is reported, not waited for.
const dbTimeout = 5 * time.Second

// databaseChecks says which database os1 uses, whether it answers, its
// version and whether its schema is the one this build's stores need,
// without migrating it: doctor looks, os1 serve migrates. It returns the
// database opened for the checks that read the stores, or nil when that is
// not possible (or not safe: an old schema would be migrated by opening it).
func databaseChecks(ctx context.Context, cfg config.Config, fresh string) ([]check, app.DB) {
	if cfg.Postgres() {
		return postgresChecks(ctx, cfg)
	}
	return sqliteChecks(ctx, cfg, fresh)
}

func sqliteChecks(ctx context.Context, cfg config.Config, fresh string) ([]check, app.DB) {
	path := cfg.DBPath()
	info, err := os.Stat(path)
	if err != nil {
		return []check{{name: "database", msg: "no database at " + path, fix: fresh}}, nil
	}
	raw, err := sqlitedriver.Open((&url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: "_pragma=busy_timeout(5000)"}).String())
	if err != nil {
		return []check{{name: "database", msg: err.Error(), fix: "check the permissions of " + path}}, nil
	}
	defer raw.Close()
	qctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	var version string
	if err := raw.QueryRowContext(qctx, `SELECT sqlite_version()`).Scan(&version); err != nil {
		return []check{{name: "database", msg: fmt.Sprintf("SQLite %s does not open: %v", path, err),
			fix: "if the file is damaged, move it aside (it will be created anew) and restore from a backup"}}, nil
	}
	what := fmt.Sprintf("SQLite %s (%s, SQLite %s)", path, fileSize(path, info.Size()), version)
	schema, current := schemaCheck(qctx, raw, sqldb.SQLite, sqlite.Migrations())
	if !current {
		return []check{{name: "database", ok: true, msg: what + " opens"}, schema}, nil
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return []check{{name: "database", msg: err.Error(),
			fix: "if the file is damaged, move it aside (it will be created anew) and restore from a backup"}}, nil
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return []check{{name: "database", msg: err.Error(), fix: "check disk space and file permissions of " + path}}, nil
	}
	n, _ := db.CountUsers(ctx)
	return []check{{name: "database", ok: true, msg: fmt.Sprintf("%s opens; %s", what, usersNote(n, ""))}, schema}, db
}

// fileSize is the database's size with its write-ahead log, for people.
func fileSize(path string, size int64) string {
	if wal, err := os.Stat(path + "-wal"); err == nil {
		size += wal.Size()
	}
	const mb = 1 << 20
	if size < mb {
		return fmt.Sprintf("%d KB", (size+1023)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(size)/mb)
}

// usersNote counts the users, with what to know about the database.
func usersNote(n int, about string) string {
	s := fmt.Sprintf("%d user(s)%s", n, about)
	if n == 0 {
		s += " (no owner yet: `os1 serve` prints the setup link)"
	}
	return s
}

func postgresChecks(ctx context.Context, cfg config.Config) ([]check, app.DB) {
	name := cfg.DatabaseName() // the URL without its password
	raw, err := sqldb.OpenPostgres(cfg.Database.URL)
	if err != nil {
		return []check{{name: "database", msg: "PostgreSQL: " + err.Error(),
			fix: "correct [database] url (or url_file), OS1_DATABASE_URL"}}, nil
	}
	defer raw.Close()
	qctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	var version string
	if err := raw.QueryRowContext(qctx, `SHOW server_version`).Scan(&version); err != nil {
		return []check{postgresDown(name, err)}, nil
	}
	what := fmt.Sprintf("PostgreSQL %s (server %s)", name, version)
	schema, current := schemaCheck(qctx, raw, sqldb.Postgres, postgres.Migrations())
	if !current {
		return []check{{name: "database", ok: true, msg: what + " answers"}, schema}, nil
	}
	// What os1 serve checks before it runs here (app.OpenDB). It builds
	// this build's schema in a scratch SQLite file first: not bound by
	// dbTimeout, which is for the server's answers.
	if err := app.CheckPostgresSchema(ctx, raw); err != nil {
		return []check{{name: "database", ok: true, msg: what + " answers"},
			{name: "schema", msg: fmt.Sprintf("os1 serve refuses to run on PostgreSQL %s: %v", name, err),
				fix: "its version says they should be there: restore them from a backup (pg_dump), or run the os1 build that made this database"}}, nil
	}
	// Nothing is pending, so opening migrates nothing.
	db, err := postgres.Open(ctx, cfg.Database.URL)
	if err != nil {
		return []check{postgresDown(name, err)}, nil
	}
	n, _ := db.CountUsers(ctx)
	return []check{{name: "database", ok: true, msg: fmt.Sprintf("%s answers, schema up to date; %s", what,
		usersNote(n, " (back it up with pg_dump, and keep a copy of the secret key)"))},
		schema}, db
}

// postgresDown says why PostgreSQL did not answer and what to do about it.
// pgx's messages name the host, user and database, never the password.
func postgresDown(name string, err error) check {
	c := check{name: "database", msg: fmt.Sprintf("PostgreSQL %s does not answer: %v", name, err),
		fix: "check that PostgreSQL runs and that the URL, user and password are right ([database] url or url_file, OS1_DATABASE_URL)"}
	var pe *pgconn.PgError
	var ne net.Error
	switch {
	case errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000"):
		c.msg = fmt.Sprintf("PostgreSQL %s refuses the login: %s", name, pe.Message)
		c.fix = "the user or password in the URL is wrong: correct it ([database] url or url_file, OS1_DATABASE_URL), or set the role's password on the server (ALTER ROLE … PASSWORD …)"
	case errors.As(err, &pe) && pe.Code == "3D000":
		c.msg = fmt.Sprintf("PostgreSQL %s answers, but has no such database: %s", name, pe.Message)
		c.fix = "create it on the server (createdb -O USER NAME; os1 makes its tables on first start), or correct the database name in the URL"
	case errors.Is(err, syscall.ECONNREFUSED):
		c.msg = fmt.Sprintf("PostgreSQL %s refuses connections (nothing listens there)", name)
		c.fix = "start PostgreSQL, or correct the host and port in the URL ([database] url or url_file, OS1_DATABASE_URL); check listen_addresses in postgresql.conf"
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		c.msg = fmt.Sprintf("PostgreSQL %s does not answer within %s", name, dbTimeout)
		c.fix = "check the host in the URL and that a firewall lets this machine reach PostgreSQL's port"
	}
	return c
}

// schemaCheck compares the database's migration version (goose's table,
// read as goose reads it) with the newest of this build's migrations. One
// migration set per dialect holds every store's tables, so this is every
// store. It reads only: a missing version table is reported, not made.
func schemaCheck(ctx context.Context, db *sql.DB, d sqldb.Dialect, migrations fs.FS) (check, bool) {
	dialect := goose.DialectSQLite3
	exists := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`
	if d == sqldb.Postgres {
		dialect = goose.DialectPostgres
		exists = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'goose_db_version'`
	}
	p, err := goose.NewProvider(dialect, db, migrations, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return check{name: "schema", msg: err.Error()}, false
	}
	src := p.ListSources()
	target := src[len(src)-1].Version
	var n int
	if err := db.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return check{name: "schema", msg: "cannot read the schema's version: " + err.Error()}, false
	}
	if n == 0 {
		return check{name: "schema", warn: true, msg: fmt.Sprintf("no os1 tables yet (this os1's schema is version %d)", target),
			fix: "`os1 serve` makes them when it starts (or `os1 migrate --to URL` copies an SQLite data dir into an empty PostgreSQL)"}, false
	}
	var current sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version`).Scan(&current); err != nil {
		return check{name: "schema", msg: "cannot read the schema's version: " + err.Error()}, false
	}
	switch {
	case current.Int64 > target:
		return check{name: "schema", msg: fmt.Sprintf("version %d is newer than this os1 knows (%d): os1 serve refuses it", current.Int64, target),
			fix: "upgrade os1 to the version that wrote this database"}, false
	case current.Int64 < target:
		return check{name: "schema", warn: true, msg: fmt.Sprintf("version %d of %d: %d migration(s) pending (doctor changes nothing; the stores are not checked further)", current.Int64, target, target-current.Int64),
			fix: "`os1 serve` brings it up to date when it starts (back the database up first)"}, false
	}
	return check{name: "schema", ok: true, msg: fmt.Sprintf("version %d, current for every store", target)}, true
}
