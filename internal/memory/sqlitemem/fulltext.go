package sqlitemem

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/os1ai/os1/internal/memory"
)

// Full-text search: one FTS5 index over every document (memory_fts), BM25.
//
// BM25 in FTS5 reads each matching row's length from a side table, so a
// query costs time in proportion to how many rows its words match: a word
// in half of 100k messages costs ~100 ms, while rare words, the ones that
// decide a BM25 ranking, cost almost nothing. So before ranking, each word's
// document count is probed (capped at maxMatches): the rarest words are
// kept while their matches add up to at most maxMatches (the rarest always),
// and the rest dropped; when every word matches more, only the user's newest
// maxMatches documents are searched.

// maxTerms bounds the words of one full-text query.
const maxTerms = 16

// SearchText ranks the user's documents by BM25 over the words of q.Text.
// The text is never passed to FTS5 as query syntax: each word is quoted and
// the words are OR-ed, so quotes, *, :, parentheses and NEAR are just text.
// A query of only stopwords or punctuation finds nothing.
func (s *Store) SearchText(ctx context.Context, userID string, q memory.Query) ([]memory.Hit, error) {
	what := fmt.Sprintf("search text %q", q.Text)
	match, floor, err := s.plan(ctx, userID, queryTerms(q.Text))
	if err != nil {
		return nil, mapErr(err, what)
	}
	if match == "" {
		return nil, nil
	}
	// CROSS JOIN keeps the full-text index the outer loop: driven from the
	// user's documents instead, SQLite would run the MATCH once per document.
	where, args := docFilter(userID, q)
	args = append([]any{match, floor}, args...)
	rows, err := s.query(ctx, `
		SELECT d.seq, d.doc_kind, d.doc_id, bm25(memory_fts) AS r
		FROM memory_fts CROSS JOIN memory_docs d ON d.seq = memory_fts.rowid
		WHERE memory_fts MATCH ? AND memory_fts.rowid >= ? AND `+where+`
		ORDER BY r, d.seq DESC LIMIT ?`, append(args, limitOf(q))...)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.seq, &r.kind, &r.id, &r.score); err != nil {
			return nil, mapErr(err, what)
		}
		r.score = -r.score // bm25() is lower for better matches
		refs = append(refs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, what)
	}
	return s.hydrate(ctx, userID, refs)
}

// plan picks the words to rank by (see the top of this file) and returns
// the MATCH expression and the lowest rowid worth scoring.
func (s *Store) plan(ctx context.Context, userID string, terms []string) (match string, floor int64, err error) {
	if len(terms) == 0 {
		return "", 0, nil
	}
	type counted struct {
		term string
		n    int
	}
	var rare []counted
	var common []string
	for _, t := range terms {
		var n int
		err := s.queryRow(ctx, `SELECT count(*) FROM
			(SELECT 1 FROM memory_fts WHERE memory_fts MATCH ? LIMIT ?)`, t, s.maxMatches+1).Scan(&n)
		if err != nil {
			return "", 0, err
		}
		switch {
		case n == 0: // matches nothing: leave it out
		case n <= s.maxMatches:
			rare = append(rare, counted{t, n})
		default:
			common = append(common, t)
		}
	}
	if len(rare) > 0 {
		// Rarest first, while the rows to score stay within the bound;
		// the rarest word always.
		slices.SortStableFunc(rare, func(a, b counted) int { return cmp.Compare(a.n, b.n) })
		picked, total := []string{rare[0].term}, rare[0].n
		for _, c := range rare[1:] {
			if total+c.n > s.maxMatches {
				break
			}
			picked, total = append(picked, c.term), total+c.n
		}
		return strings.Join(picked, " OR "), 0, nil
	}
	if len(common) == 0 {
		return "", 0, nil
	}
	// Only common words: rank the user's newest maxMatches documents.
	err = s.queryRow(ctx, `SELECT seq FROM memory_docs WHERE user_id = ?
		ORDER BY seq DESC LIMIT 1 OFFSET ?`, userID, s.maxMatches-1).Scan(&floor)
	if errors.Is(err, sql.ErrNoRows) { // fewer documents than that
		err = nil
	}
	return strings.Join(common, " OR "), floor, err
}

// queryTerms turns free text into FTS5 strings: its words, lower-cased,
// without stopwords, each quoted. Words hold no quote after the split, but
// a quote would be doubled, FTS5's escape. Nil when no word is left.
func queryTerms(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mn, r)
	})
	var terms []string
	seen := map[string]bool{}
	for _, w := range words {
		if seen[w] || stopwords[w] || (len([]rune(w)) == 1 && !unicode.IsNumber([]rune(w)[0])) {
			continue
		}
		seen[w] = true
		terms = append(terms, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
		if len(terms) == maxTerms {
			break
		}
	}
	return terms
}

// stopwords are English words too common to rank by; read-only.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again all am an and any are as at be because been
		before being below between both but by can could did do does doing down during each few for from
		further had has have having he her here hers herself him himself his how i if in into is it its itself
		just me more most my myself no nor not now of off on once only or other our ours ourselves out over own
		same she should so some such than that the their theirs them themselves then there these they this
		those through to too under until up very was we were what when where which while who whom why will
		with would you your yours yourself yourselves remember tell know ll re ve don didn doesn isn wasn`) {
		m[w] = true
	}
	return m
}()
