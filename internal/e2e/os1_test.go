package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"sync"
	"syscall"
	"testing"
	"time"
)

// os1Bin is the os1 binary TestMain builds once for every test.
var os1Bin string

// Generous limits: CI runs this on two shared cores. They bound how long a
// broken build may hang, they are not performance assertions.
const (
	startTimeout = 60 * time.Second
	waitTimeout  = 30 * time.Second
	stopTimeout  = 20 * time.Second
)

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "os1-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot make a temp dir for the os1 binary:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	os1Bin = filepath.Join(dir, "os1")
	cmd := exec.Command(goTool(), "build", "-o", os1Bin, "github.com/os1ai/os1/cmd/os1")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: os1 does not build (%s): %v\n%s\n", strings.Join(cmd.Args, " "), err, out)
		return 1
	}
	return m.Run()
}

// goTool is the go command that runs these tests.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// baseEnv is a clean environment for an os1 process: no config file, no
// credentials, no API keys and no Ollama probe leak in from the machine
// running the tests. Later entries of a slice passed to exec win, so callers
// append their own settings.
func baseEnv(home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"OS1_OLLAMA_URL=off",
		"OS1_LOG_LEVEL=info",
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	return env
}

// envValue is the last value of key in env, as exec would use it.
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// syncBuffer collects a process's output while other goroutines read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running `os1 serve`.
type proc struct {
	t          testing.TB
	cmd        *exec.Cmd
	URL        string // http://127.0.0.1:PORT
	DataDir    string
	SetupToken string // "" once an owner exists
	SetupURL   string

	stdout, stderr syncBuffer
	listening      chan string // the base URL from the "is listening on" line
	setup          chan string // the setup URL, when one is printed
	done           chan struct{}
	waitErr        error
}

var errPortTaken = errors.New("the port was taken before os1 could listen on it")

// startOS1 runs `os1 serve` on a free port and waits until it answers
// /healthz and, while no owner exists, has printed its setup link. Its data
// dir is a fresh temp dir unless env sets OS1_DATA_DIR. It is stopped when
// the test ends, and its output is shown if the test failed.
func startOS1(t testing.TB, env ...string) *proc {
	t.Helper()
	dataDir := envValue(env, "OS1_DATA_DIR")
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	for range 3 {
		p, err := launch(t, dataDir, env)
		if errors.Is(err, errPortTaken) {
			continue
		}
		if err != nil {
			t.Fatalf("start os1 serve: %v", err)
		}
		return p
	}
	t.Fatalf("start os1 serve: no free port after 3 tries")
	return nil
}

func launch(t testing.TB, dataDir string, env []string) (*proc, error) {
	t.Helper()
	addr := "127.0.0.1:" + freePort(t)
	p := &proc{t: t, DataDir: dataDir, listening: make(chan string, 1), setup: make(chan string, 1), done: make(chan struct{})}
	p.cmd = exec.Command(os1Bin, "serve")
	p.cmd.Env = append(append(baseEnv(t.TempDir()), "OS1_DATA_DIR="+dataDir, "OS1_ADDR="+addr), env...)
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", os1Bin, err)
	}
	scanned := make(chan struct{})
	go p.scanStdout(out, scanned)
	go func() {
		<-scanned // Wait must not close the pipe before everything was read
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			p.dump()
		}
	})

	select {
	case p.URL = <-p.listening:
	case <-p.done:
		if strings.Contains(p.stderr.String(), "address already in use") {
			return nil, errPortTaken
		}
		p.dump()
		return nil, fmt.Errorf("os1 serve exited before listening: %v", p.waitErr)
	case <-time.After(startTimeout):
		p.dump()
		return nil, fmt.Errorf("os1 serve printed no \"is listening on\" line within %v", startTimeout)
	}
	if want := "http://" + addr; p.URL != want {
		return nil, fmt.Errorf("os1 serve says it listens on %s, want %s", p.URL, want)
	}
	if err := p.waitHealthy(); err != nil {
		p.dump()
		return nil, err
	}
	var st struct {
		SetupRequired bool `json:"setup_required"`
	}
	if err := getJSON(p.URL+"/api/status", &st); err != nil {
		return nil, err
	}
	if st.SetupRequired {
		select {
		case p.SetupURL = <-p.setup:
		case <-time.After(waitTimeout):
			p.dump()
			return nil, errors.New("os1 needs setup but printed no setup link")
		}
		_, tok, ok := strings.Cut(p.SetupURL, "/#/setup?token=")
		if !ok || tok == "" || !strings.HasPrefix(p.SetupURL, p.URL+"/") {
			return nil, fmt.Errorf("setup link %q is not %s/#/setup?token=TOKEN", p.SetupURL, p.URL)
		}
		p.SetupToken = tok
	}
	return p, nil
}

