// Command load measures what os1 adds to a conversation when many people
// talk to it at once (issue 15). It starts a scripted OpenAI-compatible
// model as its own process (human pace: -ttft to the first token, -tps
// tokens a second, -reply-tokens long), makes -users accounts with API
// tokens (`os1 user add-many`), starts `os1 serve` on a fresh data dir
// pointed at that model, and then, for each N in -users, runs N simulated
// people for -duration: each holds a WebSocket (/api/ws) on its own
// conversation (a share use SSE instead, a share have a second tab that
// follows the conversation), sends a message, reads the streamed reply to
// the end, thinks (-think ± -jitter), and again.
//
//	go build -o bin/os1 ./cmd/os1
//	go run ./bench/load -bin bin/os1 -users 100,1000 -duration 60s
//
// It prints one row per step: the latency os1 adds before the first token
// (the client's first delta − the model's TTFT) p50/p99/max, what it adds
// between tokens (p99), turns/s, errors, os1's RSS and CPU, the load
// client's and the model's CPU, goroutines, GC pause (the recent largest,
// and p50/p99 over the step from os1_gc_pause_seconds), open files; then,
// after everyone disconnected, goroutines and RSS against the idle
// baseline. No process or data dir is left behind (-keep keeps the data
// dir).
//
// -until-break goes on after the -users steps, N × 1.5 a step, while a
// step meets the target (-target-p99 added first-token p99, no errors,
// nothing lost), up to -max-users, and names the largest N that met it.
// -nodes N (≥ 2) runs N `os1 serve` processes on one PostgreSQL 15 and one
// embedded NATS with JetStream, users spread over them and each second tab
// on another node than its user. -memory off starts os1 with
// OS1_MEMORY=off.
//
// -url targets a running os1 instead (with -tokens, a `username<TAB>token`
// file, and optionally -pid and -metrics for its process figures).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	bin, url, tokensFile, metricsURL, memory, models string
	profiles                                         string
	pid, nodes, maxUsers                             int
	users                                            []int
	duration, think, jitter, ramp, settle, target    time.Duration
	sseShare, tabShare                               float64
	pace                                             modelPace
	keep, untilBreak                                 bool
}

func main() {
	var o options
	var users string
	serve := flag.String("serve-model", "", "run only the scripted model on this address (the harness starts it so itself)")
	serveNATSAddr := flag.String("serve-nats", "", "run only a NATS server with JetStream on this address (the harness starts it so itself, with -nodes ≥ 2)")
	natsDir := flag.String("nats-dir", "", "with -serve-nats: JetStream's store")
	flag.StringVar(&o.bin, "bin", "bin/os1", "the os1 binary to start (build it with `make build`)")
	flag.StringVar(&o.url, "url", "", "measure a running os1 at this URL instead of starting one (needs -tokens)")
	flag.StringVar(&o.tokensFile, "tokens", "", "with -url: a file of `username<TAB>token` lines (`os1 user add-many`)")
	flag.IntVar(&o.pid, "pid", 0, "with -url: os1's process id, for its RSS, CPU and open files")
	flag.StringVar(&o.metricsURL, "metrics", "", "with -url: os1's /metrics URL, for goroutines and GC pauses")
	flag.StringVar(&users, "users", "100", "simulated users per step, comma-separated (e.g. 100,1000,4000,8316)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "measured time per step, after everyone connected")
	flag.DurationVar(&o.think, "think", 30*time.Second, "time a user thinks between a reply's end and the next message")
	flag.DurationVar(&o.jitter, "jitter", 10*time.Second, "think time varies by ± this much")
	flag.DurationVar(&o.ramp, "ramp", 10*time.Second, "users connect spread over this time")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "wait after everyone disconnected before reading the baseline again")
	flag.Float64Var(&o.sseShare, "sse", 0.1, "share of users on SSE instead of the WebSocket")
	flag.Float64Var(&o.tabShare, "tabs", 0.1, "share of users with a second tab following the conversation")
	flag.StringVar(&o.memory, "memory", "on", "memory recall and background extraction: on, or off (os1 runs with OS1_MEMORY=off)")
	flag.IntVar(&o.nodes, "nodes", 1, "os1 nodes; 2 or more run a cluster on one PostgreSQL 15 and one NATS")
	flag.BoolVar(&o.untilBreak, "until-break", false, "after the -users steps, go on with N × 1.5 while a step meets the target; stop at the first miss")
	flag.IntVar(&o.maxUsers, "max-users", 20000, "with -until-break: the largest step")
	flag.DurationVar(&o.target, "target-p99", 50*time.Millisecond, "the target: added first-token p99 at most this, with no errors and nothing lost")
	flag.DurationVar(&o.pace.ttft, "ttft", 300*time.Millisecond, "the model's time to first token")
	flag.Float64Var(&o.pace.tps, "tps", 30, "the model's tokens per second")
	flag.IntVar(&o.pace.tokens, "reply-tokens", 150, "tokens in each reply")
	flag.BoolVar(&o.keep, "keep", false, "keep the data dir (its path is printed)")
	flag.StringVar(&o.profiles, "cpuprofile", "", "a folder: write os1's CPU profile of each step's measured window there (cpu-N.pprof; os1 runs with OS1_PPROF=1)")
	flag.StringVar(&o.models, "models", defaultModels(), "a cache dir's models folder (with use-lite) for os1's sentence embeddings; empty: full-text recall only")
	flag.Parse()
	if *serve != "" {
		if err := serveModel(*serve, o.pace); err != nil {
			fmt.Fprintln(os.Stderr, "load: model:", err)
			os.Exit(1)
		}
		return
	}
	if *serveNATSAddr != "" {
		if err := serveNATS(*serveNATSAddr, *natsDir); err != nil {
			fmt.Fprintln(os.Stderr, "load: nats:", err)
			os.Exit(1)
		}
		return
	}
	for _, f := range strings.Split(users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "load: -users: %q is not a positive number\n", f)
			os.Exit(2)
		}
		o.users = append(o.users, n)
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		stop()
		os.Exit(1)
	}
}

