package book

import "testing"

// A link's target may hold balanced parentheses; the whole link is read,
// so no stray ")" is left in the text.
func TestBracketLinkParens(t *testing.T) {
	for _, tc := range []struct {
		in, label string
		n         int
		ok        bool
	}{
		{"[Foo](https://en.wikipedia.org/wiki/Foo_(bar)) after", "Foo", 46, true},
		{"[x](javascript:alert(1)) rest", "x", 24, true},
		{"[x](a) (b)", "x", 6, true},
		{"[x](a(b", "", 0, false},
		{"[x](a\n)", "", 0, false},
	} {
		label, n, ok := bracketLink(tc.in)
		if label != tc.label || n != tc.n || ok != tc.ok {
			t.Errorf("bracketLink(%q) = %q, %d, %v; want %q, %d, %v", tc.in, label, n, ok, tc.label, tc.n, tc.ok)
		}
	}
}
