package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory/transfer"
	"github.com/os1ai/os1/internal/models"
)

// `os1 memory export` and `os1 memory import`: moving a relationship between
// machines, and bringing in chat histories from elsewhere.

func (e *env) memExportCmd(username *string) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write everything she remembers of a user as JSON (lossless) or Markdown (readable)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "json" && format != "markdown" {
				return fmt.Errorf("--format %q: want json or markdown", format)
			}
			ctx := cmd.Context()
			m, err := e.openMemory(ctx, *username)
			if err != nil {
				return err
			}
			defer m.close()
			ex, err := m.transfer().Export(ctx, m.user)
			if err != nil {
				return err
			}
			var w io.Writer = e.stdout
			var f *os.File
			if out != "" && out != "-" {
				// The export holds private conversations: only the owner may read it.
				if f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600); err != nil {
					return fmt.Errorf("export: %w", err)
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriter(w)
			if format == "json" {
				enc := json.NewEncoder(bw)
				enc.SetIndent("", "  ")
				err = enc.Encode(ex)
			} else {
				err = transfer.WriteMarkdown(bw, ex, m.userLocation(ctx))
			}
			if err == nil {
				err = bw.Flush()
			}
			if err == nil && f != nil {
				err = f.Close()
			}
			if err != nil {
				return fmt.Errorf("export: %w", err)
			}
			if f != nil {
				msgs := 0
				for _, c := range ex.Conversations {
					msgs += len(c.Messages)
				}
				fmt.Fprintf(e.stderr, "Exported %d memories, %d people, %d journal entries, %d conversations (%d messages) of %s to %s\n",
					len(ex.Items), len(ex.Entities), len(ex.Journals), len(ex.Conversations), msgs, m.user.Username, out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "json", "json (lossless, importable) or markdown (readable)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file (mode 0600) instead of stdout")
	return cmd
}

func (m *memEnv) transfer() *transfer.Transfer {
	return &transfer.Transfer{Core: m.db, Memory: m.mem, Embedder: m.emb, Clock: m.clock, Watermarks: m.mem.Progress()}
}

func (e *env) memImportCmd(username *string) *cobra.Command {
	var (
		format    string
		dryRun    bool
		noExtract bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a JSON export, or a chat transcript (--format transcript); FILE '-' is stdin",
		Long: "A JSON export (from `os1 memory export`) recreates conversations, memories, people and journal\n" +
			"for the user, keeping their IDs; an ID that is taken is an error and nothing is written.\n\n" +
			"A transcript ({\"sessions\":[{\"time\",\"messages\":[{\"id\",\"speaker\",\"text\"}]}]}) becomes one\n" +
			"conversation per session; lines whose speaker is the user's display name or username are the\n" +
			"user's, all others hers. Every message is indexed for recall, then memories are extracted by\n" +
			"the language model (--no-extract skips that and needs no model).\n\n" +
			"Run it while `os1 serve` is stopped (it refuses beside a running server, whose recall index would miss\n" +
			"the new messages); --dry-run only reads and works beside it. Or import on the web UI's memory page.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "json" && format != "transcript" {
				return fmt.Errorf("--format %q: want json or transcript", format)
			}
			data, err := e.readInput(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if format == "json" {
				return e.importExport(ctx, *username, args[0], data, dryRun)
			}
			return e.importTranscript(ctx, *username, args[0], data, dryRun, noExtract)
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "json", "json (an os1 export) or transcript")
	f.BoolVar(&dryRun, "dry-run", false, "check the file and the IDs, write nothing")
	f.BoolVar(&noExtract, "no-extract", false, "transcripts: only index the messages; no language model needed")
	return cmd
}

func (e *env) readInput(name string) ([]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return b, nil
}

func (e *env) importExport(ctx context.Context, username, name string, data []byte, dryRun bool) error {
	ex, err := transfer.ParseExport(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	open := e.openMemoryToWrite
	if dryRun { // reads only: fine beside a running server
		open = func(ctx context.Context, username, _ string) (*memEnv, error) { return e.openMemory(ctx, username) }
	}
	m, err := open(ctx, username, "os1 memory import")
	if err != nil {
		return err
	}
	defer m.close()
	if !dryRun {
		e.loadEmbedder(m)
	}
	t := m.transfer()
	t.OnProgress = e.progress(m.clock)
	start := m.clock.Now()
	rep, err := t.Import(ctx, m.user, ex, dryRun)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	verb := "Imported"
	if dryRun {
		verb = "Dry run: would import"
	}
	fmt.Fprintf(e.stdout, "%s %d conversations (%d messages), %d memories, %d people, %d journal entries for %s",
		verb, rep.Conversations, rep.Messages, rep.Items, rep.Entities, rep.Journals, m.user.Username)
	if !dryRun {
		fmt.Fprintf(e.stdout, " in %s", since(m.clock, start))
	}
	fmt.Fprintln(e.stdout, ".")
	if rep.Persona {
		fmt.Fprintln(e.stdout, "Her persona comes along too.")
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(e.stdout, n)
	}
	return nil
}

func since(c clock.Clock, start time.Time) time.Duration {
	return c.Now().Sub(start).Round(time.Millisecond)
}

// progress returns a Transfer.OnProgress that prints at most every 2 s,
// with the rate of the stage it is in.
func (e *env) progress(c clock.Clock) func(stage string, done, total int) {
	var cur string
	var start, last time.Time
	return func(stage string, done, total int) {
		now := c.Now()
		if stage != cur {
			cur, start, last = stage, now, now
		}
		if now.Sub(last) < 2*time.Second || done >= total {
			return
		}
		last = now
		fmt.Fprintf(e.stderr, "os1: %s %d/%d messages (%.0f/s)\n", stage, done, total, float64(done)/now.Sub(start).Seconds())
	}
}

func (e *env) importTranscript(ctx context.Context, username, name string, data []byte, dryRun, noExtract bool) error {
	tr, err := transfer.ParseTranscript(data)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	open := e.openMemoryToWrite
	if dryRun { // reads only: fine beside a running server
		open = func(ctx context.Context, username, _ string) (*memEnv, error) { return e.openMemory(ctx, username) }
	}
	m, err := open(ctx, username, "os1 memory import")
	if err != nil {
		return err
	}
	defer m.close()
	var mm *models.Manager
	if !noExtract && !dryRun {
		// Fail before writing anything when extraction could not run.
		if mm, err = e.newModels(ctx, m); err != nil {
			return err
		}
	}
	if !dryRun {
		e.loadEmbedder(m)
	}
	t := m.transfer()
	t.OnProgress = e.progress(m.clock)
	start := m.clock.Now()
	res, err := t.ImportTranscript(ctx, m.user, tr, dryRun)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if dryRun {
		fmt.Fprintf(e.stdout, "Dry run: would import %d sessions (%d messages) for %s; no id is taken.\n", len(tr.Sessions), res.Messages, m.user.Username)
		e.skipped(res.Skipped)
		return nil
	}
	took := m.clock.Now().Sub(start)
	vectors := "full text only"
	if m.emb != nil {
		vectors = "full text and vectors"
	}
	fmt.Fprintf(e.stdout, "Imported %d messages in %d conversations for %s in %s (%.0f messages/s; indexed with %s).\n",
		res.Messages, len(res.Conversations), m.user.Username, took.Round(time.Millisecond), float64(res.Messages)/max(took.Seconds(), 1e-9), vectors)
	e.skipped(res.Skipped)
	if mm == nil {
		fmt.Fprintln(e.stdout, "No memories were extracted (--no-extract): recall works over the messages themselves.")
		return nil
	}
	return e.extract(ctx, m, mm, res.Conversations, res.Others)
}

// newModels connects the language model the server would use, failing
// with the ways to connect one when there is none.
func (e *env) newModels(ctx context.Context, m *memEnv) (*models.Manager, error) {
	box, err := app.OpenSecrets(ctx, m.cfg, m.db) // the database's key, checked
	if err != nil {
		return nil, err
	}
	mm := app.NewModels(m.db, box, m.cfg, m.clock)
	if st := mm.Refresh(ctx); !st.Connected {
		return nil, errors.New("extracting memories needs a language model. " + models.HowToConnect +
			"\nOr import with --no-extract: recall then works over the messages themselves")
	}
	return mm, nil
}

// skipped says how many transcript messages had no text and were left out.
func (e *env) skipped(n int) {
	if n > 0 {
		fmt.Fprintf(e.stdout, "Left out %d messages with no text.\n", n)
	}
}
