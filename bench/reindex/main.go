// Command reindex measures `os1 memory reindex`: how many documents a
// second the embedded USE-lite model rebuilds on one core and on all cores,
// what that means for 100,000 messages, and how a reindex killed with
// SIGKILL resumes. The text is real chat: the first messages of the
// LongMemEval_S histories (../shared/datasets/longmemeval_s, read in place,
// never copied). Each run starts from a fresh database whose messages are
// indexed by text only, so every one of them is embedded, as after a model
// swap.
//
//	go run ./bench/reindex [-n 2000] [-data ../shared/datasets/longmemeval_s] [-cache ~/.cache/os1]
//
// It prints numbers and never passes or fails on them.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/reindex"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

const userID = "usr_bench"

func main() {
	home, _ := os.UserHomeDir()
	n := flag.Int("n", 2000, "messages to reindex")
	data := flag.String("data", "../shared/datasets/longmemeval_s", "the LongMemEval_S folder (one JSON history per question)")
	cache := flag.String("cache", filepath.Join(home, ".cache", "os1"), "os1's cache dir, which holds models/use-lite")
	killAt := flag.Int("kill-at", 0, "kill the resume run's child after this many committed documents (default n/3)")
	child := flag.String("child", "", "internal: reindex this database until killed")
	flag.Parse()
	if *child != "" {
		runChild(*child, *cache)
		return
	}
	if *killAt <= 0 {
		*killAt = *n / 3
	}
	if err := bench(*n, *data, *cache, *killAt); err != nil {
		fmt.Fprintln(os.Stderr, "reindex:", err)
		os.Exit(1)
	}
}

func bench(n int, data, cache string, killAt int) error {
	ctx := context.Background()
	docs, err := readMessages(data, n)
	if err != nil {
		return err
	}
	chars := 0
	for _, d := range docs {
		chars += len([]rune(d.Text))
	}
	t0 := time.Now()
	model, err := embed.LoadUSELite(embed.USELiteDir(cache))
	if err != nil {
		return err
	}
	fmt.Printf("model: use-lite loaded in %v; %d messages from %s, %.0f characters each on average\n",
		time.Since(t0).Round(time.Millisecond), len(docs), data, float64(chars)/float64(len(docs)))
	fmt.Printf("machine: %s/%s, %d CPUs\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	tmp, err := os.MkdirTemp("", "os1-bench-reindex-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Printf("%-10s %8s %10s %12s %16s\n", "GOMAXPROCS", "docs", "seconds", "docs/second", "100k messages")
	all := runtime.NumCPU()
	for i, procs := range []int{1, all} {
		path := filepath.Join(tmp, fmt.Sprintf("run%d.db", i))
		if err := prepare(ctx, path, docs); err != nil {
			return err
		}
		prev := runtime.GOMAXPROCS(procs)
		p, el, err := reindexOnce(ctx, path, model, nil)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			return err
		}
		rate := float64(p.Done) / el.Seconds()
		fmt.Printf("%-10d %8d %10.1f %12.1f %16s\n", procs, p.Done, el.Seconds(), rate, extrapolate(rate))
	}

	// Resume: a child process reindexes until it has committed killAt
	// documents and is killed with SIGKILL; this process then goes on.
	path := filepath.Join(tmp, "resume.db")
	if err := prepare(ctx, path, docs); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "-child", path, "-cache", cache)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	committed := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if c, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "committed ")); err == nil && c >= killAt {
			committed = c
			break
		}
	}
	killed := time.Now()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	counted := &countingModel{Embedder: model}
	var firstBatch time.Duration
	start := time.Now()
	p, el, err := reindexOnce(ctx, path, counted, func(p reindex.Progress) {
		if firstBatch == 0 && p.Done > committed {
			firstBatch = time.Since(start)
		}
	})
	if err != nil {
		return err
	}
	fmt.Printf("\nresume after kill -9: killed at %d/%d committed documents; the rerun embedded %d (%s the %d left), finished %d/%d in %.1f s; its first batch was committed %v after it started (%v after the kill)\n",
		committed, len(docs), counted.texts.Load(), verdict(int(counted.texts.Load()) == len(docs)-committed), len(docs)-committed,
		p.Done, p.Total, el.Seconds(), firstBatch.Round(time.Millisecond), (time.Since(killed) - el + firstBatch).Round(time.Millisecond))
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "exactly"
	}
	return "NOT"
}

