package documents

import "strings"

// DiffLine is one line of a diff: Op "=" (in both), "-" (only in the old
// text) or "+" (only in the new one). Text has no line break.
type DiffLine struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// maxEdits bounds the work of Diff: beyond this many inserted and deleted
// lines (past the common start and end) the differing middle is shown as
// all of the old lines removed and all of the new ones added. Myers'
// search keeps O(D²) numbers, so a diff of two unrelated 5 MB documents
// stays at a few megabytes.
const maxEdits = 1000

// Diff compares a and b line by line, a shortest edit script (Myers'
// O(ND) algorithm). A final line break is not a line of its own, and
// "\r\n" counts as "\n".
func Diff(a, b string) []DiffLine {
	x, y := splitLines(a), splitLines(b)
	// Common start and end need no search.
	pre := 0
	for pre < len(x) && pre < len(y) && x[pre] == y[pre] {
		pre++
	}
	suf := 0
	for suf < len(x)-pre && suf < len(y)-pre && x[len(x)-1-suf] == y[len(y)-1-suf] {
		suf++
	}
	out := make([]DiffLine, 0, max(len(x), len(y)))
	for _, l := range x[:pre] {
		out = append(out, DiffLine{"=", l})
	}
	out = append(out, middle(x[pre:len(x)-suf], y[pre:len(y)-suf])...)
	for _, l := range x[len(x)-suf:] {
		out = append(out, DiffLine{"=", l})
	}
	return out
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// middle is Myers' greedy search on lines interned as numbers, keeping the
// furthest-reaching diagonal of each step (V, offset by d) to walk back.
func middle(xs, ys []string) []DiffLine {
	ids := map[string]int{}
	intern := func(ls []string) []int {
		out := make([]int, len(ls))
		for i, l := range ls {
			id, ok := ids[l]
			if !ok {
				id = len(ids)
				ids[l] = id
			}
			out[i] = id
		}
		return out
	}
	x, y := intern(xs), intern(ys)
	n, m := len(x), len(y)
	replace := func() []DiffLine {
		out := make([]DiffLine, 0, n+m)
		for _, l := range xs {
			out = append(out, DiffLine{"-", l})
		}
		for _, l := range ys {
			out = append(out, DiffLine{"+", l})
		}
		return out
	}
	if n == 0 || m == 0 {
		return replace()
	}
	var trace [][]int // trace[d][k+d] = furthest x on diagonal k after d edits
	prev := []int{0}  // the step before d = 0 is a virtual V[1] = 0
	found := -1
	for d := 0; d <= min(n+m, maxEdits); d++ {
		v := make([]int, 2*d+1)
		at := func(vs []int, k, dd int) int { // V[k] of step dd, -1 outside
			if k < -dd || k > dd {
				return -1
			}
			return vs[k+dd]
		}
		for k := -d; k <= d; k += 2 {
			var px int
			switch {
			case d == 0:
				px = 0
			case k == -d || (k != d && at(prev, k-1, d-1) < at(prev, k+1, d-1)):
				px = at(prev, k+1, d-1) // down: an insertion
			default:
				px = at(prev, k-1, d-1) + 1 // right: a deletion
			}
			py := px - k
			for px < n && py < m && x[px] == y[py] {
				px, py = px+1, py+1
			}
			v[k+d] = px
			if px >= n && py >= m {
				found = d
			}
		}
		trace = append(trace, v)
		prev = v
		if found >= 0 {
			break
		}
	}
	if found < 0 {
		return replace()
	}
	// Walk back from (n, m), collecting the script in reverse.
	var rev []DiffLine
	px, py := n, m
	for d := found; d > 0; d-- {
		k := px - py
		pv := trace[d-1]
		get := func(k int) int {
			if k < -(d-1) || k > d-1 {
				return -1
			}
			return pv[k+d-1]
		}
		var pk int
		if k == -d || (k != d && get(k-1) < get(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		sx := get(pk)
		sy := sx - pk
		// The snake after the edit.
		ex, ey := sx, sy
		if pk == k+1 {
			ey++ // insertion of y[sy]
		} else {
			ex++ // deletion of x[sx]
		}
		for px > ex && py > ey {
			px, py = px-1, py-1
			rev = append(rev, DiffLine{"=", xs[px]})
		}
		if pk == k+1 {
			rev = append(rev, DiffLine{"+", ys[sy]})
		} else {
			rev = append(rev, DiffLine{"-", xs[sx]})
		}
		px, py = sx, sy
	}
	for px > 0 && py > 0 {
		px, py = px-1, py-1
		rev = append(rev, DiffLine{"=", xs[px]})
	}
	out := make([]DiffLine, len(rev))
	for i, l := range rev {
		out[len(rev)-1-i] = l
	}
	return out
}
