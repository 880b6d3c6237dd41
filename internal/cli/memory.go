package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/datadir"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
)

// `os1 memory …` works on the data directory directly, like `os1 doctor`:
// it needs no running server and no sign-in, only access to the files.

func (e *env) memoryCmd() *cobra.Command {
	var username string
	cmd := &cobra.Command{
		Use:   "memory",
		Short: "Search, show, forget, export and import what she remembers, retry what was skipped (works on the data dir)",
		Long: "Works directly on the data directory (like `os1 doctor`), for one user: --user NAME, or the only user.\n" +
			"See docs/memory.md for the file formats.",
	}
	cmd.PersistentFlags().StringVar(&username, "user", "", "username whose memory to use (default: the only user)")
	cmd.AddCommand(e.memSearchCmd(&username), e.memShowCmd(&username), e.memForgetCmd(&username),
		e.memExportCmd(&username), e.memImportCmd(&username), e.memRetryCmd(&username), e.memReindexCmd(&username))
	return cmd
}

// memEnv is an opened data directory for one user.
type memEnv struct {
	cfg   config.Config
	db    app.DB // SQLite in the data dir, or PostgreSQL
	mem   *sqlitemem.Store
	user  store.User
	emb   memory.Embedder // nil: full text only
	clock clock.Clock
	lock  *datadir.Lock // held by commands that change data; nil for readers
}

func (m *memEnv) close() {
	m.db.Close()
	m.lock.Release()
}

// openMemory opens the database of the configured data dir and picks the user.
func (e *env) openMemory(ctx context.Context, username string) (*memEnv, error) {
	m, err := e.openDataDir(ctx, false)
	if err != nil {
		return nil, err
	}
	if m.user, err = pickUser(ctx, m.db, username); err != nil {
		m.db.Close()
		return nil, err
	}
	return m, nil
}

// openDataDir opens the configured data dir's database and memory store,
// with no user picked. create makes the database when it is missing (a
// fresh install: `os1 user add` before `os1 serve` ever ran).
func (e *env) openDataDir(ctx context.Context, create bool) (*memEnv, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	d, err := app.OpenData(ctx, cfg, create)
	var none *app.NoDatabaseError
	if errors.As(err, &none) {
		return nil, fmt.Errorf("%w (is the data dir right? --data-dir or OS1_DATA_DIR; on a fresh install, `os1 user add NAME --owner` makes it)", err)
	}
	if err != nil {
		return nil, err
	}
	return &memEnv{cfg: cfg, db: d.DB, mem: d.Memory, clock: d.Clock}, nil
}

// openMemoryToWrite is openMemory for a command that changes data: it
// takes the data dir's lock first, so it never writes behind a running
// server's back (whose recall index and worker would not see the change).
func (e *env) openMemoryToWrite(ctx context.Context, username, what string) (*memEnv, error) {
	lock, err := e.lockDataDir(what)
	if err != nil {
		return nil, err
	}
	m, err := e.openMemory(ctx, username)
	if err != nil {
		lock.Release()
		return nil, err
	}
	m.lock = lock
	return m, nil
}

// lockDataDir takes the data dir's lock for a command that writes, or
// says why it cannot and what to do instead.
func (e *env) lockDataDir(what string) (*datadir.Lock, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	lock, err := datadir.Acquire(cfg.DataDir, what)
	var busy *datadir.BusyError
	switch {
	case errors.As(err, &busy) && busy.Serving():
		why, instead := "it changes memory that the running server also keeps in memory (its recall index and worker)", "the memory page of the web UI, or the API in docs/api.md"
		if strings.HasPrefix(what, "os1 user") {
			why, instead = "the running server holds that user's live sessions and connections, which it must end at once", "Settings → Members in the web UI"
		} else if what == "os1 talk" {
			why, instead = "a voice turn would write behind the running server's back", "a voice call in the web UI"
		}
		return nil, fmt.Errorf("%w. `%s` does not run beside a server: %s. Stop the server and run this again, or use %s", err, what, why, instead)
	case errors.As(err, &busy):
		return nil, fmt.Errorf("%w; run this again when it has finished", err)
	}
	return lock, err
}

// pickUser finds the user by username, or the only user.
func pickUser(ctx context.Context, db store.Users, username string) (store.User, error) {
	users, err := db.ListUsers(ctx)
	if err != nil {
		return store.User{}, err
	}
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Username
	}
	if username != "" {
		for _, u := range users {
			if strings.EqualFold(u.Username, username) {
				return u, nil
			}
		}
		return store.User{}, fmt.Errorf("no user %q in this data dir; its users are: %s", username, strings.Join(names, ", "))
	}
	switch len(users) {
	case 0:
		return store.User{}, errors.New("this data dir has no users yet: run `os1 user add NAME --owner`, or start `os1 serve` and open the setup link")
	case 1:
		return users[0], nil
	}
	return store.User{}, fmt.Errorf("this data dir has several users (%s); choose one with --user NAME", strings.Join(names, ", "))
}

