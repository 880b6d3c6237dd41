package recall

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	d := func(y int, m time.Month, day, h int) time.Time { return time.Date(y, m, day, h, 0, 0, 0, berlin) }
	var zero time.Time
	// Wednesday 11 June 2025, 15:04 in Berlin.
	now := time.Date(2025, 6, 11, 15, 4, 0, 0, berlin)
	for _, c := range []struct {
		q        string
		rest     string
		from, to time.Time
	}{
		{"what did we do yesterday?", "what did we do?", d(2025, 6, 10, 0), d(2025, 6, 11, 0)},
		{"Today", "", d(2025, 6, 11, 0), d(2025, 6, 12, 0)},
		{"the day before yesterday", "", d(2025, 6, 9, 0), d(2025, 6, 10, 0)},
		{"what did I eat this morning", "what did I eat", d(2025, 6, 11, 0), d(2025, 6, 11, 12)},
		{"yesterday evening", "", d(2025, 6, 10, 18), d(2025, 6, 11, 0)},
		{"last night", "", d(2025, 6, 10, 18), d(2025, 6, 11, 6)},
		{"this week", "", d(2025, 6, 9, 0), d(2025, 6, 16, 0)},
		{"movies last week", "movies", d(2025, 6, 2, 0), d(2025, 6, 9, 0)},
		{"in the past week", "", d(2025, 6, 5, 0), d(2025, 6, 12, 0)},
		{"last weekend", "", d(2025, 6, 7, 0), d(2025, 6, 9, 0)},
		{"last month", "", d(2025, 5, 1, 0), d(2025, 6, 1, 0)},
		{"this month", "", d(2025, 6, 1, 0), d(2025, 7, 1, 0)},
		{"last year", "", d(2024, 1, 1, 0), d(2025, 1, 1, 0)},
		{"in 2024", "", d(2024, 1, 1, 0), d(2025, 1, 1, 0)},
		{"the trip in May", "the trip", d(2025, 5, 1, 0), d(2025, 6, 1, 0)},
		{"in June", "", d(2025, 6, 1, 0), d(2025, 7, 1, 0)}, // the current month has begun
		{"in July", "", d(2024, 7, 1, 0), d(2024, 8, 1, 0)}, // most recent past July
		{"in May 2023", "", d(2023, 5, 1, 0), d(2023, 6, 1, 0)},
		{"March 2024", "", d(2024, 3, 1, 0), d(2024, 4, 1, 0)},
		{"last June", "", d(2024, 6, 1, 0), d(2024, 7, 1, 0)},
		{"on Monday", "", d(2025, 6, 9, 0), d(2025, 6, 10, 0)},
		{"last Monday", "", d(2025, 6, 9, 0), d(2025, 6, 10, 0)},
		{"on Wednesday", "", d(2025, 6, 4, 0), d(2025, 6, 5, 0)}, // today is Wednesday: a week ago
		{"on Sunday", "", d(2025, 6, 8, 0), d(2025, 6, 9, 0)},
		{"3 days ago", "", d(2025, 6, 8, 0), d(2025, 6, 9, 0)},
		{"a day ago", "", d(2025, 6, 10, 0), d(2025, 6, 11, 0)},
		{"2 weeks ago", "", d(2025, 5, 26, 0), d(2025, 6, 2, 0)},
		{"two months ago", "", d(2025, 4, 1, 0), d(2025, 5, 1, 0)},
		{"a few days ago", "", d(2025, 6, 7, 0), d(2025, 6, 10, 0)},
		{"in the last 3 days", "", d(2025, 6, 9, 0), d(2025, 6, 12, 0)},
		{"since March", "", d(2025, 3, 1, 0), zero},
		{"before March", "", zero, d(2025, 3, 1, 0)},
		{"after Monday", "", d(2025, 6, 10, 0), zero},
		{"until yesterday", "", zero, d(2025, 6, 11, 0)},
		{"since last week", "", d(2025, 6, 2, 0), zero},
		{"on 2025-05-03", "", d(2025, 5, 3, 0), d(2025, 5, 4, 0)},
		{"what happened 2025-05-03?", "what happened?", d(2025, 5, 3, 0), d(2025, 5, 4, 0)},
		{"in 2025-02", "", d(2025, 2, 1, 0), d(2025, 3, 1, 0)},
		{"Yesterday, Theo called", "Theo called", d(2025, 6, 10, 0), d(2025, 6, 11, 0)},
		{"IN MAY", "", d(2025, 5, 1, 0), d(2025, 6, 1, 0)},
	} {
		rest, from, to, ok := ParseTime(c.q, now, berlin)
		if !ok || rest != c.rest || !from.Equal(c.from) || !to.Equal(c.to) {
			t.Errorf("ParseTime(%q) = %q, %v, %v, %v\nwant %q, %v, %v, true", c.q, rest, from, to, ok, c.rest, c.from, c.to)
		}
	}
}

