package sqlitewebpush_test

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/backendtest"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/webpush"
	"github.com/os1ai/os1/internal/webpush/sqlitewebpush"
	"github.com/os1ai/os1/internal/webpush/webpushtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// db is a core store of either dialect.
type db = backendtest.DB

// backends run every test on SQLite and on a real PostgreSQL 15.
var backends = backendtest.All

// newUser creates the member "usr_"+name and returns its id.
func newUser(t *testing.T, d db, name string) string {
	t.Helper()
	id := "usr_" + name
	if err := d.CreateUser(t.Context(), store.User{ID: id, Username: name, DisplayName: name, Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestPushContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			webpushtest.Run(t, func(t *testing.T) (webpush.Store, func(string) string) {
				d := b.Open(t)
				return sqlitewebpush.New(d), func(name string) string { return newUser(t, d, name) }
			})
		})
	}
}

// Deleting a user deletes their subscriptions (the foreign key cascades).
func TestPushUserDeletionRemovesSubscriptions(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			d := b.Open(t)
			st := sqlitewebpush.New(d)
			ana, ben := newUser(t, d, "ana"), newUser(t, d, "ben")
			for _, s := range []webpush.Subscription{
				{ID: "wps_a", UserID: ana, Endpoint: "https://push.example/a", P256dh: "k", Auth: "a"},
				{ID: "wps_b", UserID: ben, Endpoint: "https://push.example/b", P256dh: "k", Auth: "a"},
			} {
				if _, err := st.PutSubscription(t.Context(), s); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.DeleteUser(t.Context(), ana); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := d.SQL().QueryRow(`SELECT count(*) FROM webpush_subscriptions WHERE user_id = ?`, ana).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%d of a deleted user's subscriptions left", n)
			}
			if list, _ := st.Subscriptions(t.Context(), ben); len(list) != 1 {
				t.Fatalf("another user's subscriptions: %+v", list)
			}
		})
	}
}
