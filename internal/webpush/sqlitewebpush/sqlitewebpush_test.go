package sqlitewebpush_test

import (
	"testing"

	"github.com/os1ai/os1/internal/store/sqlite/sqlitetest"
	"github.com/os1ai/os1/internal/webpush"
	"github.com/os1ai/os1/internal/webpush/sqlitewebpush"
	"github.com/os1ai/os1/internal/webpush/webpushtest"
)

var (
	open    = sqlitetest.Open
	newUser = sqlitetest.User
)

func TestPushContract(t *testing.T) {
	webpushtest.Run(t, func(t *testing.T) (webpush.Store, func(string) string) {
		db := open(t)
		return sqlitewebpush.New(db), func(name string) string { return newUser(t, db, name) }
	})
}

// Deleting a user deletes their subscriptions (the foreign key cascades).
func TestPushUserDeletionRemovesSubscriptions(t *testing.T) {
	db := open(t)
	st := sqlitewebpush.New(db)
	ana, ben := newUser(t, db, "ana"), newUser(t, db, "ben")
	for _, s := range []webpush.Subscription{
		{ID: "wps_a", UserID: ana, Endpoint: "https://push.example/a", P256dh: "k", Auth: "a"},
		{ID: "wps_b", UserID: ben, Endpoint: "https://push.example/b", P256dh: "k", Auth: "a"},
	} {
		if _, err := st.PutSubscription(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.DeleteUser(t.Context(), ana); err != nil {
		t.Fatal(err)
	}
	var n int
	db.SQL().QueryRow(`SELECT count(*) FROM webpush_subscriptions WHERE user_id = ?`, ana).Scan(&n)
	if n != 0 {
		t.Fatalf("%d of a deleted user's subscriptions left", n)
	}
	if list, _ := st.Subscriptions(t.Context(), ben); len(list) != 1 {
		t.Fatalf("another user's subscriptions: %+v", list)
	}
}
