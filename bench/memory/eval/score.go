package main

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/os1ai/os1/bench/memory/dataset"
)

// scored is one question's result in one mode.
type scored struct {
	q      dataset.Question
	recall float64    // answers found among the sources of the top k hits
	missed []string   // answer ids not found
	hitIDs []string   // the hits' ids, best first
	hits   []string   // the hits' texts, best first
	srcs   [][]string // the hits' sources, best first
}

// score computes recall@k per question: the fraction of its answer
// messages that are among the sources of the first k hits. A message hit's
// source is itself; an item or journal hit counts for the messages it came
// from.
func score(qs []dataset.Question, lines []searchLine, k int) []scored {
	out := make([]scored, len(qs))
	for i, q := range qs {
		found := map[string]bool{}
		s := scored{q: q}
		for j, h := range lines[i].Results {
			if j == k {
				break
			}
			for _, src := range h.Sources {
				found[src] = true
			}
			s.hitIDs = append(s.hitIDs, h.ID)
			s.hits = append(s.hits, h.Text)
			s.srcs = append(s.srcs, h.Sources)
		}
		n := 0
		for _, a := range q.Answers {
			if found[a] {
				n++
			} else {
				s.missed = append(s.missed, a)
			}
		}
		s.recall = float64(n) / float64(len(q.Answers))
		out[i] = s
	}
	return out
}

