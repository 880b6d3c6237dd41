package calendar

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-ical"
)

// ProductID is os1's PRODID in what it writes.
const ProductID = "-//os1//calendar//EN"

// ImportError is one event of an ICS file os1 could not read, and why.
type ImportError struct {
	UID     string // "" when the event had none
	Summary string
	Index   int // the event's position in the file, from 1
	Err     error
}

func (e ImportError) Error() string {
	name := e.Summary
	if name == "" {
		name = e.UID
	}
	if name == "" {
		return fmt.Sprintf("event %d: %v", e.Index, e.Err)
	}
	return fmt.Sprintf("event %d (%q): %v", e.Index, name, e.Err)
}

// ParseICS reads every VEVENT of an iCalendar stream (one or more
// VCALENDARs) into events, a series' overrides joined to it. Events it
// cannot read are returned as ImportErrors, one each; the others are all
// returned. A stream go-ical cannot parse at all is read again one event
// at a time, so one broken event does not cost the rest.
func ParseICS(r io.Reader) ([]Event, []ImportError, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxICSBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read the ICS file: %w", err)
	}
	if len(data) > MaxICSBytes {
		return nil, nil, fmt.Errorf("the ICS file is larger than %d MB", MaxICSBytes>>20)
	}
	cals, err := decodeAll(bytes.NewReader(data))
	if err != nil {
		return parseEach(data)
	}
	var comps []*ical.Component
	z := zones{}
	for _, c := range cals {
		z.collect(c)
		for _, ch := range c.Children {
			if ch.Name == ical.CompEvent {
				comps = append(comps, ch)
			}
		}
	}
	if len(comps) == 0 && len(cals) == 0 {
		return nil, nil, errors.New("this is not an iCalendar file (no BEGIN:VCALENDAR)")
	}
	evs, bad := fromComponents(comps, z)
	return evs, bad, nil
}

// MaxICSBytes bounds an imported file.
const MaxICSBytes = 32 << 20

// decode is go-ical's Decode, with a panic on malformed input (go-ical
// indexes past the end of some broken content lines) turned into an error.
func decode(dec *ical.Decoder) (c *ical.Calendar, err error) {
	defer func() {
		if p := recover(); p != nil {
			c, err = nil, fmt.Errorf("malformed iCalendar (%v)", p)
		}
	}()
	return dec.Decode()
}

func decodeAll(r io.Reader) ([]*ical.Calendar, error) {
	dec := ical.NewDecoder(r)
	var out []*ical.Calendar
	for {
		c, err := decode(dec)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}

// parseEach cuts a stream go-ical refused into its VEVENT blocks and
// decodes each alone inside a VCALENDAR of its own.
func parseEach(data []byte) ([]Event, []ImportError, error) {
	var blocks [][]string
	var cur []string
	depth := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxICSBytes)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		up := strings.ToUpper(strings.TrimSpace(line))
		if up == "BEGIN:VEVENT" && depth == 0 {
			cur = []string{line}
			depth = 1
			continue
		}
		if depth > 0 {
			cur = append(cur, line)
			if strings.HasPrefix(up, "BEGIN:") {
				depth++
			} else if strings.HasPrefix(up, "END:") {
				depth--
				if depth == 0 {
					blocks = append(blocks, cur)
				}
			}
		}
	}
	if depth > 0 {
		blocks = append(blocks, cur) // cut off: reported broken below
	}
	if len(blocks) == 0 {
		return nil, nil, errors.New("this is not an iCalendar file: no event could be read")
	}
	var comps []*ical.Component
	var bad []ImportError
	var idx []int
	for i, b := range blocks {
		text := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:" + ProductID + "\r\n" + strings.Join(b, "\r\n") + "\r\nEND:VCALENDAR\r\n"
		c, err := decode(ical.NewDecoder(strings.NewReader(text)))
		if err != nil || len(c.Children) != 1 {
			if err == nil {
				err = errors.New("not one event")
			}
			bad = append(bad, ImportError{Index: i + 1, UID: rawField(b, "UID"), Summary: rawField(b, "SUMMARY"),
				Err: fmt.Errorf("not valid iCalendar: %w", err)})
			continue
		}
		comps = append(comps, c.Children[0])
		idx = append(idx, i+1)
	}
	evs, more := fromComponents(comps, nil)
	for _, m := range more {
		if m.Index >= 1 && m.Index <= len(idx) {
			m.Index = idx[m.Index-1]
		}
		bad = append(bad, m)
	}
	return evs, bad, nil
}

