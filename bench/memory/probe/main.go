// Command probe measures what the embedding model alone can do on the
// memory benchmark: exact cosine search over every message (no index, no
// quantisation), with the same time-window parsing recall uses. Compare its
// recall with `eval`'s vector mode to tell model limits from index limits.
//
//	go run ./bench/memory/probe -data DIR
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/os1ai/os1/bench/memory/dataset"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory/recall"
)

func main() {
	data := flag.String("data", "", "benchmark directory written by bench/memory/gen")
	cache := flag.String("cache-dir", defaultCacheDir(), "os1's cache dir, holding models/use-lite (scripts/assets.sh model)")
	k := flag.Int("k", 10, "recall@k")
	show := flag.String("show", "", "print the top hits and the answers' ranks of questions containing this text")
	flag.Parse()
	if err := run(*data, *cache, *k, *show); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
		os.Exit(1)
	}
}

type doc struct {
	id   string
	text string
	at   time.Time
	vec  []float32
}

func run(dir, cache string, k int, show string) error {
	tr, qs, meta, err := dataset.Read(dir)
	if err != nil {
		return err
	}
	u, err := embed.LoadUSELite(embed.USELiteDir(cache))
	if err != nil {
		return err
	}
	ctx := context.Background()
	var docs []doc
	var texts []string
	for _, s := range tr.Sessions {
		for i, m := range s.Messages {
			docs = append(docs, doc{id: m.ID, text: m.Text, at: s.Time.Add(time.Duration(i) * time.Second)})
			texts = append(texts, m.Text)
		}
	}
	start := time.Now()
	vecs, err := u.Embed(ctx, texts)
	if err != nil {
		return err
	}
	fmt.Printf("embedded %d messages in %v\n", len(texts), time.Since(start).Round(time.Millisecond))
	for i := range docs {
		docs[i].vec = vecs[i]
	}
	sum, n := map[string]float64{}, map[string]int{}
	for _, q := range qs {
		text := q.Question
		var from, to time.Time
		if rest, f, t, ok := recall.ParseTime(q.Question, meta.Now, time.UTC); ok {
			text, from, to = rest, f, t
		}
		qv, err := u.Embed(ctx, []string{text})
		if err != nil {
			return err
		}
		type hit struct {
			id  string
			sim float32
		}
		var hits []hit
		seen := map[string]bool{}
		for _, d := range docs {
			if (!from.IsZero() && d.at.Before(from)) || (!to.IsZero() && !d.at.Before(to)) {
				continue
			}
			var s float32
			for j, x := range qv[0] {
				s += x * d.vec[j]
			}
			hits = append(hits, hit{d.id, s})
		}
		slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(b.sim, a.sim) })
		byID := map[string]string{}
		for _, d := range docs {
			byID[d.id] = d.text
		}
		var top []string
		for _, h := range hits {
			if len(top) == k {
				break
			}
			if seen[byID[h.id]] { // recall drops repeated texts; so does this
				continue
			}
			seen[byID[h.id]] = true
			top = append(top, h.id)
		}
		found := 0
		for _, a := range q.Answers {
			if slices.Contains(top, a) {
				found++
			}
		}
		if show != "" && strings.Contains(q.Question, show) {
			fmt.Printf("\n%s  (searching %q)\n", q.Question, text)
			for i, h := range hits {
				if slices.Contains(q.Answers, h.id) {
					fmt.Printf("  answer at rank %d (%.3f): %s\n", i+1, h.sim, byID[h.id])
				}
			}
			for i, id := range top[:min(5, len(top))] {
				for _, h := range hits {
					if h.id == id {
						fmt.Printf("  %d (%.3f) %s\n", i+1, h.sim, byID[id])
					}
				}
			}
		}
		r := float64(found) / float64(len(q.Answers))
		sum[q.Type] += r
		n[q.Type]++
		sum[""] += r
		n[""]++
	}
	fmt.Printf("exact cosine recall@%d\n", k)
	for _, t := range append(dataset.Types, "") {
		name := t
		if t == "" {
			name = "all"
		}
		fmt.Printf("  %-11s %4d %6.3f\n", name, n[t], sum[t]/float64(max(n[t], 1)))
	}
	return nil
}

// defaultCacheDir is where scripts/assets.sh puts the model: $OS1_CACHE_DIR,
// else $XDG_CACHE_HOME/os1, else ~/.cache/os1.
func defaultCacheDir() string {
	if d := os.Getenv("OS1_CACHE_DIR"); d != "" {
		return d
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "os1")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "os1")
	}
	return filepath.Join(os.TempDir(), "os1-cache")
}
