package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/datadir"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory/reindex"
	"github.com/os1ai/os1/internal/store"
)

// `os1 memory reindex` rebuilds memory's vectors with the configured
// embedding model after a model change. Where it runs: with no server on
// the data dir, here (it takes the data dir's lock); beside a running
// `os1 serve`, in the server's process through POST /api/memory/reindex
// (the owner's login), so the server keeps answering and nothing writes
// behind its back. Either way it commits in batches with a cursor per user
// and resumes where a killed run stopped.

func (e *env) memReindexCmd(username *string) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild memory's vectors with the configured embedding model (after a model change)",
		Long: "Re-embeds every indexed message, memory and journal entry of one user (--user NAME, or the only user) or of\n" +
			"all (--all) with the configured embedding model. Until a document is rebuilt, memory search finds it by\n" +
			"its words only. Stopped or killed, it goes on where it stopped when run again.\n\n" +
			"With `os1 serve` running on the data dir it runs inside the server (sign in as the owner with `os1 login`);\n" +
			"otherwise here.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all && *username != "" {
				return errors.New("give --user NAME or --all, not both")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			cfg, err := e.config()
			if err != nil {
				return err
			}
			lock, err := datadir.Acquire(cfg.DataDir, "os1 memory reindex")
			var busy *datadir.BusyError
			switch {
			case errors.As(err, &busy) && busy.Serving():
				return e.reindexOnServer(ctx, *username, all)
			case errors.As(err, &busy):
				return fmt.Errorf("%w; run this again when it has finished", err)
			case err != nil:
				return err
			}
			defer lock.Release()
			return e.reindexHere(ctx, *username, all, lock)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "reindex every user's memory")
	return cmd
}

// useModel names the loaded model to the memory store, so that the vectors
// it writes are stamped with it and searches compare only its vectors; a
// command holding the lock records the model. Without it, full text only.
func (e *env) useModel(m *memEnv, emb embed.Embedder) {
	ctx := context.Background()
	id, err := embed.Identify(ctx, emb)
	if err == nil {
		err = m.mem.UseModel(ctx, id, emb, m.lock != nil)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "os1: the embedding model cannot be used (%v); using full-text search only\n", err)
		m.emb = nil
	}
}

func (e *env) reindexHere(ctx context.Context, username string, all bool, lock *datadir.Lock) error {
	m, err := e.openDataDir(ctx, false)
	if err != nil {
		return err
	}
	defer m.db.Close()
	m.lock = lock // held by the caller
	emb, err := app.OpenEmbedder(ctx, m.cfg)
	if err != nil {
		return fmt.Errorf("the embedding model cannot be used: %w", err)
	}
	m.emb = emb
	e.useModel(m, emb)
	if m.emb == nil {
		return errors.New("nothing was reindexed")
	}
	var users []store.User
	if all {
		if users, err = m.db.ListUsers(ctx); err != nil {
			return err
		}
	} else {
		u, err := pickUser(ctx, m.db, username)
		if err != nil {
			return err
		}
		users = []store.User{u}
	}
	pr := newReindexPrinter(e.stdout, isTerminal(e.stdout))
	for _, u := range users {
		_, err := reindex.Run(ctx, m.mem, emb, u.ID, reindex.Options{OnProgress: func(p reindex.Progress) {
			pr.show(u.Username, p, time.Now())
		}})
		if err != nil {
			pr.end()
			if ctx.Err() != nil {
				return errors.New("reindex stopped; what was done is kept, and running it again goes on from there")
			}
			return fmt.Errorf("reindex of %s stopped (%w); running it again goes on from there", u.Username, err)
		}
	}
	return nil
}

// reindexOnServer asks the running server to reindex and follows it.
func (e *env) reindexOnServer(ctx context.Context, username string, all bool) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if !all && username == "" {
		m, err := e.openMemory(ctx, "") // reading beside the server is fine
		if err != nil {
			return err
		}
		username = m.user.Username
		m.db.Close()
	}
	c, err := e.client(cfg)
	if err != nil {
		return fmt.Errorf("os1 serve holds the data dir, so the reindex runs inside it: %w", err)
	}
	fmt.Fprintf(e.stderr, "os1: os1 serve holds the data dir; the reindex runs inside it (it keeps answering meanwhile)\n")
	body := map[string]any{"all": all}
	if !all {
		body = map[string]any{"user": username}
	}
	var st reindex.State
	err = c.do(ctx, "POST", "/api/memory/reindex", body, &st)
	var ae *apiErr
	if errors.As(err, &ae) && ae.Code == "reindex_running" {
		fmt.Fprintln(e.stderr, "os1: a reindex is already running on the server; following it")
	} else if err != nil {
		return err
	}
	pr := newReindexPrinter(e.stdout, isTerminal(e.stdout))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if err := c.do(ctx, "GET", "/api/memory/reindex", nil, &st); err != nil {
			return err
		}
		for _, p := range st.Users {
			if p.Total > 0 || p.Finished {
				pr.show(p.Username, p, time.Now())
			}
		}
		if !st.Running {
			pr.end()
			if st.Error != "" {
				return fmt.Errorf("the server's reindex stopped: %s; running it again goes on from there", st.Error)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			pr.end()
			fmt.Fprintln(e.stderr, "os1: stopped following; the reindex goes on in the server (GET /api/memory/reindex)")
			return nil
		case <-tick.C:
		}
	}
}

// reindexPrinter shows progress: a bar redrawn in place on a terminal,
// otherwise a plain line at most every plainEvery (and at each user's end).
type reindexPrinter struct {
	w     io.Writer
	tty   bool
	last  time.Time
	drawn bool
	done  map[string]bool
}

const plainEvery = 10 * time.Second

func newReindexPrinter(w io.Writer, tty bool) *reindexPrinter {
	return &reindexPrinter{w: w, tty: tty, done: map[string]bool{}}
}

func (r *reindexPrinter) show(user string, p reindex.Progress, now time.Time) {
	if r.done[user] {
		return
	}
	pct := 100.0
	if p.Total > 0 {
		pct = 100 * float64(p.Done) / float64(p.Total)
	}
	rate, left := "", ""
	if p.Rate > 0 {
		rate = fmt.Sprintf(", %.1f a second", p.Rate)
	}
	if !p.Finished && p.ETA > 0 {
		left = ", about " + p.ETA.Round(time.Second).String() + " left"
	}
	if r.tty {
		const width = 30
		n := int(pct / 100 * width)
		fmt.Fprintf(r.w, "\r%s [%s%s] %d/%d%s%s\x1b[K", user, strings.Repeat("#", n), strings.Repeat(".", width-n), p.Done, p.Total, rate, left)
		r.drawn = true
		if p.Finished {
			fmt.Fprintln(r.w)
			r.drawn = false
		}
	} else if p.Finished || r.last.IsZero() || now.Sub(r.last) >= plainEvery {
		state := "reindexed"
		if p.Finished {
			state = "done:"
		}
		fmt.Fprintf(r.w, "%s %s %d/%d documents (%.0f%%)%s%s\n", user, state, p.Done, p.Total, pct, rate, left)
		r.last = now
	}
	if p.Finished {
		r.done[user] = true
	}
}

// end finishes a bar left mid-line.
func (r *reindexPrinter) end() {
	if r.drawn {
		fmt.Fprintln(r.w)
		r.drawn = false
	}
}
