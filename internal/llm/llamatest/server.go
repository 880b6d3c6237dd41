// Package llamatest runs a real llama.cpp llama-server for tests, so os1's
// model client is tested against the server people actually run locally, not
// only against the scripted one (llmtest).
//
// No model weights can be fetched where the tests run, so the server loads a
// tiny llama-architecture GGUF with random weights that WriteModel writes
// from a real vocabulary (llama.cpp's vocab-only models/ggml-vocab-*.gguf).
// It answers gibberish: tests assert the protocol's structure (streaming,
// cancellation, tool schemas, context size, errors), never the words.
//
// scripts/llama-server.sh builds the binary (make test runs it) and caches it
// with the vocabularies. Without it the tests skip, unless
// OS1_E2E_REQUIRE=1 (make test, CI) makes that a failure.
//
// It is imported only by tests and must never be linked into the os1 binary.
package llamatest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Version is the node-llama-cpp release whose llama.cpp tree
// scripts/llama-server.sh builds; it names the cache folder, so keep the two
// in step.
const Version = "3.22.1"

// DefaultVocab is the vocabulary tiny models use: LLaMA's SentencePiece
// tokenizer (32,000 tokens, the smallest llama-architecture vocabulary in
// the tree).
const DefaultVocab = "ggml-vocab-llama-spm.gguf"

// Dir is where scripts/llama-server.sh keeps its build:
// $OS1_CACHE_DIR (or ~/.cache/os1) /llama-server/node-llama-cpp-<Version>.
func Dir() string {
	cache := os.Getenv("OS1_CACHE_DIR")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(home, ".cache", "os1")
	}
	return filepath.Join(cache, "llama-server", "node-llama-cpp-"+Version)
}

// Binary returns the llama-server to run: $OS1_LLAMA_SERVER, or the one
// scripts/llama-server.sh built. It reports why when there is none.
func Binary() (string, error) {
	p := os.Getenv("OS1_LLAMA_SERVER")
	if p == "" {
		p = filepath.Join(Dir(), "bin", "llama-server")
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("no llama-server at %s (build it with scripts/llama-server.sh, or set OS1_LLAMA_SERVER)", p)
	}
	return p, nil
}

// VocabPath returns the vocab-only GGUF named name (e.g. DefaultVocab):
// from $OS1_LLAMA_VOCAB_DIR, or beside the built binary.
func VocabPath(name string) (string, error) {
	dir := os.Getenv("OS1_LLAMA_VOCAB_DIR")
	if dir == "" {
		dir = filepath.Join(Dir(), "vocab")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no vocabulary %s in %s (scripts/llama-server.sh copies them from the llama.cpp tree)", name, dir)
	}
	return p, nil
}

// Require returns the binary and the default vocabulary, or skips the test
// with the reason; with OS1_E2E_REQUIRE=1 the absence fails it instead.
func Require(t testing.TB) (bin, vocab string) {
	t.Helper()
	bin, err := Binary()
	if err == nil {
		vocab, err = VocabPath(DefaultVocab)
	}
	if err != nil {
		msg := "llama-server test needs the real server: " + err.Error()
		if os.Getenv("OS1_E2E_REQUIRE") == "1" {
			t.Fatal(msg + " (OS1_E2E_REQUIRE=1 makes this a failure)")
		}
		t.Skip(msg)
	}
	return bin, vocab
}

// Options configures Start.
type Options struct {
	Ctx   int    // -c, the context size in tokens [512]
	Alias string // --alias: the name /v1/models lists; "" lists the file name
	// ModelFile is the model's file name in the temp dir ["tiny.gguf"].
	ModelFile string
	Model     ModelOptions // the tiny model (Vocab defaults to DefaultVocab)
	Args      []string     // more command-line arguments
}

// Server is a running llama-server.
type Server struct {
	// URL is the server's root, e.g. http://127.0.0.1:41234; the
	// OpenAI-compatible API is under URL+"/v1".
	URL       string
	ModelPath string
	Ctx       int
	NVocab    int

	cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

// OpenAIBaseURL is the base URL for os1's OpenAI-compatible client.
func (s *Server) OpenAIBaseURL() string { return s.URL + "/v1" }

// Log is what the server has printed so far.
func (s *Server) Log() string { return s.log.String() }

// Start writes a tiny random model, starts llama-server on it on a free
// loopback port and waits until /health says it is ready. The server is
// stopped when the test ends. It skips (or fails, see Require) without a
// built server.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	bin, vocab := Require(t)
	if opt.Ctx == 0 {
		opt.Ctx = 512
	}
	if opt.ModelFile == "" {
		opt.ModelFile = "tiny.gguf"
	}
	if opt.Model.Vocab == "" {
		opt.Model.Vocab = vocab
	}
	path := filepath.Join(t.TempDir(), opt.ModelFile)
	nv, err := WriteModel(path, opt.Model)
	if err != nil {
		t.Fatalf("writing the tiny model: %v", err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-m", path, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"-c", strconv.Itoa(opt.Ctx), "-np", "1", "-t", "2", "--no-webui", "--no-warmup"}
	if opt.Alias != "" {
		args = append(args, "--alias", opt.Alias)
	}
	args = append(args, opt.Args...)
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), ModelPath: path, Ctx: opt.Ctx, NVocab: nv,
		log: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("llama-server log:\n%s", s.Log())
		}
	})
	if err := s.waitReady(60 * time.Second); err != nil {
		t.Fatalf("llama-server did not become ready: %v\nits log:\n%s", err, s.Log())
	}
	return s
}

// waitReady polls /health until it answers 200 (503 while loading).
func (s *Server) waitReady(limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	last := "no answer"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/health", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-s.done:
			return fmt.Errorf("it exited (%v)", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("after %v, /health: %s", limit, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Props is the part of GET /props the tests read.
type Props struct {
	DefaultGenerationSettings struct {
		NCtx int `json:"n_ctx"`
	} `json:"default_generation_settings"`
	ModelPath    string `json:"model_path"`
	ChatTemplate string `json:"chat_template"`
}

// Props reads GET /props.
func (s *Server) Props(ctx context.Context) (Props, error) {
	var p Props
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/props", nil)
	if err != nil {
		return p, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return p, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return p, fmt.Errorf("/props answered %s", resp.Status)
	}
	return p, json.NewDecoder(resp.Body).Decode(&p)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port for llama-server: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 1<<20 {
		return len(p), nil // keep the first megabyte; enough to see why it failed
	}
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
