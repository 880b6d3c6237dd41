// Package bm25 is the plain baseline the memory benchmark reports next to
// os1's recall: textbook Okapi BM25 (k1 = 1.2, b = 0.75, Lucene's idf)
// over single messages, lower-case word tokens (runs of letters and
// digits), no stemming, no stop-words. It is in-process and shares no
// code with os1, so it says what a forty-line search gets on the same
// transcript and questions.
package bm25

import (
	"math"
	"slices"
	"strings"
	"unicode"
)

// Parameters of the baseline.
const (
	K1 = 1.2
	B  = 0.75
)

// Index ranks a fixed set of documents.
type Index struct {
	ids    []string
	tf     []map[string]int
	length []float64
	df     map[string]int
	avg    float64
}

// Tokens splits text into lower-case runs of letters and digits.
func Tokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// New indexes texts; ids[i] names texts[i].
func New(ids, texts []string) *Index {
	x := &Index{ids: ids, df: map[string]int{}}
	total := 0
	for _, t := range texts {
		toks := Tokens(t)
		tf := map[string]int{}
		for _, w := range toks {
			tf[w]++
		}
		for w := range tf {
			x.df[w]++
		}
		x.tf = append(x.tf, tf)
		x.length = append(x.length, float64(len(toks)))
		total += len(toks)
	}
	if len(texts) > 0 {
		x.avg = float64(total) / float64(len(texts))
	}
	return x
}

// IDF is Lucene's log(1 + (N - n + 0.5) / (n + 0.5)), never negative.
func (x *Index) IDF(word string) float64 {
	n, N := float64(x.df[word]), float64(len(x.ids))
	return math.Log1p((N - n + 0.5) / (n + 0.5))
}

// Search returns the ids of the k best documents for query, best first;
// documents sharing no word with it are left out. A word the query says
// twice counts twice (Robertson's query-term weight with k3 = ∞, as the
// usual few-line scripts do).
func (x *Index) Search(query string, k int) []string {
	type hit struct {
		i     int
		score float64
	}
	var words []string
	for _, w := range Tokens(query) {
		if x.df[w] > 0 {
			words = append(words, w)
		}
	}
	var hits []hit
	for i := range x.tf {
		if s := x.score(i, words); s > 0 {
			hits = append(hits, hit{i, s})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return a.i - b.i
	})
	out := make([]string, 0, min(k, len(hits)))
	for _, h := range hits[:min(k, len(hits))] {
		out = append(out, x.ids[h.i])
	}
	return out
}

// score is document i's BM25 score for the query's words.
func (x *Index) score(i int, words []string) float64 {
	s := 0.0
	for _, w := range words {
		if f := float64(x.tf[i][w]); f > 0 {
			s += x.IDF(w) * f * (K1 + 1) / (f + K1*(1-B+B*x.length[i]/x.avg))
		}
	}
	return s
}