func mean(rs []scored, typ string) (float64, int) {
	sum, n := 0.0, 0
	for _, r := range rs {
		if typ == "" || r.q.Type == typ {
			sum += r.recall
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}

// setResult is one set's answers per mode ("bm25" included), aligned
// with its questions, and each query's search time in milliseconds.
type setResult struct {
	name     string
	qs       []dataset.Question
	ids      []string // LongMemEval: each question's history; nil otherwise
	types    []string // in report order
	modes    []string // os1's modes, then "bm25"
	lines    map[string][]searchLine
	took     map[string][]float64
	timeNote string
}

func newSetResult(name string, qs []dataset.Question, types, modes []string) *setResult {
	r := &setResult{name: name, qs: qs, types: types, modes: append(slices.Clip(modes), "bm25"),
		lines: map[string][]searchLine{}, took: map[string][]float64{}}
	for _, m := range r.modes {
		r.lines[m] = make([]searchLine, len(qs))
		r.took[m] = make([]float64, len(qs))
	}
	return r
}

// percentile is the nearest-rank p-th percentile (0 < p <= 1) of xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// table is the set's one table: a row per mode, recall@5 and recall@10
// overall and per type, and the p50/p99 search time; in Markdown.
func (r *setResult) table() string {
	var b strings.Builder
	at5, at10 := map[string][]scored{}, map[string][]scored{}
	for _, m := range r.modes {
		at5[m], at10[m] = score(r.qs, r.lines[m], 5), score(r.qs, r.lines[m], 10)
	}
	var types []string
	for _, t := range r.types {
		if _, n := mean(at10[r.modes[0]], t); n > 0 {
			types = append(types, t)
		}
	}
	fmt.Fprintf(&b, "| %s (%d questions) | R@5 | R@10 |", r.name, len(r.qs))
	for _, t := range types {
		_, n := mean(at10[r.modes[0]], t)
		fmt.Fprintf(&b, " %s (%d) R@5 / R@10 |", t, n)
	}
	b.WriteString(" p50 ms | p99 ms |\n|---|---|---|")
	for range types {
		b.WriteString("---|")
	}
	b.WriteString("---|---|\n")
	for _, m := range r.modes {
		a5, _ := mean(at5[m], "")
		a10, _ := mean(at10[m], "")
		name := m
		if m == "bm25" {
			name = "plain BM25"
		}
		fmt.Fprintf(&b, "| %s | %.3f | %.3f |", name, a5, a10)
		for _, t := range types {
			t5, _ := mean(at5[m], t)
			t10, _ := mean(at10[m], t)
			fmt.Fprintf(&b, " %.3f / %.3f |", t5, t10)
		}
		fmt.Fprintf(&b, " %.1f | %.1f |\n", percentile(r.took[m], 0.5), percentile(r.took[m], 0.99))
	}
	return b.String()
}

// print writes the table, the fusion analysis and hybrid's misses.
func (r *setResult) print(c config, texts map[string]string) {
	fmt.Printf("Recall of the evidence messages (mean over questions; a hit counts for its source messages)\n\n")
	fmt.Print(r.table())
	fmt.Printf("\nSearch time per query: %s.\n\n", r.timeNote)
	res := map[string][]scored{}
	for _, m := range r.modes {
		res[m] = score(r.qs, r.lines[m], limit)
	}
	printFusion(limit, res)
	if _, ok := res["hybrid"]; ok && c.examples > 0 {
		printMisses(limit, c.examples, r.types, "hybrid", res["hybrid"], texts)
	}
}

func printMisses(k, examples int, types []string, mode string, rs []scored, texts map[string]string) {
	fmt.Printf("Questions %s recall@%d misses (up to %d per type)\n", mode, k, examples)
	for _, t := range types {
		var miss []scored
		for _, r := range rs {
			if r.q.Type == t && r.recall < 1 {
				miss = append(miss, r)
			}
		}
		_, n := mean(rs, t)
		if n == 0 {
			continue
		}
		fmt.Printf("\n  %s: %d of %d questions miss at least one answer\n", t, len(miss), n)
		for i, r := range miss {
			if i == examples {
				break
			}
			fmt.Printf("    Q %q  recall %.2f\n", r.q.Question, r.recall)
			for _, id := range r.missed {
				fmt.Printf("      missed %s: %s\n", id, clip(texts[id], 110))
			}
			for j, h := range r.hits {
				if j == 3 {
					break
				}
				fmt.Printf("      hit %d %s: %s\n", j+1, r.hitIDs[j], clip(h, 110))
			}
		}
	}
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// printFusion puts hybrid next to what fusing the text and vector lists
// could reach: the answers in either list's top k (2k results, a ceiling
// for any fusion of them), interleaving the two lists (k results), and the
// questions a single mode finds that hybrid loses.
func printFusion(k int, results map[string][]scored) {
	text, vec, hyb := results["text"], results["vector"], results["hybrid"]
	if text == nil || vec == nil || hyb == nil {
		return
	}
	recall := func(q dataset.Question, lists ...[][]string) float64 {
		found := map[string]bool{}
		for _, l := range lists {
			for _, srcs := range l {
				for _, s := range srcs {
					found[s] = true
				}
			}
		}
		n := 0
		for _, a := range q.Answers {
			if found[a] {
				n++
			}
		}
		return float64(n) / float64(len(q.Answers))
	}
	var union, inter float64
	var lost, neither int
	for i := range hyb {
		q := hyb[i].q
		union += recall(q, text[i].srcs, vec[i].srcs)
		var mixed [][]string
		seen := map[string]bool{}
		for j := 0; len(mixed) < k && (j < len(text[i].srcs) || j < len(vec[i].srcs)); j++ {
			for _, s := range []scored{vec[i], text[i]} {
				if j < len(s.srcs) && !seen[s.hitIDs[j]] && len(mixed) < k {
					seen[s.hitIDs[j]] = true
					mixed = append(mixed, s.srcs[j])
				}
			}
		}
		inter += recall(q, mixed)
		best := max(text[i].recall, vec[i].recall)
		if hyb[i].recall < best {
			lost++
		}
		if best == 0 {
			neither++
		}
	}
	n := float64(len(hyb))
	h, _ := mean(hyb, "")
	fmt.Printf("Fusion: hybrid %.3f; answers in the text or vector top %d (%d results) %.3f; the two lists\n", h, k, 2*k, union/n)
	fmt.Printf("  interleaved, vector first (%d results) %.3f. Hybrid misses what one mode found on %d questions;\n", k, inter/n, lost)
	fmt.Printf("  neither mode finds any answer of %d.\n\n", neither)
}