// loadEmbedder loads the sentence model when it is installed; without it
// memory works on full text alone, and says so once on stderr.
func (e *env) loadEmbedder(m *memEnv) {
	emb, err := app.OpenEmbedder(context.Background(), m.cfg)
	switch {
	case err == nil:
		m.emb = emb
		e.useModel(m, emb) // memory_reindex.go
	case m.cfg.Embed.URL != "":
		fmt.Fprintf(e.stderr, "os1: the embeddings server cannot be used (%v); using full-text search only\n", err)
	case errors.Is(err, embed.ErrModelMissing):
		fmt.Fprintf(e.stderr, "os1: no embedding model in %s; using full-text search only (scripts/assets.sh model installs it)\n", embed.USELiteDir(m.cfg.CacheDir))
	default:
		fmt.Fprintf(e.stderr, "os1: the embedding model in %s cannot be used (%v); using full-text search only\n", embed.USELiteDir(m.cfg.CacheDir), err)
	}
}

// userLocation is the user's time zone (store.Profile.Location), the same
// the prompt and the memory page use.
func (m *memEnv) userLocation(ctx context.Context) *time.Location {
	p, _ := m.db.Profile(ctx, m.user.ID) // none yet: the zero profile's zone
	return p.Location()
}

// searchResult is one line of `os1 memory search --json`.
type searchResult struct {
	Kind    string    `json:"kind"`
	ID      string    `json:"id"`
	Text    string    `json:"text"`
	Time    time.Time `json:"time"`
	Score   float64   `json:"score"`
	Sources []string  `json:"sources"`
	// Marks are the code point ranges [start, end) of Text that hold the
	// query's words (one QUERY; absent with --all and --queries).
	Marks [][2]int `json:"marks,omitzero"`
	// byteMarks are Marks in bytes, for printing.
	byteMarks [][2]int
}

type searchOutput struct {
	Query   string         `json:"query"`
	Results []searchResult `json:"results"`
	// TookMS is os1's own time for the query in milliseconds (recall
	// only, not printing); with --queries --timings.
	TookMS *float64 `json:"took_ms,omitempty"`
}

var recallModes = map[string]recall.Mode{"hybrid": recall.Hybrid, "text": recall.TextOnly, "vector": recall.VectorOnly}