// check refuses flags that do not go together, with what to give instead.
func (o options) check() error {
	switch {
	case o.memory != "on" && o.memory != "off":
		return fmt.Errorf("-memory %q: give on or off", o.memory)
	case o.pace.tps <= 0 || o.pace.tokens < 1:
		return errors.New("-tps and -reply-tokens must be positive")
	case o.nodes < 1:
		return fmt.Errorf("-nodes %d: give 1 (one os1) or more (a cluster)", o.nodes)
	case o.url != "" && o.nodes > 1:
		return errors.New("-nodes starts its own cluster; with -url the harness measures one running os1")
	case o.url != "" && o.memory == "off":
		return errors.New("-memory off starts os1 with OS1_MEMORY=off; with -url, start that os1 so yourself and leave -memory out")
	case o.untilBreak && o.maxUsers < slices.Max(o.users):
		return fmt.Errorf("-max-users %d is below the largest of -users %v", o.maxUsers, o.users)
	case o.target <= 0:
		return errors.New("-target-p99 must be positive")
	}
	return nil
}

// target is the os1 under load (one node, or a cluster's nodes) and the
// processes measured beside it.
type target struct {
	nodes     []osNode
	modelPid  int
	model     string // the scripted model's root URL; empty with -url
	infraPids []int  // a cluster's PostgreSQL (postmaster) and NATS
	accounts  []account
	// more makes accounts until there are n (nil: it cannot, with -url)
	more func(ctx context.Context, n int) error
}

