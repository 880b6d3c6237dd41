package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/store/pgtest"
)

const verifierSetting = "secret.key_verifier"

// writeKey writes a 32-byte key made of fill (mode 0600) and returns its box.
func writeKey(t *testing.T, path string, fill byte) *secret.Box {
	t.Helper()
	key := bytes.Repeat([]byte{fill}, secret.KeySize)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

func startApp(t *testing.T, cfg config.Config) (*app.App, error) {
	t.Helper()
	a, err := app.New(context.Background(), cfg, app.Options{PasswordCost: auth.TestCost})
	if err == nil {
		t.Cleanup(func() { a.Close() })
	}
	return a, err
}

func storedVerifier(t *testing.T, cfg config.Config) string {
	t.Helper()
	db, err := app.OpenDB(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := db.Setting(context.Background(), verifierSetting)
	if err != nil {
		return ""
	}
	return v
}

// wantKeyRefusal checks err is the refusal naming the key file, and that
// no key file was made when there was none.
func wantKeyRefusal(t *testing.T, err error, path string, missing bool) {
	t.Helper()
	var ke *app.SecretKeyError
	if !errors.As(err, &ke) {
		t.Fatalf("start with another key: got %v, want a *SecretKeyError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, path) || !strings.Contains(msg, "copy secret.key from a node that works") ||
		!strings.Contains(msg, "OS1_SECRET_KEY_FILE") || ke.Missing != missing {
		t.Fatalf("refusal %q (missing %v) should name %s, say how to fix it, and missing=%v", msg, ke.Missing, path, missing)
	}
	if !missing && !strings.Contains(msg, "is not the one the database") {
		t.Fatalf("refusal %q does not say the key is not the database's", msg)
	}
	if strings.Contains(msg, testPassword) {
		t.Fatalf("refusal %q shows the database password", msg)
	}
	if missing {
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("a refused start made a key file at %s (%v)", path, err)
		}
	}
}

// One process on SQLite: the first start makes the key and stores its
// verifier; a swapped key file is then refused, a missing one is refused
// without making a new one, and the right key starts again.
func TestSecretKeyCheckedOnSQLite(t *testing.T) {
	cfg := testConfig(t)
	a, err := startApp(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	v := storedVerifier(t, cfg)
	if !a.Secrets.Verifies(v) {
		t.Fatalf("first start stored verifier %q, not its key's", v)
	}
	sealed, err := a.Secrets.Seal("sk-live")
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	good, err := os.ReadFile(cfg.KeyPath())
	if err != nil {
		t.Fatal(err)
	}

	writeKey(t, cfg.KeyPath(), 7)
	_, err = startApp(t, cfg)
	wantKeyRefusal(t, err, cfg.KeyPath(), false)

	if err := os.Remove(cfg.KeyPath()); err != nil {
		t.Fatal(err)
	}
	_, err = startApp(t, cfg)
	wantKeyRefusal(t, err, cfg.KeyPath(), true)

	if err := os.WriteFile(cfg.KeyPath(), good, 0o600); err != nil {
		t.Fatal(err)
	}
	a, err = startApp(t, cfg)
	if err != nil {
		t.Fatalf("the right key again: %v", err)
	}
	if plain, err := a.Secrets.Open(sealed); err != nil || plain != "sk-live" {
		t.Fatalf("the right key opens %q, %v", plain, err)
	}
	if got := storedVerifier(t, cfg); got != v {
		t.Fatalf("verifier changed from %q to %q", v, got)
	}
}

// A data dir from before verifiers, with a secret sealed by its key: that
// key is accepted (and its verifier stored); another key, or no key file,
// is refused and stores nothing.
func TestSecretKeyOfAnOlderDataDir(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	old := writeKey(t, filepath.Join(t.TempDir(), "old.key"), 1)
	sealed, err := old.Seal("sk-ant-123")
	if err != nil {
		t.Fatal(err)
	}
	conn, _ := json.Marshal(map[string]string{"base_url": "https://api.example.org/v1", "api_key": sealed})
	if err := db.SetSetting(ctx, "llm.connection", string(conn)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// No key file: refused, none made.
	_, err = startApp(t, cfg)
	wantKeyRefusal(t, err, cfg.KeyPath(), true)
	// Another key: refused, no verifier stored.
	writeKey(t, cfg.KeyPath(), 2)
	_, err = startApp(t, cfg)
	wantKeyRefusal(t, err, cfg.KeyPath(), false)
	if !strings.Contains(err.Error(), "opens none of the 1 secrets") {
		t.Errorf("refusal %q does not say the key opens none of the sealed secrets", err)
	}
	if v := storedVerifier(t, cfg); v != "" {
		t.Fatalf("a refused key stored verifier %q", v)
	}
	// The key that sealed it: accepted, its verifier stored.
	writeKey(t, cfg.KeyPath(), 1)
	if _, err := startApp(t, cfg); err != nil {
		t.Fatalf("the older data dir's own key: %v", err)
	}
	if !old.Verifies(storedVerifier(t, cfg)) {
		t.Fatal("the older data dir's key was accepted but its verifier not stored")
	}
}

// Two nodes on one PostgreSQL: the second, with a key of its own, is
// refused; without a key file it is refused and makes none; given the
// first node's key through OS1_SECRET_KEY_FILE, it starts.
func TestSecretKeySharedByNodesOnPostgres(t *testing.T) {
	url := withPassword(pgtest.New(t))
	shared := filepath.Join(t.TempDir(), "shared", "secret.key")
	// Node 1 makes the key in the shared file: no node has one yet.
	one := testConfigWith(t, "OS1_DATABASE_URL", url, "OS1_SECRET_KEY_FILE", shared)
	a, err := startApp(t, one)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(shared); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("node 1's key file: %v %v", fi, err)
	}
	sealed, _ := a.Secrets.Seal("imap-password")

	// Node 2 with a fresh data dir: no secret.key there.
	two := testConfigWith(t, "OS1_DATABASE_URL", url)
	_, err = startApp(t, two)
	wantKeyRefusal(t, err, two.KeyPath(), true)

	// Node 2 with its own key.
	writeKey(t, two.KeyPath(), 9)
	_, err = startApp(t, two)
	wantKeyRefusal(t, err, two.KeyPath(), false)

	// A key file setting naming a file that is missing: refused, not made.
	missing := filepath.Join(t.TempDir(), "nope", "secret.key")
	_, err = startApp(t, testConfigWith(t, "OS1_DATABASE_URL", url, "OS1_SECRET_KEY_FILE", missing))
	wantKeyRefusal(t, err, missing, true)

	// The shared file: node 2 starts and opens node 1's secrets.
	b, err := startApp(t, testConfigWith(t, "OS1_DATABASE_URL", url, "OS1_SECRET_KEY_FILE", shared))
	if err != nil {
		t.Fatalf("node 2 with the shared key: %v", err)
	}
	if plain, err := b.Secrets.Open(sealed); err != nil || plain != "imap-password" {
		t.Fatalf("node 2 opens node 1's secret: %q %v", plain, err)
	}
}

// Two nodes starting at once on an empty PostgreSQL, each with a key of its
// own: one stores its verifier, the other is refused.
func TestSecretKeyFirstNodeWinsOnPostgres(t *testing.T) {
	ctx := context.Background()
	url := pgtest.New(t)
	cfgs := []config.Config{testConfigWith(t, "OS1_DATABASE_URL", url), testConfigWith(t, "OS1_DATABASE_URL", url)}
	errs := make(chan error, len(cfgs))
	for i, cfg := range cfgs {
		writeKey(t, cfg.KeyPath(), byte(10+i))
		go func() {
			db, err := app.OpenDB(ctx, cfg)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			_, err = app.OpenSecrets(ctx, cfg, db)
			errs <- err
		}()
	}
	var ok, refused int
	for range cfgs {
		var ke *app.SecretKeyError
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.As(err, &ke):
			refused++
		default:
			t.Fatal(err)
		}
	}
	if ok != 1 || refused != 1 {
		t.Fatalf("%d nodes started and %d were refused, want 1 and 1", ok, refused)
	}
}

// os1 migrate copies the verifier with the settings: on PostgreSQL the
// data dir's key starts and another is refused.
func TestSecretKeyVerifierMigratesToPostgres(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	a, err := startApp(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	url := withPassword(pgtest.New(t))
	if _, err := app.MigrateToPostgres(ctx, cfg, url, app.MigrateOptions{}); err != nil {
		t.Fatal(err)
	}
	other := testConfigWith(t, "OS1_DATABASE_URL", url)
	writeKey(t, other.KeyPath(), 3)
	_, err = startApp(t, other)
	wantKeyRefusal(t, err, other.KeyPath(), false)
	if _, err := startApp(t, testConfigWith(t, "OS1_DATABASE_URL", url, "OS1_SECRET_KEY_FILE", cfg.KeyPath())); err != nil {
		t.Fatalf("the migrated data dir's key on PostgreSQL: %v", err)
	}
}
