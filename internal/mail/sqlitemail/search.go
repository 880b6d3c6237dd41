package sqlitemail

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/mail"
)

// Full-text search: mail_fts (migration 00011) indexes the subject, the
// sender (name and address) and the text of each message, each cut to its
// first IndexedChars characters, and ranks by BM25 with the subject and the
// sender weighted above the text; the newest wins a tie.

// Bounds of full-text work: the index holds at most IndexedChars characters
// of each column (the stored message stays whole), and a query uses at most
// maxTerms words from its first maxQueryBytes bytes.
const (
	IndexedChars  = 65536
	maxTerms      = 16
	maxQueryBytes = 4096
)

// Search ranks userID's messages by BM25 over the words of query. The
// query is never passed to FTS5 as syntax: it becomes quoted terms of
// letters and digits only, OR-ed, so quotes, *, :, parentheses, NEAR, AND,
// OR and NOT are just text. A query of only stopwords or punctuation finds
// nothing.
func (s *Store) Search(ctx context.Context, userID, query string, limit int) (_ []mail.Message, err error) {
	what := fmt.Sprintf("search mail for %q", query)
	defer func() {
		// The driver panics when SQLite runs out of memory; the caller goes on.
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", what, r)
		}
	}()
	terms := queryTerms(query)
	if len(terms) == 0 {
		return nil, nil
	}
	// Ranked first by seq alone, then read whole: sorting whole rows would
	// hold every match's text in the sorter. CROSS JOIN keeps the
	// full-text index the outer loop.
	return s.list(ctx, what, `SELECT `+msgCols+` FROM (
			SELECT m.seq AS seq, bm25(mail_fts, 2, 2, 1) AS r, m.date AS date
			FROM mail_fts CROSS JOIN mail_messages m ON m.seq = mail_fts.rowid
			WHERE mail_fts MATCH ? AND m.user_id = ?
			ORDER BY r, m.date DESC, m.seq DESC LIMIT ?
		) h CROSS JOIN mail_messages m ON m.seq = h.seq
		ORDER BY h.r, h.date DESC, h.seq DESC`,
		strings.Join(terms, " OR "), userID, limitOf(limit))
}

// queryTerms turns free text into FTS5 terms. Each whitespace-separated
// word is split into its runs of letters and digits, lower-cased: each run
// is a term, and a word of several runs is also the phrase of them, so
// "rosa@example.com" ranks the address whole above its parts while
// "text:bouldering" still finds "bouldering". The terms are quoted and hold
// no quote, so nothing in them is FTS5 syntax. Stopwords, lone letters and
// repeats are dropped. Nil when nothing is left.
func queryTerms(text string) []string {
	if len(text) > maxQueryBytes {
		cut := maxQueryBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	var terms []string
	seen := map[string]bool{}
	add := func(term string) bool {
		if !seen[term] {
			seen[term] = true
			terms = append(terms, `"`+term+`"`)
		}
		return len(terms) == maxTerms
	}
	for _, word := range strings.Fields(strings.ToLower(text)) {
		runs := strings.FieldsFunc(word, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mn, r)
		})
		if len(runs) > 1 && add(strings.Join(runs, " ")) {
			break
		}
		for _, r := range runs {
			if stopwords[r] || (utf8.RuneCountInString(r) == 1 && !unicode.IsNumber([]rune(r)[0])) {
				continue
			}
			if add(r) {
				return terms
			}
		}
	}
	return terms
}

// stopwords are English words too common to search by; read-only.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again all am an and any are as at be because been
		before being below between both but by can could did do does doing down during each few for from
		further had has have having he her here hers herself him himself his how i if in into is it its itself
		just me more most my myself no nor not now of off on once only or other our ours ourselves out over own
		same she should so some such than that the their theirs them themselves then there these they this
		those through to too under until up very was we were what when where which while who whom why will
		with would you your yours yourself yourselves ll re ve don didn doesn isn wasn also
		com org net www http https mailto`) {
		m[w] = true
	}
	return m
}()
