// Command eval runs the long-conversation memory benchmark against an os1
// binary: it creates a fresh data dir with an owner account, imports the
// generated transcript without extraction (timing it), asks every question
// with `os1 memory search --queries` in each mode, and prints recall@k of
// the source messages per mode and per question type, import throughput
// and search time, then the questions hybrid recall misses.
//
//	go run ./bench/memory/gen -seed 1 -months 6 -out /tmp/os1-membench
//	go run ./bench/memory/eval -bin bin/os1 -data /tmp/os1-membench
//
// It reports numbers and never passes or fails on them. It drives the
// binary only through its command line and HTTP API, and leaves no process
// behind; the temp data dir goes too unless -keep.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/os1ai/os1/bench/memory/dataset"
)

const username = "theo"

type config struct {
	bin, data, home, cacheDir, report string
	modes                             []string
	k, examples, repeat               int
	keep, verbose                     bool
}

func main() {
	var c config
	var modes string
	flag.StringVar(&c.bin, "bin", "bin/os1", "the os1 binary (build it with `make build`)")
	flag.StringVar(&c.data, "data", "", "benchmark directory written by bench/memory/gen")
	flag.StringVar(&modes, "modes", "text,vector,hybrid", "recall modes to measure, comma-separated")
	flag.IntVar(&c.k, "k", 10, "recall@k: hits per question")
	flag.StringVar(&c.cacheDir, "cache-dir", "", "where the embedding model is (default $OS1_CACHE_DIR, $XDG_CACHE_HOME/os1 or ~/.cache/os1)")
	flag.StringVar(&c.home, "home", "", "use this directory for os1's data and keep it; if it already holds this transcript's import, skip setup and import")
	flag.BoolVar(&c.keep, "keep", false, "keep the temp data dir and print where it is")
	flag.StringVar(&c.report, "report", "", "also write every question's result per mode to this JSON-lines file")
	flag.IntVar(&c.examples, "examples", 3, "missed questions to show per type (hybrid)")
	flag.IntVar(&c.repeat, "repeat", 3, "run each search batch this many times and report the fastest (the host may be busy)")
	flag.BoolVar(&c.verbose, "v", false, "show os1's own progress lines")
	flag.Parse()
	c.modes = strings.Split(modes, ",")
	if c.data == "" {
		fmt.Fprintln(os.Stderr, "eval: -data DIR is required (make one with `go run ./bench/memory/gen -out DIR`)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	tr, qs, meta, err := dataset.Read(c.data)
	if err != nil {
		return err
	}
	texts := map[string]string{}
	for _, s := range tr.Sessions {
		for _, m := range s.Messages {
			texts[m.ID] = m.Text
		}
	}
	for _, q := range qs {
		for _, id := range q.Answers {
			if _, ok := texts[id]; !ok {
				return fmt.Errorf("question %q names answer %s, which is not in the transcript", q.Question, id)
			}
		}
	}

	bin, err := filepath.Abs(c.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("no os1 binary at %s (run `make build`, or pass -bin): %w", c.bin, err)
	}
	o := &os1{bin: bin, cacheDir: c.cacheDir, stderr: io.Discard}
	if c.verbose {
		o.stderr = os.Stderr
	}
	if o.cacheDir == "" {
		o.cacheDir = defaultCacheDir()
	}
	if err := o.requireCommands(ctx); err != nil {
		return err
	}
	version, _ := exec.CommandContext(ctx, bin, "version").Output()

	fresh := true
	if c.home != "" {
		if o.home, err = filepath.Abs(c.home); err != nil {
			return err
		}
		fresh, err = prepareHome(o.home, filepath.Join(c.data, dataset.TranscriptFile))
		if err != nil {
			return err
		}
	} else {
		if o.home, err = os.MkdirTemp("", "os1-membench-"); err != nil {
			return err
		}
		if c.keep {
			defer fmt.Printf("\nos1 data kept in %s (reuse it with -home %s)\n", o.home, o.home)
		} else {
			defer os.RemoveAll(o.home)
		}
	}

	fmt.Printf("Memory recall benchmark: %s\n", c.data)
	fmt.Printf("  %d messages in %d sessions, %s to %s; %d questions; seed %d; now %s\n",
		meta.Messages, meta.Sessions, meta.Start.Format(time.DateOnly), meta.Now.AddDate(0, 0, -1).Format(time.DateOnly),
		len(qs), meta.Seed, meta.Now.Format(time.RFC3339))
	fmt.Printf("  binary: %s (%s)\n\n", c.bin, strings.TrimSpace(string(version)))

	var imp importResult
	if fresh {
		if err := o.createOwner(ctx, username, meta.User); err != nil {
			return fmt.Errorf("create the owner account: %w", err)
		}
		imp, err = o.importTranscript(ctx, username, filepath.Join(c.data, dataset.TranscriptFile))
		if err != nil {
			return err
		}
		if c.home != "" {
			if err := markHome(o.home, filepath.Join(c.data, dataset.TranscriptFile)); err != nil {
				return err
			}
		}
		fmt.Printf("Import (`os1 memory import --format transcript --no-extract`, one process, wall clock):\n")
		fmt.Printf("  %d messages in %.1f s = %.0f messages/s\n", meta.Messages, imp.wall.Seconds(), float64(meta.Messages)/imp.wall.Seconds())
		fmt.Printf("  os1 says: %s\n\n", imp.line)
		if !imp.vectors && (slices.Contains(c.modes, "vector") || slices.Contains(c.modes, "hybrid")) {
			return fmt.Errorf("os1 indexed no vectors, so vector and hybrid recall cannot be measured: is the embedding model in %s? "+
				"Run scripts/assets.sh model, pass -cache-dir, or measure -modes text", o.cacheDir)
		}
	} else {
		fmt.Printf("Import: skipped, reusing %s\n\n", o.home)
	}

	qfile := filepath.Join(o.home, "queries.txt")
	var qtext strings.Builder
	for _, q := range qs {
		qtext.WriteString(q.Question + "\n")
	}
	if err := os.WriteFile(qfile, []byte(qtext.String()), 0o644); err != nil {
		return err
	}
	onefile := filepath.Join(o.home, "query1.txt")
	if err := os.WriteFile(onefile, []byte(qs[0].Question+"\n"), 0o644); err != nil {
		return err
	}

	results := map[string][]scored{}
	timing := map[string][2]time.Duration{}
	for _, mode := range c.modes {
		lines, took, err := o.search(ctx, username, mode, qfile, c.k, meta.Now)
		if err != nil {
			return err
		}
		if len(lines) != len(qs) {
			return fmt.Errorf("--mode %s: %d questions, %d answers from os1 memory search", mode, len(qs), len(lines))
		}
		for i, l := range lines {
			if l.Query != qs[i].Question {
				return fmt.Errorf("--mode %s: answer %d is for %q, want %q", mode, i+1, l.Query, qs[i].Question)
			}
		}
		one := time.Duration(0)
		for i := range max(c.repeat, 1) {
			if i > 0 {
				_, again, err := o.search(ctx, username, mode, qfile, c.k, meta.Now)
				if err != nil {
					return err
				}
				took = min(took, again)
			}
			_, t, err := o.search(ctx, username, mode, onefile, c.k, meta.Now)
			if err != nil {
				return err
			}
			if i == 0 || t < one {
				one = t
			}
		}
		results[mode] = score(qs, lines, c.k)
		timing[mode] = [2]time.Duration{took, one}
	}

	printRecall(c, qs, results)
	printFusion(c, results)
	printTiming(c, len(qs), timing)
	if _, ok := results["hybrid"]; ok {
		printMisses(c, "hybrid", results["hybrid"], texts)
	}
	if c.report != "" {
		if err := writeReport(c.report, c.modes, qs, results); err != nil {
			return err
		}
		fmt.Printf("\nPer-question results: %s\n", c.report)
	}
	return nil
}

func defaultCacheDir() string {
	if d := os.Getenv("OS1_CACHE_DIR"); d != "" {
		return d
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "os1")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "os1")
	}
	return filepath.Join(os.TempDir(), "os1-cache")
}

