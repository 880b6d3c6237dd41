package schedule_test

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/schedule"
)

// TestLocalDST: the rule for wall-clock times a DST change makes odd, in
// two zones: a skipped time moves later by the gap, a repeated one is the
// first of the two.
func TestLocalDST(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name      string
		loc       *time.Location
		y         int
		m         time.Month
		d, h, min int
		wantUTC   time.Time
		shift     schedule.Shift
	}{
		{"Berlin spring forward 02:30 → 03:30 CEST", berlin, 2026, time.March, 29, 2, 30,
			time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), schedule.Gap},
		{"New York spring forward 02:30 → 03:30 EDT", ny, 2026, time.March, 8, 2, 30,
			time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC), schedule.Gap},
		{"Berlin 03:30 on that day exists", berlin, 2026, time.March, 29, 3, 30,
			time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), schedule.Exact},
		{"Berlin fall back 02:30 happens twice: the first (CEST)", berlin, 2026, time.October, 25, 2, 30,
			time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), schedule.Repeated},
		{"New York fall back 01:30 happens twice: the first (EDT)", ny, 2026, time.November, 1, 1, 30,
			time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), schedule.Repeated},
		{"an ordinary day", ny, 2026, time.December, 6, 18, 0,
			time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC), schedule.Exact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, shift := schedule.Local(tt.y, tt.m, tt.d, tt.h, tt.min, tt.loc)
			if !got.Equal(tt.wantUTC) || shift != tt.shift {
				t.Fatalf("Local = %v (%s) shift %d, want %v shift %d", got, got.UTC(), shift, tt.wantUTC, tt.shift)
			}
		})
	}
}

func TestQuietHoursUntil(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	q, err := schedule.ParseQuietHours("22:00-07:00")
	if err != nil || q.String() != "22:00-07:00" {
		t.Fatalf("parse: %v %v", q, err)
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, berlin) }
	tests := []struct {
		now    time.Time
		in     bool
		endsAt time.Time
	}{
		{at(5, 21, 59), false, time.Time{}},
		{at(5, 22, 0), true, at(6, 7, 0)},
		{at(6, 3, 0), true, at(6, 7, 0)},
		{at(6, 7, 0), false, time.Time{}},
	}
	for _, tt := range tests {
		end, in := q.Until(tt.now, berlin)
		if in != tt.in || !end.Equal(tt.endsAt) {
			t.Errorf("at %v: in=%v until %v, want %v %v", tt.now, in, end, tt.in, tt.endsAt)
		}
	}
	for _, bad := range []string{"22-07", "25:00-07:00", "22:00-07:60"} {
		if _, err := schedule.ParseQuietHours(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
