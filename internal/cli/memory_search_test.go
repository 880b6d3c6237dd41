package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const mayaTranscript = `{"sessions": [
  {"time": "2026-03-02T09:00:00Z", "messages": [
    {"id": "s-1", "speaker": "Theo", "text": "hello"},
    {"id": "s-2", "speaker": "Sam", "text": "A fresh start."},
    {"id": "s-3", "speaker": "Theo", "text": "My sister Maya moved to Lisbon."},
    {"id": "s-4", "speaker": "Theo", "text": "Pasta again for dinner."},
    {"id": "s-5", "speaker": "Theo", "text": "Maya called me today!"}
  ]}
]}`

// Issue 10: `os1 memory search Maya` lists only what matches, with the
// matching words in bold on a terminal and plain in a pipe. With the
// embedding model installed (scripts/assets.sh model) the meaning side
// runs too, the case that listed every message.
func TestMemorySearchShowsOnlyMatches(t *testing.T) {
	d := newDataDir(t, "theo")
	if home, err := os.UserHomeDir(); err == nil {
		if cache := filepath.Join(home, ".cache", "os1"); modelInstalled(filepath.Join(cache, "models", "use-lite", "model.json")) {
			d.env["OS1_CACHE_DIR"] = cache
			t.Log("with the embedding model")
		}
	}
	if code, out, stderr := d.run("memory", "import", "--format", "transcript", "--no-extract", d.file(t, "t.json", mayaTranscript)); code != 0 {
		t.Fatalf("import: %d %q %q", code, out, stderr)
	}

	code, out, stderr := d.run("memory", "search", "--json", "Maya")
	if code != 0 {
		t.Fatalf("search: %d %q", code, stderr)
	}
	var res searchOutput
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Results {
		got = append(got, r.ID)
		// Maya, and her other names: "My sister Maya…" introduces her as
		// the sister (recall's names.go), so "sister" may be marked too.
		runes := []rune(r.Text)
		var marked []string
		for _, m := range r.Marks {
			marked = append(marked, string(runes[m[0]:m[1]]))
		}
		if !slices.Contains(marked, "Maya") || slices.ContainsFunc(marked, func(m string) bool { return m != "Maya" && m != "sister" }) {
			t.Errorf("%s marks %q in %q, want Maya (and her other names)", r.ID, marked, r.Text)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"s-3", "s-5"}) {
		t.Errorf("search Maya = %v, want only s-3 and s-5", got)
	}

	// A pipe gets plain text: no escape codes, nothing added but the turn
	// before (a context unit) and its ID.
	code, out, _ = d.run("memory", "search", "Maya")
	if code != 0 || strings.Contains(out, "\x1b") || !strings.Contains(out, "    (before: A fresh start.) My sister Maya moved to Lisbon.\n    from: s-3, s-2\n") || strings.Contains(out, "hello") {
		t.Errorf("plain search output %q", out)
	}
	if code, out, _ = d.run("memory", "search", "zebra"); code != 0 || out != "Nothing matches \"zebra\".\n" {
		t.Errorf("search with no match: %d %q", code, out)
	}
	// --all is recall as the companion sees it: with the model, the
	// meaning side's neighbours too; never fewer than the matches.
	code, out, _ = d.run("memory", "search", "--all", "--json", "Maya")
	var all searchOutput
	if err := json.Unmarshal([]byte(out), &all); code != 0 || err != nil || len(all.Results) < 2 || strings.Contains(out, `"marks"`) {
		t.Errorf("--all: %d %q", code, out)
	}
}

func TestClipMarked(t *testing.T) {
	for _, tc := range []struct {
		s     string
		marks [][2]int
		n     int
		want  string
	}{
		{"My sister Maya", [][2]int{{10, 14}}, 300, "My sister <Maya>"},
		{"  Maya\n\n said\tMaya ", [][2]int{{2, 6}, {14, 18}}, 300, "<Maya> said <Maya>"},
		{"Maya is here", [][2]int{{0, 4}}, 3, "<Ma>…"},
		{"evil \x1b[31m Maya", [][2]int{{11, 15}}, 300, "evil [31m <Maya>"},
		{"Café Maya", [][2]int{{6, 10}}, 300, "Café <Maya>"},
	} {
		if got := clipMarked(tc.s, tc.marks, tc.n, "<", ">"); got != tc.want {
			t.Errorf("clipMarked(%q, %v, %d) = %q, want %q", tc.s, tc.marks, tc.n, got, tc.want)
		}
	}
}

func modelInstalled(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
