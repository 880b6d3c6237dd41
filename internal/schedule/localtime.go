package schedule

import "time"

// Shift says how Local had to move a wall-clock time that a DST change
// made odd.
type Shift int

const (
	// Exact: the time exists once that day.
	Exact Shift = iota
	// Gap: the clocks jumped over it (spring forward); the time was
	// moved later by the length of the jump (02:30 → 03:30).
	Gap
	// Repeated: the clocks went back over it (fall back), so it happens
	// twice; the first is taken.
	Repeated
)

// Local is the instant of a wall-clock time in loc, under one rule for
// every DST change (the rule RFC 5545 gives for calendar times, and the one
// people expect of an alarm):
//
//   - a time that does not exist that day (spring forward: 02:30 in
//     Europe/Berlin on 29 March 2026, in America/New_York on 8 March 2026)
//     is moved later by the gap, so 02:30 becomes 03:30: a reminder never
//     fires before the time the user asked for, and at most the gap after;
//   - a time that happens twice (fall back) is the first of the two, the
//     earlier instant, so "wake me at 01:30" does not wait an extra hour.
//
// time.Date leaves both cases unspecified, so Local decides them itself.
func Local(year int, month time.Month, day, hour, minute int, loc *time.Location) (time.Time, Shift) {
	wall := time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
	// The offsets in force half a day either side of the time: a zone
	// changes its offset at most once in that span.
	_, before := wall.Add(-12 * time.Hour).In(loc).Zone()
	_, after := wall.Add(12 * time.Hour).In(loc).Zone()
	fits := func(off int) (time.Time, bool) {
		t := wall.Add(-time.Duration(off) * time.Second).In(loc)
		return t, t.Year() == year && t.Month() == month && t.Day() == day && t.Hour() == hour && t.Minute() == minute
	}
	a, okA := fits(before)
	b, okB := fits(after)
	switch {
	case okA && okB && !a.Equal(b):
		if b.Before(a) {
			a = b
		}
		return a, Repeated
	case okA:
		return a, Exact
	case okB:
		return b, Exact
	}
	// In the gap: read the wall time with the offset before the jump,
	// which lands the gap's length later on the new clock.
	return wall.Add(-time.Duration(before) * time.Second).In(loc), Gap
}
