package reminders_test

import (
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/reminders"
)

// A time that has passed is named with its year when it is not this
// year's, so "1 January 10:00 has passed" is never ambiguous.
func TestPassedTimeNamesItsYear(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	e := newEnv(t, "UTC", now)
	_, err := e.svc.Add(t.Context(), e.user, reminders.Input{Text: "x", At: "2020-01-01T10:00"})
	if !reminders.IsInput(err) || !strings.Contains(err.Error(), "1 January 2020 10:00 has passed") {
		t.Errorf("2020: %v", err)
	}
	_, err = e.svc.Add(t.Context(), e.user, reminders.Input{Text: "x", At: "2026-12-05T11:00"})
	if !reminders.IsInput(err) || !strings.Contains(err.Error(), "Saturday 5 December 11:00 has passed") {
		t.Errorf("this morning: %v", err)
	}
}
