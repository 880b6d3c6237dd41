package sqlitecontacts_test

import (
	"testing"

	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/contacts/contactstest"
	"github.com/os1ai/os1/internal/contacts/sqlitecontacts"
	"github.com/os1ai/os1/internal/store/sqlite/sqlitetest"
)

var (
	open    = sqlitetest.Open
	newUser = sqlitetest.User
)

func TestContactsContract(t *testing.T) {
	contactstest.Run(t, func(t *testing.T) (contacts.Store, func(string) string) {
		db := open(t)
		return sqlitecontacts.New(db), func(name string) string { return newUser(t, db, name) }
	})
}

// Deleting a user deletes their contacts (the foreign key cascades).
func TestContactsGoWithTheirUser(t *testing.T) {
	db := open(t)
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
