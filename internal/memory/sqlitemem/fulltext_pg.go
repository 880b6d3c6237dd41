package sqlitemem

import (
	"context"
	"math"
	"strings"

	"github.com/os1ai/os1/internal/memory"
)

// Full text on PostgreSQL: memory_docs.fts, a tsvector of the text (weight
// A) and the speaker (weight B) in the 'english' configuration, folded and
// split by memory_fts_text as FTS5's tokenizer does (migration
// internal/store/postgres/migrations/00002_memory.sql). The plan is the
// same as on SQLite (fulltext.go): each word's matches are counted first,
// the rare words ranked, a query of only common words ranked by how many
// it holds among the user's newest documents.
//
// PostgreSQL has no BM25: ts_rank scores a word by how often a document
// holds it (the speaker at speakerWeight) over the log of the document's
// length, but knows nothing of how rare the word is. The score of a
// document is Σ idf(word)·ts_rank(word), idf from the word's count the
// plan read and the number of documents (max(seq), read with the counts):
// BM25's shape, ln(1 + (N − n + ½)/(n + ½)), with ts_rank for its term
// frequency and length parts.

// tsQuery is the text websearch_to_tsquery reads as the OR of terms
// (queryTerms' quoted words): words joined by "or", which queryTerms never
// keeps as a word (a stopword). memory_fts_text folds it in SQL.
func tsQuery(terms []string) string {
	words := make([]string, len(terms))
	for i, t := range terms {
		words[i] = strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(t, `"`), `"`), `""`, `"`)
	}
	return strings.Join(words, " or ")
}

// pgMatch is the tsquery of one '?' argument, a tsQuery text.
const pgMatch = `websearch_to_tsquery('english', memory_fts_text(?))`

// countMatches counts each term's documents, up to maxMatches+1, and
// reads the highest seq, in one query (plan): over the network each query
// costs a round trip, which SQLite in the process does not.
func (s *Store) countMatches(ctx context.Context, terms []string) ([]int, int64, error) {
	var cols []string
	var args []any
	for _, t := range terms {
		cols = append(cols, `(SELECT count(*) FROM (SELECT 1 FROM memory_docs WHERE fts @@ `+pgMatch+` LIMIT ?) AS m)`)
		args = append(args, tsQuery([]string{t}), s.maxMatches+1)
	}
	counts := make([]int, len(terms))
	var docs int64
	dest := []any{&docs}
	for i := range counts {
		dest = append(dest, &counts[i])
	}
	err := s.queryRow(ctx, `SELECT (SELECT coalesce(max(seq), 0) FROM memory_docs), `+strings.Join(cols, ", "), args...).Scan(dest...)
	return counts, docs, err
}

// pgCommonMatches lists the documents from a seq on holding a word (rankCommon).
const pgCommonMatches = `SELECT seq FROM memory_docs WHERE fts @@ ` + pgMatch + ` AND seq >= ?`

// rankTS ranks the documents matching any of the plan's rare words.
func (s *Store) rankTS(ctx context.Context, userID string, q memory.Query, p queryPlan) ([]ref, error) {
	docs := p.docs
	var score []string
	var args []any
	for _, t := range p.rare {
		n := float64(p.matches[t])
		idf := math.Log(1 + (max(float64(docs), n)-n+0.5)/(n+0.5))
		score = append(score, `CAST(? AS DOUBLE PRECISION) * ts_rank('{0, 0, `+speakerWeight+`, 1}', d.fts, `+pgMatch+`, 1)`)
		args = append(args, idf, tsQuery([]string{t}))
	}
	where, wargs := docFilter(userID, q)
	args = append(append(append(args, tsQuery(p.rare)), wargs...), limitOf(q))
	rows, err := s.query(ctx, `
		SELECT d.seq, d.doc_kind, d.doc_id, `+strings.Join(score, " + ")+` AS r
		FROM memory_docs d
		WHERE d.fts @@ `+pgMatch+` AND `+where+`
		ORDER BY r DESC, d.seq DESC LIMIT ?`, args...)
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
		refs = append(refs, r)
	}
	return refs, rows.Err()
}
