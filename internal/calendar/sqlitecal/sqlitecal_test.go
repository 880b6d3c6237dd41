package sqlitecal_test

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/caltest"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/store/sqlite/sqlitetest"
)

var (
	open    = sqlitetest.Open
	newUser = sqlitetest.User
)

func TestContract(t *testing.T) {
	caltest.Run(t, func(t *testing.T) (calendar.Store, func(string) string) {
		db := open(t)
		return sqlitecal.New(db), func(name string) string { return newUser(t, db, name) }
	})
}

// Deleting a user deletes their calendar, and only theirs.
func TestDeleteUserCascades(t *testing.T) {
	db := open(t)
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
