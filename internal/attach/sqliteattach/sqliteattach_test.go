package sqliteattach_test

import (
	"path/filepath"
	"testing"

	"github.com/os1ai/os1/internal/attach"
	"github.com/os1ai/os1/internal/attach/attachtest"
	"github.com/os1ai/os1/internal/attach/sqliteattach"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

func TestContract(t *testing.T) {
	attachtest.Run(t, func(t *testing.T) (store.Store, attach.Store) {
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, sqliteattach.New(db)
	})
}
