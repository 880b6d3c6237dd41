// Command eval runs the memory benchmarks against an os1 binary and prints,
// per set, recall@5 and recall@10 of the evidence messages for every recall
// mode and for a plain BM25 baseline, overall and per question type, with
// os1's own search time per query (p50, p99).
//
// Two sets:
//
//   - -data DIR, the generated set (bench/memory/gen): one long history,
//     imported into one os1 user, all questions asked in one process per
//     mode.
//
//   - -lme DIR, LongMemEval_S histories (/work/shared/datasets/longmemeval_s):
//     every question has its own history, imported into its own os1 data
//     dir (its own user "user", so the user's lines import as the user's),
//     and asked there at the question's date.
//
// Run it like this:
//
//	go run ./bench/memory/gen -seed 1 -months 6 -out /tmp/os1-membench
//	go run ./bench/memory/eval -bin bin/os1 -data /tmp/os1-membench
//	go run ./bench/memory/eval -bin bin/os1 -lme /work/shared/datasets/longmemeval_s -home /tmp/os1-lme
//
// It reports numbers and never passes or fails on them. It drives the
// binary only through its command line, and leaves no process behind; the
// temp data dirs go too unless -keep or -home.
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

	"github.com/os1ai/os1/bench/memory/bm25"
	"github.com/os1ai/os1/bench/memory/dataset"
)

const username = "theo"

// limit is how many hits each search returns: recall@5 and @10 are both
// read from them.
const limit = 10

type config struct {
	bin, data, lme, home, cacheDir, report string
	modes                                  []string
	examples, jobs, searchJobs, histories  int
	keep, verbose                          bool
}

func main() {
	var c config
	var modes string
	flag.StringVar(&c.bin, "bin", "bin/os1", "the os1 binary (build it with `make build`)")
	flag.StringVar(&c.data, "data", "", "the generated set: a directory written by bench/memory/gen")
	flag.StringVar(&c.lme, "lme", "", "the LongMemEval set: a directory of <qid>.json/.q/.ev and meta.jsonl")
	flag.IntVar(&c.histories, "limit-histories", 0, "LongMemEval: use only N histories, spread evenly over meta.jsonl (0: all)")
	flag.StringVar(&modes, "modes", "text,vector,hybrid", "os1 recall modes to measure, comma-separated (bm25 always runs)")
	flag.StringVar(&c.cacheDir, "cache-dir", "", "where the embedding model is (default $OS1_CACHE_DIR, $XDG_CACHE_HOME/os1 or ~/.cache/os1)")
	flag.StringVar(&c.home, "home", "", "keep os1's data dirs here and reuse the imports on the next run (only transcripts that changed are imported again)")
	flag.BoolVar(&c.keep, "keep", false, "keep the temp data dirs and print where they are")
	flag.StringVar(&c.report, "report", "", "also write every question's result per mode to this JSON-lines file")
	flag.IntVar(&c.examples, "examples", 3, "missed questions to show per type (hybrid)")
	flag.IntVar(&c.jobs, "j", 2, "LongMemEval: imports run at once")
	flag.IntVar(&c.searchJobs, "search-j", 1, "LongMemEval: search processes run at once (more is faster, but the times are then measured under load)")
	flag.BoolVar(&c.verbose, "v", false, "show os1's own progress lines")
	flag.Parse()
	c.modes = strings.Split(modes, ",")
	for _, m := range c.modes {
		if m != "text" && m != "vector" && m != "hybrid" {
			fmt.Fprintf(os.Stderr, "eval: -modes: %q is not text, vector or hybrid\n", m)
			os.Exit(2)
		}
	}
	if (c.data == "") == (c.lme == "") {
		fmt.Fprintln(os.Stderr, "eval: give -data DIR (make one with `go run ./bench/memory/gen -out DIR`) or -lme DIR")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	run := runGenerated
	if c.lme != "" {
		run = runLME
	}
	if err := run(ctx, c); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		stop()
		os.Exit(1)
	}
}

// newOS1 checks the binary and returns a runner without a home.
func newOS1(ctx context.Context, c config) (*os1, string, error) {
	bin, err := filepath.Abs(c.bin)
	if err != nil {
		return nil, "", err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, "", fmt.Errorf("no os1 binary at %s (run `make build`, or pass -bin): %w", c.bin, err)
	}
	o := &os1{bin: bin, cacheDir: c.cacheDir, stderr: io.Discard}
	if c.verbose {
		o.stderr = os.Stderr
	}
	if o.cacheDir == "" {
		o.cacheDir = defaultCacheDir()
	}
	if err := o.requireCommands(ctx); err != nil {
		return nil, "", err
	}
	version, _ := exec.CommandContext(ctx, bin, "version").Output()
	return o, strings.TrimSpace(string(version)), nil
}

func needsVectors(modes []string) bool {
	return slices.Contains(modes, "vector") || slices.Contains(modes, "hybrid")
}

func errNoVectors(cacheDir string) error {
	return fmt.Errorf("os1 indexed no vectors, so vector and hybrid recall cannot be measured: is the embedding model in %s? "+
		"Run scripts/assets.sh model, pass -cache-dir, or measure -modes text", cacheDir)
}

