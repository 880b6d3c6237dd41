package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// iTIP (RFC 5546) methods os1 writes and reads. They travel by mail as
// iMIP (RFC 6047): a text/calendar part whose method parameter repeats the
// VCALENDAR's METHOD.
const (
	MethodRequest = "REQUEST" // an organizer invites (or updates an invitation)
	MethodCancel  = "CANCEL"  // an organizer cancels
	MethodReply   = "REPLY"   // an attendee answers
)

// Participation statuses (PARTSTAT) an attendee answers with.
const (
	PartAccepted    = "ACCEPTED"
	PartDeclined    = "DECLINED"
	PartTentative   = "TENTATIVE"
	PartNeedsAction = "NEEDS-ACTION"
)

// ErrNotInvitation is a text/calendar that carries no iTIP message os1
// can act on (no METHOD, no event, or a method it does not handle).
var ErrNotInvitation = errors.New("not a calendar invitation")

// Invitation is an iTIP message read from a mail: its method and the event
// it carries (a series with its overrides, or one occurrence alone). Every
// text in it comes from the sender and is untrusted.
type Invitation struct {
	Method string `json:"method"`
	Event  Event  `json:"event"`
}

// MaxITIPBytes bounds an invitation read from a mail.
const MaxITIPBytes = 1 << 20

// ParseITIP reads an iTIP message (the text/calendar part of an
// invitation). Its METHOD must be REQUEST, CANCEL or REPLY and it must
// hold events of one UID.
func ParseITIP(data []byte) (Invitation, error) {
	if len(data) > MaxITIPBytes {
		return Invitation{}, fmt.Errorf("%w: larger than %d KB", ErrNotInvitation, MaxITIPBytes>>10)
	}
	cals, err := decodeAll(bytes.NewReader(data))
	if err != nil {
		return Invitation{}, fmt.Errorf("%w: %v", ErrNotInvitation, err)
	}
	if len(cals) != 1 {
		return Invitation{}, fmt.Errorf("%w: %d calendars, not one", ErrNotInvitation, len(cals))
	}
	cal := cals[0]
	var inv Invitation
	if p := cal.Props.Get(ical.PropMethod); p != nil {
		inv.Method = strings.ToUpper(strings.TrimSpace(p.Value))
	}
	switch inv.Method {
	case MethodRequest, MethodCancel, MethodReply:
	case "":
		return inv, fmt.Errorf("%w: no METHOD", ErrNotInvitation)
	default:
		return inv, fmt.Errorf("%w: method %q is not handled", ErrNotInvitation, inv.Method)
	}
	var comps []*ical.Component
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent {
			comps = append(comps, c)
		}
	}
	if len(comps) == 0 {
		return inv, fmt.Errorf("%w: no event", ErrNotInvitation)
	}
	z := zones{}
	z.collect(cal)
	evs, bad := fromComponents(comps, z)
	if len(bad) > 0 {
		return inv, fmt.Errorf("%w: %v", ErrNotInvitation, bad[0])
	}
	if len(evs) != 1 {
		return inv, fmt.Errorf("%w: %d events, not one", ErrNotInvitation, len(evs))
	}
	inv.Event = evs[0]
	return inv, nil
}

// Attendee is the attendee of e with email (case-insensitive), if any.
func (e Event) Attendee(email string) (Person, bool) {
	for _, p := range e.Attendees {
		if strings.EqualFold(p.Email, email) {
			return p, true
		}
	}
	return Person{}, false
}

// Request writes e as an iTIP REQUEST from its organizer: every attendee
// asked to answer (RSVP=TRUE), the zones its times name described by a
// VTIMEZONE each. stamp is DTSTAMP.
func Request(e Event, stamp time.Time) ([]byte, error) {
	if e.Organizer.Email == "" {
		return nil, errors.New("an invitation needs an organizer")
	}
	if len(e.Attendees) == 0 {
		return nil, errors.New("an invitation needs at least one attendee")
	}
	e.Status = orDefault(e.Status, StatusConfirmed)
	cal := itipCalendar(MethodRequest)
	cal.Children = append(cal.Children, e.itipComponents(stamp, true)...)
	return encodeITIP(cal, e)
}

