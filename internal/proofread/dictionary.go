package proofread

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dictionary is the set of word forms a Hunspell dictionary accepts. It is
// read-only once loaded and safe for concurrent use.
type Dictionary struct {
	words    map[string]wordFlags
	try      string
	iconv    [][2]string
	alphabet []rune // letters suggestions may insert or substitute
}

func (d *Dictionary) add(form string, f wordFlags) {
	if form == "" {
		return
	}
	if old, ok := d.words[form]; ok {
		// A form reachable from a suggestable stem stays suggestable.
		f &= old
	}
	d.words[form] = f
}

// buildIndex prepares what suggestions need: the alphabet, TRY's letters
// in its order of likelihood and the rest of the lower-case letters the
// word list uses.
func (d *Dictionary) buildIndex() {
	seen := map[rune]bool{}
	for _, r := range d.try {
		if r = unicode.ToLower(r); !seen[r] && (unicode.IsLetter(r) || r == '\'' || r == '-') {
			seen[r] = true
			d.alphabet = append(d.alphabet, r)
		}
	}
	for r := 'a'; r <= 'z'; r++ {
		if !seen[r] {
			seen[r] = true
			d.alphabet = append(d.alphabet, r)
		}
	}
}

// Len is how many word forms the dictionary accepts.
func (d *Dictionary) Len() int { return len(d.words) }

func (d *Dictionary) normalize(w string) string {
	for _, c := range d.iconv {
		w = strings.ReplaceAll(w, c[0], c[1])
	}
	return w
}

// caseOf classifies a word's capitals.
type wordCase int

const (
	caseLower wordCase = iota
	caseTitle          // first letter capital, the rest lower
	caseUpper          // all letters capital (two or more letters)
	caseMixed
)

func caseOf(w string) wordCase {
	upper, lower, firstUpper := 0, 0, false
	i := 0
	for _, r := range w {
		if unicode.IsUpper(r) {
			upper++
			if i == 0 {
				firstUpper = true
			}
		} else if unicode.IsLower(r) {
			lower++
		}
		i++
	}
	switch {
	case upper == 0:
		return caseLower
	case lower == 0 && upper > 1:
		return caseUpper
	case firstUpper && upper == 1:
		return caseTitle
	case lower == 0:
		return caseTitle // a single capital letter, "I"
	}
	return caseMixed
}

func title(w string) string {
	r, n := utf8.DecodeRuneInString(w)
	return string(unicode.ToUpper(r)) + strings.ToLower(w[n:])
}

// Check reports whether the dictionary accepts w with Hunspell's case
// rules: a lower-case entry may be written lower, Title or UPPER case; a
// capitalised entry ("Paris") Title or UPPER but not lower; a mixed-case
// entry ("iPhone") as written or UPPER.
func (d *Dictionary) Check(w string) bool {
	w = d.normalize(w)
	if _, ok := d.words[w]; ok {
		return true
	}
	// A KEEPCASE entry is accepted only as written.
	folded := func(c string) bool {
		f, ok := d.words[c]
		return ok && f&wKeepCase == 0
	}
	switch caseOf(w) {
	case caseTitle:
		return folded(strings.ToLower(w))
	case caseUpper:
		if folded(strings.ToLower(w)) || folded(title(w)) {
			return true
		}
		// A mixed-case entry written in capitals: no index of those; the
		// few that exist ("iPhone") are accepted when found by folding.
		return false
	}
	return false
}

// suggestable is the entry a candidate matches, if it may be suggested.
func (d *Dictionary) suggestable(c string) (string, bool) {
	if f, ok := d.words[c]; ok {
		return c, f&wNoSuggest == 0
	}
	t := title(c)
	if f, ok := d.words[t]; ok {
		return t, f&wNoSuggest == 0
	}
	return "", false
}

// Bounds on the work one suggestion list may do.
const (
	maxSuggestLookups = 60_000
	maxSuggestRunes   = 30
)

