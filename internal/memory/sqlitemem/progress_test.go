package sqlitemem_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

func addConversation(t *testing.T, db coreDB, id, user string) {
	t.Helper()
	if err := db.CreateConversation(t.Context(), store.Conversation{ID: id, UserID: user, Title: id, CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
}

func TestProgressKeepsWatermarksJournalAndFailuresPerUser(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		ctx := t.Context()
		addConversation(t, db, "c1", "u1")
		addConversation(t, db, "c2", "u2")
		p := sqlitemem.NewProgressFor(db)

		if w, err := p.Watermark(ctx, "c1"); err != nil || w != (memory.Watermark{}) {
			t.Fatalf("a new conversation's watermark: %+v, %v", w, err)
		}
		for _, w := range []memory.Watermark{{Indexed: "m1"}, {Indexed: "m2", Extracted: "m1"}} {
			if err := p.SetWatermark(ctx, "c1", w); err != nil {
				t.Fatal(err)
			}
			if got, err := p.Watermark(ctx, "c1"); err != nil || got != w {
				t.Fatalf("watermark %+v, %v; want %+v", got, err, w)
			}
		}
		if err := p.SetWatermark(ctx, "gone", memory.Watermark{Indexed: "m1"}); err != nil {
			t.Fatalf("a deleted conversation's watermark: %v", err)
		}
		if w, _ := p.Watermark(ctx, "gone"); w != (memory.Watermark{}) {
			t.Fatalf("a conversation that does not exist kept the watermark %+v", w)
		}

		when := t0.Add(90 * time.Minute)
		if j, err := p.Journaled(ctx, "u1"); err != nil || !j.IsZero() {
			t.Fatalf("a new user's journal time: %v, %v", j, err)
		}
		if err := p.SetJournaled(ctx, "u1", when); err != nil {
			t.Fatal(err)
		}
		if j, err := p.Journaled(ctx, "u1"); err != nil || !j.Equal(when) {
			t.Fatalf("journal time %v, %v; want %v", j, err, when)
		}

		fs := []memory.Failure{
			{Kind: memory.FailedConversation, ID: "c2", UserID: "u2", Count: 3, Error: "boom", At: when, Quarantined: true},
			{Kind: memory.FailedJournal, ID: "u1", UserID: "u1", Count: 1, Error: "bang", At: t0},
			{Kind: memory.FailedConversation, ID: "cx", UserID: "nobody", Count: 1},
		}
		if err := p.SetFailures(ctx, fs); err != nil {
			t.Fatal(err)
		}
		got, err := p.Failures(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(fs[:2]) {
			t.Fatalf("failures %+v, want the first two in order (the unknown user's dropped)", got)
		}
		if q, _ := memory.Quarantined(ctx, p, "u1"); len(q) != 0 {
			t.Fatalf("u1 sees u2's quarantined records: %v", q)
		}

		// Deleting a user deletes their progress with them.
		if err := db.DeleteUser(ctx, "u2"); err != nil {
			t.Fatal(err)
		}
		if w, _ := p.Watermark(ctx, "c2"); w != (memory.Watermark{}) {
			t.Errorf("a deleted user's watermark survived: %+v", w)
		}
		if got, _ := p.Failures(ctx); len(got) != 1 || got[0].UserID != "u1" {
			t.Errorf("failures after deleting u2: %+v", got)
		}
		if err := p.ForgetWatermark(ctx, "c1"); err != nil {
			t.Fatal(err)
		}
		if w, _ := p.Watermark(ctx, "c1"); w != (memory.Watermark{}) {
			t.Errorf("after ForgetWatermark: %+v", w)
		}
	}, "u1", "u2")
}

// Migration 00006 moves the progress that older versions kept in settings
// rows into the tables, dropping rows of conversations and users that are
// gone, and leaves the other settings alone.
func TestMigrationMovesProgressOutOfSettings(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "os1.db")
	db := openDB(t, path, "u1")
	addConversation(t, db, "c1", "u1")
	// Back to the schema before 00006, with the rows it held.
	gp, err := goose.NewProvider(goose.DialectSQLite3, db.SQL(), sqlite.Migrations(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gp.DownTo(ctx, 5); err != nil {
		t.Fatalf("back to migration 5: %v", err)
	}
	for k, v := range map[string]string{
		"memory.watermark.c1":      `{"indexed":"m3","extracted":"m2"}`,
		"memory.watermark.deleted": `{"indexed":"m9","extracted":"m9"}`,
		"memory.journaled.u1":      "2026-11-24T21:30:00.5Z",
		"memory.journaled.gone":    "2026-11-24T21:30:00Z",
		"memory.failures": `[{"kind":"conversation","id":"c1","user_id":"u1","count":3,"error":"boom","at":"2026-11-24T10:00:00Z","quarantined":true},` +
			`{"kind":"journal","id":"gone","user_id":"gone","count":1,"error":"x","at":"2026-11-24T10:00:00Z","quarantined":false}]`,
		"llm.model": "llama3.2",
	} {
		if err := db.SetSetting(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	db = openDB(t, path)
	p := sqlitemem.NewProgress(db.SQL())
	if w, err := p.Watermark(ctx, "c1"); err != nil || w != (memory.Watermark{Indexed: "m3", Extracted: "m2"}) {
		t.Errorf("migrated watermark %+v, %v", w, err)
	}
	if j, err := p.Journaled(ctx, "u1"); err != nil || !j.Equal(time.Date(2026, 11, 24, 21, 30, 0, 5e8, time.UTC)) {
		t.Errorf("migrated journal time %v, %v", j, err)
	}
	fs, err := p.Failures(ctx)
	want := []memory.Failure{{Kind: memory.FailedConversation, ID: "c1", UserID: "u1", Count: 3, Error: "boom",
		At: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), Quarantined: true}}
	if err != nil || fmt.Sprint(fs) != fmt.Sprint(want) {
		t.Errorf("migrated failures %+v, %v; want %+v", fs, err, want)
	}
	for _, k := range []string{"memory.watermark.c1", "memory.watermark.deleted", "memory.journaled.u1", "memory.failures"} {
		if v, err := db.Setting(ctx, k); err == nil {
			t.Errorf("setting %s is still there: %q", k, v)
		}
	}
	if v, err := db.Setting(ctx, "llm.model"); err != nil || v != "llama3.2" {
		t.Errorf("another setting was touched: %q, %v", v, err)
	}
}
