package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocsCommands: import a letter, save a new version over the API (as
// the editor does), see the history, the diff and an earlier version, and
// restore it as a new version; bad input says what to fix.
func TestDocsCommands(t *testing.T) {
	r := startApp(t)
	if code, _, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", stderr)
	}
	if code, out, _ := r.run("", "docs", "list"); code != 0 || !strings.Contains(out, "No documents yet") {
		t.Fatalf("empty list: %d %q", code, out)
	}
	file := filepath.Join(t.TempDir(), "chris.md")
	first := "# For Chris\n\nDear Chris,\nHappy birthday.\nLove, Theo — ☕ Zoë\n"
	if err := os.WriteFile(file, []byte(first), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := r.run("", "docs", "import", file)
	if code != 0 || !strings.Contains(out, `Imported chris.md as letter "For Chris"`) {
		t.Fatalf("import: %d %q %q", code, out, stderr)
	}
	id := regexp.MustCompile(`\[(doc_\w+)\]`).FindStringSubmatch(out)
	if id == nil {
		t.Fatalf("no id in %q", out)
	}
	// A second version, saved through the API as the web editor saves.
	e := &env{getenv: func(k string) string { return r.env[k] }}
	cfg, err := e.config()
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.client(cfg)
	if err != nil {
		t.Fatal(err)
	}
	second := strings.Replace(first, "Happy birthday.", "Happy 50th birthday!", 1)
	if err := c.do(t.Context(), "PUT", "/api/documents/"+id[1], map[string]any{"body": second, "base_version": 1}, nil); err != nil {
		t.Fatal(err)
	}
	code, out, _ = r.run("", "docs", "list")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 || !strings.Contains(lines[1], id[1]) || !strings.Contains(lines[1], "For Chris") {
		t.Fatalf("list:\n%s", out)
	}
	if code, out, _ = r.run("", "docs", "show", id[1]); code != 0 || out != second {
		t.Fatalf("show: %d %q", code, out)
	}
	if code, out, _ = r.run("", "docs", "show", id[1], "--version", "1"); code != 0 || out != first {
		t.Fatalf("show --version 1: %d %q", code, out)
	}
	code, out, _ = r.run("", "docs", "history", id[1])
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[1], "2 ") || !strings.HasPrefix(lines[2], "1 ") {
		t.Fatalf("history:\n%s", out)
	}
	code, out, _ = r.run("", "docs", "diff", id[1], "1", "2")
	if want := "  # For Chris\n  \n  Dear Chris,\n- Happy birthday.\n+ Happy 50th birthday!\n  Love, Theo — ☕ Zoë\n"; code != 0 || out != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", out, want)
	}
	if code, out, _ = r.run("", "docs", "restore", id[1], "1"); code != 0 || out != "Restored version 1 of \"For Chris\" as version 3.\n" {
		t.Fatalf("restore: %d %q", code, out)
	}
	if code, out, _ = r.run("", "docs", "show", id[1]); code != 0 || out != first {
		t.Fatalf("show after restore: %d %q", code, out)
	}
	if code, out, _ = r.run("", "docs", "history", id[1]); !strings.Contains(out, "restore") {
		t.Fatalf("history after restore:\n%s", out)
	}
	// From standard input, with broken Markdown: kept as written.
	broken := "**unclosed [link(\n```\n"
	if code, out, stderr = r.run(broken, "docs", "import", "-", "--kind", "note", "--title", "Scraps"); code != 0 || !strings.Contains(out, `note "Scraps"`) {
		t.Fatalf("import -: %d %q %q", code, out, stderr)
	}

	if code, _, stderr = r.run("", "docs", "diff", id[1], "1", "two"); code != 2 || !strings.Contains(stderr, "not a version number") {
		t.Fatalf("a bad version: %d %q", code, stderr)
	}
	if code, _, stderr = r.run("", "docs", "show", "doc_nope"); code == 0 || !strings.Contains(stderr, "No such document") {
		t.Fatalf("an unknown id: %d %q", code, stderr)
	}
	big := filepath.Join(t.TempDir(), "big.md")
	if err := os.WriteFile(big, []byte(strings.Repeat("a", 5<<20+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr = r.run("", "docs", "import", big); code == 0 || !strings.Contains(stderr, "larger than 5 MB") {
		t.Fatalf("a 5 MB file: %d %q", code, stderr)
	}
	if code, _, stderr = r.run("", "docs", "import", "--kind", "poem", file); code == 0 || !strings.Contains(stderr, "not one of letter, note, chapter") {
		t.Fatalf("a bad kind: %d %q", code, stderr)
	}
}
