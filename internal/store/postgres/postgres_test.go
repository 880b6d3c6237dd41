package postgres_test

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The same contract suite as SQLite, on a real PostgreSQL 15.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, pgtest.New(t))
	})
}

// Appends racing on one conversation take turns: every message lands on
// the one path, each after the one before (no two share a parent).
func TestConcurrentAppendsKeepOnePath(t *testing.T) {
	db := open(t, pgtest.New(t))
	ctx := t.Context()
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	if err := db.CreateUser(ctx, store.User{ID: "u", Username: "u", Role: store.RoleOwner, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateConversation(ctx, store.Conversation{ID: "c", UserID: "u", CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- db.AppendMessage(ctx, store.Message{ID: fmt.Sprintf("m%02d", i), ConversationID: "c", UserID: "u",
				Role: store.RoleUser, Content: "hi", Status: store.StatusComplete, CreatedAt: t0})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := db.Messages(ctx, "u", "c")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != n {
		t.Fatalf("the current path has %d messages, want all %d (appends forked the conversation)", len(msgs), n)
	}
	for i, m := range msgs[1:] {
		if m.ParentID != msgs[i].ID {
			t.Errorf("message %s follows %s, want %s", m.ID, m.ParentID, msgs[i].ID)
		}
	}
}

// The password in the URL never shows in an error.
func TestOpenErrorHidesPassword(t *testing.T) {
	pgtest.Require(t)
	_, err := postgres.Open(t.Context(), "postgres://os1:sekrit-pw@127.0.0.1:1/nothing?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "sekrit-pw") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// A database migrated by a newer os1 is refused, not half-used.
func TestNewerSchemaRefused(t *testing.T) {
	url := pgtest.New(t)
	open(t, url).Close()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(t.Context(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, true)`); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(t.Context(), url)
	if err == nil || !strings.Contains(err.Error(), "newer than this os1 knows") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}

// Two processes opening an empty database at once both succeed (the
// migration lock makes the second wait for the first).
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := pgtest.New(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(t.Context(), url)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// The pool numbers '?' placeholders for PostgreSQL, and leaves a '?' in a
// string literal alone, so stores written once run on both databases.
func TestQuestionMarkPlaceholders(t *testing.T) {
	db := open(t, pgtest.New(t))
	var got string
	if err := db.SQL().QueryRowContext(t.Context(), `SELECT ? || '?' || ? || ?1`, "a", "b").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "a?ba" {
		t.Fatalf("got %q, want a?ba", got)
	}
	if db.Dialect() != sqldb.Postgres {
		t.Fatalf("dialect %q", db.Dialect())
	}
}
