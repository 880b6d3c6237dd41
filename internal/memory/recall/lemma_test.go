package recall_test

import (
	"testing"

	"github.com/os1ai/os1/internal/memory/recall"
)

func TestExpandWordForms(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Where did I grow up?", "Where did I grow up? grew grown"},
		{"What did I buy in January", "What did I buy in January bought"},
		{"I bought a bike", "I bought a bike buy"},
		{"ate and eaten", "ate and eaten eat"},
		{"the children", "the children child"},
		{"on my left", "on my left"},                  // ambiguous form: not expanded
		{"when did I leave", "when did I leave left"}, // its base adds it
		{"what did I do", "what did I do"},            // auxiliaries stay alone
		{"favourite café", "favourite café"},
		{"", ""},
	} {
		if got := recall.ExpandWordForms(tc.in); got != tc.want {
			t.Errorf("ExpandWordForms(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
