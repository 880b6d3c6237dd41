package briefing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
)

// TestMeetingSlot: a meeting notice's prepared brief reaches the one turn
// os1 starts next (not a turn answering the user, not another user's, not
// the wake-up's slot), once.
func TestMeetingSlot(t *testing.T) {
	e := newEnv(t)
	ev := e.event(e.user, "Standup", 7, 9, 30, ana)
	b := e.briefer()
	if err := b.PrepareMeeting(t.Context(), e.user, ev.ID, time.Date(2026, 12, 7, 9, 30, 0, 0, e.berlin)); err != nil {
		t.Fatal(err)
	}
	ask := func(s companion.TimedSlot, user, latest string) string {
		got, err := s.SlotFor(t.Context(), companion.SlotInput{UserID: user, Latest: latest, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := ask(b.MeetingSlot(), e.user, "hello"); got != "" {
		t.Errorf("a turn answering the user took the brief: %q", got)
	}
	if got := ask(b.MeetingSlot(), e.other, ""); got != "" {
		t.Errorf("another user's turn took it: %q", got)
	}
	if got := ask(b.WakeSlot(), e.user, ""); got != "" {
		t.Errorf("the wake-up slot took it: %q", got)
	}
	got := ask(b.MeetingSlot(), e.user, "")
	if !strings.Contains(got, "A meeting of the user's starts soon") || !strings.Contains(got, "Meeting brief: “Standup”") {
		t.Errorf("the notice's turn got %q", got)
	}
	if got := ask(b.MeetingSlot(), e.user, ""); got != "" {
		t.Errorf("given twice: %q", got)
	}
	// A brief whose turn did not start is dropped.
	if err := b.PrepareMeeting(t.Context(), e.user, ev.ID, time.Date(2026, 12, 7, 9, 30, 0, 0, e.berlin)); err != nil {
		t.Fatal(err)
	}
	b.DropMeeting(e.user)
	if got := ask(b.MeetingSlot(), e.user, ""); got != "" {
		t.Errorf("a dropped brief was given: %q", got)
	}
	if err := b.PrepareMeeting(t.Context(), e.other, ev.ID, time.Date(2026, 12, 7, 9, 30, 0, 0, e.berlin)); err == nil {
		t.Error("another user prepared Theo's meeting")
	}
}
