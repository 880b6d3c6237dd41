package sqlerr_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	sqlitedriver "github.com/ncruces/go-sqlite3/driver"

	"github.com/os1ai/os1/internal/store/sqlerr"
)

var (
	errNotFound = errors.New("not found")
	errConflict = errors.New("conflict")
	s           = sqlerr.Sentinels{NotFound: errNotFound, Conflict: errConflict, Dangling: "owner"}
)

// Real SQLite errors, so a driver upgrade that changes them shows here.
func TestMapRealErrors(t *testing.T) {
	db, err := sqlitedriver.Open("file:" + filepath.Join(t.TempDir(), "t.db") + "?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE u (id TEXT PRIMARY KEY)`,
		`CREATE TABLE m (id TEXT PRIMARY KEY, u TEXT NOT NULL REFERENCES u(id))`,
		`INSERT INTO u VALUES ('a')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_, err = db.ExecContext(ctx, `INSERT INTO u VALUES ('a')`)
	if got := s.Map(err, "add user a"); !errors.Is(got, errConflict) || !strings.HasPrefix(got.Error(), "add user a: ") {
		t.Errorf("duplicate key: %v", got)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO m VALUES ('x', 'nobody')`)
	if got := s.Map(err, "add m"); !errors.Is(got, errNotFound) || got.Error() != "add m: owner not found" {
		t.Errorf("dangling foreign key: %v", got)
	}
	var id string
	err = db.QueryRowContext(ctx, `SELECT id FROM u WHERE id = 'zz'`).Scan(&id)
	if got := s.Map(err, "read zz"); !errors.Is(got, errNotFound) {
		t.Errorf("no row: %v", got)
	}
	res, err := db.ExecContext(ctx, `DELETE FROM u WHERE id = 'zz'`)
	if got := s.Affected(res, err, "delete zz"); !errors.Is(got, errNotFound) {
		t.Errorf("delete of nothing: %v", got)
	}
	res, err = db.ExecContext(ctx, `DELETE FROM m`)
	if got := s.Affected(res, err, "delete m"); !errors.Is(got, errNotFound) {
		t.Errorf("delete of an empty table: %v", got)
	}
	res, err = db.ExecContext(ctx, `DELETE FROM u WHERE id = 'a'`)
	if got := s.Affected(res, err, "delete a"); got != nil {
		t.Errorf("delete of a row: %v", got)
	}
	if other := errors.New("disk on fire"); !errors.Is(s.Map(other, "x"), other) || s.Map(nil, "x") != nil {
		t.Error("other errors must pass through wrapped, nil stays nil")
	}
}
