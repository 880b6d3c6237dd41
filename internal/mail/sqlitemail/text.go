package sqlitemail

import "strings"

// textCodec keeps free text whole on PostgreSQL, whose text type holds no
// NUL character. SQLite's does, and a mail body or header may carry one
// (mail.Parse keeps it). On PostgreSQL the free text of messages (headers,
// text, triage), accounts (name, last error) and rules is stored with \x01
// written \x01\x01 and NUL written \x01\x02 (control characters both, so
// the full-text parser still reads the words around them as words), and
// read back as it was given. On SQLite text is stored as given. Keys (ids,
// user ids, folder names, addresses) are stored as given on both: a NUL in
// one is an error on PostgreSQL.
type textCodec struct{ escape bool }

const (
	escByte = "\x01"
	nulEsc  = "\x01\x02"
	escEsc  = "\x01\x01"
)

var escaper = strings.NewReplacer(escByte, escEsc, "\x00", nulEsc)

// put is the value to store for s.
func (c textCodec) put(s string) string {
	if !c.escape || strings.IndexByte(s, 0) < 0 && !strings.Contains(s, escByte) {
		return s
	}
	return escaper.Replace(s)
}

// get restores, in place, each string read from the database.
func (c textCodec) get(ss ...*string) {
	if !c.escape {
		return
	}
	for _, p := range ss {
		s := *p
		i := strings.IndexByte(s, 1)
		if i < 0 {
			continue
		}
		var b strings.Builder
		b.Grow(len(s))
		for ; i >= 0; i = strings.IndexByte(s, 1) {
			b.WriteString(s[:i])
			switch {
			case strings.HasPrefix(s[i:], nulEsc):
				b.WriteByte(0)
				s = s[i+2:]
			case strings.HasPrefix(s[i:], escEsc):
				b.WriteByte(1)
				s = s[i+2:]
			default: // not written by put: kept as it is
				b.WriteByte(1)
				s = s[i+1:]
			}
		}
		b.WriteString(s)
		*p = b.String()
	}
}
