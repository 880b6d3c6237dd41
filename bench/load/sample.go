package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// snapshot is one reading of the processes under measurement; -1 or 0
// where a figure is not available. On a cluster CPU, goroutines and open
// files are the nodes' sum, RSS the largest node's.
type snapshot struct {
	at                                 time.Time
	cpu, clientCPU, modelCPU, infraCPU float64 // seconds of CPU so far
	rss                                int64
	fds, goroutines                    int
	gcMax                              float64     // ms, the runtime's recent largest GC pause
	pauses                             []pauseHist // each node's GC pause histogram; nil where unread
}

func (p *snapshot) max(s snapshot) {
	p.rss = max(p.rss, s.rss)
	p.fds = max(p.fds, s.fds)
	p.goroutines = max(p.goroutines, s.goroutines)
	if math.IsNaN(p.gcMax) || s.gcMax > p.gcMax {
		p.gcMax = s.gcMax
	}
}

// add counts v into a figure that is -1 while unknown.
func add(sum *int, v int) {
	if v < 0 {
		return
	}
	*sum = max(*sum, 0) + v
}

func sample(t target) snapshot {
	s := snapshot{at: time.Now(), fds: -1, goroutines: -1, gcMax: math.NaN(), pauses: make([]pauseHist, len(t.nodes))}
	for k, n := range t.nodes {
		procFds := -1
		if n.pid > 0 {
			if cpu, rss, fds, err := procSample(n.pid); err == nil {
				s.cpu += cpu
				s.rss = max(s.rss, rss)
				procFds = fds
			}
		}
		if n.metrics != "" {
			m := scrape(n.metrics)
			add(&s.goroutines, m.goroutines)
			s.pauses[k] = m.pauses
			if !math.IsNaN(m.gcMax) && (math.IsNaN(s.gcMax) || m.gcMax > s.gcMax) {
				s.gcMax = m.gcMax
			}
			if procFds < 0 {
				procFds = m.fds
			}
		}
		add(&s.fds, procFds)
	}
	if cpu, _, _, err := procSample(0); err == nil {
		s.clientCPU = cpu
	}
	if t.modelPid > 0 {
		if cpu, _, _, err := procSample(t.modelPid); err == nil {
			s.modelCPU = cpu
		}
	}
	for _, pid := range t.infraPids {
		if cpu, err := procTreeCPU(pid); err == nil {
			s.infraCPU += cpu
		}
	}
	return s
}

// metrics is what one node's /metrics says; -1 or NaN where it is silent.
type metrics struct {
	goroutines, fds int
	gcMax           float64
	pauses          pauseHist // nil: not exported
}

// scrape reads goroutines, the recent largest GC pause and the GC pause
// histogram from os1's Prometheus /metrics (the Go collector's
// go_goroutines and go_gc_duration_seconds{quantile="1"}, and os1's
// os1_gc_pause_seconds).
func scrape(url string) metrics {
	m := metrics{goroutines: -1, fds: -1, gcMax: math.NaN()}
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		return m
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			m.goroutines = int(v)
		case `go_gc_duration_seconds{quantile="1"}`:
			m.gcMax = v * 1000
		case "process_open_fds":
			m.fds = int(v)
		default:
			if le, ok := strings.CutPrefix(name, `os1_gc_pause_seconds_bucket{le="`); ok {
				b, err := strconv.ParseFloat(strings.TrimSuffix(le, `"}`), 64)
				if err != nil || v < 0 {
					continue
				}
				if m.pauses == nil {
					m.pauses = pauseHist{}
				}
				m.pauses[b] = uint64(v)
			}
		}
	}
	return m
}

// cpuProfile fetches each node's CPU profile over the measured window
// (less one second, so the step does not wait for it) from its metrics
// listener: path, or path with the node's name before .pprof on a cluster.
func cpuProfile(ctx context.Context, t target, window time.Duration, path string) error {
	errs := make([]error, len(t.nodes))
	var wg sync.WaitGroup
	for k, n := range t.nodes {
		p := path
		if len(t.nodes) > 1 {
			p = strings.TrimSuffix(path, ".pprof") + "-" + n.name + ".pprof"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = nodeProfile(ctx, n, window, p)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func nodeProfile(ctx context.Context, n osNode, window time.Duration, path string) error {
	if n.metrics == "" {
		return errors.New("no metrics listener to ask")
	}
	secs := max(int((window-time.Second)/time.Second), 1)
	u := strings.TrimSuffix(n.metrics, "/metrics") + "/debug/pprof/profile?seconds=" + strconv.Itoa(secs)
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s (is os1 running with OS1_PPROF=1?)", u, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pauseHist is a histogram of GC pauses: at each bucket's upper bound in
// seconds (+Inf included), the count of pauses at or under it.
type pauseHist map[float64]uint64

// pauseWindow is the pauses between two readings of every node, merged:
// each node's bucket counts at to less those at from (the counts only
// grow). A node not read both times, read with other bounds, or whose
// counts went down (it restarted) is left out; ok is false when no node
// is left.
func pauseWindow(from, to []pauseHist) (win pauseHist, ok bool) {
	win = pauseHist{}
	for k := range min(len(from), len(to)) {
		a, b := from[k], to[k]
		if a == nil || b == nil || len(a) != len(b) {
			continue
		}
		d := make(pauseHist, len(b))
		good := true
		for le, n := range b {
			m, had := a[le]
			if !had || n < m {
				good = false
				break
			}
			d[le] = n - m
		}
		if !good {
			continue
		}
		for le, n := range d {
			win[le] += n
		}
		ok = true
	}
	return win, ok
}

// pauseQuantile is the upper bound (seconds) of the bucket that holds the
// q-quantile pause of h (the pause of rank ⌈q·count⌉): the pause is at or
// under it and over the bound below. +Inf: past the last finite bound;
// NaN: h holds no pause.
func pauseQuantile(h pauseHist, q float64) float64 {
	les := make([]float64, 0, len(h))
	for le := range h {
		les = append(les, le)
	}
	slices.Sort(les)
	total := pauseCount(h)
	if total == 0 {
		return math.NaN()
	}
	rank := max(uint64(math.Ceil(q*float64(total)-1e-9)), 1) // 1e-9: 0.29·100 is 29.000000000000004
	for _, le := range les {
		if h[le] >= rank {
			return le
		}
	}
	return math.Inf(1)
}

// pauseCount is how many pauses h holds: its largest cumulative count
// (the +Inf bucket's).
func pauseCount(h pauseHist) uint64 {
	var n uint64
	for _, c := range h {
		n = max(n, c)
	}
	return n
}

// pauseCell is the table's "GC pause p50 / p99" cell for the pauses
// between two snapshots: each the upper bound of its bucket, in ms, and
// how many pauses there were. "-": os1 does not export the histogram.
func pauseCell(first, last snapshot) string {
	h, ok := pauseWindow(first.pauses, last.pauses)
	if !ok {
		return "-"
	}
	n := pauseCount(h)
	if n == 0 {
		return "no pause"
	}
	bound := func(q float64) string {
		v := pauseQuantile(h, q)
		if math.IsInf(v, 1) {
			top := 0.0
			for le := range h {
				if !math.IsInf(le, 1) {
					top = max(top, le)
				}
			}
			return "> " + msFine(top*1000)
		}
		return msFine(v * 1000)
	}
	unit := "pauses"
	if n == 1 {
		unit = "pause"
	}
	return fmt.Sprintf("%s / %s (%d %s)", bound(0.5), bound(0.99), n, unit)
}

// msFine is ms with the digits a sub-millisecond pause needs.
func msFine(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v < 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return ms(v)
}