// Suggest lists up to n words the dictionary accepts at edit distance one
// (then two, when one gives too few) from w: a letter deleted, inserted,
// replaced or two swapped, and a missing space. It is bounded in lookups
// (a few tens of milliseconds), so a long or strange word gets fewer suggestions, never a slow
// answer. Suggestions follow w's case.
func (d *Dictionary) Suggest(w string, n int) []string {
	w = d.normalize(w)
	wc := caseOf(w)
	low := []rune(strings.ToLower(w))
	if len(low) == 0 || len(low) > maxSuggestRunes || n <= 0 {
		return nil
	}
	type cand struct {
		word string
		dist int
		kind int // editKind of a distance-one candidate
	}
	found := map[string]int{}
	var order []cand
	lookups := 0
	try := func(c string, dist, kind int) {
		lookups++
		if c == string(low) {
			return
		}
		if e, ok := d.suggestable(c); ok {
			if _, dup := found[e]; !dup {
				found[e] = dist
				order = append(order, cand{e, dist, kind})
			}
		}
	}
	first := edits(low, d.alphabet)
	for _, c := range first {
		try(c.s, 1, c.kind)
	}
	// A missing space: "alot" → "a lot".
	for i := 1; i < len(low); i++ {
		a, b := string(low[:i]), string(low[i:])
		if _, ok := d.suggestable(a); ok {
			if _, ok := d.suggestable(b); ok && wordOnItsOwn(a) && wordOnItsOwn(b) {
				if _, dup := found[a+" "+b]; !dup {
					found[a+" "+b] = 1
					order = append(order, cand{a + " " + b, 1, editInsert})
				}
			}
		}
	}
	if len(order) < n {
	second:
		for _, e := range first {
			for _, c := range edits([]rune(e.s), asciiAlphabet) {
				try(c.s, 2, 0)
				if lookups >= maxSuggestLookups {
					break second
				}
			}
		}
	}
	lowFirst := low[0]
	score := func(c cand) int {
		sc := c.dist * 10
		if c.dist == 1 {
			sc += c.kind
		}
		lw := strings.ToLower(c.word)
		if lw != c.word && wc == caseLower {
			sc += 3 // a proper noun for a lower-case word
		}
		if firstRune(lw) != lowFirst {
			sc += 2
		}
		return sc
	}
	slices.SortStableFunc(order, func(a, b cand) int {
		if sa, sb := score(a), score(b); sa != sb {
			return sa - sb
		}
		return strings.Compare(a.word, b.word)
	})
	var out []string
	seen := map[string]bool{}
	for _, c := range order {
		s := c.word
		switch wc {
		case caseTitle:
			s = title(s)
			if caseOf(c.word) == caseMixed {
				s = c.word
			}
		case caseUpper:
			s = strings.ToUpper(s)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
		if len(out) == n {
			break
		}
	}
	return out
}

// wordOnItsOwn: a part of a split word must be a word people write alone,
// not one of the single letters the dictionary lists.
func wordOnItsOwn(w string) bool { return utf8.RuneCountInString(w) > 1 || w == "a" || w == "i" }

func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }

// asciiAlphabet is what the second edit may insert or substitute: the
// full alphabet would multiply the work by three for rare letters.
var asciiAlphabet = []rune("esiarntolcdugmphbyfvkw'zxjq")

// Kinds of single edits, in the order suggestions prefer them: swapped
// letters and a doubled letter are the commonest typing slips.
const (
	editSwap    = 0
	editDelete  = 1
	editReplace = 2
	editInsert  = 3
)

type edit struct {
	s    string
	kind int
}

// edits are the strings at edit distance one from w: deletions,
// transpositions, replacements and insertions of alphabet letters.
func edits(w []rune, alphabet []rune) []edit {
	out := make([]edit, 0, len(w)*(2*len(alphabet)+2)+len(alphabet))
	buf := make([]rune, 0, len(w)+1)
	for i := range w {
		buf = append(append(buf[:0], w[:i]...), w[i+1:]...)
		out = append(out, edit{string(buf), editDelete})
	}
	for i := 0; i+1 < len(w); i++ {
		if w[i] == w[i+1] {
			continue
		}
		buf = append(buf[:0], w...)
		buf[i], buf[i+1] = buf[i+1], buf[i]
		out = append(out, edit{string(buf), editSwap})
	}
	for i := range w {
		for _, r := range alphabet {
			if r == w[i] {
				continue
			}
			buf = append(buf[:0], w...)
			buf[i] = r
			out = append(out, edit{string(buf), editReplace})
		}
	}
	for i := 0; i <= len(w); i++ {
		for _, r := range alphabet {
			buf = append(append(append(buf[:0], w[:i]...), r), w[i:]...)
			out = append(out, edit{string(buf), editInsert})
		}
	}
	return out
}
