package app_test

import (
	"context"
	"testing"

	"github.com/os1ai/os1/internal/app"
)

// TestPushKeyIsMadeOnceAndKept: os1 serve builds the notifier, and a
// restart on the same data dir keeps the VAPID key (browsers subscribed
// with it would otherwise all stop receiving).
func TestPushKeyIsMadeOnceAndKept(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	key := func() string {
		a, err := app.New(ctx, cfg, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		if a.Push == nil {
			t.Fatal("os1 serve built no push notifier")
		}
		if a.Push.Subject != "mailto:os1@localhost" {
			t.Fatalf("subject %q for a plain-http server", a.Push.Subject)
		}
		return a.Push.PublicKey()
	}
	first := key()
	if second := key(); second != first {
		t.Fatalf("the VAPID key changed across a restart: %s then %s", first, second)
	}
}
