package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/os1ai/os1/bench/memory/dataset"
)

// lmeUser is the os1 user of every LongMemEval history: transcript lines
// whose speaker is "user" import as the user's, "assistant" as hers.
const lmeUser = "user"

// lmeHomeMark marks a -home made by eval for LongMemEval, so eval may empty
// its history dirs when their import is stale or unfinished.
const lmeHomeMark = "os1-membench-lme"

// runLME imports every history into its own data dir (FTS5's statistics are
// per database, so histories sharing one would rank each other's words),
// then asks each history's question there in every mode.
func runLME(ctx context.Context, c config) error {
	hs, err := dataset.ReadLME(c.lme)
	if err != nil {
		return err
	}
	if c.histories > 0 && c.histories < len(hs) {
		pick := make([]dataset.LMEHistory, c.histories)
		for i := range pick {
			pick[i] = hs[i*len(hs)/c.histories]
		}
		hs = pick
	}
	o, version, err := newOS1(ctx, c)
	if err != nil {
		return err
	}
	root := c.home
	if root == "" {
		if root, err = os.MkdirTemp("", "os1-membench-lme-"); err != nil {
			return err
		}
		if c.keep {
			defer fmt.Printf("\nos1 data kept in %s (reuse it with -home %s)\n", root, root)
		} else {
			defer os.RemoveAll(root)
		}
	} else if root, err = filepath.Abs(root); err != nil {
		return err
	}
	if err := claimLMEHome(root); err != nil {
		return err
	}

	// The transcripts: messages for BM25, the evidence's text for the misses.
	trs := make([]dataset.Transcript, len(hs))
	qs := make([]dataset.Question, len(hs))
	ids := make([]string, len(hs))
	texts := map[string]string{}
	messages, sessions := 0, 0
	for i, h := range hs {
		if trs[i], err = dataset.ReadTranscript(h.Transcript); err != nil {
			return err
		}
		qs[i], ids[i] = h.Question, h.ID
		have := map[string]string{}
		for _, s := range trs[i].Sessions {
			sessions++
			for _, m := range s.Messages {
				have[m.ID] = m.Text
				messages++
			}
		}
		for _, a := range h.Question.Answers {
			t, ok := have[a]
			if !ok {
				return fmt.Errorf("%s: evidence %s is not in its transcript", h.ID, a)
			}
			texts[a] = t
		}
	}
	fmt.Printf("Memory recall benchmark, LongMemEval_S: %s\n", c.lme)
	fmt.Printf("  %d histories (each its own data dir and one question), %d sessions, %d messages\n", len(hs), sessions, messages)
	fmt.Printf("  binary: %s (%s)\n\n", c.bin, version)

	// Import what is not there yet.
	type job struct {
		i int
		o *os1
	}
	runners := make([]*os1, len(hs))
	var todo []job
	for i, h := range hs {
		ho := *o
		ho.home = filepath.Join(root, h.ID)
		runners[i] = &ho
		fresh, err := prepareHome(ho.home, h.Transcript, true)
		if err != nil {
			return err
		}
		if fresh {
			todo = append(todo, job{i, &ho})
		}
	}
	if len(todo) > 0 {
		n := 0
		for _, j := range todo {
			for _, s := range trs[j.i].Sessions {
				n += len(s.Messages)
			}
		}
		fmt.Printf("Import: %d histories, %d messages, %d at once (`os1 user add user --owner`, then `os1 memory import --format transcript --no-extract`)\n", len(todo), n, c.jobs)
		start := time.Now()
		var mu sync.Mutex
		done, noVectors := 0, false
		err := parallel(ctx, len(todo), c.jobs, func(k int) error {
			j := todo[k]
			h := hs[j.i]
			if err := j.o.addOwner(ctx, lmeUser, ""); err != nil {
				return fmt.Errorf("%s: create the user: %w", h.ID, err)
			}
			file, err := importable(trs[j.i], h.Transcript, j.o.home)
			if err != nil {
				return err
			}
			imp, err := j.o.importTranscript(ctx, lmeUser, file)
			if err != nil {
				return fmt.Errorf("%s: %w", h.ID, err)
			}
			if err := markHome(j.o.home, h.Transcript); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			done++
			noVectors = noVectors || !imp.vectors
			if done%10 == 0 || done == len(todo) {
				fmt.Printf("  %d/%d imported, %.0f s\n", done, len(todo), time.Since(start).Seconds())
			}
			return nil
		})
		if err != nil {
			return err
		}
		wall := time.Since(start)
		fmt.Printf("  %d messages in %.0f s wall clock = %.0f messages/s (%d processes at once)\n\n", n, wall.Seconds(), float64(n)/wall.Seconds(), c.jobs)
		if noVectors && needsVectors(c.modes) {
			return errNoVectors(o.cacheDir)
		}
	} else {
		fmt.Printf("Import: skipped, reusing %s\n\n", root)
	}

	r := newSetResult("LongMemEval_S dev", qs, dataset.LMETypes, c.modes)
	r.ids = ids
	for _, mode := range c.modes {
		start := time.Now()
		err := parallel(ctx, len(hs), c.searchJobs, func(i int) error {
			lines, err := runners[i].searchQuestions(ctx, lmeUser, mode, runners[i].home, []string{qs[i].Question}, limit, hs[i].Now)
			if err != nil {
				return fmt.Errorf("%s: %w", hs[i].ID, err)
			}
			r.lines[mode][i], r.took[mode][i] = lines[0], *lines[0].TookMS
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Printf("Searched --mode %s: %d processes in %.1f s\n", mode, len(hs), time.Since(start).Seconds())
	}
	for i := range hs {
		var mids, mtexts []string
		for _, s := range trs[i].Sessions {
			for _, m := range s.Messages {
				mids = append(mids, m.ID)
				mtexts = append(mtexts, m.Text)
			}
		}
		runBM25(r, i, i+1, mids, mtexts)
	}
	fmt.Println()
	r.timeNote = fmt.Sprintf("os1: `took_ms` of `os1 memory search --timings`, one process per history and mode "+
		"(%d at once), the question asked after a warm-up query; bm25: in-process, index built beforehand", c.searchJobs)
	r.print(c, texts)
	return r.writeReport(c.report)
}

// importable is the transcript file to import: the original, or, when
// some messages have no text (os1 refuses those; a few LongMemEval turns
// are empty, none of them evidence), a copy without them in dir.
func importable(tr dataset.Transcript, name, dir string) (string, error) {
	empty := false
	out := dataset.Transcript{Sessions: make([]dataset.Session, len(tr.Sessions))}
	for i, s := range tr.Sessions {
		out.Sessions[i] = dataset.Session{Time: s.Time}
		for _, m := range s.Messages {
			if strings.TrimSpace(m.Text) == "" {
				empty = true
				continue
			}
			out.Sessions[i].Messages = append(out.Sessions[i].Messages, m)
		}
	}
	if !empty {
		return name, nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", err
	}
	copyName := filepath.Join(dir, "transcript-nonempty.json")
	return copyName, os.WriteFile(copyName, b, 0o644)
}

// claimLMEHome makes root eval's LongMemEval home, or checks it is one.
func claimLMEHome(root string) error {
	mark := filepath.Join(root, lmeHomeMark)
	if _, err := os.Stat(mark); err == nil {
		return nil
	}
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("%s is not empty and was not made by eval -lme; pass an empty or new -home", root)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	return os.WriteFile(mark, []byte("os1 bench/memory/eval LongMemEval data dirs, one per history\n"), 0o644)
}

// parallel runs f(0..n-1) on at most jobs goroutines and returns the first
// error; after one, no new calls start.
func parallel(ctx context.Context, n, jobs int, f func(int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range max(jobs, 1) {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					cancel()
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return ctx.Err()
}
