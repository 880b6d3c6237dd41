package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// os1 runs one os1 binary against one fresh data dir, with a clean
// environment: no config file, no model, the embedding model from cacheDir.
type os1 struct {
	bin      string
	home     string // temp dir holding data/ and config/
	cacheDir string
	stderr   io.Writer // where the binary's own stderr goes (progress lines)
}

func (o *os1) env(extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + o.home,
		"XDG_CONFIG_HOME=" + filepath.Join(o.home, "config"),
		"XDG_DATA_HOME=" + filepath.Join(o.home, "share"),
		"OS1_DATA_DIR=" + filepath.Join(o.home, "data"),
		"OS1_CACHE_DIR=" + o.cacheDir,
		"OS1_OLLAMA_URL=off",
		"OS1_LOG_LEVEL=warn",
	}, extra...)
}

// run executes os1 with args and returns its stdout; a failure carries
// its stderr.
func (o *os1) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, o.bin, args...)
	cmd.Env = o.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = io.MultiWriter(&stderr, o.stderr)
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("os1 %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// requireCommands fails, saying what is missing, when the binary predates
// the memory command line the benchmark drives.
func (o *os1) requireCommands(ctx context.Context) error {
	need := []struct {
		args  []string
		flags []string
	}{
		{[]string{"memory", "import", "--help"}, []string{"--format", "--no-extract", "--user"}},
		{[]string{"memory", "search", "--help"}, []string{"--queries", "--json", "--mode", "--limit", "--now", "--timings"}},
		{[]string{"user", "add", "--help"}, []string{"--owner", "--password-stdin", "--display-name"}},
	}
	for _, n := range need {
		out, err := exec.CommandContext(ctx, o.bin, n.args...).CombinedOutput()
		cmd := "os1 " + strings.Join(n.args[:len(n.args)-1], " ")
		if err != nil || !bytes.Contains(out, []byte("Usage:")) || bytes.Contains(out, []byte("unknown command")) {
			return fmt.Errorf("%s does not have `%s` yet (rebuild with `make build` once it lands): %s", o.bin, cmd, firstLine(out))
		}
		for _, f := range n.flags {
			if !bytes.Contains(out, []byte(f)) {
				return fmt.Errorf("`%s` in %s has no %s flag, which the benchmark needs", cmd, o.bin, f)
			}
		}
	}
	return nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

// addOwner makes the owner account offline with `os1 user add NAME
// --owner`; transcript lines whose speaker is its username or display name
// import as the user's.
func (o *os1) addOwner(ctx context.Context, username, display string) error {
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	args := []string{"user", "add", username, "--owner", "--password-stdin"}
	if display != "" {
		args = append(args, "--display-name", display)
	}
	cmd := exec.CommandContext(ctx, o.bin, args...)
	cmd.Env = o.env()
	cmd.Stdin = strings.NewReader(hex.EncodeToString(pw) + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("os1 %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// importResult is what `os1 memory import` said about itself.
type importResult struct {
	wall    time.Duration
	line    string // its summary line
	vectors bool   // indexed with vectors, not full text only
}

func (o *os1) importTranscript(ctx context.Context, username, file string) (importResult, error) {
	start := time.Now()
	out, err := o.run(ctx, "memory", "import", "--user", username, "--format", "transcript", "--no-extract", file)
	r := importResult{wall: time.Since(start)}
	if err != nil {
		return r, err
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "Imported") {
			r.line = strings.TrimSpace(l)
		}
	}
	r.vectors = strings.Contains(r.line, "vectors")
	return r, nil
}

// searchLine is one JSON line of `os1 memory search --json --queries`.
type searchLine struct {
	Query   string    `json:"query"`
	Results []hitLine `json:"results"`
	TookMS  *float64  `json:"took_ms"` // os1's own time for the query (--timings)
}

// hitLine is one result of a searchLine.
type hitLine struct {
	Kind    string    `json:"kind"`
	ID      string    `json:"id"`
	Text    string    `json:"text"`
	Time    time.Time `json:"time"`
	Score   float64   `json:"score"`
	Sources []string  `json:"sources"`
}

// search runs one batch of queries in a mode with --timings.
func (o *os1) search(ctx context.Context, username, mode, queriesFile string, k int, now time.Time) ([]searchLine, error) {
	out, err := o.run(ctx, "memory", "search", "--user", username, "--json", "--timings", "--limit", fmt.Sprint(k),
		"--mode", mode, "--now", now.Format(time.RFC3339), "--queries", queriesFile)
	if err != nil {
		return nil, err
	}
	var lines []searchLine
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var l searchLine
		if err := dec.Decode(&l); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("os1 memory search --mode %s printed something that is not a JSON line: %w", mode, err)
		}
		if l.TookMS == nil {
			return nil, fmt.Errorf("os1 memory search --timings printed no took_ms")
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// warmUp is the first line of every queries file: it loads the model and
// the vector index and warms the database, so the questions after it are
// timed the way a running server answers them. Its result is dropped.
const warmUp = "warm up"

// searchQuestions asks questions after the warm-up line, one process, and
// returns their answers in order.
func (o *os1) searchQuestions(ctx context.Context, username, mode, dir string, questions []string, k int, now time.Time) ([]searchLine, error) {
	qfile := filepath.Join(dir, "queries-"+mode+".txt")
	text := warmUp + "\n" + strings.Join(questions, "\n") + "\n"
	if err := os.WriteFile(qfile, []byte(text), 0o644); err != nil {
		return nil, err
	}
	lines, err := o.search(ctx, username, mode, qfile, k, now)
	if err != nil {
		return nil, err
	}
	if len(lines) != len(questions)+1 {
		return nil, fmt.Errorf("--mode %s: %d questions, %d answers from os1 memory search", mode, len(questions)+1, len(lines))
	}
	lines = lines[1:]
	for i, l := range lines {
		if l.Query != strings.TrimSpace(questions[i]) {
			return nil, fmt.Errorf("--mode %s: answer %d is for %q, want %q", mode, i+1, l.Query, questions[i])
		}
	}
	return lines, nil
}