// CancelMessage writes the iTIP CANCEL of e (one occurrence when occurrence is
// set): STATUS:CANCELLED, its sequence one above the last request's.
func CancelMessage(e Event, occurrence When, stamp time.Time) ([]byte, error) {
	if e.Organizer.Email == "" || len(e.Attendees) == 0 {
		return nil, errors.New("only an invitation with an organizer and attendees can be cancelled by mail")
	}
	c := e
	c.Status, c.Overrides = StatusCancelled, nil
	if !occurrence.IsZero() {
		c.RRule, c.RDates, c.ExDates = "", nil, nil
		c.RecurrenceID, c.Start, c.End = occurrence, occurrence, When{}
	}
	cal := itipCalendar(MethodCancel)
	cal.Children = append(cal.Children, c.itipComponents(stamp, false)...)
	return encodeITIP(cal, c)
}

// Reply writes attendee's iTIP REPLY to the invitation e: only that
// attendee, with its PARTSTAT, and the event's UID, SEQUENCE and times
// (RECURRENCE-ID when e is one occurrence). comment, when given, goes in
// COMMENT.
func Reply(e Event, attendee Person, comment string, stamp time.Time) ([]byte, error) {
	switch attendee.Status {
	case PartAccepted, PartDeclined, PartTentative:
	default:
		return nil, fmt.Errorf("a reply accepts, declines or is tentative, not %q", attendee.Status)
	}
	if e.Organizer.Email == "" {
		return nil, errors.New("the invitation names no organizer to reply to")
	}
	r := Event{UID: e.UID, Summary: e.Summary, Start: e.Start, End: e.End, RecurrenceID: e.RecurrenceID,
		Sequence: e.Sequence, Organizer: Person{Name: e.Organizer.Name, Email: e.Organizer.Email},
		Attendees: []Person{{Name: attendee.Name, Email: attendee.Email, Status: attendee.Status}}}
	cal := itipCalendar(MethodReply)
	c := r.Component(stamp)
	if comment = strings.TrimSpace(comment); comment != "" {
		c.Props.SetText("COMMENT", comment)
	}
	cal.Children = append(cal.Children, c)
	return encodeITIP(cal, r)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func itipCalendar(method string) *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, ProductID)
	p := ical.NewProp(ical.PropMethod)
	p.Value = method
	cal.Props.Set(p)
	return cal
}

// itipComponents are e and its overrides as VEVENTs for an iTIP message;
// rsvp asks each attendee (not the organizer) to answer. Alarms are the
// user's own and are not sent.
func (e Event) itipComponents(stamp time.Time, rsvp bool) []*ical.Component {
	e.Alarms = nil
	var out []*ical.Component
	for i, x := range append([]Event{e}, e.Overrides...) {
		if i > 0 {
			x.UID, x.Organizer, x.Alarms = e.UID, e.Organizer, nil
			if len(x.Attendees) == 0 {
				x.Attendees = e.Attendees
			}
		}
		c := x.Component(stamp)
		if rsvp {
			ps := c.Props.Values(ical.PropAttendee)
			for j := range ps {
				if !strings.EqualFold(strings.TrimPrefix(strings.ToLower(ps[j].Value), "mailto:"), e.Organizer.Email) {
					ps[j].Params.Set(ical.ParamRSVP, "TRUE")
					if ps[j].Params.Get(ical.ParamParticipationStatus) == "" {
						ps[j].Params.Set(ical.ParamParticipationStatus, PartNeedsAction)
					}
				}
			}
			c.Props[ical.PropAttendee] = ps
		}
		out = append(out, c)
	}
	return out
}

// encodeITIP adds a VTIMEZONE for each zone e's times name, then encodes.
func encodeITIP(cal *ical.Calendar, e Event) ([]byte, error) {
	seen := map[string]bool{}
	var tzs []*ical.Component
	for _, w := range append([]When{e.Start, e.End, e.RecurrenceID}, e.ExDates...) {
		if w.Kind != Zoned || w.Zone == "UTC" || w.Zone == "" || seen[w.Zone] {
			continue
		}
		seen[w.Zone] = true
		loc, err := LoadZone(w.Zone)
		if err != nil {
			return nil, err
		}
		tzs = append(tzs, VTimezone(loc, w.Time.Year()))
	}
	cal.Children = append(tzs, cal.Children...)
	var buf bytes.Buffer
	if err := ical.NewEncoder(&buf).Encode(cal); err != nil {
		return nil, fmt.Errorf("write the invitation: %w", err)
	}
	return buf.Bytes(), nil
}

