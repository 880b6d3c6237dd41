package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/store/storetest"
)

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "os1.db"))
	})
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nested", "dir", "os1.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	u := store.User{ID: "u1", Username: "alice", Role: store.RoleOwner, CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	// Conversations sit in the -wal file until a checkpoint: it must be as
	// private as the database itself.
	for _, name := range []string{path, path + "-wal"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("mode of %s = %v, want 0600", name, got)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded, want an error")
	}

	// Opening again runs the migrations again; they must be a no-op.
	for range 2 {
		db = open(t, path)
		got, err := db.UserByID(t.Context(), "u1")
		if err != nil {
			t.Fatalf("UserByID after reopen: %v", err)
		}
		if got.Username != "alice" || !got.CreatedAt.Equal(u.CreatedAt) {
			t.Errorf("user after reopen = %+v, want %+v", got, u)
		}
		db.Close()
	}

	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("mode of the created directory = %v, want 0700", got)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat("these are my notes, not a database\n", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(t.Context(), path)
	if err == nil {
		t.Fatal("Open of a text file succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "not an SQLite database") {
		t.Errorf("error %q should name the file and say it is not an SQLite database", msg)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "these are my notes") {
		t.Error("Open modified a file that is not a database")
	}
}

func TestOpenUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "os1.db")
	if err := os.WriteFile(path, nil, 0o000); err != nil {
		t.Fatal(err)
	}
	_, err := sqlite.Open(t.Context(), path)
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("Open of an unreadable file: got %v, want a permission error", err)
	}
	if want := "open database " + path + ": permission denied"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := sqlite.Open(t.Context(), dir)
	if err == nil || !strings.Contains(err.Error(), "open database "+dir) {
		t.Fatalf("Open of a directory: got %v, want an error naming it", err)
	}
}

func TestOpenEmptyPath(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), ""); err == nil {
		t.Fatal("Open with an empty path succeeded")
	}
}

func TestPathWithSpecialCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "my data?#%20&a=b+c", "os1 db.sqlite")
	db := open(t, path)
	if err := db.SetSetting(t.Context(), "k", "v"); err != nil {
		t.Fatalf("SetSetting: %v", err)
	}
	for _, name := range []string{path, path + "-wal"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("database not at the given path: %v", err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("mode of %s = %v, want 0600", name, got)
		}
	}
}

func TestOpenParentIsFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(file, "os1.db")
	_, err := sqlite.Open(t.Context(), path)
	if err == nil || !strings.HasPrefix(err.Error(), "open database "+path+": ") {
		t.Fatalf("Open below a regular file: got %v, want an error naming the database", err)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "os1.db")
	open(t, path).Close()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	// As if a later os1 had migrated this file.
	if _, err := raw.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (999, 1)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = sqlite.Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "upgrade os1") {
		t.Fatalf("Open of a newer schema: got %v, want an error asking to upgrade", err)
	}
}

// TestCloseFoldsTheLog checks the background-checkpoint design leaves no
// growing write-ahead log behind: Close folds it into the database file.
func TestCloseFoldsTheLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "os1.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		if err := db.SetSetting(ctx, fmt.Sprint("k", i), strings.Repeat("v", 1000)); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() == 0 {
		t.Fatalf("expected a non-empty log before Close: %v %v", st, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path + "-wal"); err == nil && st.Size() > 0 {
		t.Fatalf("log still holds %d bytes after Close", st.Size())
	}
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, err := db.Setting(ctx, "k199"); err != nil || len(v) != 1000 {
		t.Fatalf("data lost: %v", err)
	}
}

// A conversation written before branches (migration 00007) becomes one path
// in the order its messages were written, and new messages continue it.
func TestOlderConversationsBecomeOnePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "os1.db")
	err := sqlite.MigrateTo(t.Context(), path, 6,
		`INSERT INTO users (id, username, display_name, role, password_hash) VALUES ('u1', 'sam', 'Sam', 'owner', 'x')`,
		`INSERT INTO conversations (id, user_id, title) VALUES ('c1', 'u1', 't'), ('c2', 'u1', 'empty')`,
		`INSERT INTO messages (id, conversation_id, user_id, role, content, tool_calls, tool_call_id, status, error)
		 VALUES ('z', 'c1', 'u1', 'user', 'first', '', '', 'complete', ''),
		        ('b', 'c1', 'u1', 'assistant', 'second', '', '', 'complete', ''),
		        ('a', 'c1', 'u1', 'user', 'third', '', '', 'complete', '')`)
	if err != nil {
		t.Fatalf("older database: %v", err)
	}
	db := open(t, path)
	ctx := t.Context()
	if err := db.AppendMessage(ctx, store.Message{ID: "n", ConversationID: "c1", UserID: "u1", Role: store.RoleAssistant, Status: store.StatusComplete}); err != nil {
		t.Fatal(err)
	}
	msgs, err := db.Messages(ctx, "u1", "c1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.ID+"<"+m.ParentID)
	}
	if want := "z< b<z a<b n<a"; strings.Join(got, " ") != want {
		t.Errorf("path after migration = %q, want %q", strings.Join(got, " "), want)
	}
	if msgs, err := db.Messages(ctx, "u1", "c2"); err != nil || len(msgs) != 0 {
		t.Errorf("empty conversation after migration = %v, %v", msgs, err)
	}
}
