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
// client's and the model's CPU, goroutines, GC pause, open files; then,
// after everyone disconnected, goroutines and RSS against the idle
// baseline. Numbers, never pass or fail. No process or data dir is left
// behind (-keep keeps the data dir).
//
// -url targets a running os1 instead (with -tokens, a `username<TAB>token`
// file, and optionally -pid and -metrics for its process figures).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
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
	pid                                              int
	users                                            []int
	duration, think, jitter, ramp, settle            time.Duration
	sseShare, tabShare                               float64
	pace                                             modelPace
	keep                                             bool
}

func main() {
	var o options
	var users string
	serve := flag.String("serve-model", "", "run only the scripted model on this address (the harness starts it so itself)")
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
	flag.StringVar(&o.memory, "memory", "on", "memory recall and background extraction: on (os1 has no switch to turn them off yet)")
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
	for _, f := range strings.Split(users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "load: -users: %q is not a positive number\n", f)
			os.Exit(2)
		}
		o.users = append(o.users, n)
	}
	if o.memory != "on" {
		fmt.Fprintln(os.Stderr, "load: -memory off: os1 has no switch to turn recall and extraction off yet (docs/scale.md, Not built yet)")
		os.Exit(2)
	}
	if o.pace.tps <= 0 || o.pace.tokens < 1 {
		fmt.Fprintln(os.Stderr, "load: -tps and -reply-tokens must be positive")
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

// target is the os1 under load and the processes measured beside it.
type target struct {
	base     string
	pid      int // 0: unknown
	modelPid int
	model    string // the scripted model's root URL; empty with -url
	metrics  string
	accounts []account
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
		t = target{base: strings.TrimSuffix(o.url, "/"), pid: o.pid, metrics: o.metricsURL, accounts: accs}
		fmt.Printf("os1 load: %s (a running server; the model is whatever it uses)\n", t.base)
	} else {
		cleanup, err := start(ctx, o, most, &t)
		defer cleanup()
		if err != nil {
			return err
		}
	}
	fmt.Printf("users %v, %v measured per step after a %v ramp, think %v ± %v, SSE %.0f%%, second tab %.0f%%, memory %s\n",
		o.users, o.duration, o.ramp, o.think, o.jitter, o.sseShare*100, o.tabShare*100, o.memory)
	fmt.Printf("model: %v to first token, %g tokens/s, %d tokens a reply; %d CPU cores\n\n", o.pace.ttft, o.pace.tps, o.pace.tokens, numCPU())

	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1 << 14, IdleConnTimeout: 2 * time.Minute}}
	// one turn first, so lazy work (loading the embedding model) is not measured
	if err := warm(ctx, t, hc); err != nil {
		return fmt.Errorf("warm-up turn: %w", err)
	}
	waitIdle(ctx, 2*time.Second)
	base := sample(t)
	fmt.Printf("idle baseline: os1 RSS %s, goroutines %s, open files %s\n\n", mib(base.rss), intOr(base.goroutines), intOr(base.fds))
	fmt.Println("| users | turns | turns/s | added first token p50 / p99 / max (ms) | added between tokens p99 (ms) | errors | os1 RSS max | os1 CPU | client CPU | model CPU | goroutines max | GC pause max (ms) | open files max | second tab missed | lagged | lost |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	var after []string
	for _, n := range o.users {
		if ctx.Err() != nil {
			break
		}
		row, aft := step(ctx, o, t, hc, n, base)
		fmt.Println(row)
		after = append(after, aft)
	}
	if c := modelCalls(t); c != "" {
		after = append(after, c)
	}
	fmt.Println()
	for _, a := range after {
		fmt.Println(a)
	}
	return ctx.Err()
}