// rawField is a property's raw value in a block go-ical could not read,
// only to name the event in its error.
func rawField(lines []string, name string) string {
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.SplitN(k, ";", 2)[0], name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// fromComponents converts VEVENTs and joins overrides to their series.
func fromComponents(comps []*ical.Component, z zones) ([]Event, []ImportError) {
	var out []Event
	var bad []ImportError
	byUID := map[string]int{}
	var orphans []Event
	for i, c := range comps {
		e, err := fromComponent(c, z)
		if err != nil {
			bad = append(bad, ImportError{Index: i + 1, UID: e.UID, Summary: e.Summary, Err: err})
			continue
		}
		if !e.RecurrenceID.IsZero() {
			orphans = append(orphans, e)
			continue
		}
		if j, ok := byUID[e.UID]; ok {
			bad = append(bad, ImportError{Index: i + 1, UID: e.UID, Summary: e.Summary,
				Err: fmt.Errorf("a second event with the UID %q (the first, %q, was kept)", e.UID, out[j].Summary)})
			continue
		}
		byUID[e.UID] = len(out)
		out = append(out, e)
	}
	for _, o := range orphans {
		if j, ok := byUID[o.UID]; ok {
			out[j].Overrides = append(out[j].Overrides, o)
			continue
		}
		// An override whose series is not here (an invitation to one
		// occurrence) stands alone, keeping its RECURRENCE-ID.
		byUID[o.UID] = len(out)
		out = append(out, o)
	}
	return out, bad
}

// zones maps the TZIDs of a file's VTIMEZONEs to IANA names where the
// VTIMEZONE says which (X-LIC-LOCATION, written by Lightning, Evolution
// and others), for TZIDs that are not IANA names themselves.
type zones map[string]string

func (z zones) collect(cal *ical.Calendar) {
	for _, c := range cal.Children {
		if c.Name != ical.CompTimezone {
			continue
		}
		id, loc := c.Props.Get(ical.PropTimezoneID), c.Props.Get("X-LIC-LOCATION")
		if id != nil && loc != nil {
			z[id.Value] = strings.TrimSpace(loc.Value)
		}
	}
}

// load is the zone of a TZID: itself, or what its VTIMEZONE names.
func (z zones) load(tzid string) (*time.Location, error) {
	l, err := LoadZone(tzid)
	if err == nil {
		return l, nil
	}
	if alias, ok := z[tzid]; ok {
		if l, err2 := LoadZone(alias); err2 == nil {
			return l, nil
		}
	}
	return nil, err
}

// FromComponent reads one VEVENT. On error the returned event still
// carries the UID and summary, to name it.
func FromComponent(c *ical.Component) (Event, error) { return fromComponent(c, nil) }

func fromComponent(c *ical.Component, z zones) (Event, error) {
	var e Event
	e.UID = propText(c, ical.PropUID)
	e.Summary = propText(c, ical.PropSummary)
	if e.UID == "" {
		return e, errors.New("it has no UID")
	}
	e.Description = propText(c, ical.PropDescription)
	e.Location = propText(c, ical.PropLocation)
	e.Status = strings.ToUpper(propText(c, ical.PropStatus))
	var err error
	p := c.Props.Get(ical.PropDateTimeStart)
	if p == nil {
		return e, errors.New("it has no start (DTSTART)")
	}
	if e.Start, err = z.whenOf(p); err != nil {
		return e, fmt.Errorf("its start: %w", err)
	}
	if p := c.Props.Get(ical.PropDateTimeEnd); p != nil {
		if e.End, err = z.whenOf(p); err != nil {
			return e, fmt.Errorf("its end: %w", err)
		}
	} else if p := c.Props.Get(ical.PropDuration); p != nil {
		d, err := p.Duration()
		if err != nil {
			return e, fmt.Errorf("its duration %q: %w", p.Value, err)
		}
		e.End = e.Start
		e.End.Time = e.Start.Time.Add(d)
	} else if e.Start.Kind == Date {
		e.End = e.Start
		e.End.Time = e.Start.Time.AddDate(0, 0, 1)
	} else {
		e.End = e.Start
	}
	if p := c.Props.Get(ical.PropRecurrenceID); p != nil {
		if e.RecurrenceID, err = z.whenOf(p); err != nil {
			return e, fmt.Errorf("its RECURRENCE-ID: %w", err)
		}
	}
	if p := c.Props.Get(ical.PropRecurrenceRule); p != nil {
		e.RRule = p.Value
		if _, err := e.rule(time.UTC); err != nil {
			return e, fmt.Errorf("its repeat rule %q: %w", p.Value, err)
		}
	}
	for _, name := range []string{ical.PropExceptionDates, ical.PropRecurrenceDates} {
		for _, p := range c.Props.Values(name) {
			for _, v := range strings.Split(p.Value, ",") {
				q := p
				q.Value = strings.TrimSpace(v)
				w, err := z.whenOf(&q)
				if err != nil {
					return e, fmt.Errorf("its %s %q: %w", name, v, err)
				}
				if name == ical.PropExceptionDates {
					e.ExDates = append(e.ExDates, w)
				} else {
					e.RDates = append(e.RDates, w)
				}
			}
		}
	}
	if p := c.Props.Get(ical.PropSequence); p != nil {
		e.Sequence, _ = strconv.Atoi(strings.TrimSpace(p.Value))
	}
	if p := c.Props.Get(ical.PropOrganizer); p != nil {
		e.Organizer = personOf(p)
	}
	for _, p := range c.Props.Values(ical.PropAttendee) {
		e.Attendees = append(e.Attendees, personOf(&p))
	}
	for name, ps := range c.Props {
		if modelled[name] {
			continue
		}
		for _, p := range ps {
			e.Extra = append(e.Extra, Prop{Name: p.Name, Params: p.Params, Value: p.Value})
		}
	}
	sortProps(e.Extra)
	for _, ch := range c.Children {
		var buf bytes.Buffer
		cal := ical.NewCalendar()
		cal.Props.SetText(ical.PropVersion, "2.0")
		cal.Props.SetText(ical.PropProductID, ProductID)
		cal.Children = []*ical.Component{ch}
		if err := ical.NewEncoder(&buf).Encode(cal); err == nil {
			e.Alarms = append(e.Alarms, componentText(buf.String()))
		}
	}
	if err := e.Validate(); err != nil {
		return e, err
	}
	return e, nil
}

// componentText cuts the wrapping VCALENDAR lines off an encoded component.
func componentText(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\r\n"), "\r\n")
	var keep []string
	inside := false
	for _, l := range lines[1 : len(lines)-1] {
		if strings.HasPrefix(l, "BEGIN:") {
			inside = true
		}
		if inside {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\r\n") + "\r\n"
}

var modelled = map[string]bool{
	ical.PropUID: true, ical.PropSummary: true, ical.PropDescription: true, ical.PropLocation: true,
	ical.PropStatus: true, ical.PropDateTimeStart: true, ical.PropDateTimeEnd: true, ical.PropDuration: true,
	ical.PropRecurrenceID: true, ical.PropRecurrenceRule: true, ical.PropExceptionDates: true,
	ical.PropRecurrenceDates: true, ical.PropSequence: true, ical.PropOrganizer: true, ical.PropAttendee: true,
	ical.PropDateTimeStamp: true,
}

func sortProps(ps []Prop) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Name < ps[j-1].Name; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

func propText(c *ical.Component, name string) string {
	p := c.Props.Get(name)
	if p == nil {
		return ""
	}
	s, err := p.Text()
	if err != nil {
		return p.Value
	}
	return s
}

func personOf(p *ical.Prop) Person {
	email := p.Value
	if len(email) > 7 && strings.EqualFold(email[:7], "mailto:") {
		email = email[7:]
	}
	return Person{Name: p.Params.Get(ical.ParamCommonName), Email: email,
		Status: p.Params.Get(ical.ParamParticipationStatus), Role: p.Params.Get(ical.ParamRole)}
}

// whenOf reads a DATE or DATE-TIME property as written: its TZID, UTC, or
// floating.
func (z zones) whenOf(p *ical.Prop) (When, error) {
	v := strings.TrimSpace(p.Value)
	isDate := p.ValueType() == ical.ValueDate || (p.ValueType() == ical.ValueDefault && len(v) == 8)
	if isDate {
		t, err := time.ParseInLocation("20060102", v, time.UTC)
		if err != nil {
			return When{}, fmt.Errorf("%q is not a date (YYYYMMDD)", v)
		}
		return When{Kind: Date, Time: t}, nil
	}
	if strings.HasSuffix(v, "Z") {
		t, err := time.ParseInLocation("20060102T150405Z", v, time.UTC)
		if err != nil {
			return When{}, fmt.Errorf("%q is not a UTC time (YYYYMMDDTHHMMSSZ)", v)
		}
		return When{Kind: Zoned, Time: t, Zone: "UTC"}, nil
	}
	if tzid := p.Params.Get(ical.PropTimezoneID); tzid != "" {
		loc, err := z.load(tzid)
		if err != nil {
			return When{}, err
		}
		t, err := time.ParseInLocation("20060102T150405", v, loc)
		if err != nil {
			return When{}, fmt.Errorf("%q is not a time (YYYYMMDDTHHMMSS)", v)
		}
		return When{Kind: Zoned, Time: t, Zone: loc.String()}, nil
	}
	t, err := time.ParseInLocation("20060102T150405", v, time.UTC)
	if err != nil {
		return When{}, fmt.Errorf("%q is not a time (YYYYMMDDTHHMMSS)", v)
	}
	return When{Kind: Floating, Time: t}, nil
}

// setWhen writes w to a property as it was written.
func setWhen(p *ical.Prop, w When) {
	switch w.Kind {
	case Date:
		p.SetDate(w.Time)
	case Floating:
		p.SetValueType(ical.ValueDateTime)
		p.Value = w.Time.Format("20060102T150405")
	default:
		loc := w.Location(nil)
		if loc == time.UTC {
			p.SetDateTime(w.Time.UTC())
			return
		}
		p.SetDateTime(w.Time.In(loc))
	}
}

// Component is e as a VEVENT (without its overrides). stamp is DTSTAMP.
func (e Event) Component(stamp time.Time) *ical.Component {
	c := ical.NewComponent(ical.CompEvent)
	c.Props.SetText(ical.PropUID, e.UID)
	c.Props.SetDateTime(ical.PropDateTimeStamp, stamp.UTC())
	if e.Summary != "" {
		c.Props.SetText(ical.PropSummary, e.Summary)
	}
	if e.Description != "" {
		c.Props.SetText(ical.PropDescription, e.Description)
	}
	if e.Location != "" {
		c.Props.SetText(ical.PropLocation, e.Location)
	}
	if e.Status != "" {
		c.Props.SetText(ical.PropStatus, e.Status)
	}
	add := func(name string, w When) {
		p := ical.NewProp(name)
		setWhen(p, w)
		c.Props.Add(p)
	}
	add(ical.PropDateTimeStart, e.Start)
	if !e.End.IsZero() && !e.End.Equal(e.Start) {
		add(ical.PropDateTimeEnd, e.End)
	}
	if !e.RecurrenceID.IsZero() {
		add(ical.PropRecurrenceID, e.RecurrenceID)
	}
	if e.RRule != "" {
		p := ical.NewProp(ical.PropRecurrenceRule)
		p.Value = e.RRule
		c.Props.Add(p)
	}
	for _, w := range e.ExDates {
		add(ical.PropExceptionDates, w)
	}
	for _, w := range e.RDates {
		add(ical.PropRecurrenceDates, w)
	}
	if e.Sequence > 0 {
		p := ical.NewProp(ical.PropSequence)
		p.Value = strconv.Itoa(e.Sequence)
		c.Props.Add(p)
	}
	person := func(name string, x Person) {
		p := ical.NewProp(name)
		p.Value = "mailto:" + x.Email
		if x.Name != "" {
			p.Params.Set(ical.ParamCommonName, x.Name)
		}
		if x.Status != "" {
			p.Params.Set(ical.ParamParticipationStatus, x.Status)
		}
		if x.Role != "" {
			p.Params.Set(ical.ParamRole, x.Role)
		}
		c.Props.Add(p)
	}
	if e.Organizer.Email != "" {
		person(ical.PropOrganizer, e.Organizer)
	}
	for _, a := range e.Attendees {
		person(ical.PropAttendee, a)
	}
	for _, x := range e.Extra {
		p := ical.NewProp(x.Name)
		p.Value = x.Value
		for k, v := range x.Params {
			p.Params[k] = append([]string(nil), v...)
		}
		c.Props.Add(p)
	}
	for _, a := range e.Alarms {
		text := "BEGIN:VCALENDAR\r\n" + a + "END:VCALENDAR\r\n"
		if cal, err := decode(ical.NewDecoder(strings.NewReader(text))); err == nil {
			c.Children = append(c.Children, cal.Children...)
		}
	}
	return c
}

// ICal is e (with its overrides) as one calendar object, the form a
// CalDAV server stores.
func (e Event) ICal(stamp time.Time) *ical.Calendar {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, ProductID)
	cal.Children = append(cal.Children, e.Component(stamp))
	for _, o := range e.Overrides {
		o.UID = e.UID
		cal.Children = append(cal.Children, o.Component(stamp))
	}
	return cal
}

// WriteICS writes events as one VCALENDAR (the local calendar's export).
func WriteICS(w io.Writer, name string, events []Event, stamp time.Time) error {
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropProductID, ProductID)
	if name != "" {
		cal.Props.SetText("X-WR-CALNAME", name)
	}
	for _, e := range events {
		cal.Children = append(cal.Children, e.ICal(stamp).Children...)
	}
	// RFC 5545 wants a VTIMEZONE for every TZID the file names.
	cal.Children = append(exportZones(events), cal.Children...)
	if len(cal.Children) == 0 {
		// go-ical refuses an empty VCALENDAR; RFC 5545 wants a component.
		tz := ical.NewComponent(ical.CompTimezone)
		tz.Props.SetText(ical.PropTimezoneID, "UTC")
		std := ical.NewComponent(ical.CompTimezoneStandard)
		std.Props.SetDateTime(ical.PropDateTimeStart, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC))
		std.Props.SetText(ical.PropTimezoneOffsetFrom, "+0000")
		std.Props.SetText(ical.PropTimezoneOffsetTo, "+0000")
		tz.Children = append(tz.Children, std)
		cal.Children = append(cal.Children, tz)
	}
	if err := ical.NewEncoder(w).Encode(cal); err != nil {
		return fmt.Errorf("write the ICS file: %w", err)
	}
	return nil
}

