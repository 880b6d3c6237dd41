package voice

import (
	"strings"
	"unicode"
)

// hanging are words a sentence does not end on: conjunctions, articles,
// prepositions, possessives and fillers (not pronouns or verbs, which end
// sentences as often as not). A transcript that ends on one means
// the user is still thinking, so the end-of-turn grace grows.
var hanging = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
		and but or nor so because since although though unless until while whereas if when
		whether than that which who whom whose where plus
		the a an my your our their its
		to of with from for at by into onto about like as
		um uh er erm uhm hmm ah eh`) {
		hanging[w] = true
	}
}

// midSentence reports whether a transcript so far looks unfinished: it ends
// on a comma, a dash or an ellipsis, or on one of the hanging words.
func midSentence(text string) bool {
	t := strings.TrimSpace(text)
	if t == "" {
		return false
	}
	for _, tail := range []string{",", "...", "…", "-", "–", "—", ";", ":"} {
		if strings.HasSuffix(t, tail) {
			return true
		}
	}
	t = strings.TrimRightFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' })
	last := t[strings.LastIndexFunc(t, unicode.IsSpace)+1:]
	return hanging[strings.ToLower(last)]
}