func runGenerated(ctx context.Context, c config) error {
	tr, qs, meta, err := dataset.Read(c.data)
	if err != nil {
		return err
	}
	texts := map[string]string{}
	var ids, all []string
	for _, s := range tr.Sessions {
		for _, m := range s.Messages {
			texts[m.ID] = m.Text
			ids = append(ids, m.ID)
			all = append(all, m.Text)
		}
	}
	for _, q := range qs {
		for _, id := range q.Answers {
			if _, ok := texts[id]; !ok {
				return fmt.Errorf("question %q names answer %s, which is not in the transcript", q.Question, id)
			}
		}
	}
	o, version, err := newOS1(ctx, c)
	if err != nil {
		return err
	}
	transcript := filepath.Join(c.data, dataset.TranscriptFile)
	fresh := true
	if c.home != "" {
		if o.home, err = filepath.Abs(c.home); err != nil {
			return err
		}
		if fresh, err = prepareHome(o.home, transcript, false); err != nil {
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

	fmt.Printf("Memory recall benchmark, generated set: %s\n", c.data)
	fmt.Printf("  %d messages in %d sessions, %s to %s; %d questions; seed %d; now %s\n",
		meta.Messages, meta.Sessions, meta.Start.Format(time.DateOnly), meta.Now.AddDate(0, 0, -1).Format(time.DateOnly),
		len(qs), meta.Seed, meta.Now.Format(time.RFC3339))
	fmt.Printf("  binary: %s (%s)\n\n", c.bin, version)

	if fresh {
		if err := o.addOwner(ctx, username, meta.User); err != nil {
			return fmt.Errorf("create the owner account: %w", err)
		}
		imp, err := o.importTranscript(ctx, username, transcript)
		if err != nil {
			return err
		}
		if c.home != "" {
			if err := markHome(o.home, transcript); err != nil {
				return err
			}
		}
		fmt.Printf("Import (`os1 memory import --format transcript --no-extract`, one process, wall clock):\n")
		fmt.Printf("  %d messages in %.1f s = %.0f messages/s\n", meta.Messages, imp.wall.Seconds(), float64(meta.Messages)/imp.wall.Seconds())
		fmt.Printf("  os1 says: %s\n\n", imp.line)
		if !imp.vectors && needsVectors(c.modes) {
			return errNoVectors(o.cacheDir)
		}
	} else {
		fmt.Printf("Import: skipped, reusing %s\n\n", o.home)
	}

	questions := make([]string, len(qs))
	for i, q := range qs {
		questions[i] = q.Question
	}
	r := newSetResult("generated", qs, dataset.Types, c.modes)
	for _, mode := range c.modes {
		lines, err := o.searchQuestions(ctx, username, mode, o.home, questions, limit, meta.Now)
		if err != nil {
			return err
		}
		for i, l := range lines {
			r.lines[mode][i] = l
			r.took[mode][i] = *l.TookMS
		}
	}
	runBM25(r, 0, len(qs), ids, all)
	r.timeNote = "os1: `took_ms` of `os1 memory search --timings`, one process per mode, after a warm-up query; " +
		"bm25: in-process, index built beforehand"
	r.print(c, texts)
	return r.writeReport(c.report)
}

// runBM25 ranks questions [from, to) of r with plain BM25 over the messages.
func runBM25(r *setResult, from, to int, ids, texts []string) {
	x := bm25.New(ids, texts)
	text := map[string]string{}
	for i, id := range ids {
		text[id] = texts[i]
	}
	for i := from; i < to; i++ {
		start := time.Now()
		hits := x.Search(r.qs[i].Question, limit)
		r.took["bm25"][i] = float64(time.Since(start)) / float64(time.Millisecond)
		l := searchLine{Query: r.qs[i].Question}
		for _, id := range hits {
			l.Results = append(l.Results, hitLine{Kind: "message", ID: id, Text: text[id], Sources: []string{id}})
		}
		r.lines["bm25"][i] = l
	}
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
// already holds an import of this very transcript. With wipe (a history
// dir inside eval's own LongMemEval home), a dir holding anything else is
// emptied; without it, that is an error.
func prepareHome(home, transcript string, wipe bool) (fresh bool, err error) {
	sum, err := fileSum(transcript)
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile(filepath.Join(home, "transcript.sha256"))
	if err == nil && strings.TrimSpace(string(b)) == sum {
		return false, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	if wipe {
		if err := os.RemoveAll(home); err != nil {
			return false, err
		}
		return true, os.MkdirAll(home, 0o755)
	}
	if err == nil {
		return false, fmt.Errorf("%s holds the import of another transcript; pass a new -home (or delete it)", home)
	}
	if _, err := os.Stat(filepath.Join(home, "data")); err == nil {
		return false, fmt.Errorf("%s already holds an os1 data dir of unknown content; pass an empty or new -home", home)
	}
	return true, os.MkdirAll(home, 0o755)
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

func (r *setResult) writeReport(name string) error {
	if name == "" {
		return nil
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	r10 := map[string][]scored{}
	for _, m := range r.modes {
		r10[m] = score(r.qs, r.lines[m], 10)
	}
	for i, q := range r.qs {
		line := map[string]any{"question": q.Question, "type": q.Type, "answers": q.Answers}
		if r.ids != nil {
			line["id"] = r.ids[i]
		}
		for _, m := range r.modes {
			s := r10[m][i]
			line[m] = map[string]any{"recall": s.recall, "missed": s.missed, "hits": s.hitIDs, "took_ms": r.took[m][i]}
		}
		if err := enc.Encode(line); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Printf("\nPer-question results (recall@10): %s\n", name)
	return nil
}
