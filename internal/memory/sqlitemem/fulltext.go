package sqlitemem

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/memory"
)

// Full-text search: one FTS5 index over every document (memory_fts), BM25,
// over two columns: the text, and who said a message (its speaker's name,
// weighted speakerWeight; migration 00010).
//
// BM25 in FTS5 reads each matching row's length from a side table, so a
// query costs time in proportion to how many rows its words match: a word
// in half of 100k messages costs ~100 ms, while rare words, the ones that
// decide a BM25 ranking, cost almost nothing. So before ranking, each word's
// document count is probed (capped at maxMatches): the rarest words are
// kept while their matches add up to at most maxMatches (the rarest always),
// and the rest dropped; when every word matches more, only the user's newest
// maxMatches documents are searched, ranked by how many of the words they
// hold (rankCommon).

// Bounds of full-text work. SQLite gives each connection 256 MiB, and FTS5
// holds a term's whole position list in one document while it ranks: a
// document of 10 million words ran out (and the driver panics on that).
// So the index holds at most the first IndexedChars characters of each
// document (the triggers of migration 00004_memory_limits.sql; the stored
// text stays whole), and a query uses at most maxTerms words from its first
// maxQueryBytes bytes.
const (
	IndexedChars  = 65536
	maxTerms      = 16
	maxQueryBytes = 4096
)

// speakerWeight is the weight of the speaker column in BM25 (the text's
// is 1): a message's speaker is findable by name ("what did Rosa say
// about…"), but a name alone should not outrank the words of the question.
// In a conversation of two, each name is on half the turns and BM25 already
// gives it little; across many conversations a name is rarer, and this
// keeps it below a matching content word.
const speakerWeight = "0.5"

// SearchText ranks the user's documents by BM25 over the words of q.Text.
// The text is never passed to FTS5 as query syntax: each word is quoted and
// the words are OR-ed, so quotes, *, :, parentheses and NEAR are just text.
// A query of only stopwords or punctuation finds nothing.
func (s *Store) SearchText(ctx context.Context, userID string, q memory.Query) (_ []memory.Hit, err error) {
	defer survive(&err, "search memories by text")
	what := fmt.Sprintf("search text %q", q.Text)
	p, err := s.plan(ctx, userID, queryTerms(q.Text))
	if err != nil {
		return nil, mapErr(err, what)
	}
	var hits []memory.Hit
	switch {
	case len(p.rare) > 0:
		var refs []ref
		if s.pg {
			refs, err = s.rankTS(ctx, userID, q, p) // fulltext_pg.go
		} else {
			refs, err = s.rankBM25(ctx, userID, q, p.rare)
		}
		if err == nil {
			hits, err = s.hydrate(ctx, `d.user_id = ?`, []any{userID}, refs)
		}
	case len(p.common) > 0:
		hits, err = s.rankCommon(ctx, userID, q, p.common, p.floor)
	}
	if err != nil {
		return nil, mapErr(err, what)
	}
	return hits, nil
}

// rankBM25 ranks by FTS5's bm25() the documents matching any of terms.
func (s *Store) rankBM25(ctx context.Context, userID string, q memory.Query, terms []string) ([]ref, error) {
	// CROSS JOIN keeps the full-text index the outer loop: driven from the
	// user's documents instead, SQLite would run the MATCH once per document.
	where, args := docFilter(userID, q)
	args = append([]any{strings.Join(terms, " OR ")}, args...)
	rows, err := s.query(ctx, `
		SELECT d.seq, d.doc_kind, d.doc_id, bm25(memory_fts, 1, `+speakerWeight+`) AS r
		FROM memory_fts CROSS JOIN memory_docs d ON d.seq = memory_fts.rowid
		WHERE memory_fts MATCH ? AND `+where+`
		ORDER BY r, d.seq DESC LIMIT ?`, append(args, limitOf(q))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var refs []ref
	for rows.Next() {
		var r ref
		if err := rows.Scan(&r.seq, &r.kind, &r.id, &r.score); err != nil {
			return nil, err
		}
		r.score = -r.score // bm25() is lower for better matches
		refs = append(refs, r)
	}
	return refs, rows.Err()
}

// rankCommon ranks documents from floor on by how many of the (all very
// common) terms they contain, newer first among equals. bm25() would be no
// better here, since every term's weight is near zero, and far slower: it
// counts each term's documents over the whole index to weigh them.
func (s *Store) rankCommon(ctx context.Context, userID string, q memory.Query, terms []string, floor int64) ([]memory.Hit, error) {
	counts := map[int64]int{}
	query, pg := `SELECT rowid FROM memory_fts WHERE memory_fts MATCH ? AND rowid >= ?`, s.pg
	if pg {
		query = pgCommonMatches
	}
	for _, t := range terms {
		if pg {
			t = tsQuery([]string{t})
		}
		rows, err := s.query(ctx, query, t, floor)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				rows.Close()
				return nil, err
			}
			counts[seq]++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	ranked := make([]ref, 0, len(counts))
	for seq, n := range counts {
		ranked = append(ranked, ref{seq: seq, score: float64(n)})
	}
	slices.SortFunc(ranked, func(a, b ref) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(b.seq, a.seq))
	})
	return s.passing(ctx, userID, q, ranked, limitOf(q))
}

