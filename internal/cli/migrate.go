package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/datadir"
)

func (e *env) migrateCmd() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "migrate --to postgres://user@host:port/database",
		Short: "Copy the data dir's SQLite database into an empty PostgreSQL database, verified",
		Long: "Copies every table of the data dir's SQLite database into an empty PostgreSQL database (its schema is\n" +
			"made first), then compares row counts and checksums of every table. os1 must not be running on the data dir.\n" +
			"Without --to, the configured database is the target ([database] url or url_file, OS1_DATABASE_URL or\n" +
			"OS1_DATABASE_URL_FILE). Leave the password out of --to (other users see the command line): PostgreSQL's\n" +
			"PGPASSWORD or ~/.pgpass give it, or a URL file. See docs/scale.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.migrate(cmd.Context(), to)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the PostgreSQL database to copy into: postgres://user@host:port/database (default: the configured database)")
	e.dataDirFlag(cmd.Flags())
	return cmd
}

func (e *env) migrate(ctx context.Context, to string) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	if to == "" {
		to = cfg.Database.URL
	}
	if to == "" {
		return &exitError{code: 2, err: errors.New("name the PostgreSQL database to copy into: os1 migrate --to postgres://user@host:port/database (or set OS1_DATABASE_URL_FILE)")}
	}
	if u, err := url.Parse(to); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Opaque != "" {
		return &exitError{code: 2, err: errors.New("--to is not a PostgreSQL URL (postgres://user@host:port/database)")}
	}
	lock, err := datadir.Acquire(cfg.DataDir, "os1 migrate")
	if err != nil {
		var busy *datadir.BusyError
		if errors.As(err, &busy) {
			return fmt.Errorf("%w. os1 migrate copies a data dir no os1 is using (what a running server writes meanwhile would be lost): stop it, then run this again", err)
		}
		return err
	}
	defer lock.Release()

	target := config.RedactURL(to)
	fmt.Fprintf(e.stdout, "Copying %s into %s\n", cfg.DBPath(), target)
	bar := newMigrateBar(e.stdout, isTerminal(e.stdout))
	rep, err := app.MigrateToPostgres(ctx, cfg, to, app.MigrateOptions{Progress: bar.update})
	bar.end()
	var none *app.NoDatabaseError
	var missing *app.MissingError
	var mismatch *app.MismatchError
	switch {
	case errors.As(err, &none):
		return fmt.Errorf("%w (is the data dir right? --data-dir or OS1_DATA_DIR)", err)
	case errors.As(err, &missing):
		return fmt.Errorf("nothing was copied: every SQLite table must have a PostgreSQL counterpart, and %w", err)
	case errors.As(err, &mismatch):
		printMigrateReport(e.stdout, rep)
		return fmt.Errorf("%w\nThe copy stays in %s for inspection; drop that database before trying again", err, target)
	case err != nil:
		return err
	}
	printMigrateReport(e.stdout, rep)
	fmt.Fprintf(e.stdout, "\nCopied %s of %s in %s; every table's row count and checksum match.\n", countOf(int(rep.Rows), "row"),
		countOf(len(rep.Tables), "table"), rep.Took.Round(time.Millisecond))
	fmt.Fprintf(e.stdout, "The SQLite file is unchanged. To run on PostgreSQL, set OS1_DATABASE_URL (or [database] url_file) and start os1 serve;\n"+
		"keep %s: it encrypts saved keys, and every node needs a copy.\n", cfg.KeyPath())
	return nil
}

func printMigrateReport(w io.Writer, rep *app.MigrateReport) {
	if rep == nil {
		return
	}
	width := len("table")
	for _, t := range rep.Tables {
		width = max(width, len(t.Name))
	}
	fmt.Fprintf(w, "\n%-*s  %10s  %10s  %-12s  %s\n", width, "table", "SQLite", "PostgreSQL", "checksum", "")
	var empty []string
	for _, t := range rep.Tables {
		if t.Match && t.SQLiteRows == 0 {
			empty = append(empty, t.Name)
			continue
		}
		mark := "ok"
		sum := shortSum(t.SQLiteSum)
		if !t.Match {
			mark = "MISMATCH"
			sum += " ≠ " + shortSum(t.PGSum)
		}
		fmt.Fprintf(w, "%-*s  %10d  %10d  %-12s  %s\n", width, t.Name, t.SQLiteRows, t.PGRows, sum, mark)
	}
	if len(empty) > 0 {
		fmt.Fprintf(w, "empty on both sides: %s\n", strings.Join(empty, ", "))
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(w, "not copied (SQLite's full-text indexes and migration versions; PostgreSQL keeps its own): %s\n", strings.Join(rep.Skipped, ", "))
	}
}

func shortSum(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// migrateBar shows the copy's progress: a bar redrawn in place on a
// terminal, plain lines (one per table) otherwise.
type migrateBar struct {
	w    io.Writer
	tty  bool
	last string
	drew bool
}

func newMigrateBar(w io.Writer, tty bool) *migrateBar { return &migrateBar{w: w, tty: tty} }

func (b *migrateBar) update(p app.MigrateProgress) {
	if !b.tty {
		switch {
		case p.Verifying:
			fmt.Fprintln(b.w, "verifying row counts and checksums…")
		case p.TableEnded && p.Rows > 0:
			fmt.Fprintf(b.w, "copied %-28s %10d rows  (%d/%d tables, %s)\n", p.Table, p.Rows, p.Tables, p.TablesOf, percent(p.Done, p.All))
		}
		return
	}
	const width = 30
	filled := width
	if p.All > 0 {
		filled = int(p.Done * width / p.All)
	}
	what := p.Table
	if p.Verifying {
		what = "verifying counts and checksums"
	}
	line := fmt.Sprintf("\r[%s%s] %5s  %d/%d rows  %-36.36s", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		percent(p.Done, p.All), p.Done, p.All, what)
	if line == b.last {
		return
	}
	b.last, b.drew = line, true
	fmt.Fprint(b.w, line)
}

func (b *migrateBar) end() {
	if b.tty && b.drew {
		fmt.Fprintln(b.w)
	}
}

func percent(done, all int64) string {
	if all == 0 {
		return "100%"
	}
	return fmt.Sprintf("%d%%", done*100/all)
}
