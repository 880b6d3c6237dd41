package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps guards the default binary's dependency graph: pure Go (no cgo),
// and nothing meant for tests or browsers linked in.
func TestDeps(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	forbidden := []string{
		"runtime/cgo",
		"github.com/chromedp/",
		"github.com/os1ai/os1/internal/llm/llmtest",
		"github.com/os1ai/os1/internal/llm/llamatest",
		"github.com/os1ai/os1/internal/store/storetest",
		"github.com/os1ai/os1/internal/e2e",
		"github.com/os1ai/os1/internal/testrig",
		"github.com/os1ai/os1/internal/memory/memtest",
		"github.com/os1ai/os1/internal/memory/memorytest",
		"github.com/os1ai/os1/internal/webpush/webpushtest",
		"github.com/os1ai/os1/internal/daemontest",
		"net/http/httptest",
		"testing",
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == f || (strings.HasSuffix(f, "/") && strings.HasPrefix(d, f)) {
				t.Errorf("os1 links %s", d)
			}
		}
	}
	for _, want := range []string{"github.com/ncruces/go-sqlite3", "github.com/os1ai/os1/internal/web"} {
		found := false
		for _, d := range deps {
			found = found || d == want
		}
		if !found {
			t.Errorf("os1 should link %s", want)
		}
	}
}