// VTimezone describes loc as a VTIMEZONE (RFC 5545 wants one for every
// TZID a calendar names): its rules as they are in year, each yearly
// change written as "the nth (or last) Sunday of the month", the form
// clients understand; a zone without changes is one STANDARD.
func VTimezone(loc *time.Location, year int) *ical.Component {
	tz := ical.NewComponent(ical.CompTimezone)
	tz.Props.SetText(ical.PropTimezoneID, loc.String())
	t := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	end := time.Date(year+1, 1, 1, 0, 0, 0, 0, loc)
	type change struct {
		at       time.Time
		from, to int
		name     string
		dst      bool
	}
	var changes []change
	for len(changes) < 4 {
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.Before(end) {
			break
		}
		_, from := next.Add(-time.Second).Zone()
		name, to := next.Zone()
		changes = append(changes, change{at: next, from: from, to: to, name: name, dst: next.IsDST()})
		t = next
	}
	offset := func(sec int) string {
		sign := "+"
		if sec < 0 {
			sign, sec = "-", -sec
		}
		return fmt.Sprintf("%s%02d%02d", sign, sec/3600, sec/60%60)
	}
	if len(changes) == 0 {
		name, off := t.Zone()
		std := ical.NewComponent(ical.CompTimezoneStandard)
		setRaw(std, ical.PropDateTimeStart, "19700101T000000")
		setRaw(std, ical.PropTimezoneOffsetFrom, offset(off))
		setRaw(std, ical.PropTimezoneOffsetTo, offset(off))
		std.Props.SetText(ical.PropTimezoneName, name)
		tz.Children = append(tz.Children, std)
		return tz
	}
	for _, c := range changes {
		kind := ical.CompTimezoneStandard
		if c.dst {
			kind = ical.CompTimezoneDaylight
		}
		sub := ical.NewComponent(kind)
		// DTSTART is the change's wall clock before it (in the old offset).
		local := c.at.UTC().Add(time.Duration(c.from) * time.Second)
		setRaw(sub, ical.PropDateTimeStart, local.Format("20060102T150405"))
		n := (local.Day()-1)/7 + 1
		if local.AddDate(0, 0, 7).Month() != local.Month() {
			n = -1
		}
		setRaw(sub, ical.PropRecurrenceRule, fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", int(local.Month()), n, strings.ToUpper(local.Weekday().String()[:2])))
		setRaw(sub, ical.PropTimezoneOffsetFrom, offset(c.from))
		setRaw(sub, ical.PropTimezoneOffsetTo, offset(c.to))
		sub.Props.SetText(ical.PropTimezoneName, c.name)
		tz.Children = append(tz.Children, sub)
	}
	return tz
}

// setRaw sets a property's value as written (its default value type).
func setRaw(c *ical.Component, name, value string) {
	p := ical.NewProp(name)
	p.Value = value
	c.Props.Set(p)
}

// Moved is e with a new start and end as Service.Move stores it: the
// whole event (or series), or, with occurrence set on a series, that one
// occurrence as an override. SEQUENCE is left as it is; e is not changed.
func (e Event) Moved(occurrence, start, end When) Event {
	if end.IsZero() {
		end = start
		end.Time = start.Time.Add(e.Duration())
	}
	if occurrence.IsZero() || !e.Recurring() {
		e.Start, e.End = start, end
		return e
	}
	o := e
	o.Overrides, o.RRule, o.RDates, o.ExDates = nil, "", nil, nil
	o.ID, o.Href, o.ETag = "", "", ""
	o.RecurrenceID, o.Start, o.End = occurrence, start, end
	var kept []Event
	for _, x := range e.Overrides {
		if !x.RecurrenceID.Equal(occurrence) {
			kept = append(kept, x)
		}
	}
	e.Overrides = append(kept, o)
	return e
}
