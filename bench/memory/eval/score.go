package main

import (
	"fmt"
	"strings"
	"time"

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

func printRecall(c config, qs []dataset.Question, results map[string][]scored) {
	fmt.Printf("recall@%d of the source messages (mean over questions)\n\n", c.k)
	fmt.Printf("  %-11s %4s", "type", "n")
	for _, m := range c.modes {
		fmt.Printf(" %8s", m)
	}
	fmt.Println()
	for _, t := range append(append([]string(nil), dataset.Types...), "") {
		name := t
		if t == "" {
			name = "all"
		}
		var n int
		var cells []string
		for _, m := range c.modes {
			var v float64
			v, n = mean(results[m], t)
			cells = append(cells, fmt.Sprintf("%8.3f", v))
		}
		if n == 0 && t != "" {
			continue
		}
		if t == "" {
			n = len(qs)
		}
		fmt.Printf("  %-11s %4d %s\n", name, n, strings.Join(cells, " "))
	}
	fmt.Println()
}

func printTiming(c config, n int, timing map[string][2]time.Duration) {
	fmt.Printf("Search: one `os1 memory search --json --queries` process per mode, %d queries (wall clock, fastest of %d)\n\n", n, max(c.repeat, 1))
	fmt.Printf("  %-8s %10s %14s %16s\n", "mode", "batch", "1-query run", "per query (est)")
	for _, m := range c.modes {
		t := timing[m]
		per := time.Duration(0)
		if n > 1 {
			per = max(t[0]-t[1], 0) / time.Duration(n-1)
		}
		fmt.Printf("  %-8s %9.2fs %13.2fs %14.1fms\n", m, t[0].Seconds(), t[1].Seconds(), float64(per)/float64(time.Millisecond))
	}
	fmt.Println("\n  per query = (batch - 1-query run) / (queries - 1): the run's fixed cost (process start,")
	fmt.Println("  opening the database, loading the model) taken out. The CLI reports no per-query times,")
	fmt.Println("  so there is no p50/p99 here.")
	fmt.Println()
}

func printMisses(c config, mode string, rs []scored, texts map[string]string) {
	fmt.Printf("Questions %s recall@%d misses (up to %d per type)\n", mode, c.k, c.examples)
	for _, t := range dataset.Types {
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
			if i == c.examples {
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
func printFusion(c config, results map[string][]scored) {
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
		for j := 0; len(mixed) < c.k && (j < len(text[i].srcs) || j < len(vec[i].srcs)); j++ {
			for _, s := range []scored{vec[i], text[i]} {
				if j < len(s.srcs) && !seen[s.hitIDs[j]] && len(mixed) < c.k {
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
	fmt.Printf("Fusion: hybrid %.3f; answers in the text or vector top %d (%d results) %.3f; the two lists\n", h, c.k, 2*c.k, union/n)
	fmt.Printf("  interleaved, vector first (%d results) %.3f. Hybrid misses what one mode found on %d questions;\n", c.k, inter/n, lost)
	fmt.Printf("  neither mode finds any answer of %d.\n\n", neither)
}
