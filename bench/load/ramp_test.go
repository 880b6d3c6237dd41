package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	target := 50 * time.Millisecond
	for _, c := range []struct {
		p99        float64
		errs, lost int
		met        bool
		why        string
	}{
		{48.5, 0, 0, true, ""},
		{50, 0, 0, true, ""},
		{228, 0, 0, false, "p99 228 ms > 50.0 ms"},
		{12, 3, 0, false, "3 errors"},
		{12, 0, 2, false, "2 lost"},
		{math.NaN(), 0, 0, false, "no turn measured"},
		{900, 1, 1, false, "p99 900 ms > 50.0 ms, 1 errors, 1 lost"},
	} {
		v := judge(100, c.p99, c.errs, c.lost, target)
		if v.met != c.met || v.why != c.why || v.users != 100 {
			t.Errorf("judge(p99 %v, errs %d, lost %d) = %+v; want met %v why %q", c.p99, c.errs, c.lost, v, c.met, c.why)
		}
		want := "yes"
		if !c.met {
			want = "no: " + c.why
		}
		if v.cell() != want {
			t.Errorf("cell %q, want %q", v.cell(), want)
		}
	}
}

func TestGrow(t *testing.T) {
	for _, c := range []struct{ n, max, want int }{
		{100, 20000, 150}, {150, 20000, 230}, {230, 20000, 350}, {1000, 20000, 1500},
		{3, 20000, 13}, {10, 20000, 20}, {20, 20000, 30}, // at least ten more
		{15000, 20000, 20000}, {20000, 20000, 0}, {25000, 20000, 0},
	} {
		if got := grow(c.n, c.max); got != c.want {
			t.Errorf("grow(%d, max %d) = %d, want %d", c.n, c.max, got, c.want)
		}
	}
}

// The steps a run takes, given each step's outcome.
func TestNextStep(t *testing.T) {
	yes := func(n int) verdict { return verdict{users: n, met: true} }
	no := func(n int) verdict { return verdict{users: n, why: "p99 80 ms > 50 ms"} }
	for _, c := range []struct {
		name       string
		list       []int
		untilBreak bool
		max        int
		done       []verdict // the outcomes, in the order the steps ran
		want       []int     // the steps the run asks for, then 0
	}{
		{"the list, misses or not", []int{100, 1000}, false, 20000, []verdict{no(100), no(1000)}, []int{100, 1000, 0}},
		{"grow while met", []int{100}, true, 20000, []verdict{yes(100), yes(150), yes(230), no(350)}, []int{100, 150, 230, 350, 0}},
		{"the list first, then grow", []int{100, 1000}, true, 20000, []verdict{yes(100), yes(1000), no(1500)}, []int{100, 1000, 1500, 0}},
		{"a miss in the list stops", []int{100, 1000, 4000}, true, 20000, []verdict{yes(100), no(1000)}, []int{100, 1000, 0}},
		{"up to -max-users", []int{100}, true, 200, []verdict{yes(100), yes(150), yes(200)}, []int{100, 150, 200, 0}},
	} {
		var done []verdict
		for i, want := range c.want {
			got := nextStep(c.list, done, c.untilBreak, c.max)
			if got != want {
				t.Errorf("%s: step %d is %d users, want %d (after %v)", c.name, i+1, got, want, done)
				break
			}
			if got == 0 {
				break
			}
			done = append(done, c.done[i])
		}
	}
}

func TestRampSummary(t *testing.T) {
	yes := func(n int) verdict { return verdict{users: n, met: true} }
	for _, c := range []struct {
		done []verdict
		want string
	}{
		{[]verdict{yes(100), yes(150), judge(230, 80, 0, 0, 50*time.Millisecond)},
			"largest N that met the target: 150 (first miss: 230, p99 80.0 ms > 50.0 ms)"},
		{[]verdict{judge(100, 12, 4, 0, 50*time.Millisecond)}, "largest N that met the target: none (first miss: 100, 4 errors)"},
		{[]verdict{yes(100), yes(150)}, "largest N that met the target: 150 (no miss up to -max-users 150)"},
	} {
		if got := rampSummary(c.done, 150); got != c.want {
			t.Errorf("summary %q, want %q", got, c.want)
		}
	}
}

// Users are spread evenly over the nodes, and on a cluster each second
// tab is on another node than its user's turns.
func TestPlacement(t *testing.T) {
	for _, nodes := range []int{1, 2, 3} {
		per := make([]int, nodes)
		for i := range 30 {
			home, tab := placement(i, nodes)
			per[home]++
			if nodes > 1 && home == tab {
				t.Errorf("%d nodes: user %d's tab is on its own node %d", nodes, i, home)
			}
			if tab < 0 || tab >= nodes {
				t.Errorf("%d nodes: user %d's tab on node %d", nodes, i, tab)
			}
		}
		for k, n := range per {
			if n != 30/nodes {
				t.Errorf("%d nodes: node %d has %d of 30 users", nodes, k, n)
			}
		}
	}
}

// On a cluster the header says which figures are summed over the nodes.
func TestColumns(t *testing.T) {
	one, two := columns(1, false), columns(2, true)
	if len(one) != 17 || len(two) != 19 {
		t.Fatalf("%d and %d columns, want 17 and 19 (PostgreSQL + NATS CPU, meets target)", len(one), len(two))
	}
	joined := strings.Join(two, "|")
	for _, want := range []string{"os1 RSS max per node", "os1 CPU (2 nodes summed)", "goroutines max (summed)", "PostgreSQL + NATS CPU", "meets target",
		"GC pause p50 / p99 (ms, bucket upper bound, nodes merged)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("cluster header lacks %q: %q", want, two)
		}
	}
}
