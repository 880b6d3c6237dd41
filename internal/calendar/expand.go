package calendar

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Occurrence is one happening of an event in a range.
type Occurrence struct {
	// Event is the series (or, for an overridden occurrence, the
	// override); its Start and End are as written.
	Event Event `json:"event"`
	// Start and End are this occurrence's instants in the user's zone; for
	// an all-day occurrence, midnight of its first and last-plus-one day.
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	AllDay bool      `json:"all_day,omitempty"`
	// RecurrenceID names the occurrence within its series (zero for a
	// one-off).
	RecurrenceID When `json:"recurrence_id,omitzero"`
}

// MaxOccurrences bounds one event's expansion (a FREQ=MINUTELY rule with no
// end over a year).
const MaxOccurrences = 5000

// rule is e's recurrence set with DTSTART at the start's wall clock in its
// own zone (floating times and dates in loc), so rrule-go steps in local
// time and 09:00 stays 09:00 across DST.
func (e Event) rule(loc *time.Location) (*rrule.Set, error) {
	start := e.Start.In(loc)
	set := &rrule.Set{}
	set.DTStart(start)
	if e.RRule != "" {
		// An UNTIL without Z is local time in the start's zone.
		opt, err := rrule.StrToROptionInLocation(strings.TrimPrefix(e.RRule, "RRULE:"), start.Location())
		if err != nil {
			return nil, err
		}
		opt.Dtstart = start
		r, err := rrule.NewRRule(*opt)
		if err != nil {
			return nil, err
		}
		set.RRule(r)
	} else {
		set.RDate(start)
	}
	for _, w := range e.RDates {
		set.RDate(w.In(loc))
	}
	for _, w := range e.ExDates {
		set.ExDate(sameKind(e.Start, w, loc))
	}
	return set, nil
}

// sameKind reads an exception as the series' start is written: an EXDATE
// given as a date for a timed series removes that day's occurrence.
func sameKind(start, w When, loc *time.Location) time.Time {
	if w.Kind == Date && start.Kind != Date {
		s := start.In(loc)
		d := w.Time
		return time.Date(d.Year(), d.Month(), d.Day(), s.Hour(), s.Minute(), s.Second(), 0, s.Location())
	}
	return w.In(loc)
}

// Expand lists e's occurrences that meet r, in order, read in loc (the
// user's zone, for floating times and dates). Overrides replace the
// occurrence they name (and may move it into or out of r); cancelled ones
// and EXDATEs are left out. An event with a broken rule is an error.
func Expand(e Event, r Range, loc *time.Location) ([]Occurrence, error) {
	if loc == nil {
		loc = time.UTC
	}
	if e.Deleted || e.Status == StatusCancelled && e.RecurrenceID.IsZero() {
		return nil, nil
	}
	dur := e.Duration()
	var out []Occurrence
	add := func(ev Event, rid When) {
		if ev.Status == StatusCancelled {
			return
		}
		s := ev.Start.In(loc)
		end := s.Add(ev.Duration())
		if ev.Start.Kind == Date {
			days := int(ev.Duration() / (24 * time.Hour))
			if days < 1 {
				days = 1
			}
			end = s.AddDate(0, 0, days)
		}
		if r.overlaps(s, end) || (r.From.IsZero() && r.To.IsZero()) {
			out = append(out, Occurrence{Event: ev, Start: s, End: end, AllDay: ev.Start.Kind == Date, RecurrenceID: rid})
		}
	}
	if !e.Recurring() {
		add(e, e.RecurrenceID)
		return out, nil
	}
	set, err := e.rule(loc)
	if err != nil {
		return nil, fmt.Errorf("the repeat rule of %q: %w", e.Summary, err)
	}
	overrides := map[int64]Event{}
	for _, o := range e.Overrides {
		overrides[sameKind(e.Start, o.RecurrenceID, loc).Unix()] = o
	}
	from := r.From.Add(-dur - 24*time.Hour) // an occurrence that began before r but runs into it
	limit := r.To
	if len(overrides) > 0 {
		limit = r.To.Add(366 * 24 * time.Hour) // an override may move a later occurrence into r
	}
	next := set.Iterator()
	for n := 0; n < 10*MaxOccurrences && len(out) < MaxOccurrences; n++ {
		t, ok := next()
		if !ok || (!r.To.IsZero() && !t.Before(limit)) {
			break
		}
		rid := recurrenceID(e.Start, t)
		if o, ok := overrides[t.Unix()]; ok {
			add(o, rid)
			continue
		}
		if t.Before(from) || (!r.To.IsZero() && !t.Before(r.To)) {
			continue
		}
		occ := e
		occ.Overrides = nil
		occ.Start = rid
		occ.End = rid
		if e.Start.Kind == Date {
			occ.End.Time = rid.Time.AddDate(0, 0, max(1, int(dur/(24*time.Hour))))
		} else {
			occ.End.Time = rid.Time.Add(dur)
		}
		add(occ, rid)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// recurrenceID writes an occurrence's start as the series' start is
// written (a date, floating, or in its zone).
func recurrenceID(start When, t time.Time) When {
	switch start.Kind {
	case Date:
		return When{Kind: Date, Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
	case Floating:
		return FloatingAt(t)
	}
	return When{Kind: Zoned, Time: t, Zone: start.Zone}
}

// Agenda expands events into their occurrences in r, in order of start.
// Events whose rule is broken are skipped and returned as errors.
func Agenda(events []Event, r Range, loc *time.Location) ([]Occurrence, []error) {
	var out []Occurrence
	var errs []error
	for _, e := range events {
		occ, err := Expand(e, r, loc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, occ...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, errs
}
