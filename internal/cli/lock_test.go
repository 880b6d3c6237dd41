package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/datadir"
)

// A second server on a data dir refuses to start (before: it marked the
// first one's live reply interrupted), and commands that change data say
// why they wait instead of writing behind the server's back.
func TestServerHoldsTheDataDir(t *testing.T) {
	r := startApp(t, "OS1_ADDR", "127.0.0.1:0")
	lock, err := datadir.Acquire(r.env["OS1_DATA_DIR"], "os1 serve")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()

	code, _, stderr := r.run("", "serve")
	if code == 0 || !strings.Contains(stderr, "in use by os1 serve (pid") || !strings.Contains(stderr, "--data-dir") {
		t.Fatalf("second serve: %d %q", code, stderr)
	}
	file := filepath.Join(t.TempDir(), "chat.json")
	if err := os.WriteFile(file, []byte(transcriptFile), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"memory", "import", "--format", "transcript", "--no-extract", file},
		{"memory", "forget", "mem_x"},
	} {
		code, _, stderr := r.run("", args...)
		if code == 0 || !strings.Contains(stderr, "Stop the server and run this again") {
			t.Errorf("%v while serving: %d %q", args, code, stderr)
		}
	}
	// Reading beside a server is fine, a dry run too.
	if code, _, stderr := r.run("", "memory", "search", "hello"); code != 0 {
		t.Errorf("memory search while serving: %d %q", code, stderr)
	}
	if code, _, stderr := r.run("", "memory", "import", "--dry-run", "--format", "transcript", file); code != 0 {
		t.Errorf("memory import --dry-run while serving: %d %q", code, stderr)
	}
	if code, _, stderr := r.run("", "user", "disable", "theo"); code == 0 || !strings.Contains(stderr, "live sessions") {
		t.Errorf("user disable while serving: %d %q", code, stderr)
	}
	lock.Release()
	if code, _, stderr := r.run("", "memory", "import", "--format", "transcript", "--no-extract", file); code != 0 {
		t.Fatalf("import after the server stopped: %d %q", code, stderr)
	}
}

// Doctor looks and never creates: a mistyped data dir is reported, not made
// into a new empty one (before: it created the folder, database and key and
// said everything was fine).
func TestDoctorCreatesNothing(t *testing.T) {
	home := t.TempDir()
	missing := filepath.Join(home, "typo")
	env := map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "OS1_DATA_DIR": missing, "OS1_OLLAMA_URL": "off"}
	var out, errb strings.Builder
	code := Main([]string{"doctor"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	if code == 0 || !strings.Contains(out.String(), missing+" does not exist") {
		t.Fatalf("doctor on a missing data dir: %d %q", code, out.String())
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("doctor created %s", missing)
	}
	// An existing folder without a database: said, and still nothing made.
	if err := os.Mkdir(missing, 0o755); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	Main([]string{"doctor"}, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
	if !strings.Contains(out.String(), "others on this machine may read it") || !strings.Contains(out.String(), "no database at") {
		t.Fatalf("doctor on an empty, open folder: %q", out.String())
	}
	if entries, _ := os.ReadDir(missing); len(entries) != 0 {
		t.Fatalf("doctor left %d files in the data dir", len(entries))
	}
}
