package sqlitecontacts_test

import (
	"context"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/contacts/contactstest"
	"github.com/os1ai/os1/internal/contacts/sqlitecontacts"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite/sqlitetest"
)

// userDB is a database the tests create and delete users in: SQLite's
// or PostgreSQL's core store.
type userDB interface {
	sqldb.Handle
	CreateUser(ctx context.Context, u store.User) error
	DeleteUser(ctx context.Context, id string) error
}

// newUser creates the member "usr_"+name and returns its id.
func newUser(t *testing.T, db userDB, name string) string {
	t.Helper()
	id := "usr_" + name
	if err := db.CreateUser(t.Context(), store.User{ID: id, Username: name, DisplayName: name, Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return id
}

func openSQLite(t *testing.T) userDB { return sqlitetest.Open(t) }

func contract(t *testing.T, open func(t *testing.T) userDB) {
	contactstest.Run(t, func(t *testing.T) (contacts.Store, func(string) string) {
		db := open(t)
		return sqlitecontacts.New(db), func(name string) string { return newUser(t, db, name) }
	})
}

func TestContactsContract(t *testing.T) { contract(t, openSQLite) }

func TestContactsGoWithTheirUser(t *testing.T) { goWithTheirUser(t, openSQLite(t)) }

// Deleting a user deletes their contacts (the foreign key cascades).
func goWithTheirUser(t *testing.T, db userDB) {
	st := sqlitecontacts.New(db)
	ana := newUser(t, db, "ana")
	if err := st.PutContact(t.Context(), contactstest.Sample("ct_1", ana, "Catherine")); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(t.Context(), ana); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.SQL().QueryRowContext(t.Context(), `SELECT count(*) FROM contacts`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("contacts left after the user was deleted: %d, %v", n, err)
	}
}