func (p *proc) scanStdout(out io.Reader, scanned chan<- struct{}) {
	defer close(scanned)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		p.stdout.Write([]byte(line + "\n"))
		if _, rest, ok := strings.Cut(line, " is listening on "); ok {
			if url, _, ok := strings.Cut(rest, " "); ok {
				select {
				case p.listening <- url:
				default:
				}
			}
		}
		if i := strings.Index(line, "http://"); i >= 0 && strings.Contains(line, "/#/setup?token=") {
			select {
			case p.setup <- strings.Fields(line[i:])[0]:
			default:
			}
		}
	}
}

func (p *proc) waitHealthy() error {
	deadline := time.Now().Add(startTimeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("os1 serve exited while starting: %v", p.waitErr)
		default:
		}
		resp, err := http.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("GET %s/healthz did not answer 200 within %v (last: %s)", p.URL, startTimeout, last)
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill ends os1 with SIGKILL, the way a power cut or the OOM killer would,
// and waits until it is gone.
func (p *proc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Kill(); err != nil && !p.exited() {
		p.t.Fatalf("kill -9 os1: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		p.t.Fatalf("os1 (pid %d) did not die within %v of SIGKILL", p.cmd.Process.Pid, stopTimeout)
	}
}

// stop asks os1 to shut down (SIGTERM) and expects a clean exit; it kills
// the process if it does not go in time.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.waitErr != nil {
			p.t.Errorf("os1 serve did not shut down cleanly on SIGTERM: %v", p.waitErr)
		}
	case <-time.After(stopTimeout):
		p.t.Errorf("os1 serve (pid %d) still runs %v after SIGTERM; killing it", p.cmd.Process.Pid, stopTimeout)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func (p *proc) dump() {
	p.t.Logf("os1 serve (%s, data in %s) stdout:\n%s", p.URL, p.DataDir, tail(p.stdout.String(), 4<<10))
	p.t.Logf("os1 serve stderr:\n%s", tail(p.stderr.String(), 32<<10))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// freePort asks the kernel for a loopback port that is free right now.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// result is what a finished os1 command left behind.
type result struct {
	stdout, stderr string
	code           int
}

// runOS1 runs an os1 command (not serve) in a clean environment plus env
// and waits for it to end.
func runOS1(t testing.TB, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os1Bin, args...)
	cmd.Env = append(baseEnv(t.TempDir()), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ctx.Err() == nil:
		r.code = ee.ExitCode()
	default:
		t.Fatalf("os1 %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, r.stdout, r.stderr)
	}
	return r
}

// eventually polls cond until it holds or waitTimeout passes, then fails
// the test with what cond last said.
func eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after %v; last: %s", what, waitTimeout, detail)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scriptMemory answers os1's background requests (memory extraction after
// each turn, daily journals, conversation titles) so they never take a reply
// scripted for the conversation: nothing to remember, a one-line journal,
// no title.
func scriptMemory(srv *llmtest.Server) {
	srv.Route(func(r llmtest.Request) bool {
		return strings.Contains(r.System, "deciding what to remember")
	}, func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{`{"operations":[]}`}}
	})
	srv.Route(func(r llmtest.Request) bool {
		return strings.Contains(r.System, "private journal entry")
	}, func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"A quiet day together."}}
	})
	// An empty answer to a title request: conversations keep their
	// first-message titles (a test that wants the model's routes it first).
	srv.Route(isTitleRequest, func(llmtest.Request) llmtest.Reply { return llmtest.Reply{} })
}

// isTitleRequest tells the background request for a conversation's title
// (companion/titles.go) from chat turns.
func isTitleRequest(r llmtest.Request) bool {
	return strings.HasPrefix(r.System, "You write short titles for conversations.")
}

// isMemoryRequest tells os1's background requests (memory, conversation titles) from chat turns.
func isMemoryRequest(r llmtest.Request) bool {
	return strings.Contains(r.System, "deciding what to remember") || strings.Contains(r.System, "private journal entry") || isTitleRequest(r)
}

// chatRequests counts the requests that were chat turns.
func chatRequests(srv *llmtest.Server) int { return len(chatRequestList(srv)) }

// chatRequestList is the requests that were chat turns, in order.
func chatRequestList(srv *llmtest.Server) []llmtest.Request {
	var out []llmtest.Request
	for _, r := range srv.Requests() {
		if !isMemoryRequest(r) {
			out = append(out, r)
		}
	}
	return out
}
