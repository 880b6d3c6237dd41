package sqlitemail

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/store/sqltime"
)

// Full-text search: mail_fts (migration 00011) indexes the subject, the
// sender (name and address) and the text of each message, each cut to its
// first IndexedChars characters, and ranks by BM25 with the subject and the
// sender weighted above the text; the newest wins a tie. On PostgreSQL the
// same columns and prefixes are the tsvector column fts of mail_messages
// (migration 00004 there, GIN-indexed), the subject and sender weighted A
// and the text B, ranked by ts_rank (see postgresFTS); the rest of the
// search below is the same on both.
//
// FTS5's bm25() counts each word's documents over the whole index on every
// query, and reads each match's length: a word in every one of 100k
// messages took 1.3 s. So, as memory's search does, each word's document
// count is probed first (capped at maxMatches, about a millisecond): the
// rarest words are ranked by BM25 while their matches add up to at most
// maxMatches (the rarest always), and the rest are dropped; when every word
// matches more than that (or the rare ones none of the user's messages),
// the user's newest maxMatches messages are ranked by how many of the
// words they hold, then by date (rankCommon).

// Bounds of full-text work: the index holds at most IndexedChars characters
// of each column (the stored message stays whole), a query uses at most
// maxTerms words from its first maxQueryBytes bytes, and ranks at most
// maxMatches messages.
const (
	IndexedChars      = 65536
	maxTerms          = 16
	maxQueryBytes     = 4096
	defaultMaxMatches = 2000
)

// ftsSQL is the full-text SQL of one dialect. Each query's first
// argument is match(terms): the terms of queryTerms, OR-ed.
type ftsSQL struct {
	// match renders terms as the dialect's query text.
	match func(terms []string) string
	// count is at most the second argument, the messages (of every user)
	// matching.
	count string
	// hits are the user's (second argument) best messages, read whole,
	// at most the third argument of them, ranked (see Search).
	hits string
	// rowids are the seqs of the messages matching between the second
	// and third arguments (inclusive).
	rowids string
	// older are the seqs of the user's (second argument) messages
	// matching that the window ending at date ?3 and seq ?4 left out,
	// the most recently stored first, at most ?5 of them (rankCommon).
	older string
}

// sqliteFTS queries mail_fts. A match is FTS5's syntax: quoted terms, OR-ed.
var sqliteFTS = ftsSQL{
	match: func(terms []string) string { return strings.Join(terms, " OR ") },
	count: `SELECT count(*) FROM (SELECT 1 FROM mail_fts WHERE mail_fts MATCH ? LIMIT ?)`,
	hits: `SELECT ` + msgCols + ` FROM (
			SELECT m.seq AS seq, bm25(mail_fts, 2, 2, 1) AS r, m.date AS date
			FROM mail_fts CROSS JOIN mail_messages m ON m.seq = mail_fts.rowid
			WHERE mail_fts MATCH ? AND m.user_id = ?
			ORDER BY r, m.date DESC, m.seq DESC LIMIT ?
		) h CROSS JOIN mail_messages m ON m.seq = h.seq
		ORDER BY h.r, h.date DESC, h.seq DESC`,
	rowids: `SELECT rowid FROM mail_fts WHERE mail_fts MATCH ? AND rowid BETWEEN ? AND ?`,
	older: `SELECT m.seq FROM mail_fts CROSS JOIN mail_messages m ON m.seq = mail_fts.rowid
			WHERE mail_fts MATCH ? AND m.user_id = ?
				AND (m.date < ?3 OR m.date IS NULL OR (m.date = ?3 AND m.seq < ?4))
			ORDER BY mail_fts.rowid DESC LIMIT ?5`,
}

