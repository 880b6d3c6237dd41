package documents

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Passage is the part of body a search for query found: the paragraph
// holding the most of query's words (the first paragraph when none does),
// whitespace collapsed, cut to about chars characters around the first
// word found. A search hit shows it under the document's title.
func Passage(body, query string, chars int) string {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(query), notWordRune) {
		if utf8.RuneCountInString(w) >= 3 {
			words[w] = true
		}
	}
	paras := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n\n")
	best, bestN, first := "", 0, ""
	for _, p := range paras {
		p = strings.Join(strings.Fields(p), " ")
		if p == "" {
			continue
		}
		if first == "" {
			first = p
		}
		n := 0
		for _, w := range strings.FieldsFunc(strings.ToLower(p), notWordRune) {
			if words[w] || words[stem(w)] {
				n++
			}
		}
		if n > bestN {
			best, bestN = p, n
		}
	}
	if best == "" {
		return Excerpt(first, chars)
	}
	r := []rune(best)
	if len(r) <= chars {
		return best
	}
	// Start a little before the first word found, at a word's start.
	lower := []rune(strings.ToLower(best))
	start := 0
	for i := 0; i < len(lower); i++ {
		if i > 0 && !notWordRune(lower[i-1]) {
			continue
		}
		j := i
		for j < len(lower) && !notWordRune(lower[j]) {
			j++
		}
		if w := string(lower[i:j]); words[w] || words[stem(w)] {
			start = i
			break
		}
	}
	start = max(0, min(start-chars/4, len(r)-chars))
	for start > 0 && !unicode.IsSpace(r[start-1]) {
		start--
	}
	out := Excerpt(string(r[start:]), chars)
	if start > 0 {
		out = "…" + out
	}
	return out
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }

// stem drops a plural "s", so "letters" finds "letter".
func stem(w string) string { return strings.TrimSuffix(w, "s") }
