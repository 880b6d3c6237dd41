package sqlitecal_test

import (
	"context"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/caltest"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
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
	caltest.Run(t, func(t *testing.T) (calendar.Store, func(string) string) {
		db := open(t)
		return sqlitecal.New(db), func(name string) string { return newUser(t, db, name) }
	})
}

func TestContract(t *testing.T) { contract(t, openSQLite) }

func TestDeleteUserCascades(t *testing.T) { deleteUserCascades(t, openSQLite(t)) }

// Deleting a user deletes their calendar, and only theirs.
func deleteUserCascades(t *testing.T, db userDB) {
	s := sqlitecal.New(db)
	ctx := t.Context()
	ana, bob := newUser(t, db, "ana"), newUser(t, db, "bob")
	for _, u := range []string{ana, bob} {
		if err := s.CreateAccount(ctx, calendar.Account{ID: "acc_" + u, UserID: u, Name: "w", URL: "https://x/", Username: u}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateCalendar(ctx, calendar.Calendar{ID: "cal_" + u, UserID: u, AccountID: "acc_" + u, Name: "c"}); err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
		if err := s.PutEvent(ctx, calendar.Event{ID: "ev_" + u, UserID: u, CalendarID: "cal_" + u, UID: "u", Start: calendar.At(start), End: calendar.At(start.Add(time.Hour))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteUser(ctx, ana); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"cal_accounts", "cal_calendars", "cal_events"} {
		var n int
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE user_id = ?`, ana).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d rows of the deleted user (%v)", table, n, err)
		}
		if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE user_id = ?`, bob).Scan(&n); err != nil || n != 1 {
			t.Errorf("%s: %d rows of the other user (%v)", table, n, err)
		}
	}
}