func run(ctx context.Context, o options) error {
	most := slices.Max(o.users)
	var t target
	if o.url != "" {
		if o.tokensFile == "" {
			return errors.New("-url needs -tokens (a file `os1 user add-many` wrote)")
		}
		accs, err := readTokens(o.tokensFile)
		if err != nil {
			return err
		}
		if len(accs) < most {
			return fmt.Errorf("%s has %d accounts; -users asks for %d", o.tokensFile, len(accs), most)
		}
		if o.untilBreak && len(accs) < o.maxUsers {
			fmt.Printf("-until-break stops at the %d accounts of %s\n", len(accs), o.tokensFile)
			o.maxUsers = len(accs)
		}
		t = target{nodes: []osNode{{name: "os1", base: strings.TrimSuffix(o.url, "/"), pid: o.pid, metrics: o.metricsURL}}, accounts: accs}
		fmt.Printf("os1 load: %s (a running server; the model is whatever it uses)\n", o.url)
	} else {
		cleanup, err := start(ctx, o, most, &t)
		defer cleanup()
		if err != nil {
			return err
		}
	}
	fmt.Printf("users %v, %v measured per step after a %v ramp, think %v ± %v, SSE %.0f%%, second tab %.0f%%, memory %s\n",
		o.users, o.duration, o.ramp, o.think, o.jitter, o.sseShare*100, o.tabShare*100, o.memory)
	fmt.Printf("model: %v to first token, %g tokens/s, %d tokens a reply; %d CPU cores\n", o.pace.ttft, o.pace.tps, o.pace.tokens, numCPU())
	if o.untilBreak {
		fmt.Printf("until it breaks: after the list, N × 1.5 while a step meets the target (added first-token p99 ≤ %v, 0 errors, 0 lost), up to %d users\n",
			o.target, o.maxUsers)
	}
	if len(t.nodes) > 1 {
		fmt.Printf("%d nodes: users spread round-robin, each second tab on the next node; os1 CPU is the nodes' sum, os1 RSS the largest node's, goroutines and open files the sum; PostgreSQL + NATS CPU is the postmaster with its backends plus NATS\n",
			len(t.nodes))
	}
	fmt.Println()

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1 << 14, IdleConnTimeout: 2 * time.Minute}}
	// one turn first on each node, so lazy work (loading the embedding
	// model) is not measured
	if err := warm(ctx, t, hc); err != nil {
		return fmt.Errorf("warm-up turn: %w", err)
	}
	waitIdle(ctx, 2*time.Second)
	base := sample(t)
	fmt.Printf("idle baseline: os1 RSS %s, goroutines %s, open files %s\n\n", mib(base.rss), intOr(base.goroutines), intOr(base.fds))
	head := columns(len(t.nodes), o.untilBreak)
	fmt.Println("| " + strings.Join(head, " | ") + " |")
	fmt.Println(strings.Repeat("|---", len(head)) + "|")
	var after []string
	var done []verdict
	for n := nextStep(o.users, done, o.untilBreak, o.maxUsers); n > 0 && ctx.Err() == nil; n = nextStep(o.users, done, o.untilBreak, o.maxUsers) {
		if n > len(t.accounts) {
			if t.more == nil {
				break
			}
			t0 := time.Now()
			have := len(t.accounts)
			if err := t.more(ctx, n); err != nil {
				return err
			}
			after = append(after, fmt.Sprintf("before the %d-user step: made %d more accounts in %v", n, n-have, time.Since(t0).Round(time.Millisecond)))
		}
		res := step(ctx, o, t, hc, n, base)
		if ctx.Err() != nil {
			break // a step cut short is no measurement
		}
		v := judge(n, res.p99, res.errs, res.lost, o.target)
		cells := res.cells
		if o.untilBreak {
			cells = append(cells, v.cell())
		}
		fmt.Println("| " + strings.Join(cells, " | ") + " |")
		after = append(after, res.after)
		done = append(done, v)
	}
	if c := modelCalls(t); c != "" {
		after = append(after, c)
	}
	fmt.Println()
	for _, a := range after {
		fmt.Println(a)
	}
	if o.untilBreak && ctx.Err() == nil {
		fmt.Println(rampSummary(done, o.maxUsers))
	}
	return ctx.Err()
}

