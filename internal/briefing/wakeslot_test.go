package briefing

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
)

// TestWakeSlotHandsTheBriefingOnce: the waiting briefing goes to one turn
// os1 starts (no user words), not to a turn answering the user, not to
// another user, not twice, and not after pendingTTL.
func TestWakeSlotHandsTheBriefingOnce(t *testing.T) {
	now := time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)
	b := New(Deps{Clock: clock.NewFake(now)})
	s := b.WakeSlot()
	ask := func(user, latest string, at time.Time) string {
		got, err := s.SlotFor(t.Context(), companion.SlotInput{UserID: user, Latest: latest, Now: at})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	b.pending.put("usr_theo", pendingBrief{text: "Morning briefing for Monday", until: now.Add(pendingTTL)})
	if got := ask("usr_theo", "what's up?", now); got != "" {
		t.Errorf("a turn answering the user took it: %q", got)
	}
	if got := ask("usr_amy", "", now); got != "" {
		t.Errorf("another user's turn took it: %q", got)
	}
	if got := ask("usr_theo", "", now.Add(time.Minute)); got == "" || got[len(got)-len("Morning briefing for Monday"):] != "Morning briefing for Monday" {
		t.Errorf("the answered turn got %q", got)
	}
	if got := ask("usr_theo", "", now.Add(time.Minute)); got != "" {
		t.Errorf("given twice: %q", got)
	}
	b.pending.put("usr_theo", pendingBrief{text: "stale", until: now.Add(pendingTTL)})
	if got := ask("usr_theo", "", now.Add(pendingTTL+time.Second)); got != "" {
		t.Errorf("given after its time: %q", got)
	}
}