func TestParseTimeLeavesOtherText(t *testing.T) {
	now := time.Date(2025, 6, 11, 15, 4, 0, 0, time.UTC)
	for _, q := range []string{
		"",
		"before I moved",
		"what did Catherine say about Boston",
		"I may come",          // "may" without "in" is a verb
		"Friday is a name",    // a weekday needs "on" or "last"
		"we had 2024 guests",  // a bare number is not a year
		"on 2025-02-30",       // no such day
		"in 2025-13",          // no such month
		"the mayor of Monday", // no word boundary trick
		"since I moved to Berlin",
	} {
		rest, from, to, ok := ParseTime(q, now, time.UTC)
		if ok || rest != q || !from.IsZero() || !to.IsZero() {
			t.Errorf("ParseTime(%q) = %q, %v, %v, %v; want no time", q, rest, from, to, ok)
		}
	}
}

// Days across a daylight-saving change are 23 or 25 hours long; ranges
// must follow the calendar, not add 24 h.
func TestParseTimeDST(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		now   time.Time
		q     string
		hours float64
		from  string
	}{
		// Clocks went forward on Sunday 30 March 2025.
		{time.Date(2025, 3, 31, 10, 0, 0, 0, berlin), "yesterday", 23, "2025-03-30T00:00:00+01:00"},
		{time.Date(2025, 3, 31, 10, 0, 0, 0, berlin), "last week", 7*24 - 1, "2025-03-24T00:00:00+01:00"},
		{time.Date(2025, 3, 31, 10, 0, 0, 0, berlin), "today", 24, "2025-03-31T00:00:00+02:00"},
		// And back on Sunday 26 October 2025.
		{time.Date(2025, 10, 27, 10, 0, 0, 0, berlin), "yesterday", 25, "2025-10-26T00:00:00+02:00"},
		{time.Date(2025, 10, 27, 10, 0, 0, 0, berlin), "on Sunday", 25, "2025-10-26T00:00:00+02:00"},
		{time.Date(2025, 11, 5, 10, 0, 0, 0, berlin), "last month", 31*24 + 1, "2025-10-01T00:00:00+02:00"},
	} {
		_, from, to, ok := ParseTime(c.q, c.now, berlin)
		if !ok || to.Sub(from).Hours() != c.hours || from.Format(time.RFC3339) != c.from {
			t.Errorf("ParseTime(%q) at %v = [%v, %v) (%v h); want from %s, %v h", c.q, c.now, from, to, to.Sub(from).Hours(), c.from, c.hours)
		}
	}
}

// A UTC instant late in the evening is already tomorrow in Berlin.
func TestParseTimeUsesZone(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	now := time.Date(2025, 6, 11, 22, 30, 0, 0, time.UTC) // 00:30 on 12 June in Berlin
	_, from, _, _ := ParseTime("today", now, berlin)
	if want := time.Date(2025, 6, 12, 0, 0, 0, 0, berlin); !from.Equal(want) {
		t.Errorf("today from = %v, want %v", from, want)
	}
	_, from, _, _ = ParseTime("today", now, nil)
	if want := time.Date(2025, 6, 11, 0, 0, 0, 0, time.UTC); !from.Equal(want) {
		t.Errorf("today in UTC (nil loc) from = %v, want %v", from, want)
	}
}
