package calendar_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/clock"
)

type plainSealer struct{}

func (plainSealer) Seal(s string) (string, error) { return "sealed:" + s, nil }
func (plainSealer) Open(s string) (string, error) { return s[len("sealed:"):], nil }

// countingSyncer counts syncs and checks each gets the opened password.
type countingSyncer struct {
	t *testing.T
	n atomic.Int32
}

func (c *countingSyncer) Check(context.Context, calendar.Account, string) error { return nil }
func (c *countingSyncer) Sync(_ context.Context, _ calendar.Account, pw string) (calendar.Report, error) {
	if pw != "pw" {
		c.t.Errorf("synced with the password %q", pw)
	}
	c.n.Add(1)
	return calendar.Report{}, nil
}

// The background sync runs at start and then every period of the injected
// clock, and Close stops it.
func TestBackgroundSync(t *testing.T) {
	s, ana := newService(t)
	fake := s.Clock.(*clock.Fake)
	syncer := &countingSyncer{t: t}
	s.Syncer, s.Sealer, s.Every = syncer, plainSealer{}, 10*time.Minute
	if _, err := s.AddAccount(t.Context(), ana, calendar.AccountInput{URL: "https://dav.example.com/", Username: "ana", Password: "pw"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	wait := func(n int32) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for syncer.n.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d syncs, want %d", syncer.n.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	wait(1)
	if err := fake.BlockUntil(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(10 * time.Minute)
	wait(2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fake.Advance(time.Hour)
	if n := syncer.n.Load(); n != 2 {
		t.Errorf("%d syncs after Close, want 2", n)
	}
	a, _ := s.Store.ListAccounts(t.Context(), ana)
	if len(a) != 1 || a[0].LastSyncAt.IsZero() {
		t.Errorf("the account's last sync is not recorded: %+v", a)
	}
}
