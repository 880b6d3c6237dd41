package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/os1ai/os1/internal/store/pgtest"
)

// osNode is one `os1 serve` under load.
type osNode struct {
	name    string
	base    string // http://host:port
	pid     int    // 0: unknown
	metrics string // its /metrics URL; empty: unknown
	log     string // its log file (started by the harness)
	env     []string
}

// start runs the model, with -nodes ≥ 2 PostgreSQL and NATS, and the os1
// nodes with `most` accounts; cleanup stops them all and removes the data
// dir.
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
	self, err := os.Executable()
	if err != nil {
		return cleanup, err
	}

	// the model, as its own process
	model, modelAddr, err := startChild(self, "model", "-serve-model", "127.0.0.1:0", "-ttft", o.pace.ttft.String(),
		"-tps", strconv.FormatFloat(o.pace.tps, 'g', -1, 64), "-reply-tokens", strconv.Itoa(o.pace.tokens))
	if err != nil {
		return cleanup, err
	}
	stops = append(stops, stopProc(model))
	t.modelPid = model.Process.Pid
	t.model = "http://" + modelAddr

	env := []string{"HOME=" + dir, "OS1_OLLAMA_URL=off", "OS1_STT=off", "OS1_TTS=off",
		"OS1_LLM_PROVIDER=openai", "OS1_LLM_URL=http://" + modelAddr + "/v1", "OS1_LLM_MODEL=load-model",
		"OS1_LOG_LEVEL=warn", "PATH=" + os.Getenv("PATH")}
	if o.profiles != "" {
		env = append(env, "OS1_PPROF=1")
	}
	if o.memory == "off" {
		env = append(env, "OS1_MEMORY=off")
	}
	if o.nodes > 1 {
		// one PostgreSQL and one NATS for every node
		pg, err := pgtest.StartServer(ctx)
		if err != nil {
			return cleanup, fmt.Errorf("PostgreSQL: %w", err)
		}
		stops = append(stops, func() {
			if o.keep {
				pg.StopKeepingData()
				fmt.Println("PostgreSQL data kept:", pg.Data)
				return
			}
			pg.Stop()
		})
		nats, natsAddr, err := startChild(self, "nats", "-serve-nats", "127.0.0.1:0", "-nats-dir", filepath.Join(dir, "nats"))
		if err != nil {
			return cleanup, err
		}
		stops = append(stops, stopProc(nats))
		t.infraPids = []int{pg.Pid, nats.Process.Pid}
		env = append(env, "OS1_DATABASE_URL="+pg.URL, "OS1_NATS_URL=nats://"+natsAddr)
	}
	for k := range o.nodes {
		n := osNode{name: "load-" + strconv.Itoa(k+1)}
		home := dir
		if o.nodes > 1 {
			home = filepath.Join(dir, "node-"+strconv.Itoa(k+1))
		}
		addr, err := freeAddr()
		if err != nil {
			return cleanup, err
		}
		metricsAddr, err := freeAddr()
		if err != nil {
			return cleanup, err
		}
		n.base, n.metrics, n.log = "http://"+addr, "http://"+metricsAddr+"/metrics", filepath.Join(home, "os1.log")
		n.env = append(slicesClone(env), "OS1_DATA_DIR="+filepath.Join(home, "data"), "OS1_CACHE_DIR="+filepath.Join(home, "cache"),
			"OS1_ADDR="+addr, "OS1_METRICS_ADDR="+metricsAddr, "OS1_NODE_NAME="+n.name)
		if o.models != "" {
			// the embedding model lives in the cache dir; share the real one
			if err := os.MkdirAll(filepath.Join(home, "cache"), 0o700); err != nil {
				return cleanup, err
			}
			abs, _ := filepath.Abs(o.models)
			if err := os.Symlink(abs, filepath.Join(home, "cache", "models")); err != nil {
				return cleanup, err
			}
		}
		t.nodes = append(t.nodes, n)
	}

	// accounts, once (on a cluster, in its one database): the owner, then
	// the members with their tokens
	t0 := time.Now()
	add := exec.CommandContext(ctx, bin, "user", "add", "owner", "--owner", "--password-stdin")
	add.Env, add.Stdin = t.nodes[0].env, strings.NewReader("load test owner password\n")
	if out, err := add.CombinedOutput(); err != nil {
		return cleanup, fmt.Errorf("os1 user add: %v: %s", err, out)
	}
	t.more = func(ctx context.Context, n int) error {
		have := len(t.accounts)
		if n <= have {
			return nil
		}
		tokens := filepath.Join(dir, fmt.Sprintf("tokens-%d.tsv", have+1))
		many := exec.CommandContext(ctx, bin, "user", "add-many", "--prefix", "u", "--start", strconv.Itoa(have+1),
			"--count", strconv.Itoa(n-have), "--tokens", tokens)
		many.Env = t.nodes[0].env
		if out, err := many.CombinedOutput(); err != nil {
			return fmt.Errorf("os1 user add-many: %v: %s", err, out)
		}
		accs, err := readTokens(tokens)
		if err != nil {
			return err
		}
		t.accounts = append(t.accounts, accs...)
		return nil
	}
	if err := t.more(ctx, most); err != nil {
		return cleanup, err
	}
	fmt.Printf("made %d accounts with tokens in %v\n", most, time.Since(t0).Round(time.Millisecond))

	// the nodes; the first one's secret key is every node's (docs/scale.md)
	var key []byte
	for k := range t.nodes {
		n := &t.nodes[k]
		if key != nil {
			data := filepath.Join(filepath.Dir(n.log), "data")
			if err := os.MkdirAll(data, 0o700); err != nil {
				return cleanup, err
			}
			if err := os.WriteFile(filepath.Join(data, "secret.key"), key, 0o600); err != nil {
				return cleanup, err
			}
		}
		stop, err := startNode(ctx, bin, n)
		if stop != nil {
			stops = append(stops, stop)
		}
		if err != nil {
			return cleanup, err
		}
		if key == nil && len(t.nodes) > 1 {
			if key, err = os.ReadFile(filepath.Join(filepath.Dir(n.log), "data", "secret.key")); err != nil {
				return cleanup, fmt.Errorf("the first node's secret key: %w", err)
			}
		}
	}
	version, _ := exec.Command(bin, "version").Output()
	fmt.Printf("os1 load: %s (%s), data dir %s\n", o.bin, strings.TrimSpace(string(version)), dir)
	for _, n := range t.nodes {
		fmt.Printf("  node %s at %s, pid %d\n", n.name, n.base, n.pid)
	}
	if o.nodes > 1 {
		fmt.Printf("cluster: %d nodes on one PostgreSQL 15 (durability off, as in tests) and one NATS with JetStream, each its own process\n", o.nodes)
	}
	switch {
	case o.memory == "off":
		fmt.Println("os1 memory: off (OS1_MEMORY=off: no recall in the prompt, no recall tool, no background extraction)")
	case o.models == "":
		fmt.Println("os1 memory: on, no sentence embedding model (full-text recall only)")
	default:
		fmt.Println("os1 memory: on, sentence embeddings from " + o.models)
	}
	return cleanup, nil
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// startChild runs this program again in one of its serving modes (the
// model, NATS) and reads the address it prints: "<what> listening ADDR".
func startChild(self, what string, args ...string) (*exec.Cmd, string, error) {
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = sysProcAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), what+" listening ")
	if err != nil || !ok {
		stopProc(cmd)()
		return nil, "", fmt.Errorf("the %s did not start: %q %v", what, line, err)
	}
	go io.Copy(io.Discard, out)
	return cmd, addr, nil
}