func waitIdle(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// step runs n users for the ramp and o.duration, then lets them finish
// and disconnect; it returns the table row and the after-disconnect line.
func step(ctx context.Context, o options, t target, hc *http.Client, n int, base snapshot) (string, string) {
	rec := newRecorder(o.pace)
	begin := time.Now()
	rec.from = begin.Add(o.ramp)
	rec.to = rec.from.Add(o.duration)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	users := make([]*simUser, n)
	for i := range n {
		u := &simUser{i: i, acc: t.accounts[i], base: t.base, think: o.think, jit: o.jitter, hc: hc, rec: rec,
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
	lost := countLost(ctx, users, o.pace.tokens, rec)
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
	slices.Sort(rec.first)
	slices.Sort(rec.inter)
	missed := rec.tabWanted.Load() - rec.tabTurns.Load()
	row := fmt.Sprintf("| %d | %d | %.1f | %s / %s / %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d of %d | %d | %s |",
		n, rec.turns, float64(rec.turns)/o.duration.Seconds(),
		ms(pct(rec.first, 0.5)), ms(pct(rec.first, 0.99)), ms(pct(rec.first, 1)), ms(pct(rec.inter, 0.99)),
		errCol, mib(peak.rss), cpu(first.cpu, last.cpu), cpu(first.clientCPU, last.clientCPU), cpu(first.modelCPU, last.modelCPU),
		intOr(peak.goroutines), ms(peak.gcMax), intOr(peak.fds), max(missed, 0), rec.tabWanted.Load(), rec.lagged.Load(), lost)
	aft := fmt.Sprintf("after %d users disconnected (+%v): goroutines %s (idle baseline %s), RSS %s (baseline %s), open files %s (baseline %s)",
		n, o.settle, intOr(end.goroutines), intOr(base.goroutines), mib(end.rss), mib(base.rss), intOr(end.fds), intOr(base.fds))
	if rec.connected.Load() < int64(n) {
		aft += fmt.Sprintf("; only %d of %d users connected", rec.connected.Load(), n)
	}
	if len(rec.firstSeen) > 0 {
		aft += "\n  first errors: " + strings.Join(rec.firstSeen, "; ")
	}
	_ = begin
	return row, aft
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

// snapshot is one reading of the processes under measurement; -1 or 0
// where a figure is not available.
type snapshot struct {
	at                       time.Time
	cpu, clientCPU, modelCPU float64 // seconds of CPU so far
	rss                      int64
	fds, goroutines          int
	gcMax                    float64 // ms, the runtime's recent largest GC pause
}

func (p *snapshot) max(s snapshot) {
	p.rss = max(p.rss, s.rss)
	p.fds = max(p.fds, s.fds)
	p.goroutines = max(p.goroutines, s.goroutines)
	if math.IsNaN(p.gcMax) || s.gcMax > p.gcMax {
		p.gcMax = s.gcMax
	}
}

func sample(t target) snapshot {
	s := snapshot{at: time.Now(), fds: -1, goroutines: -1, gcMax: math.NaN()}
	if t.pid > 0 {
		if cpu, rss, fds, err := procSample(t.pid); err == nil {
			s.cpu, s.rss, s.fds = cpu, rss, fds
		}
	}
	if cpu, _, _, err := procSample(0); err == nil {
		s.clientCPU = cpu
	}
	if t.modelPid > 0 {
		if cpu, _, _, err := procSample(t.modelPid); err == nil {
			s.modelCPU = cpu
		}
	}
	if t.metrics != "" {
		scrape(t.metrics, &s)
	}
	return s
}

// scrape reads goroutines and the recent largest GC pause from os1's
// Prometheus /metrics (the Go collector's go_goroutines and
// go_gc_duration_seconds{quantile="1"}).
func scrape(url string, s *snapshot) {
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(url)
	if err != nil {
		return
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
			s.goroutines = int(v)
		case `go_gc_duration_seconds{quantile="1"}`:
			s.gcMax = v * 1000
		case "process_open_fds":
			if s.fds < 0 {
				s.fds = int(v)
			}
		}
	}
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

// start runs the model and os1 with `most` accounts; cleanup stops them
// and removes the data dir.
func start(ctx context.Context, o options, most int, t *target) (cleanup func(), err error) {
	var stops []func()
	cleanup = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return cleanup, err
	}
	if _, err := os.Stat(bin); err != nil {
		return cleanup, fmt.Errorf("no os1 binary at %s (run `make build`, or pass -bin): %w", o.bin, err)
	}
	dir, err := os.MkdirTemp("", "os1-bench-load-")
	if err != nil {
		return cleanup, err
	}
	stops = append(stops, func() {
		if o.keep {
			fmt.Println("data dir kept:", dir)
			return
		}
		os.RemoveAll(dir)
	})
	stopProc := func(cmd *exec.Cmd) func() {
		return func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			tm := time.AfterFunc(15*time.Second, func() { _ = cmd.Process.Kill() })
			_ = cmd.Wait()
			tm.Stop()
		}
	}

	// the model, as its own process
	self, err := os.Executable()
	if err != nil {
		return cleanup, err
	}
	model := exec.Command(self, "-serve-model", "127.0.0.1:0", "-ttft", o.pace.ttft.String(),
		"-tps", strconv.FormatFloat(o.pace.tps, 'g', -1, 64), "-reply-tokens", strconv.Itoa(o.pace.tokens))
	model.Stderr = os.Stderr
	model.SysProcAttr = sysProcAttr()
	mout, err := model.StdoutPipe()
	if err != nil {
		return cleanup, err
	}
	if err := model.Start(); err != nil {
		return cleanup, err
	}
	stops = append(stops, stopProc(model))
	line, err := bufio.NewReader(mout).ReadString('\n')
	modelAddr, ok := strings.CutPrefix(strings.TrimSpace(line), "model listening ")
	if err != nil || !ok {
		return cleanup, fmt.Errorf("the model did not start: %q %v", line, err)
	}
	go io.Copy(io.Discard, mout)
	t.modelPid = model.Process.Pid
	t.model = "http://" + modelAddr

	addr, err := freeAddr()
	if err != nil {
		return cleanup, err
	}
	metricsAddr, err := freeAddr()
	if err != nil {
		return cleanup, err
	}
	env := []string{"HOME=" + dir, "OS1_DATA_DIR=" + filepath.Join(dir, "data"), "OS1_CACHE_DIR=" + filepath.Join(dir, "cache"),
		"OS1_ADDR=" + addr, "OS1_METRICS_ADDR=" + metricsAddr, "OS1_OLLAMA_URL=off", "OS1_STT=off", "OS1_TTS=off",
		"OS1_LLM_PROVIDER=openai", "OS1_LLM_URL=http://" + modelAddr + "/v1", "OS1_LLM_MODEL=load-model",
		"OS1_LOG_LEVEL=warn", "PATH=" + os.Getenv("PATH")}
	if o.profiles != "" {
		env = append(env, "OS1_PPROF=1")
	}

	// accounts: the owner, then the members with their tokens
	t0 := time.Now()
	add := exec.CommandContext(ctx, bin, "user", "add", "owner", "--owner", "--password-stdin")
	add.Env, add.Stdin = env, strings.NewReader("load test owner password\n")
	if out, err := add.CombinedOutput(); err != nil {
		return cleanup, fmt.Errorf("os1 user add: %v: %s", err, out)
	}
	tokens := filepath.Join(dir, "tokens.tsv")
	many := exec.CommandContext(ctx, bin, "user", "add-many", "--prefix", "u", "--count", strconv.Itoa(most), "--tokens", tokens)
	many.Env = env
	if out, err := many.CombinedOutput(); err != nil {
		return cleanup, fmt.Errorf("os1 user add-many: %v: %s", err, out)
	}
	if t.accounts, err = readTokens(tokens); err != nil {
		return cleanup, err
	}
	fmt.Printf("made %d accounts with tokens in %v\n", most, time.Since(t0).Round(time.Millisecond))

	if o.models != "" {
		// the embedding model lives in the cache dir; share the real one
		if err := os.MkdirAll(filepath.Join(dir, "cache"), 0o700); err != nil {
			return cleanup, err
		}
		abs, _ := filepath.Abs(o.models)
		if err := os.Symlink(abs, filepath.Join(dir, "cache", "models")); err != nil {
			return cleanup, err
		}
	}
	logf, err := os.Create(filepath.Join(dir, "os1.log"))
	if err != nil {
		return cleanup, err
	}
	srv := exec.Command(bin, "serve")
	srv.Env, srv.Stdout, srv.Stderr = env, logf, logf
	srv.SysProcAttr = sysProcAttr()
	if err := srv.Start(); err != nil {
		return cleanup, err
	}
	stops = append(stops, func() { stopProc(srv)(); logf.Close() })
	t.pid = srv.Process.Pid
	t.base = "http://" + addr
	t.metrics = "http://" + metricsAddr + "/metrics"
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(t.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			tail, _ := os.ReadFile(logf.Name())
			return cleanup, fmt.Errorf("os1 serve did not answer /healthz within 60 s; its log:\n%s", lastLines(string(tail), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
	version, _ := exec.Command(bin, "version").Output()
	fmt.Printf("os1 load: %s (%s), pid %d, data dir %s\n", o.bin, strings.TrimSpace(string(version)), t.pid, dir)
	embed := "sentence embeddings from " + o.models
	if o.models == "" {
		embed = "no sentence embedding model (full-text recall only)"
	}
	fmt.Println("os1 memory:", embed)
	return cleanup, nil
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

// warm sends one message as the first account and reads its turn.
func warm(ctx context.Context, t target, hc *http.Client) error {
	rec := newRecorder(modelPace{tps: 1})
	u := &simUser{acc: t.accounts[0], base: t.base, hc: hc, rec: rec, sse: true, once: true, rng: rand.New(rand.NewPCG(1, 1))}
	u.runSSE(ctx, nil)
	if len(rec.firstSeen) > 0 {
		return errors.New(rec.firstSeen[0])
	}
	if rec.sent.Load() != 1 {
		return errors.New("the turn did not run")
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
// left: messages sent but not stored, replies read whole but not stored
// whole. "-" when a conversation could not be read (an error is counted).
func countLost(ctx context.Context, users []*simUser, tokens int, rec *recorder) string {
	var mu sync.Mutex
	total, failed := 0, 0
	work := make(chan *simUser)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				n, err := u.lost(ctx, tokens)
				mu.Lock()
				total += n
				if err != nil {
					failed++
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
	if failed > 0 {
		return fmt.Sprintf("%d (%d unread)", total, failed)
	}
	return strconv.Itoa(total)
}

// cpuProfile fetches os1's CPU profile over the measured window (less one
// second, so the step does not wait for it) from its metrics listener.
func cpuProfile(ctx context.Context, t target, window time.Duration, path string) error {
	if t.metrics == "" {
		return errors.New("no metrics listener to ask")
	}
	secs := max(int((window-time.Second)/time.Second), 1)
	u := strings.TrimSuffix(t.metrics, "/metrics") + "/debug/pprof/profile?seconds=" + strconv.Itoa(secs)
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
