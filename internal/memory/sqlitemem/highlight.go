package sqlitemem

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/os1ai/os1/internal/memory"
)

// MatchRanges returns, for each of hits, the byte ranges [start, end) of its
// Text that the words of text match in the full-text index: the same words
// SearchText would match (stopwords left out, English stems and accents
// folded by the index's tokenizer, so "walking" marks "walked"). It is for
// showing why a search found something; it ranks nothing.
//
// A hit gets no ranges when nothing in it matches, when its text changed
// since it was found, or when it is longer than IndexedChars bytes (the
// tokenizer would read all of it to mark a few words).
func (s *Store) MatchRanges(ctx context.Context, userID, text string, hits []memory.Hit) (_ [][][2]int, err error) {
	defer survive(&err, "mark matching words")
	out := make([][][2]int, len(hits))
	terms := queryTerms(text)
	if len(terms) == 0 {
		return out, nil
	}
	match := strings.Join(terms, " OR ")
	for i, h := range hits {
		if h.Text == "" || len(h.Text) > IndexedChars {
			continue
		}
		opening, closing := markers(h.Text)
		var doc, marked string
		var err error
		if s.pg {
			// ts_headline marks the words of the same tsquery the search
			// matched, in the document's own text (HighlightAll: all of
			// it, no fragments). Its parser folds case as the index does;
			// accents are folded in the index only, so an accented word
			// found by its plain spelling may go unmarked.
			q := tsQuery(terms)
			opts := fmt.Sprintf(`StartSel="%s", StopSel="%s", HighlightAll=true`, opening, closing)
			err = s.queryRow(ctx, `SELECT d.text, ts_headline('english', d.text, `+pgMatch+`, ?)
				FROM memory_docs d
				WHERE d.user_id = ? AND d.doc_kind = ? AND d.doc_id = ? AND d.fts @@ `+pgMatch,
				q, opts, userID, string(h.Kind), h.ID, q).Scan(&doc, &marked)
		} else {
			err = s.queryRow(ctx, `SELECT d.text, highlight(memory_fts, 0, ?, ?)
				FROM memory_docs d CROSS JOIN memory_fts ON memory_fts.rowid = d.seq
				WHERE d.user_id = ? AND d.doc_kind = ? AND d.doc_id = ? AND memory_fts MATCH ?`,
				opening, closing, userID, string(h.Kind), h.ID, match).Scan(&doc, &marked)
		}
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				continue // no word matches, or gone since it was found
			}
			return nil, mapErr(err, fmt.Sprintf("mark matching words of %s %s", h.Kind, h.ID))
		}
		if doc != h.Text {
			continue
		}
		out[i] = parseMarks(doc, marked, opening, closing)
	}
	return out, nil
}

// markers picks an opening and a closing marker that text does not hold, so
// highlight()'s output parses back without doubt.
func markers(text string) (string, string) {
	for r := rune(0xE000); r < 0xF8FF; r += 2 {
		opening, closing := string(r), string(r+1)
		if !strings.Contains(text, opening) && !strings.Contains(text, closing) {
			return opening, closing
		}
	}
	return "\x01", "\x02" // unreachable for texts of at most IndexedChars bytes
}

// parseMarks turns highlight()'s output back into byte ranges of doc. It
// returns nil unless removing the markers gives doc back exactly.
func parseMarks(doc, marked, opening, closing string) [][2]int {
	var ranges [][2]int
	var b strings.Builder
	start := -1
	for i := 0; i < len(marked); {
		switch {
		case strings.HasPrefix(marked[i:], opening) && start < 0:
			start = b.Len()
			i += len(opening)
		case strings.HasPrefix(marked[i:], closing) && start >= 0:
			if b.Len() > start {
				ranges = append(ranges, [2]int{start, b.Len()})
			}
			start = -1
			i += len(closing)
		default:
			b.WriteByte(marked[i])
			i++
		}
	}
	if start >= 0 || b.String() != doc {
		return nil
	}
	return ranges
}