// prepareHome reports whether home needs setup and import: not when it
// already holds an import of this very transcript.
func prepareHome(home, transcript string) (fresh bool, err error) {
	sum, err := fileSum(transcript)
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(filepath.Join(home, "transcript.sha256"))
	if errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(home, "data")); err == nil {
			return false, fmt.Errorf("%s already holds an os1 data dir of unknown content; pass an empty or new -home", home)
		}
		return true, os.MkdirAll(home, 0o755)
	}
	if err != nil {
		return false, err
	}
	if strings.TrimSpace(string(b)) != sum {
		return false, fmt.Errorf("%s holds the import of another transcript; pass a new -home (or delete it)", home)
	}
	return false, nil
}

func markHome(home, transcript string) error {
	sum, err := fileSum(transcript)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(home, "transcript.sha256"), []byte(sum+"\n"), 0o644)
}

func fileSum(name string) (string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

func writeReport(name string, modes []string, qs []dataset.Question, results map[string][]scored) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	for i, q := range qs {
		line := map[string]any{"question": q.Question, "type": q.Type, "answers": q.Answers}
		for _, m := range modes {
			r := results[m][i]
			line[m] = map[string]any{"recall": r.recall, "missed": r.missed, "hits": r.hitIDs}
		}
		if err := enc.Encode(line); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
