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
	gcMax                              float64 // ms, the runtime's recent largest GC pause
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
	s := snapshot{at: time.Now(), fds: -1, goroutines: -1, gcMax: math.NaN()}
	for _, n := range t.nodes {
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
}

// scrape reads goroutines and the recent largest GC pause from os1's
// Prometheus /metrics (the Go collector's go_goroutines and
// go_gc_duration_seconds{quantile="1"}).
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
