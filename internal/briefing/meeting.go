package briefing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/memory"
)

// ErrNoMeeting: no such meeting of this user in the span looked at.
var ErrNoMeeting = errors.New("no such meeting in the calendar")

// ErrNoCalendar: the briefer has no calendar to read.
var ErrNoCalendar = errors.New("no calendar is available")

// maxNotes bounds the event's own notes in a brief.
const maxNotes = 200

// Lookahead is how far ahead the next meeting, or a named one, is looked for.
const Lookahead = 14 * 24 * time.Hour

// MeetingBrief is the brief of the occurrence of eventID that starts at
// start (the proactive "meeting soon" trigger calls it with what it found
// in the agenda). An occurrence of eventID on the same day is taken when
// start is not exact (the event moved since).
func (b *Briefer) MeetingBrief(ctx context.Context, userID, eventID string, start time.Time) (string, error) {
	if b.d.Calendar == nil {
		return "", ErrNoCalendar
	}
	loc := b.location(ctx, userID)
	day := dayOf(start, loc)
	occ, err := b.d.Calendar.Agenda(ctx, userID, day, loc)
	if err != nil {
		return "", fmt.Errorf("read the calendar of %s: %w", start.In(loc).Format("2 January"), err)
	}
	var found *calendar.Occurrence
	for i, o := range occ {
		if o.Event.ID != eventID {
			continue
		}
		if found == nil || absDur(o.Start.Sub(start)) < absDur(found.Start.Sub(start)) {
			found = &occ[i]
		}
	}
	if found == nil {
		return "", fmt.Errorf("event %s on %s: %w", eventID, start.In(loc).Format("2 January"), ErrNoMeeting)
	}
	return b.BriefOccurrence(ctx, userID, *found)
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// FindMeeting finds the user's next meeting (query empty), or the next one
// whose title, place or people hold query, within Lookahead. A meeting
// that began in the last 15 minutes still counts as next; all-day events
// are not meetings.
func (b *Briefer) FindMeeting(ctx context.Context, userID, query string) (calendar.Occurrence, error) {
	if b.d.Calendar == nil {
		return calendar.Occurrence{}, ErrNoCalendar
	}
	loc := b.location(ctx, userID)
	now := b.d.Clock.Now()
	from := now.Add(-15 * time.Minute)
	occ, err := b.d.Calendar.Agenda(ctx, userID, calendar.Range{From: from, To: now.Add(Lookahead)}, loc)
	if err != nil {
		return calendar.Occurrence{}, fmt.Errorf("read the calendar: %w", err)
	}
	q := strings.ToLower(strings.TrimSpace(query))
	for _, o := range occ {
		if o.AllDay || o.Start.Before(from) || o.Event.Status == calendar.StatusCancelled {
			continue
		}
		if q == "" || strings.Contains(strings.ToLower(meetingWords(o.Event)), q) {
			return o, nil
		}
	}
	if q == "" {
		return calendar.Occurrence{}, fmt.Errorf("the next two weeks: %w", ErrNoMeeting)
	}
	return calendar.Occurrence{}, fmt.Errorf("%q in the next two weeks: %w", query, ErrNoMeeting)
}

// meetingWords is what a query about a meeting is matched against.
func meetingWords(e calendar.Event) string {
	parts := []string{e.Summary, e.Location}
	for _, p := range attendees(e) {
		parts = append(parts, p.Name, p.Email)
	}
	return strings.Join(parts, " ")
}

// BriefOccurrence is the brief of one meeting: when and where, who is
// coming, what memory knows of each, what the user promised (replies they
// owe the people coming, promises in memory), and the last emails with
// them or about its subject, quoted.
func (b *Briefer) BriefOccurrence(ctx context.Context, userID string, o calendar.Occurrence) (string, error) {
	loc := b.location(ctx, userID)
	now := b.d.Clock.Now()
	people := attendees(o.Event)
	var out strings.Builder

	fmt.Fprintf(&out, "Meeting brief: “%s”, %s, ", clean(o.Event.Summary), o.Start.In(loc).Format("Monday 2 January"))
	if o.AllDay {
		out.WriteString("all day")
	} else {
		fmt.Fprintf(&out, "%s to %s", speakTime(o.Start, loc), speakTime(o.End, loc))
	}
	if p := clean(o.Event.Location); p != "" {
		fmt.Fprintf(&out, " at “%s”", p)
	}
	fmt.Fprintf(&out, " (%s)", loc)
	if d := o.Start.Sub(now); d > 0 && d < 24*time.Hour {
		fmt.Fprintf(&out, ", in %s", inWords(d))
	}
	out.WriteString(".\n" + dataNote + "\n")
	if notes := memory.ClipRunes(clean(o.Event.Description), maxNotes); notes != "" {
		fmt.Fprintf(&out, "Notes on the event: “%s”\n", notes)
	}

	// Who is coming, and what memory knows of each.
	if len(people) == 0 {
		out.WriteString("\nNo one else is invited.\n")
	} else {
		var names []string
		for _, p := range people {
			names = append(names, person(p))
		}
		fmt.Fprintf(&out, "\nWho is coming: %s.\n", strings.Join(names, ", "))
		if b.d.Memory != nil {
			out.WriteString("What you remember of them:\n")
			for _, p := range people[:min(len(people), maxPeople)] {
				out.WriteString("- " + person(p) + ": " + b.remembered(ctx, userID, p, loc) + "\n")
			}
		}
	}

	if b.d.Memory != nil {
		if about := b.aboutSubject(ctx, userID, o.Event, people, loc); len(about) > 0 {
			out.WriteString("\nWhat you remember about it:\n")
			for _, l := range about {
				out.WriteString("- " + l + "\n")
			}
		}
	}

	// What the user promised.
	var promised []string
	var quoted []mail.Message
	hasMail := b.hasMail(ctx, userID)
	if hasMail && b.d.FollowUps != nil {
		owed, _, err := b.d.FollowUps.FollowUps(ctx, userID)
		if err != nil {
			b.d.Log.Warn("briefing: reply tracking", "user", userID, "err", err)
		}
		for _, it := range owed {
			if !involves(it.Message, people) {
				continue
			}
			m, err := b.d.Mail.Message(ctx, userID, it.Message.ID) // reply tracking keeps no text of others
			if err != nil {
				continue
			}
			promised = append(promised, fmt.Sprintf("You owe %s a reply to an email from %s (id %s, quoted below).",
				clean(mail.SenderLabel(m)), m.Date.In(loc).Format("Monday 2 January"), m.ID))
			quoted = append(quoted, m)
		}
	}
	promised = append(promised, b.promises(ctx, userID, o.Event, people, loc)...)
	if len(promised) > 0 {
		out.WriteString("\nWhat the user promised or owes:\n")
		for _, p := range promised[:min(len(promised), maxPromises)] {
			out.WriteString("- " + p + "\n")
		}
	} else {
		out.WriteString("\nNothing the user promised for this meeting is on record.\n")
	}

	// The last emails with them or about it.
	if hasMail {
		quoted = append(quoted, b.meetingMail(ctx, userID, o.Event, people)...)
		quoted = dedupe(quoted)
		slices.SortStableFunc(quoted, func(x, y mail.Message) int { return y.Date.Compare(x.Date) })
		quoted = quoted[:min(len(quoted), mailsPerMeet)]
		if len(quoted) == 0 {
			out.WriteString("\nNo emails with them or about it.\n")
		} else {
			out.WriteString("\nThe last emails with them or about it, newest first:\n")
			for _, m := range quoted {
				out.WriteString(mail.Quote(m, quoteChars))
			}
		}
	}
	out.WriteString("\nSay it briefly in your own words: a few short sentences, the people first, then what is owed. " +
		"Do not read out email addresses or ids.\n")
	return untrustedLine(quoted) + out.String(), nil
}

// inWords is a duration as said: "45 minutes", "2 hours 10 minutes".
func inWords(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m < 1:
		return "less than a minute"
	case m == 1:
		return "1 minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	h, m := m/60, m%60
	s := fmt.Sprintf("%d hour", h)
	if h > 1 {
		s += "s"
	}
	if m > 0 {
		s += fmt.Sprintf(" %d minutes", m)
	}
	return s
}

// remembered is what memory holds of one person, in a line or two.
func (b *Briefer) remembered(ctx context.Context, userID string, p calendar.Person, loc *time.Location) string {
	q := strings.TrimSpace(p.Name)
	if q == "" {
		q, _, _ = strings.Cut(p.Email, "@")
	}
	hits, err := b.d.Memory.Recall(ctx, userID, memory.Query{Text: q, Limit: memoryPerHead * 3, Kinds: []memory.DocKind{memory.DocItem}}, loc)
	if err != nil {
		b.d.Log.Warn("briefing: recall a person", "user", userID, "err", err)
		return "memory could not be read just now."
	}
	var lines []string
	words := nameWords(p)
	for _, h := range hits {
		if len(lines) == memoryPerHead {
			break
		}
		if h.Item == nil || !h.Item.Current() || !mentions(h.Text, words) {
			continue
		}
		lines = append(lines, memory.ClipRunes(memory.SingleLine(h.Text), 200))
	}
	if len(lines) == 0 {
		return "nothing remembered yet."
	}
	return strings.Join(lines, " / ")
}

// nameWords are the words that name p in a memory: their first name and
// the local part of their address.
func nameWords(p calendar.Person) []string {
	var ws []string
	if f := strings.Fields(p.Name); len(f) > 0 {
		ws = append(ws, strings.ToLower(f[0]))
		if len(f) > 1 {
			ws = append(ws, strings.ToLower(f[len(f)-1]))
		}
	}
	if local, _, ok := strings.Cut(p.Email, "@"); ok && local != "" {
		ws = append(ws, strings.ToLower(local))
		if first, _, ok := strings.Cut(local, "."); ok {
			ws = append(ws, first)
		}
	}
	return ws
}

func mentions(text string, words []string) bool {
	t := strings.ToLower(text)
	for _, w := range words {
		if len(w) >= 2 && strings.Contains(t, w) {
			return true
		}
	}
	return false
}

// promiseWords mark a memory as something the user said they would do.
var promiseWords = []string{"promis", "i'll ", "i will ", "owe", "agreed to", "committed to", "said they would", "said he would", "said she would", "will send", "to send"}

// promises are memories of what the user said they would do, about the
// meeting's subject or its people.
func (b *Briefer) promises(ctx context.Context, userID string, e calendar.Event, people []calendar.Person, loc *time.Location) []string {
	if b.d.Memory == nil {
		return nil
	}
	var names []string
	var words []string
	for _, p := range people[:min(len(people), maxPeople)] {
		names = append(names, p.Name)
		words = append(words, nameWords(p)...)
	}
	words = append(words, subjectWords(e.Summary)...)
	hits, err := b.d.Memory.Recall(ctx, userID, memory.Query{Text: "promised " + e.Summary + " " + strings.Join(names, " "), Limit: 10,
		Kinds: []memory.DocKind{memory.DocItem}}, loc)
	if err != nil {
		b.d.Log.Warn("briefing: recall promises", "user", userID, "err", err)
		return nil
	}
	var out []string
	for _, h := range hits {
		if h.Item == nil || !h.Item.Current() {
			continue
		}
		low := strings.ToLower(h.Text)
		if !slices.ContainsFunc(promiseWords, func(w string) bool { return strings.Contains(low, w) }) || !mentions(h.Text, words) {
			continue
		}
		out = append(out, "From memory: "+memory.ClipRunes(memory.SingleLine(h.Text), 200))
	}
	return out
}

// aboutSubject are memories of the meeting's subject that are not about
// its people (those are listed with each person) nor promises.
func (b *Briefer) aboutSubject(ctx context.Context, userID string, e calendar.Event, people []calendar.Person, loc *time.Location) []string {
	words := subjectWords(e.Summary)
	if len(words) == 0 {
		return nil
	}
	hits, err := b.d.Memory.Recall(ctx, userID, memory.Query{Text: e.Summary, Limit: 6, Kinds: []memory.DocKind{memory.DocItem}}, loc)
	if err != nil {
		b.d.Log.Warn("briefing: recall the subject", "user", userID, "err", err)
		return nil
	}
	var who []string
	for _, p := range people {
		who = append(who, nameWords(p)...)
	}
	var out []string
	for _, h := range hits {
		if len(out) == memoryPerHead {
			break
		}
		low := strings.ToLower(h.Text)
		if h.Item == nil || !h.Item.Current() || !mentions(h.Text, words) || mentions(h.Text, who) ||
			slices.ContainsFunc(promiseWords, func(w string) bool { return strings.Contains(low, w) }) {
			continue
		}
		out = append(out, memory.ClipRunes(memory.SingleLine(h.Text), 200))
	}
	return out
}

// subjectWords are the words of a title worth matching (four letters or more).
func subjectWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r > 127)
	}) {
		if len([]rune(w)) >= 4 {
			out = append(out, w)
		}
	}
	return out
}

