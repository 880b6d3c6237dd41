package companion

import (
	"fmt"
	"strings"
	"unicode"
)

// Text the model wrote can reach places where the user decides or reads
// at a glance: approval prompts and conversation titles. There it must look
// like what it is. A right-to-left override (U+202E) can reverse what
// follows, newlines can push a second sentence out of sight, zero-width
// characters can hide words; so control and invisible formatting characters
// are shown escaped in approval summaries and removed from titles.

// hidden reports whether r is a control character or an invisible format
// character (bidi controls and isolates, zero-width spaces and joiners,
// the byte-order mark, tag characters), which change how text displays
// without being seen.
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// Displayable escapes every hidden character of s visibly, as [U+XXXX],
// so a summary shown for approval reads exactly as it will act.
func Displayable(s string) string {
	if strings.IndexFunc(s, hidden) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hidden(r) {
			fmt.Fprintf(&b, "[U+%04X]", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CleanTitle turns s into a one-line title: line breaks and tabs become
// spaces, other hidden characters are dropped, runs of spaces collapse.
func CleanTitle(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\u2028' || r == '\u2029' || unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case hidden(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