func stopProc(cmd *exec.Cmd) func() {
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		tm := time.AfterFunc(15*time.Second, func() { _ = cmd.Process.Kill() })
		_ = cmd.Wait()
		tm.Stop()
	}
}

// startNode starts `os1 serve` for n and waits until it answers /healthz.
func startNode(ctx context.Context, bin string, n *osNode) (stop func(), err error) {
	if err := os.MkdirAll(filepath.Dir(n.log), 0o700); err != nil {
		return nil, err
	}
	logf, err := os.Create(n.log)
	if err != nil {
		return nil, err
	}
	srv := exec.Command(bin, "serve")
	srv.Env, srv.Stdout, srv.Stderr = n.env, logf, logf
	srv.SysProcAttr = sysProcAttr()
	if err := srv.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	var once sync.Once
	stop = func() { once.Do(func() { stopProc(srv)(); logf.Close() }) }
	n.pid = srv.Process.Pid
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(n.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return stop, nil
			}
		}
		if ctx.Err() != nil {
			return stop, ctx.Err()
		}
		if time.Now().After(deadline) {
			tail, _ := os.ReadFile(n.log)
			return stop, fmt.Errorf("os1 serve (%s) did not answer /healthz within 60 s; its log:\n%s", n.name, lastLines(string(tail), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