// meetingMail finds the last emails with the people coming and about the
// meeting's subject.
func (b *Briefer) meetingMail(ctx context.Context, userID string, e calendar.Event, people []calendar.Person) []mail.Message {
	var out []mail.Message
	for _, p := range people[:min(len(people), maxPeople)] {
		if p.Email == "" {
			continue
		}
		ms, err := b.d.Mail.Search(ctx, userID, cmp.Or(p.Name, "")+" "+p.Email, 20)
		if err != nil {
			b.d.Log.Warn("briefing: search mail", "user", userID, "err", err)
			continue
		}
		n := 0
		for _, m := range ms {
			if n == 2 {
				break
			}
			if involves(m, []calendar.Person{p}) {
				out = append(out, m)
				n++
			}
		}
	}
	if ws := subjectWords(e.Summary); len(ws) > 0 {
		ms, err := b.d.Mail.Search(ctx, userID, e.Summary, 5)
		if err != nil {
			b.d.Log.Warn("briefing: search mail", "user", userID, "err", err)
		}
		n := 0
		for _, m := range ms {
			if n == 2 {
				break
			}
			if mentions(m.Subject, ws) {
				out = append(out, m)
				n++
			}
		}
	}
	return out
}

// involves reports whether one of people sent m or received it.
func involves(m mail.Message, people []calendar.Person) bool {
	addrs := []mail.Address{m.From}
	addrs = append(addrs, m.To...)
	addrs = append(addrs, m.Cc...)
	for _, p := range people {
		if p.Email == "" {
			continue
		}
		for _, a := range addrs {
			if strings.EqualFold(strings.TrimSpace(a.Email), strings.TrimSpace(p.Email)) {
				return true
			}
		}
	}
	return false
}

func dedupe(ms []mail.Message) []mail.Message {
	seen := map[string]bool{}
	var out []mail.Message
	for _, m := range ms {
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	return out
}
