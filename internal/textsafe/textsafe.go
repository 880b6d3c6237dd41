// Package textsafe makes text that os1 did not write safe to show: a model's
// tool arguments in an approval prompt, titles and reasons in lists, text
// arriving as JSON. A right-to-left override (U+202E) can reverse what
// follows, newlines can push a second sentence out of sight, zero-width
// characters can hide words, and a NUL can cut text short downstream; so
// control and invisible formatting characters are shown escaped in
// approval summaries, removed from one-line fields, and NUL is refused.
//
// It must never change what a message says: message content is stored
// exactly as written; only one-line labels are cleaned.
package textsafe

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
)

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

// JSONHasNUL reports whether a JSON text holds the escape \u0000 (a raw NUL
// byte is not valid JSON at all). An escaped backslash before "u0000" is
// plain text, not a NUL.
func JSONHasNUL(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`u0000`))
		if j < 0 {
			return bytes.IndexByte(body, 0) >= 0
		}
		j += i
		n := 0
		for k := j - 1; k >= 0 && body[k] == '\\'; k-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		i = j + 5
	}
}
