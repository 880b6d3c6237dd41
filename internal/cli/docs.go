package cli

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/os1ai/os1/internal/documents"
)

// `os1 docs …` is the writing desk on the command line, against a running
// server (like `os1 reminders`, it needs `os1 login` or a token): list,
// read, the history of versions, a diff between two, restore, and import a
// Markdown file as a new document.

func (e *env) docsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "docs",
		Short: "Your documents (letters, notes, chapters): list, show, history, diff, restore, import",
		Long: "The writing desk: every save of a document is kept as a version, so you can compare any two\n" +
			"and restore an earlier one (a restore is itself a new version; nothing is lost).",
	}
	connect := e.connectFlags(cmd)
	cmd.AddCommand(e.docsListCmd(connect), e.docsShowCmd(connect), e.docsHistoryCmd(connect), e.docsDiffCmd(connect),
		e.docsRestoreCmd(connect), e.docsImportCmd(connect))
	return cmd
}

func (e *env) docsListCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List your documents, most recently saved first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			var out struct {
				Documents []documents.Document `json:"documents"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, "/api/documents", nil, &out); err != nil {
				return err
			}
			if len(out.Documents) == 0 {
				fmt.Fprintln(e.stdout, "No documents yet: import one with `os1 docs import letter.md`, write in the web app, or ask os1 to draft one.")
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tVERSION\tSAVED\tBY\tTITLE")
			for _, d := range out.Documents {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.Kind, d.Version, d.UpdatedAt.Local().Format("2006-01-02 15:04"), d.Source, d.Title)
			}
			return tw.Flush()
		},
	}
}

func (e *env) docsShowCmd(connect connectFunc) *cobra.Command {
	var version int
	cmd := &cobra.Command{
		Use:   "show ID [--version N]",
		Short: "Print a document's Markdown (the current version, or --version N)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version < 0 || (version == 0 && cmd.Flags().Changed("version")) {
				return &exitError{code: 2, err: fmt.Errorf("--version %d is not a version number (1, 2, …; see `os1 docs history ID`)", version)}
			}
			c, err := connect()
			if err != nil {
				return err
			}
			var body string
			if version > 0 {
				var v documents.Version
				if err := c.do(cmd.Context(), http.MethodGet, fmt.Sprintf("/api/documents/%s/versions/%d", url.PathEscape(args[0]), version), nil, &v); err != nil {
					return err
				}
				body = v.Body
			} else {
				var d documents.Document
				if err := c.do(cmd.Context(), http.MethodGet, "/api/documents/"+url.PathEscape(args[0]), nil, &d); err != nil {
					return err
				}
				body = d.Body
			}
			fmt.Fprint(e.stdout, body)
			if body != "" && !strings.HasSuffix(body, "\n") {
				fmt.Fprintln(e.stdout)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "an earlier version's number")
	return cmd
}

func (e *env) docsHistoryCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "history ID",
		Short: "List a document's versions, newest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := connect()
			if err != nil {
				return err
			}
			var out struct {
				Versions []documents.Version `json:"versions"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, "/api/documents/"+url.PathEscape(args[0])+"/versions", nil, &out); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tSAVED\tBY\tTITLE")
			for _, v := range out.Versions {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", v.N, v.SavedAt.Local().Format("2006-01-02 15:04"), v.Source, v.Title)
			}
			return tw.Flush()
		},
	}
}

// versionArg reads a version number argument.
func versionArg(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, &exitError{code: 2, err: fmt.Errorf("%q is not a version number (1, 2, …; see `os1 docs history ID`)", s)}
	}
	return n, nil
}

func (e *env) docsDiffCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "diff ID A B",
		Short: "Show what changed from version A to version B, line by line (- removed, + added)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := versionArg(args[1])
			if err != nil {
				return err
			}
			b, err := versionArg(args[2])
			if err != nil {
				return err
			}
			c, err := connect()
			if err != nil {
				return err
			}
			var out struct {
				Lines []documents.DiffLine `json:"lines"`
			}
			if err := c.do(cmd.Context(), http.MethodGet, fmt.Sprintf("/api/documents/%s/diff?from=%d&to=%d", url.PathEscape(args[0]), a, b), nil, &out); err != nil {
				return err
			}
			changed := false
			for _, l := range out.Lines {
				mark := " "
				if l.Op != "=" {
					mark, changed = l.Op, true
				}
				fmt.Fprintf(e.stdout, "%s %s\n", mark, l.Text)
			}
			if !changed {
				fmt.Fprintf(e.stderr, "Versions %d and %d have the same text.\n", a, b)
			}
			return nil
		},
	}
}

func (e *env) docsRestoreCmd(connect connectFunc) *cobra.Command {
	return &cobra.Command{
		Use:   "restore ID N",
		Short: "Make version N the current text again (as a new version; the ones in between stay)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := versionArg(args[1])
			if err != nil {
				return err
			}
			c, err := connect()
			if err != nil {
				return err
			}
			var d documents.Document
			if err := c.do(cmd.Context(), http.MethodPost, fmt.Sprintf("/api/documents/%s/versions/%d/restore", url.PathEscape(args[0]), n), nil, &d); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Restored version %d of %q as version %d.\n", n, d.Title, d.Version)
			return nil
		},
	}
}

func (e *env) docsImportCmd(connect connectFunc) *cobra.Command {
	var title, kind string
	cmd := &cobra.Command{
		Use:   "import FILE.md [--title T] [--kind letter|note|chapter]",
		Short: "Add a Markdown file (or - for standard input) as a new document",
		Long: "The title is --title, else the file's first line. A file is at most 5 MB; Markdown that does not\n" +
			"parse is kept as written.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = e.stdin
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			b, err := io.ReadAll(io.LimitReader(r, documents.MaxBodyBytes+1))
			if err != nil {
				return fmt.Errorf("read %s: %w", args[0], err)
			}
			if len(b) > documents.MaxBodyBytes {
				return &exitError{code: 1, err: fmt.Errorf("%s is larger than 5 MB, the most a document may be", args[0])}
			}
			if len(b) == 0 {
				return &exitError{code: 1, err: errors.New(args[0] + " is empty")}
			}
			c, err := connect()
			if err != nil {
				return err
			}
			var d documents.Document
			in := map[string]string{"title": title, "kind": kind, "body": string(b)}
			if err := c.do(cmd.Context(), http.MethodPost, "/api/documents", in, &d); err != nil {
				return err
			}
			name := filepath.Base(args[0])
			if args[0] == "-" {
				name = "standard input"
			}
			fmt.Fprintf(e.stdout, "Imported %s as %s %q [%s], saved %s.\n", name, d.Kind, d.Title, d.ID, d.CreatedAt.Local().Format(time.DateTime))
			return nil
		},
	}
	cmd.Flags().StringVar(&title, "title", "", "the document's title (default: its first line)")
	cmd.Flags().StringVar(&kind, "kind", "letter", "letter, note or chapter")
	return cmd
}