func waitIdle(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// columns is the table's header: on a cluster it says which figures are
// summed over the nodes and which are the largest node's.
func columns(nodes int, untilBreak bool) []string {
	rss, cpu, gor, fds := "os1 RSS max", "os1 CPU", "goroutines max", "open files max"
	pauses := "GC pause p50 / p99 (ms, bucket upper bound)"
	if nodes > 1 {
		rss, cpu, gor, fds = "os1 RSS max per node", fmt.Sprintf("os1 CPU (%d nodes summed)", nodes),
			"goroutines max (summed)", "open files max (summed)"
		pauses = "GC pause p50 / p99 (ms, bucket upper bound, nodes merged)"
	}
	c := []string{"users", "turns", "turns/s", "added first token p50 / p99 / max (ms)", "added between tokens p99 (ms)", "errors",
		rss, cpu, "client CPU", "model CPU"}
	if nodes > 1 {
		c = append(c, "PostgreSQL + NATS CPU")
	}
	c = append(c, gor, "GC pause max (ms)", pauses, fds, "second tab missed", "lagged", "lost")
	if untilBreak {
		c = append(c, "meets target")
	}
	return c
}

// stepResult is one step: its table cells (without "meets target"), the
// line for after the table, and what the target is judged on.
type stepResult struct {
	cells []string
	after string
	p99   float64 // ms added before the first token; NaN: no turn
	errs  int     // every error, unread conversations included
	lost  int
}

// step runs n users for the ramp and o.duration, then lets them finish
// and disconnect.
func step(ctx context.Context, o options, t target, hc *http.Client, n int, base snapshot) stepResult {
	rec := newRecorder(o.pace)
	rec.from = time.Now().Add(o.ramp)
	rec.to = rec.from.Add(o.duration)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	users := make([]*simUser, n)
	for i := range n {
		home, other := placement(i, len(t.nodes))
		u := &simUser{i: i, acc: t.accounts[i], base: t.nodes[home].base, other: t.nodes[other].base,
			think: o.think, jit: o.jitter, hc: hc, rec: rec,
			rng: rand.New(rand.NewPCG(uint64(i), uint64(n))),
			sse: frac(float64(i)*0.6180339887) < o.sseShare, tab: frac(float64(i)*0.6180339887+0.5) < o.tabShare}
		users[i] = u
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !u.pause(ctx, stop, time.Duration(int64(o.ramp)*int64(i)/int64(n))) {
				return
			}
			u.run(ctx, stop)
		}()
	}
	// sample through the measured window
	var peak snapshot
	var first, last snapshot
	tick := time.NewTicker(time.Second)
	waitUntil(ctx, rec.from)
	first = sample(t)
	var profDone chan struct{}
	if o.profiles != "" {
		profDone = make(chan struct{})
		go func() {
			defer close(profDone)
			if err := cpuProfile(ctx, t, o.duration, filepath.Join(o.profiles, fmt.Sprintf("cpu-%d.pprof", n))); err != nil {
				fmt.Fprintln(os.Stderr, "cpu profile:", err)
			}
		}()
	}
	for time.Now().Before(rec.to) && ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
		s := sample(t)
		peak.max(s)
		last = s
	}
	tick.Stop()
	if profDone != nil {
		<-profDone
	}
	close(stop)
	wg.Wait()
	lost, unread := countLost(ctx, users, o.pace.tokens, rec)
	waitIdle(ctx, o.settle)
	hc.CloseIdleConnections()
	waitIdle(ctx, time.Second)
	end := sample(t)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	secs := last.at.Sub(first.at).Seconds()
	cpu := func(a, b float64) string {
		if secs <= 0 || b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", (b-a)/secs*100)
	}
	errs := 0
	var kinds []string
	for k, v := range rec.errs {
		errs += v
		kinds = append(kinds, fmt.Sprintf("%s×%d", k, v))
	}
	slices.Sort(kinds)
	errCol := strconv.Itoa(errs)
	if errs > 0 {
		errCol += " (" + strings.Join(kinds, ", ") + ")"
	}
	lostCol := strconv.Itoa(lost)
	if unread > 0 {
		lostCol += fmt.Sprintf(" (%d unread)", unread)
	}
	slices.Sort(rec.first)
	slices.Sort(rec.inter)
	missed := rec.tabWanted.Load() - rec.tabTurns.Load()
	cells := []string{strconv.Itoa(n), strconv.Itoa(rec.turns), fmt.Sprintf("%.1f", float64(rec.turns)/o.duration.Seconds()),
		ms(pct(rec.first, 0.5)) + " / " + ms(pct(rec.first, 0.99)) + " / " + ms(pct(rec.first, 1)), ms(pct(rec.inter, 0.99)),
		errCol, mib(peak.rss), cpu(first.cpu, last.cpu), cpu(first.clientCPU, last.clientCPU), cpu(first.modelCPU, last.modelCPU)}
	if len(t.nodes) > 1 {
		cells = append(cells, cpu(first.infraCPU, last.infraCPU))
	}
	cells = append(cells, intOr(peak.goroutines), ms(peak.gcMax), pauseCell(first, last), intOr(peak.fds),
		fmt.Sprintf("%d of %d", max(missed, 0), rec.tabWanted.Load()), strconv.FormatInt(rec.lagged.Load(), 10), lostCol)
	aft := fmt.Sprintf("after %d users disconnected (+%v): goroutines %s (idle baseline %s), RSS %s (baseline %s), open files %s (baseline %s)",
		n, o.settle, intOr(end.goroutines), intOr(base.goroutines), mib(end.rss), mib(base.rss), intOr(end.fds), intOr(base.fds))
	if rec.connected.Load() < int64(n) {
		aft += fmt.Sprintf("; only %d of %d users connected", rec.connected.Load(), n)
	}
	if len(rec.firstSeen) > 0 {
		aft += "\n  first errors: " + strings.Join(rec.firstSeen, "; ")
	}
	return stepResult{cells: cells, after: aft, p99: pct(rec.first, 0.99), errs: errs, lost: lost}
}