// queryPlan is what plan decided: BM25 over rare terms, or, when there are
// none, the common-term ranking from floor on.
type queryPlan struct {
	rare, common []string
	floor        int64
	matches      map[string]int // documents of each rare term (up to maxMatches)
	docs         int64          // PostgreSQL: the highest seq, for idf (fulltext_pg.go)
}

// plan sorts the words into rare and common (see the top of this file) and,
// for a query of common words only, finds the lowest rowid worth ranking.
func (s *Store) plan(ctx context.Context, userID string, terms []string) (queryPlan, error) {
	var p queryPlan
	type counted struct {
		term string
		n    int
	}
	var rare []counted
	var pgCounts []int
	if s.pg && len(terms) > 0 { // every word's count in one round trip (fulltext_pg.go)
		var err error
		if pgCounts, p.docs, err = s.countMatches(ctx, terms); err != nil {
			return p, err
		}
	}
	now := s.clock.Now()
	for i, t := range terms {
		var n int
		if s.pg {
			n = pgCounts[i]
		} else if s.common.has(t, now) {
			n = s.maxMatches + 1
		} else if err := s.queryRow(ctx, `SELECT count(*) FROM
			(SELECT 1 FROM memory_fts WHERE memory_fts MATCH ? LIMIT ?)`, t, s.maxMatches+1).Scan(&n); err != nil {
			return p, err
		} else if n > s.maxMatches {
			s.common.add(t, now)
		}
		switch {
		case n == 0: // matches nothing: leave it out
		case n <= s.maxMatches:
			rare = append(rare, counted{t, n})
		default:
			p.common = append(p.common, t)
		}
	}
	if len(rare) > 0 {
		// Rarest first, while the rows to score stay within the bound;
		// the rarest word always.
		slices.SortStableFunc(rare, func(a, b counted) int { return cmp.Compare(a.n, b.n) })
		total := 0
		p.matches = map[string]int{}
		for i, c := range rare {
			if i > 0 && total+c.n > s.maxMatches {
				break
			}
			p.rare, total = append(p.rare, c.term), total+c.n
			p.matches[c.term] = c.n
		}
		return p, nil
	}
	if len(p.common) == 0 {
		return p, nil
	}
	// Only common words: rank the user's newest maxMatches documents.
	err := s.queryRow(ctx, `SELECT seq FROM memory_docs WHERE user_id = ?
		ORDER BY seq DESC LIMIT 1 OFFSET ?`, userID, s.maxMatches-1).Scan(&p.floor)
	if errors.Is(err, sql.ErrNoRows) { // fewer documents than that
		err = nil
	}
	return p, err
}

// commonTerms remembers, for a while, the words plan found in more than
// maxMatches documents, so their count is not probed again on every
// search: on a server with many users most words of a message are common,
// and probing each one (up to maxMatches+1 rows of the index every time)
// was a tenth of os1's CPU under load (issue 15). Documents are rarely
// deleted, so a common word stays common; an entry is trusted for
// commonFor, and the set holds at most maxCommon words.
type commonTerms struct {
	mu    sync.Mutex
	since map[string]time.Time
}

const (
	commonFor = 10 * time.Minute
	maxCommon = 4096
)

func (c *commonTerms) has(t string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.since[t]
	return ok && now.Sub(at) < commonFor && !now.Before(at)
}

func (c *commonTerms) add(t string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.since == nil || len(c.since) >= maxCommon {
		c.since = map[string]time.Time{}
	}
	c.since[t] = now
}

// queryTerms turns free text into FTS5 strings: its words, lower-cased,
// without stopwords, each quoted. Words hold no quote after the split, but
// a quote would be doubled, FTS5's escape. Nil when no word is left.
func queryTerms(text string) []string {
	if len(text) > maxQueryBytes {
		cut := maxQueryBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
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
		with would you your yours yourself yourselves remember tell know ll re ve don didn doesn isn wasn
		many much ever also`) {
		m[w] = true
	}
	return m
}()
