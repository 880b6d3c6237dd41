package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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
		{[]string{"memory", "search", "--help"}, []string{"--queries", "--json", "--mode", "--limit", "--now"}},
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

// createOwner makes the owner account the way a person does: it starts
// `os1 serve`, reads the one-time setup link it prints and posts the form,
// then stops the server. There is no command that adds a user offline.
func (o *os1) createOwner(ctx context.Context, username, display string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.Command(o.bin, "serve")
	cmd.Env = o.env("OS1_ADDR="+addr, "OS1_LOG_LEVEL=error")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start os1 serve: %w", err)
	}
	done := make(chan error, 1)
	links := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "http://"); i >= 0 && strings.Contains(line, "/#/setup?token=") {
				select {
				case links <- strings.Fields(line[i:])[0]:
				default:
				}
			}
		}
		done <- cmd.Wait()
	}()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()

	var link string
	select {
	case link = <-links:
	case err := <-done:
		done <- err
		return fmt.Errorf("os1 serve exited before printing a setup link: %v\n%s", err, stderr.String())
	case <-ctx.Done():
		return fmt.Errorf("os1 serve printed no setup link within a minute\n%s", stderr.String())
	}
	base, token, ok := strings.Cut(link, "/#/setup?token=")
	if !ok || token == "" {
		return fmt.Errorf("setup link %q has no token", link)
	}
	pw := make([]byte, 12)
	_, _ = rand.Read(pw)
	body, _ := json.Marshal(map[string]string{"token": token, "username": username, "password": hex.EncodeToString(pw), "display_name": display})
	var lastErr error
	for range 50 { // the link is printed right after listen; allow a moment
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/setup", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			lastErr = err
			time.Sleep(100 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST %s/api/setup: %s: %s", base, res.Status, strings.TrimSpace(string(b)))
		}
		return nil
	}
	return fmt.Errorf("POST %s/api/setup: %w", base, lastErr)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
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
	Query   string `json:"query"`
	Results []struct {
		Kind    string    `json:"kind"`
		ID      string    `json:"id"`
		Text    string    `json:"text"`
		Time    time.Time `json:"time"`
		Score   float64   `json:"score"`
		Sources []string  `json:"sources"`
	} `json:"results"`
}

// search runs one batch of queries in a mode and times it.
func (o *os1) search(ctx context.Context, username, mode, queriesFile string, k int, now time.Time) ([]searchLine, time.Duration, error) {
	start := time.Now()
	out, err := o.run(ctx, "memory", "search", "--user", username, "--json", "--limit", fmt.Sprint(k),
		"--mode", mode, "--now", now.Format(time.RFC3339), "--queries", queriesFile)
	took := time.Since(start)
	if err != nil {
		return nil, took, err
	}
	var lines []searchLine
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var l searchLine
		if err := dec.Decode(&l); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, took, fmt.Errorf("os1 memory search --mode %s printed something that is not a JSON line: %w", mode, err)
		}
		lines = append(lines, l)
	}
	return lines, took, nil
}