// placement is user i's node and its second tab's (also the node its
// conversation is read back from): round-robin over the nodes, the tab on
// the next one, so on a cluster a tab follows a turn run on another node.
func placement(i, nodes int) (home, tab int) {
	return i % nodes, (i + 1) % nodes
}

func waitUntil(ctx context.Context, t time.Time) {
	select {
	case <-time.After(time.Until(t)):
	case <-ctx.Done():
	}
}

func frac(x float64) float64 { return x - math.Floor(x) }

func pct(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func mib(b int64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func intOr(v int) string {
	if v < 0 {
		return "-"
	}
	return strconv.Itoa(v)
}

func readTokens(path string) ([]account, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var accs []account
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		name, tok, ok := strings.Cut(strings.TrimSpace(line), "\t")
		if !ok {
			return nil, fmt.Errorf("%s: a line is not `username<TAB>token`", path)
		}
		accs = append(accs, account{name, tok})
	}
	return accs, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// defaultModels is os1's own cache's models folder when it holds the
// sentence embedding model (scripts/assets.sh model puts it there).
func defaultModels() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	m := filepath.Join(dir, "os1", "models")
	if _, err := os.Stat(filepath.Join(m, "use-lite")); err != nil {
		return ""
	}
	return m
}

// warm sends one message on each node (as the first accounts) and reads
// its turn.
func warm(ctx context.Context, t target, hc *http.Client) error {
	for k, n := range t.nodes {
		rec := newRecorder(modelPace{tps: 1})
		u := &simUser{acc: t.accounts[k%len(t.accounts)], base: n.base, other: n.base, hc: hc, rec: rec, sse: true, once: true,
			rng: rand.New(rand.NewPCG(1, 1))}
		u.runSSE(ctx, nil)
		if len(rec.firstSeen) > 0 {
			return fmt.Errorf("%s: %s", n.name, rec.firstSeen[0])
		}
		if rec.sent.Load() != 1 {
			return fmt.Errorf("%s: the turn did not run", n.name)
		}
	}
	return nil
}

// modelCalls is what the scripted model was asked in the whole run.
func modelCalls(t target) string {
	if t.model == "" {
		return ""
	}
	res, err := http.Get(t.model + "/stats")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	var chat, extraction, title int
	if _, err := fmt.Fscan(res.Body, &chat, &extraction, &title); err != nil {
		return ""
	}
	return fmt.Sprintf("the model answered %d chat turns, %d memory extractions, %d titles (whole run, warm-up included)", chat, extraction, title)
}

// countLost reads every conversation back (16 at a time) after its user
// left, from the node of its second tab (another node on a cluster):
// messages sent but not stored, replies read whole but not stored whole.
// unread is how many conversations could not be read (each an error).
func countLost(ctx context.Context, users []*simUser, tokens int, rec *recorder) (lost, unread int) {
	var mu sync.Mutex
	work := make(chan *simUser)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				n, err := u.lost(ctx, tokens)
				mu.Lock()
				lost += n
				if err != nil {
					unread++
				}
				mu.Unlock()
				if err != nil {
					rec.fail("read back", err)
				}
			}
		}()
	}
	for _, u := range users {
		work <- u
	}
	close(work)
	wg.Wait()
	return lost, unread
}
