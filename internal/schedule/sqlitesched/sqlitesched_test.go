package sqlitesched_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/schedule/schedtest"
	"github.com/os1ai/os1/internal/schedule/sqlitesched"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

func TestContract(t *testing.T) {
	schedtest.Run(t, func(t *testing.T) schedtest.Backend {
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return schedtest.Backend{
			Store: sqlitesched.New(db),
			NewUser: func(name string) string {
				id := "usr_" + name
				if err := db.CreateUser(t.Context(), store.User{ID: id, Username: name, DisplayName: name,
					Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
					t.Fatal(err)
				}
				return id
			},
			DeleteUser: func(id string) {
				if err := db.DeleteUser(t.Context(), id); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}