// exportZones is a VTIMEZONE for each zone the events' times name (the
// rules of the year the first time naming it falls in), in the order met.
func exportZones(events []Event) []*ical.Component {
	seen := map[string]bool{}
	var tzs []*ical.Component
	var add func(e Event)
	add = func(e Event) {
		ws := append([]When{e.Start, e.End, e.RecurrenceID}, e.RDates...)
		for _, w := range append(ws, e.ExDates...) {
			if w.Kind != Zoned || w.Zone == "UTC" || w.Zone == "" || seen[w.Zone] {
				continue
			}
			seen[w.Zone] = true
			if loc, err := LoadZone(w.Zone); err == nil {
				tzs = append(tzs, VTimezone(loc, w.Time.Year()))
			}
		}
		for _, o := range e.Overrides {
			add(o)
		}
	}
	for _, e := range events {
		add(e)
	}
	return tzs
}

// FromICal reads a calendar object from a server: its series with the
// overrides (or an override alone).
func FromICal(cal *ical.Calendar) (Event, error) {
	var comps []*ical.Component
	for _, c := range cal.Children {
		if c.Name == ical.CompEvent {
			comps = append(comps, c)
		}
	}
	z := zones{}
	z.collect(cal)
	evs, bad := fromComponents(comps, z)
	if len(bad) > 0 {
		return Event{}, bad[0]
	}
	if len(evs) != 1 {
		return Event{}, fmt.Errorf("the calendar object holds %d events, not one", len(evs))
	}
	return evs[0], nil
}