// postgresFTS queries mail_messages.fts, PostgreSQL's tsvector of the
// subject and sender (weight A) and the text (weight B), each cut to its
// first IndexedChars characters, accents folded and punctuation read as
// spaces (so an address is its words, as in FTS5's unicode61), under the
// 'english' configuration (Snowball stemming, its stopwords): migration
// 00004 there. A match is to_tsquery text: each term's words as a phrase
// (<->), the terms OR-ed (|), accents folded by mail_fold; terms hold
// only letters and digits, so nothing in them is tsquery syntax.
// ts_rank weighs A 1 and B 0.5 (FTS5's bm25 weights 2, 2, 1), divided by
// 1 + log of the message's length (normalization 1: BM25 favours short
// documents too); higher is better.
var postgresFTS = ftsSQL{
	match: func(terms []string) string {
		parts := make([]string, len(terms))
		for i, t := range terms {
			parts[i] = strings.Join(strings.Fields(strings.Trim(t, `"`)), " <-> ")
		}
		return strings.Join(parts, " | ")
	},
	count: `SELECT count(*) FROM (SELECT 1 FROM mail_messages WHERE fts @@ to_tsquery('english', mail_fold(?)) LIMIT ?) AS hits`,
	hits: `SELECT ` + msgCols + ` FROM (
			SELECT m.seq AS seq, ts_rank('{0.1, 0.2, 0.5, 1.0}', m.fts, to_tsquery('english', mail_fold(?1)), 1) AS r, m.date AS date
			FROM mail_messages m
			WHERE m.fts @@ to_tsquery('english', mail_fold(?1)) AND m.user_id = ?2
			ORDER BY r DESC, m.date DESC NULLS LAST, m.seq DESC LIMIT ?3
		) h JOIN mail_messages m ON m.seq = h.seq
		ORDER BY h.r DESC, h.date DESC NULLS LAST, h.seq DESC`,
	rowids: `SELECT seq FROM mail_messages WHERE fts @@ to_tsquery('english', mail_fold(?)) AND seq BETWEEN ? AND ?`,
	older: `SELECT m.seq FROM mail_messages m
			WHERE m.fts @@ to_tsquery('english', mail_fold(?)) AND m.user_id = ?
				AND (m.date < ?3 OR m.date IS NULL OR (m.date = ?3 AND m.seq < ?4))
			ORDER BY m.seq DESC LIMIT ?5`,
}

// Search ranks userID's messages by the words of query (see above). The
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
	rare, common, err := s.plan(ctx, queryTerms(query))
	if err != nil {
		return nil, errs.Map(err, what)
	}
	limit = limitOf(limit)
	if len(rare) == 0 {
		if len(common) == 0 {
			return nil, nil
		}
		return s.rankCommon(ctx, what, userID, common, limit)
	}
	// Ranked first by seq alone, then read whole: sorting whole rows would
	// hold every match's text in the sorter. CROSS JOIN keeps the
	// full-text index the outer loop.
	hits, err := s.list(ctx, what, s.fts.hits, s.fts.match(rare), userID, limit)
	if err == nil && len(hits) == 0 && len(common) > 0 {
		// The rare words are in other users' mail only.
		return s.rankCommon(ctx, what, userID, common, limit)
	}
	return hits, err
}

// plan sorts terms into rare ones, to rank by BM25, and common ones, used
// only when no term is rare. Terms that match nothing are dropped.
func (s *Store) plan(ctx context.Context, terms []string) (rare, common []string, err error) {
	type counted struct {
		term string
		n    int
	}
	var found []counted
	for _, t := range terms {
		var n int
		err := s.db.QueryRowContext(ctx, s.fts.count, s.fts.match([]string{t}), s.maxMatches+1).Scan(&n)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case n == 0:
		case n <= s.maxMatches:
			found = append(found, counted{t, n})
		default:
			common = append(common, t)
		}
	}
	slices.SortStableFunc(found, func(a, b counted) int { return cmp.Compare(a.n, b.n) })
	total := 0
	for i, c := range found {
		if i > 0 && total+c.n > s.maxMatches {
			break
		}
		rare, total = append(rare, c.term), total+c.n
	}
	return rare, common, nil
}

