// Package webpushtest is for tests only: the contract suite every
// webpush.Store backend passes, and a local push service (PushService)
// that verifies VAPID and decrypts each message as the browser would.
package webpushtest

import (
	"errors"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/webpush"
)

// Factory returns an empty store and a function that creates a user (by
// name) and returns the user's ID.
type Factory func(t *testing.T) (webpush.Store, func(name string) string)

var at = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// Run runs the suite.
func Run(t *testing.T, newStore Factory) {
	t.Run("PutListDelete", func(t *testing.T) {
		st, user := newStore(t)
		ctx := t.Context()
		ana, ben := user("ana"), user("ben")
		a1 := webpush.Subscription{ID: "wps_a1", UserID: ana, Endpoint: "https://push.example/a1", P256dh: "k1", Auth: "s1", CreatedAt: at}
		got, err := st.PutSubscription(ctx, a1)
		if err != nil || got != a1 {
			t.Fatalf("put: %+v, %v", got, err)
		}
		a2 := webpush.Subscription{ID: "wps_a2", UserID: ana, Endpoint: "https://push.example/a2", P256dh: "k2", Auth: "s2", CreatedAt: at.Add(time.Minute)}
		if _, err := st.PutSubscription(ctx, a2); err != nil {
			t.Fatal(err)
		}
		// Ben's browser with Ana's endpoint is Ben's own subscription.
		b1 := webpush.Subscription{ID: "wps_b1", UserID: ben, Endpoint: a1.Endpoint, P256dh: "kb", Auth: "sb", CreatedAt: at}
		if _, err := st.PutSubscription(ctx, b1); err != nil {
			t.Fatal(err)
		}
		list, err := st.Subscriptions(ctx, ana)
		if err != nil || len(list) != 2 || list[0] != a1 || list[1] != a2 {
			t.Fatalf("ana's list: %+v, %v", list, err)
		}
		if list, _ := st.Subscriptions(ctx, ben); len(list) != 1 || list[0] != b1 {
			t.Fatalf("ben's list: %+v", list)
		}
		if err := st.DeleteSubscription(ctx, ben, a1.ID); !errors.Is(err, webpush.ErrNotFound) {
			t.Fatalf("ben deleting ana's subscription: %v", err)
		}
		if err := st.DeleteSubscription(ctx, ana, a1.ID); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteSubscription(ctx, ana, a1.ID); !errors.Is(err, webpush.ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
		if list, _ := st.Subscriptions(ctx, ana); len(list) != 1 || list[0] != a2 {
			t.Fatalf("after delete: %+v", list)
		}
		if list, _ := st.Subscriptions(ctx, ben); len(list) != 1 {
			t.Fatalf("ana's delete touched ben's: %+v", list)
		}
	})

	t.Run("ResubscribeKeepsID", func(t *testing.T) {
		st, user := newStore(t)
		ctx := t.Context()
		ana := user("ana")
		s := webpush.Subscription{ID: "wps_1", UserID: ana, Endpoint: "https://push.example/x", P256dh: "old", Auth: "old", CreatedAt: at}
		if _, err := st.PutSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
		again := webpush.Subscription{ID: "wps_2", UserID: ana, Endpoint: s.Endpoint, P256dh: "new", Auth: "new2", CreatedAt: at.Add(time.Hour)}
		got, err := st.PutSubscription(ctx, again)
		if err != nil || got.ID != "wps_1" || got.P256dh != "new" || got.Auth != "new2" || !got.CreatedAt.Equal(at) {
			t.Fatalf("resubscribe: %+v, %v", got, err)
		}
		if list, _ := st.Subscriptions(ctx, ana); len(list) != 1 {
			t.Fatalf("one endpoint, %d subscriptions", len(list))
		}
	})

	t.Run("Refused", func(t *testing.T) {
		st, user := newStore(t)
		ctx := t.Context()
		ana := user("ana")
		if _, err := st.PutSubscription(ctx, webpush.Subscription{ID: "wps_x", UserID: "usr_nobody", Endpoint: "https://p/x", P256dh: "k", Auth: "a"}); !errors.Is(err, webpush.ErrNotFound) {
			t.Fatalf("a subscription of no user: %v", err)
		}
		if _, err := st.PutSubscription(ctx, webpush.Subscription{ID: "wps_x", UserID: ana}); err == nil {
			t.Fatal("a subscription without an endpoint was stored")
		}
		s := webpush.Subscription{ID: "wps_dup", UserID: ana, Endpoint: "https://p/1", P256dh: "k", Auth: "a"}
		st.PutSubscription(ctx, s)
		s.Endpoint = "https://p/2"
		if _, err := st.PutSubscription(ctx, s); !errors.Is(err, webpush.ErrConflict) {
			t.Fatalf("a taken id: %v", err)
		}
	})

	t.Run("VAPIDKeyOnce", func(t *testing.T) {
		st, _ := newStore(t)
		ctx := t.Context()
		if _, err := st.VAPIDKey(ctx); !errors.Is(err, webpush.ErrNotFound) {
			t.Fatalf("before the first key: %v", err)
		}
		got, err := st.InitVAPIDKey(ctx, "sealed-1")
		if err != nil || got != "sealed-1" {
			t.Fatalf("first: %q, %v", got, err)
		}
		// A second process that made its own key gets the first one back.
		if got, err := st.InitVAPIDKey(ctx, "sealed-2"); err != nil || got != "sealed-1" {
			t.Fatalf("second: %q, %v", got, err)
		}
		if got, err := st.VAPIDKey(ctx); err != nil || got != "sealed-1" {
			t.Fatalf("read: %q, %v", got, err)
		}
	})
}
