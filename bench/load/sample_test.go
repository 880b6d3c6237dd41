package main

import (
	"math"
	"net/http/httptest"
	"runtime"
	"testing"

	osmetrics "github.com/os1ai/os1/internal/metrics"
)

// Quantiles from bucket deltas: the bound of the bucket holding the pause
// of rank ⌈q·n⌉, over the window only, merged over the nodes.
func TestPauseQuantile(t *testing.T) {
	inf := math.Inf(1)
	// node 1: before the window 10 pauses ≤ 1 ms; in it 90 more ≤ 1 ms,
	// 9 in (1, 2] ms, 1 in (2, 4] ms.
	n1from := pauseHist{0.001: 10, 0.002: 10, 0.004: 10, inf: 10}
	n1to := pauseHist{0.001: 100, 0.002: 109, 0.004: 110, inf: 110}
	win, ok := pauseWindow([]pauseHist{n1from}, []pauseHist{n1to})
	if !ok || pauseCount(win) != 100 {
		t.Fatalf("window %v %v: want 100 pauses", win, ok)
	}
	for _, c := range []struct{ q, want float64 }{
		{0.5, 0.001}, {0.9, 0.001}, {0.91, 0.002}, {0.99, 0.002}, {0.999, 0.004}, {1, 0.004}, {0, 0.001},
	} {
		if got := pauseQuantile(win, c.q); got != c.want {
			t.Errorf("q %v: %v, want %v", c.q, got, c.want)
		}
	}
	// the pauses before the window do not count: without the delta, the
	// 10 old pauses would not move p99, but 10 old slow ones would.
	slowFrom := pauseHist{0.001: 0, 0.002: 0, 0.004: 0, inf: 10}
	slowTo := pauseHist{0.001: 100, 0.002: 100, 0.004: 100, inf: 110}
	if win, _ := pauseWindow([]pauseHist{slowFrom}, []pauseHist{slowTo}); pauseQuantile(win, 0.99) != 0.001 {
		t.Errorf("old slow pauses counted: %v", win)
	}
	// past the last bound: +Inf.
	if q := pauseQuantile(pauseHist{0.001: 0, inf: 3}, 0.99); !math.IsInf(q, 1) {
		t.Errorf("all pauses over the last bound: %v", q)
	}
	if q := pauseQuantile(pauseHist{0.001: 0, inf: 0}, 0.99); !math.IsNaN(q) {
		t.Errorf("no pause: %v, want NaN", q)
	}
	// two nodes merge their deltas; node 2 alone has the slow pauses.
	n2from := pauseHist{0.001: 5, 0.002: 5, 0.004: 5, inf: 5}
	n2to := pauseHist{0.001: 5, 0.002: 5, 0.004: 5, inf: 7} // 2 over 4 ms
	win, ok = pauseWindow([]pauseHist{n1from, n2from}, []pauseHist{n1to, n2to})
	if !ok || pauseCount(win) != 102 || win[0.001] != 90 || win[0.004] != 100 {
		t.Fatalf("merged %v", win)
	}
	if q := pauseQuantile(win, 0.99); !math.IsInf(q, 1) { // rank 101 of 102
		t.Errorf("merged p99 %v: want past 4 ms", q)
	}
	if q := pauseQuantile(win, 0.5); q != 0.001 {
		t.Errorf("merged p50 %v", q)
	}
	// a node not read both times, or restarted (counts went down), is
	// left out; none left: not ok.
	restarted := pauseHist{0.001: 1, 0.002: 1, 0.004: 1, inf: 1}
	win, ok = pauseWindow([]pauseHist{n1from, n2to, nil}, []pauseHist{n1to, restarted, n2to})
	if !ok || pauseCount(win) != 100 {
		t.Errorf("with a restarted and an unread node: %v %v, want node 1's 100", win, ok)
	}
	if _, ok := pauseWindow([]pauseHist{nil}, []pauseHist{n1to}); ok {
		t.Error("a node read once gave a window")
	}
	if c := pauseCell(snapshot{pauses: []pauseHist{n1from}}, snapshot{pauses: []pauseHist{n1to}}); c != "1.00 / 2.00 (100 pauses)" {
		t.Errorf("cell %q", c)
	}
	if c := pauseCell(snapshot{pauses: []pauseHist{n1from, n2from}}, snapshot{pauses: []pauseHist{n1to, n2to}}); c != "1.00 / > 4.00 (102 pauses)" {
		t.Errorf("cell %q", c)
	}
	if c := pauseCell(snapshot{pauses: []pauseHist{n1to}}, snapshot{pauses: []pauseHist{n1to}}); c != "no pause" {
		t.Errorf("cell %q", c)
	}
	if c := pauseCell(snapshot{pauses: []pauseHist{nil}}, snapshot{pauses: []pauseHist{n1to}}); c != "-" {
		t.Errorf("cell %q", c)
	}
}

// scrape reads os1's real /metrics, and a forced GC shows up in the
// window between two scrapes.
func TestScrapePauses(t *testing.T) {
	srv := httptest.NewServer(osmetrics.New().Handler())
	defer srv.Close()
	runtime.GC()
	a := scrape(srv.URL)
	runtime.GC()
	runtime.GC()
	b := scrape(srv.URL)
	if a.goroutines < 1 || math.IsNaN(a.gcMax) || len(a.pauses) < 30 {
		t.Fatalf("scrape: goroutines %d, GC max %v, %d pause buckets", a.goroutines, a.gcMax, len(a.pauses))
	}
	win, ok := pauseWindow([]pauseHist{a.pauses}, []pauseHist{b.pauses})
	if !ok || pauseCount(win) < 2 {
		t.Fatalf("two forced GCs: window %v %v", win, ok)
	}
	if q := pauseQuantile(win, 0.99); !(q > 0 && q < 1) {
		t.Errorf("p99 of two forced GCs' pauses: %v s", q)
	}
}