// rankCommon ranks, when every word of a query is common, the user's
// newest maxMatches messages (by date) that hold any of terms by how many
// of the terms they hold, then newest first. The index is read over the
// rowid ranges those messages lie in, in at most maxRanges pieces: each
// FTS5 query costs a few hundred microseconds to start, and a range
// costs little per row. When that window holds fewer than limit matches
// and the user has older messages, the older matches follow, most recently
// stored first, so an old message is still found.
func (s *Store) rankCommon(ctx context.Context, what, userID string, terms []string, limit int) ([]mail.Message, error) {
	type cand struct {
		seq   int64
		date  time.Time
		count int
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, date FROM mail_messages WHERE user_id = ?
		ORDER BY date DESC NULLS LAST, seq DESC LIMIT ?`, userID, s.maxMatches)
	if err != nil {
		return nil, errs.Map(err, what)
	}
	var window []*cand
	for rows.Next() {
		c := &cand{}
		if err := rows.Scan(&c.seq, scanTime(&c.date)); err != nil {
			rows.Close()
			return nil, errs.Map(err, what)
		}
		window = append(window, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(window) == 0 {
		return nil, errs.Map(err, what)
	}
	bySeq := make(map[int64]*cand, len(window))
	seqs := make([]int64, 0, len(window))
	for _, c := range window {
		bySeq[c.seq] = c
		seqs = append(seqs, c.seq)
	}
	for _, t := range terms {
		for _, r := range seqRanges(seqs, maxRanges) {
			if err := s.eachRowid(ctx, t, r, func(seq int64) {
				if c := bySeq[seq]; c != nil {
					c.count++
				}
			}); err != nil {
				return nil, errs.Map(err, what)
			}
		}
	}
	var ranked []int64
	hits := slices.DeleteFunc(slices.Clone(window), func(c *cand) bool { return c.count == 0 })
	slices.SortStableFunc(hits, func(a, b *cand) int { return cmp.Compare(b.count, a.count) }) // window is newest first
	for _, c := range hits[:min(len(hits), limit)] {
		ranked = append(ranked, c.seq)
	}
	if len(ranked) < limit && len(window) == s.maxMatches {
		// Older than the window: the complement of its ORDER BY ... LIMIT.
		last := window[len(window)-1]
		older, err := s.seqs(ctx, s.fts.older,
			s.fts.match(terms), userID, sqltime.Value(last.date), last.seq, limit-len(ranked))
		if err != nil {
			return nil, errs.Map(err, what)
		}
		ranked = append(ranked, older...)
	}
	if len(ranked) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 2*len(ranked)+1)
	for i, seq := range ranked {
		args = append(args, seq, i)
	}
	// PostgreSQL types the VALUES from their first row: text, unless cast.
	return s.list(ctx, what, `WITH r (seq, pos) AS (VALUES (CAST(? AS BIGINT), CAST(? AS BIGINT))`+
		strings.Repeat(", (?, ?)", len(ranked)-1)+`)
		SELECT `+msgCols+` FROM r CROSS JOIN mail_messages m
		WHERE m.seq = r.seq AND m.user_id = ? ORDER BY r.pos`, append(args, userID)...)
}

// maxRanges bounds the rowid ranges rankCommon reads the index over.
const maxRanges = 8

// seqRanges covers seqs with at most n ranges [lo, hi], split at the n-1
// widest gaps between them.
func seqRanges(seqs []int64, n int) [][2]int64 {
	sorted := slices.Clone(seqs)
	slices.Sort(sorted)
	gaps := make([]int, 0, len(sorted)) // indexes i: a gap between sorted[i-1] and sorted[i]
	for i := 1; i < len(sorted); i++ {
		gaps = append(gaps, i)
	}
	slices.SortFunc(gaps, func(a, b int) int {
		return cmp.Compare(sorted[b]-sorted[b-1], sorted[a]-sorted[a-1])
	})
	cuts := gaps[:min(len(gaps), n-1)]
	slices.Sort(cuts)
	var out [][2]int64
	start := 0
	for _, c := range append(cuts, len(sorted)) {
		out = append(out, [2]int64{sorted[start], sorted[c-1]})
		start = c
	}
	return out
}

// eachRowid calls f with the rowid of each index row in r matching term.
func (s *Store) eachRowid(ctx context.Context, term string, r [2]int64, f func(int64)) error {
	seqs, err := s.seqs(ctx, s.fts.rowids, s.fts.match([]string{term}), r[0], r[1])
	for _, seq := range seqs {
		f(seq)
	}
	return err
}

// seqs runs a query of one integer column.
func (s *Store) seqs(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, err
		}
		out = append(out, seq)
	}
	return out, rows.Err()
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
