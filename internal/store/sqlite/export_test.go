package sqlite

import (
	"context"

	sqlitedriver "github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"
	"github.com/pressly/goose/v3"
)

// MigrateTo creates (or opens) the database at path with the migrations up
// to version only, and runs stmts on it: a database an older os1 wrote.
func MigrateTo(ctx context.Context, path string, version int64, stmts ...string) error {
	db, err := sqlitedriver.Open(dsn(path), fts5.Register)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectSQLite3, db, Migrations(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}