func (e *env) memSearchCmd(username *string) *cobra.Command {
	var (
		asJSON   bool
		limit    int
		queries  string
		mode     string
		now      string
		history  bool
		all      bool
		kindsArg []string
		timings  bool
	)
	cmd := &cobra.Command{
		Use:   "search [QUERY]",
		Short: "Recall memories, journal entries and messages relevant to a query",
		Long: "Recall works like the companion's own: full text and meaning (hybrid), with dates such as\n" +
			"\"last week\" or \"in May\" read in the user's time zone. Only what matches is shown: a hit\n" +
			"holds one of the words (stems count: \"walking\" finds \"walked\"), or is close in meaning,\n" +
			"or the query is only a date; on a terminal the words are in bold. --all shows everything\n" +
			"recall ranks, as the companion sees it. --queries FILE runs one query per line and prints\n" +
			"one JSON line per query, ranked like --all (for evaluation scripts).",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (queries != "") {
				return errors.New("give either one QUERY or --queries FILE")
			}
			md, ok := recallModes[mode]
			if !ok {
				return fmt.Errorf("--mode %q: want hybrid, text or vector", mode)
			}
			var kinds []memory.DocKind
			for _, k := range kindsArg {
				dk := memory.DocKind(k)
				if dk != memory.DocItem && dk != memory.DocMessage && dk != memory.DocJournal {
					return fmt.Errorf("--kind %q: want item, message or journal", k)
				}
				kinds = append(kinds, dk)
			}
			var clk clock.Clock = clock.System{}
			if now != "" {
				t, err := time.Parse(time.RFC3339, now)
				if err != nil {
					return fmt.Errorf("--now %q: want an RFC 3339 time such as 2026-05-03T12:00:00Z", now)
				}
				clk = clock.NewFake(t)
			}
			ctx := cmd.Context()
			m, err := e.openMemory(ctx, *username)
			if err != nil {
				return err
			}
			defer m.close()
			if md != recall.TextOnly {
				e.loadEmbedder(m)
			}
			if md == recall.VectorOnly && m.emb == nil {
				return errors.New("--mode vector needs the embedding model; install it with scripts/assets.sh model")
			}
			opts := recall.DefaultOptions()
			opts.Mode = md
			opts.OnEmbedError = func(err error) { fmt.Fprintf(e.stderr, "os1: %v; this query used full text only\n", err) }
			r := recall.New(m.mem, m.emb, clk, opts)
			loc := m.userLocation(ctx)
			run := func(q string) (searchOutput, error) {
				start := m.clock.Now()
				hits, err := r.Recall(ctx, m.user.ID, memory.Query{Text: q, Limit: limit, Kinds: kinds, History: history}, loc)
				out := searchOutput{Query: q, Results: make([]searchResult, len(hits))}
				if timings {
					ms := float64(m.clock.Now().Sub(start)) / float64(time.Millisecond)
					out.TookMS = &ms
				}
				for i, h := range hits {
					out.Results[i] = searchResult{Kind: string(h.Kind), ID: h.ID, Text: h.Text, Time: h.Time, Score: h.Score, Sources: nonNil(h.Sources)}
				}
				return out, err
			}
			if queries != "" {
				return e.searchBatch(queries, run)
			}
			if timings {
				return errors.New("--timings works with --queries")
			}
			if !all {
				run = func(q string) (searchOutput, error) {
					ms, err := r.Search(ctx, m.user.ID, memory.Query{Text: q, Limit: limit, Kinds: kinds, History: history}, loc)
					out := searchOutput{Query: q, Results: make([]searchResult, len(ms))}
					for i, h := range ms {
						out.Results[i] = searchResult{Kind: string(h.Kind), ID: h.ID, Text: h.Text, Time: h.Time, Score: h.Score, Sources: nonNil(h.Sources),
							Marks: recall.CodePointRanges(h.Text, h.Marks), byteMarks: h.Marks}
					}
					return out, err
				}
			}
			out, err := run(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSONLine(e.stdout, out)
			}
			printResults(e.stdout, out, loc, isTerminal(e.stdout))
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, `print {"query","results":[{"kind","id","text","time","score","sources","marks"}]}`)
	f.IntVar(&limit, "limit", 10, "at most this many results")
	f.StringVar(&queries, "queries", "", "file with one query per line ('-': stdin); prints one JSON line per query")
	f.StringVar(&mode, "mode", "hybrid", "hybrid, text (BM25 only) or vector (meaning only)")
	f.StringVar(&now, "now", "", "RFC 3339 time that relative dates (\"last week\") count from (default: now)")
	f.BoolVar(&history, "history", false, "include beliefs that were replaced")
	f.BoolVar(&all, "all", false, "show everything recall ranks, matching or not (what the companion's recall sees)")
	f.StringSliceVar(&kindsArg, "kind", nil, "only these kinds of result: item, message, journal")
	f.BoolVar(&timings, "timings", false, `with --queries: each JSON line also has "took_ms", os1's own time for the query`)
	return cmd
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeJSONLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// searchBatch answers one query per line of file with one JSON line each.
func (e *env) searchBatch(file string, run func(string) (searchOutput, error)) error {
	var r io.Reader = e.stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("--queries: %w", err)
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	w := bufio.NewWriter(e.stdout)
	defer w.Flush()
	for n := 1; sc.Scan(); n++ {
		q := strings.TrimSpace(sc.Text())
		if q == "" {
			continue
		}
		out, err := run(q)
		if err != nil {
			return fmt.Errorf("%s line %d: %w", file, n, err)
		}
		if err := writeJSONLine(w, out); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("--queries %s: %w", file, err)
	}
	return nil
}

// printResults prints search results for people. With bold (a terminal),
// the words that matched are in bold (ANSI SGR 1); otherwise the text is
// plain, so pipes and files get no escape codes and no added brackets.
func printResults(w io.Writer, out searchOutput, loc *time.Location, bold bool) {
	if len(out.Results) == 0 {
		fmt.Fprintf(w, "Nothing matches %q.\n", out.Query)
		return
	}
	for i, r := range out.Results {
		text := clip(r.Text, 300)
		if bold {
			text = clipMarked(r.Text, r.byteMarks, 300, "\x1b[1m", "\x1b[22m")
		}
		fmt.Fprintf(w, "%2d. [%s %s] %s  (%.3f)\n    %s\n", i+1, r.Kind, r.ID, formatDay(r.Time, loc), r.Score, text)
		if (r.Kind != string(memory.DocMessage) && len(r.Sources) > 0) || len(r.Sources) > 1 { // a message with the turn before it
			fmt.Fprintf(w, "    from: %s\n", strings.Join(r.Sources, ", "))
		}
	}
}

func formatDay(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "undated"
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

func formatDate(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "undated"
	}
	return t.In(loc).Format(time.DateOnly)
}

// isTerminal says whether w is a terminal (for bold matches).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// clipMarked is clip (whitespace runs become one space, at most n
// characters) with the byte ranges marks of s wrapped in on and off.
// Control characters of s count as spaces, so its own text cannot write
// escape codes to the terminal.
func clipMarked(s string, marks [][2]int, n int, on, off string) string {
	type char struct {
		r      rune
		marked bool
	}
	var cs []char
	mi := 0
	for i, r := range s {
		for mi < len(marks) && i >= marks[mi][1] {
			mi++
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			if len(cs) > 0 && cs[len(cs)-1].r != ' ' {
				cs = append(cs, char{' ', false})
			}
			continue
		}
		cs = append(cs, char{r, mi < len(marks) && i >= marks[mi][0]})
	}
	if len(cs) > 0 && cs[len(cs)-1].r == ' ' {
		cs = cs[:len(cs)-1]
	}
	if len(cs) > n {
		cs = append(cs[:n-1], char{'…', false})
	}
	var b strings.Builder
	inMark := false
	for _, c := range cs {
		if c.marked != inMark {
			b.WriteString(map[bool]string{true: on, false: off}[c.marked])
			inMark = c.marked
		}
		b.WriteRune(c.r)
	}
	if inMark {
		b.WriteString(off)
	}
	return b.String()
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
