package embed

import (
	"os"
	"sort"
	"testing"
	"time"
)

func TestZZProf(t *testing.T) {
	u, err := LoadUSELite(os.Getenv("HOME") + "/.cache/os1/models/use-lite")
	if err != nil {
		t.Fatal(err)
	}
	var idx, vals []int32
	nb := 1
	if os.Getenv("ZZB") != "" {
		nb = 32
	}
	for row := range nb {
		ids := u.Tokens("The quick brown fox jumps over the lazy dog.")
		for pos, id := range ids {
			idx = append(idx, int32(row), int32(pos))
			vals = append(vals, id)
		}
	}
	feeds := map[string]*tensor{"indices": intTensor([]int{len(vals), 2}, idx), "values": intTensor([]int{len(vals)}, vals)}
	g := u.g
	per := map[string]time.Duration{}
	bestRep := time.Hour
	reps := 200 / nb
	start := time.Now()
	sc := new(scratch)
	for range reps {
		sc.reset()
		repStart := time.Now()
		cur := map[string]time.Duration{}
		vals := make([][]*tensor, len(g.nodes))
		for i, n := range g.nodes {
			switch n.op {
			case "Const":
				vals[i] = []*tensor{n.value}
				continue
			case "Placeholder":
				vals[i] = []*tensor{feeds[n.name]}
				continue
			}
			in := make([]*tensor, len(n.in))
			for k, r := range n.in {
				in[k] = vals[r.node][r.out]
			}
			t0 := time.Now()
			out, err := n.fn(sc, n, in)
			cur[n.op] += time.Since(t0)
			if err != nil {
				t.Fatal(err)
			}
			vals[i] = out
			sc.settle(len(g.nodes), g.root[i], out)
			for _, r := range g.dies[i] {
				sc.die(r)
			}
		}
		if d := time.Since(repStart); d < bestRep {
			bestRep = d
			per = cur
		}
	}
	total := time.Since(start) / time.Duration(reps*nb)
	type kv struct {
		k string
		v time.Duration
	}
	var l []kv
	for k, v := range per {
		l = append(l, kv{k, v / time.Duration(nb)})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v })
	t.Logf("total mean %v, best rep %v", total, bestRep)
	for _, e := range l {
		t.Logf("%-14s %v", e.k, e.v)
	}
}
