package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store/sqlite"
)

func TestMemoryRetryListsAndReleases(t *testing.T) {
	d := newDataDir(t, "theo")
	if code, out, _ := d.run("memory", "retry"); code != 0 || !strings.Contains(out, "Nothing of theo's is skipped") {
		t.Fatalf("retry with nothing skipped: %d %q", code, out)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(d.dir, "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	p := sqlitemem.NewProgress(db.SQL())
	err = p.SetFailures(context.Background(), []memory.Failure{
		{Kind: memory.FailedConversation, ID: "cnv_bad", UserID: "usr_theo", Count: 3, Error: "sqlite3: out of memory", Quarantined: true}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, out, _ := d.run("memory", "retry"); code != 0 || !strings.Contains(out, "cnv_bad\tconversation\t3 panics") {
		t.Fatalf("retry list: %d %q", code, out)
	}
	if code, out, stderr := d.run("memory", "retry", "cnv_bad"); code != 0 || !strings.Contains(out, "Released conversation cnv_bad") {
		t.Fatalf("retry cnv_bad: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := d.run("memory", "retry", "cnv_bad"); code == 0 || !strings.Contains(stderr, `no quarantined memory record "cnv_bad"`) {
		t.Fatalf("retry twice: %d %q", code, stderr)
	}
}
