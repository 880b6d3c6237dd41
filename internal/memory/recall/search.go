package recall

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/memory"
)

// Search is recall for a person looking: the memory page and `os1 memory
// search`. It ranks like Recall but keeps only hits that match the query,
// and says where they match.
//
// The rule: a hit matches when
//
//   - full text found it: it holds at least one of the query's words (not a
//     stopword) as the index reads words: lower-cased, accents folded,
//     English stems ("walking" finds "walked"), irregular forms and the other
//     names of a person the query names (ExpandWordForms, aliases); or
//   - its meaning is close: the cosine of its vector to the query's is at
//     least Options.SearchMinSimilarity; or
//   - the query is only a date ("last week"): every hit in that range matches.
//
// The vector side alone always returns the nearest documents, related or
// not: a one-word query such as a name is about as close to "hello" (0.39
// with USE-lite) as to a message that holds the name (0.40), so without the
// rule every message came back. Prompt recall (Recall, the slot, the recall
// tool) keeps the fused list whole.

// DefaultSearchMinSimilarity is the cosine from which a meaning-only hit is
// shown by Search. Calibrated for the bundled USE-lite model on the memory
// benchmark (bench/memory, seed 1, 3 months, 148 questions, 3,119 messages):
// at 0.60, 11% of answer messages pass and 0.4 other messages a question;
// at 0.50, 42% and 6.7; at 0.45, 57% and 16. Single words (names, things)
// reach at most 0.49 to any message, so they find what holds the word and
// nothing more. Other embedders spread cosines differently; for most,
// 0.6 is stricter still.
const DefaultSearchMinSimilarity = 0.6

// Match is one search hit and why it matched.
type Match struct {
	memory.Hit
	// Lexical: full text found it (it holds a query word).
	Lexical bool
	// Similarity is the cosine of its vector to the query's; 0 when the
	// vector side did not return it.
	Similarity float64
	// Marks are the byte ranges [start, end) of Hit.Text that hold the
	// query's words, in order; empty when it matched by meaning or date
	// alone, or when the store cannot mark words.
	Marks [][2]int
}

// MatchMarker is what a Store implements to mark the words that matched
// (sqlitemem.Store does). Search works without it, and then marks nothing.
type MatchMarker interface {
	// MatchRanges returns, for each hit, the byte ranges of its Text that
	// the words of text match in full text.
	MatchRanges(ctx context.Context, userID, text string, hits []memory.Hit) ([][][2]int, error)
}

// Search returns at most q.Limit hits that match q (see the rule above),
// best first, in Recall's order, with Recall's context units; Marks are in
// the hit's own text, after its unit's prefix.
func (r *Recaller) Search(ctx context.Context, userID string, q memory.Query, loc *time.Location) ([]Match, error) {
	rt, err := r.retrieve(ctx, userID, q, loc, false)
	if err != nil || rt.lists == nil {
		return nil, err
	}
	lexical := map[string]bool{}
	for _, h := range rt.text {
		lexical[hitKey(h)] = true
	}
	similarity := map[string]float64{}
	for _, h := range rt.vector {
		similarity[hitKey(h)] = h.Score
	}
	minSim := r.opts.SearchMinSimilarity
	if minSim <= 0 {
		minSim = DefaultSearchMinSimilarity
	}
	// Fuse every candidate, so that the cut leaves up to Limit of them.
	all := 0
	for _, l := range rt.lists {
		all += len(l)
	}
	var out []Match
	var kept []memory.Hit
	for _, h := range r.fuse(rt, all) {
		if len(out) == rt.q.Limit {
			break
		}
		k := hitKey(h)
		m := Match{Hit: h, Lexical: lexical[k], Similarity: similarity[k]}
		if !m.Lexical && m.Similarity < minSim && !rt.timeOnly {
			continue
		}
		out = append(out, m)
		if m.Lexical {
			kept = append(kept, h)
		}
	}
	if mm, ok := r.s.(MatchMarker); ok && len(kept) > 0 {
		marks, err := mm.MatchRanges(ctx, userID, rt.fullText, kept)
		if err != nil {
			return nil, fmt.Errorf("search %q: %w", q.Text, err)
		}
		byKey := make(map[string][][2]int, len(kept))
		for i, h := range kept {
			byKey[hitKey(h)] = marks[i]
		}
		for i := range out {
			out[i].Marks = byKey[hitKey(out[i].Hit)]
		}
	}
	// Units last: the marks were found in the hit's own text, and move by
	// what the unit puts in front of it.
	hits := make([]memory.Hit, len(out))
	for i := range out {
		hits[i] = out[i].Hit
	}
	shift, err := r.withUnits(ctx, userID, hits)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", q.Text, err)
	}
	for i := range out {
		out[i].Hit = hits[i]
		if shift == nil || shift[i] == 0 || out[i].Marks == nil {
			continue
		}
		moved := make([][2]int, len(out[i].Marks))
		for j, m := range out[i].Marks {
			moved[j] = [2]int{m[0] + shift[i], m[1] + shift[i]}
		}
		out[i].Marks = moved
	}
	return out, nil
}

func hitKey(h memory.Hit) string { return string(h.Kind) + "\x00" + h.ID }

// CodePointRanges turns byte ranges of text (Match.Marks) into ranges of
// Unicode code points, the unit a client cuts text by without knowing
// UTF-8 (JavaScript: Array.from(text)). Ranges out of order or out of the
// text are left out. Never nil, so JSON shows a list.
func CodePointRanges(text string, byteRanges [][2]int) [][2]int {
	out := make([][2]int, 0, len(byteRanges))
	cp, b := 0, 0
	at := func(off int) int { // code points before byte off
		for b < off {
			_, n := utf8.DecodeRuneInString(text[b:])
			b += n
			cp++
		}
		return cp
	}
	for _, r := range byteRanges {
		if r[0] < b || r[1] < r[0] || r[1] > len(text) {
			continue
		}
		start := at(r[0])
		out = append(out, [2]int{start, at(r[1])})
	}
	return out
}