// extrapolate is the time 100,000 messages of the sample's length take at
// rate: the reindex is linear (fixed-size batches, a cursor, no scan of
// what is done), and embedding dominates.
func extrapolate(rate float64) string {
	return (time.Duration(100_000 / rate * float64(time.Second))).Round(time.Second).String()
}

// prepare makes a database at path whose messages are indexed by text only.
func prepare(ctx context.Context, path string, docs []memory.MessageDoc) error {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreateUser(ctx, store.User{ID: userID, Username: "bench", DisplayName: "Bench", Role: store.RoleOwner,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		return err
	}
	return sqlitemem.New(db.SQL(), sqlitemem.Options{}).IndexMessages(ctx, docs, nil)
}

// reindexOnce opens path as a fresh process would and reindexes its user.
func reindexOnce(ctx context.Context, path string, model embed.Embedder, onProgress func(reindex.Progress)) (reindex.Progress, time.Duration, error) {
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return reindex.Progress{}, 0, err
	}
	defer db.Close()
	st, err := useModel(ctx, db, model)
	if err != nil {
		return reindex.Progress{}, 0, err
	}
	start := time.Now()
	p, err := reindex.Run(ctx, st, model, userID, reindex.Options{Clock: clock.System{}, OnProgress: onProgress})
	return p, time.Since(start), err
}

func useModel(ctx context.Context, db *sqlite.DB, model embed.Embedder) (*sqlitemem.Store, error) {
	st := sqlitemem.New(db.SQL(), sqlitemem.Options{})
	id, err := embed.Identify(ctx, model)
	if err != nil {
		return nil, err
	}
	return st, st.UseModel(ctx, id, model, true)
}

// runChild reindexes path, printing each commit, until it is killed.
func runChild(path, cache string) {
	ctx := context.Background()
	model, err := embed.LoadUSELite(embed.USELiteDir(cache))
	if err == nil {
		var db *sqlite.DB
		if db, err = sqlite.Open(ctx, path); err == nil {
			var st *sqlitemem.Store
			if st, err = useModel(ctx, db, model); err == nil {
				_, err = reindex.Run(ctx, st, model, userID, reindex.Options{OnProgress: func(p reindex.Progress) {
					fmt.Printf("committed %d\n", p.Done)
				}})
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reindex child:", err)
		os.Exit(1)
	}
}

type countingModel struct {
	embed.Embedder
	texts atomic.Int64
}

func (c *countingModel) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) > 1 || texts[0] != embed.ProbeSentence {
		c.texts.Add(int64(len(texts)))
	}
	return c.Embedder.Embed(ctx, texts)
}

// readMessages reads the first n messages of the histories in dir, file by
// file in name order, session by session.
func readMessages(dir string, n int) ([]memory.MessageDoc, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no LongMemEval_S histories in %s (-data): %v", dir, err)
	}
	sort.Strings(files)
	var out []memory.MessageDoc
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var h struct {
			Sessions []struct {
				Time     time.Time `json:"time"`
				Messages []struct {
					ID, Speaker, Text string
				} `json:"messages"`
			} `json:"sessions"`
		}
		if err := json.Unmarshal(b, &h); err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		conv := "cnv_" + strings.TrimSuffix(filepath.Base(f), ".json")
		for _, s := range h.Sessions {
			for i, m := range s.Messages {
				if len(out) == n {
					return out, nil
				}
				role := "assistant"
				if m.Speaker == "user" {
					role = "user"
				}
				out = append(out, memory.MessageDoc{ID: fmt.Sprintf("msg_%d", len(out)), UserID: userID, ConversationID: conv,
					Speaker: m.Speaker, Role: role, Text: m.Text, Time: s.Time.Add(time.Duration(i) * time.Second)})
			}
		}
	}
	return out, nil
}
