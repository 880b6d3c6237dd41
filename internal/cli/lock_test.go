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
		if code == 0 || !strings.Contains(stderr, "stop it and run this again") {
			t.Errorf("%v while serving: %d %q", args, code, stderr)
		}
	}
	// Reading beside a server is fine.
	if code, _, stderr := r.run("", "memory", "search", "hello"); code != 0 {
		t.Errorf("memory search while serving: %d %q", code, stderr)
	}
	lock.Release()
	if code, _, stderr := r.run("", "memory", "import", "--format", "transcript", "--no-extract", file); code != 0 {
		t.Fatalf("import after the server stopped: %d %q", code, stderr)
	}
}
