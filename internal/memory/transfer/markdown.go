package transfer

import (
	"bufio"
	"cmp"
	"fmt"
	"github.com/os1ai/os1/internal/memory"
	"io"
	"slices"
	"strings"
	"time"
)

// WriteMarkdown renders an export for people to read: who she knows, what
// she currently believes (with dates and the words it came from), beliefs
// that changed, the journal, and the conversations. Times are shown in loc
// (nil: the profile's time zone, else UTC). It is not meant to be imported.
func WriteMarkdown(w io.Writer, ex *Export, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
		if ex.Profile != nil && ex.Profile.Timezone != "" {
			if l, err := time.LoadLocation(ex.Profile.Timezone); err == nil {
				loc = l
			}
		}
	}
	md := &mdWriter{w: bufio.NewWriter(w), ex: ex, loc: loc, msgs: map[string]mdSource{}}
	for _, c := range ex.Conversations {
		for _, m := range c.Messages {
			md.msgs[m.ID] = mdSource{msg: m, conv: c.Title}
		}
	}
	md.write()
	return md.w.Flush()
}

type mdSource struct {
	msg  ExportMessage
	conv string
}

type mdWriter struct {
	w    *bufio.Writer
	ex   *Export
	loc  *time.Location
	msgs map[string]mdSource
}

func (m *mdWriter) p(format string, args ...any) { fmt.Fprintf(m.w, format, args...) }

func (m *mdWriter) her() string {
	if m.ex.Persona != nil && m.ex.Persona.Name != "" {
		return m.ex.Persona.Name
	}
	return "os1"
}

func (m *mdWriter) date(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.In(m.loc).Format("2 Jan 2006")
}

// oneLine collapses text to one line for a list item.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	s = oneLine(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (m *mdWriter) write() {
	ex := m.ex
	user := cmpOr(ex.User.DisplayName, ex.User.Username)
	m.p("# What %s remembers about %s\n\n", m.her(), user)
	m.p("Exported from os1 on %s: %s (%d current), %s, %s, %s.\n\n", m.date(ex.ExportedAt),
		plural(len(ex.Items), "memory", "memories"), m.countCurrent(), plural(len(ex.Entities), "person", "people"),
		plural(len(ex.Journals), "journal entry", "journal entries"), plural(len(ex.Conversations), "conversation", "conversations"))
	m.people()
	m.beliefs()
	m.changed()
	m.journal()
	m.conversations()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (m *mdWriter) countCurrent() int {
	n := 0
	for _, it := range m.ex.Items {
		if it.ValidTo.IsZero() {
			n++
		}
	}
	return n
}

func (m *mdWriter) people() {
	if len(m.ex.Entities) == 0 {
		return
	}
	m.p("## People\n\n")
	ents := slices.Clone(m.ex.Entities)
	slices.SortFunc(ents, func(a, b ExportEntity) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	for _, e := range ents {
		m.p("### %s", oneLine(e.Name))
		if e.Relation != "" {
			m.p(" (%s)", oneLine(e.Relation))
		}
		m.p("\n\n")
		if len(e.Aliases) > 0 {
			m.p("Also called: %s.\n\n", oneLine(strings.Join(e.Aliases, ", ")))
		}
		if strings.TrimSpace(e.Notes) != "" {
			m.p("%s\n\n", strings.TrimSpace(e.Notes))
		}
		n := 0
		for _, it := range m.ex.Items {
			if it.ValidTo.IsZero() && slices.Contains(it.EntityIDs, e.ID) {
				m.p("- %s\n", oneLine(it.Text))
				n++
			}
		}
		if n > 0 {
			m.p("\n")
		}
	}
}

var kindHeadings = []struct {
	kind  memory.Kind
	title string
}{
	{memory.KindFact, "Facts"},
	{memory.KindPreference, "Preferences"},
	{memory.KindEvent, "Events"},
	{memory.KindPerson, "About people"},
	{memory.KindReflection, "Her reflections"},
}

func (m *mdWriter) beliefs() {
	if m.countCurrent() == 0 {
		return
	}
	m.p("## What %s believes now\n\n", m.her())
	for _, k := range kindHeadings {
		var items []ExportItem
		for _, it := range m.ex.Items {
			if it.ValidTo.IsZero() && memory.Kind(it.Kind) == k.kind {
				items = append(items, it)
			}
		}
		if len(items) == 0 {
			continue
		}
		slices.SortStableFunc(items, func(a, b ExportItem) int { return b.ValidFrom.Compare(a.ValidFrom) })
		m.p("### %s\n\n", k.title)
		for _, it := range items {
			m.p("- %s\n", oneLine(it.Text))
			m.p("  - %s\n", m.facts(it))
			m.sources(it.Sources)
		}
		m.p("\n")
	}
}

func (m *mdWriter) facts(it ExportItem) string {
	parts := []string{"since " + m.date(it.ValidFrom)}
	if !it.EventTime.IsZero() {
		parts = append(parts, "when: "+m.date(it.EventTime))
	}
	parts = append(parts, fmt.Sprintf("importance %.1f", it.Importance), fmt.Sprintf("confidence %.1f", it.Confidence))
	return "*" + strings.Join(parts, " · ") + "*"
}

// sources quotes the messages a belief came from.
func (m *mdWriter) sources(ids []string) {
	for _, id := range ids {
		s, ok := m.msgs[id]
		if !ok {
			m.p("  - from message %s (not in this export)\n", id)
			continue
		}
		who := "you"
		if s.msg.Role != "user" {
			who = m.her()
		}
		m.p("  - %s said “%s” — %s, %s\n", who, clip(s.msg.Content, 160), oneLine(cmpOr(s.conv, "untitled conversation")), m.date(s.msg.CreatedAt))
	}
}

func (m *mdWriter) changed() {
	var old []ExportItem
	byID := map[string]ExportItem{}
	for _, it := range m.ex.Items {
		byID[it.ID] = it
		if !it.ValidTo.IsZero() {
			old = append(old, it)
		}
	}
	if len(old) == 0 {
		return
	}
	slices.SortStableFunc(old, func(a, b ExportItem) int { return b.ValidTo.Compare(a.ValidTo) })
	m.p("## Beliefs that changed\n\n")
	for _, it := range old {
		m.p("- ~~%s~~ — %s to %s", oneLine(it.Text), m.date(it.ValidFrom), m.date(it.ValidTo))
		if next, ok := byID[it.SupersededBy]; ok {
			m.p("; replaced by “%s”", oneLine(next.Text))
		} else {
			m.p("; no longer true")
		}
		m.p("\n")
	}
	m.p("\n")
}

func (m *mdWriter) journal() {
	if len(m.ex.Journals) == 0 {
		return
	}
	m.p("## Journal\n\n")
	for _, j := range m.ex.Journals {
		m.p("### %s\n\n%s\n\n", j.Day, strings.TrimSpace(j.Text))
	}
}

func (m *mdWriter) conversations() {
	if len(m.ex.Conversations) == 0 {
		return
	}
	m.p("## Conversations\n\n")
	for _, c := range m.ex.Conversations {
		m.p("- %s — %s, %s\n", oneLine(cmpOr(c.Title, "untitled conversation")), m.date(c.CreatedAt), plural(len(c.Messages), "message", "messages"))
	}
}
