// Package testrig builds os1's real parts for tests in one place: a data
// dir with the SQLite store and its secret key, a fake clock, the scripted
// model server behind the real provider clients, users, a companion and an
// HTTP server. Tests take what they need and keep their own assertions; they
// never reach into a part's private state.
//
// It is imported only by tests and must never be linked into the os1 binary
// (cmd/os1's dependency test guards that).
package testrig

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/models"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// Start is the fake clock's first reading: a fixed, ordinary weekday morning.
var Start = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// ModelName is the model the scripted server offers.
const ModelName = "test-model"

// Rig is one test's os1: its parts are made on first use and closed when
// the test ends.
type Rig struct {
	T     testing.TB
	Dir   string
	DB    *sqlite.DB
	Clock *clock.Fake
	LLM   *llmtest.Server
	Box   *secret.Box
}

// New makes a data dir with a migrated SQLite store, a secret key, a fake
// clock at Start and a scripted model server.
func New(t testing.TB) *Rig {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "os1.db")
	// Start from a copy of a freshly migrated database: Open then finds the
	// schema current, and each test skips running every migration again.
	if err := os.WriteFile(path, migrated(t), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := secret.LoadOrCreateKey(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	return &Rig{T: t, Dir: dir, DB: db, Clock: clock.NewFake(Start), LLM: llmtest.NewServer(t), Box: box}
}

// migratedDB holds the bytes of a database sqlite.Open has just created
// and migrated, made once per test binary.
var migratedDB = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "os1-testrig-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "os1.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil { // folds the WAL into the file
		return nil, err
	}
	return os.ReadFile(path)
})

func migrated(t testing.TB) []byte {
	t.Helper()
	b, err := migratedDB()
	if err != nil {
		t.Fatalf("migrated database for the rig: %v", err)
	}
	return b
}

// Transport is the provider transport tests use: no retries (a scripted
// failure is seen at once) and an idle timeout that a hung stream trips.
func Transport() llm.Transport {
	return llm.Transport{MaxRetries: -1, IdleTimeout: 5 * time.Second}
}

// Provider is the real OpenAI-compatible client talking to the scripted server.
func (r *Rig) Provider() llm.Provider {
	return llm.NewOpenAI(llm.OpenAIConfig{BaseURL: r.LLM.OpenAIBaseURL(), Model: ModelName, Transport: Transport()})
}

// Models is a models.Manager over the rig's store: with connected it finds
// the scripted model through configuration, without it none until the
// owner saves a connection (which it then uses, like os1 serve).
func (r *Rig) Models(connected bool) *models.Manager {
	connect := func(ctx context.Context, saved *models.Settings) (llm.Provider, models.Status, error) {
		o := llm.DetectOptions{OllamaURL: "off", Transport: Transport()}
		if connected {
			o.Configured = llm.Endpoint{Kind: "openai", URL: r.LLM.OpenAIBaseURL(), Model: ModelName}
		}
		if saved != nil {
			o.Configured = llm.Endpoint{Kind: saved.Provider, URL: saved.URL, Model: saved.Model, APIKey: saved.APIKey}
			o.ConfiguredSource = llm.SourceSettings
		}
		p, src, err := llm.Detect(ctx, o)
		if err != nil {
			return nil, models.Status{}, err
		}
		return p, models.Status{Provider: p.Name(), Model: p.Model(), Source: string(src)}, nil
	}
	check := func(ctx context.Context, p llm.Provider) error {
		_, err := p.(llm.ModelLister).Models(ctx)
		return err
	}
	mm := models.NewManager(r.DB, r.Box, connect, check, r.Clock)
	mm.Refresh(context.Background())
	return mm
}

// User creates an account straight in the store (no password check will
// pass: tests that sign in use the server's setup and invite endpoints).
func (r *Rig) User(name string, role store.Role) store.User {
	r.T.Helper()
	u := store.User{ID: "usr_" + name, Username: name, DisplayName: strings.ToUpper(name[:1]) + name[1:], Role: role,
		PasswordHash: "x", CreatedAt: r.Clock.Now()}
	if err := r.DB.CreateUser(context.Background(), u); err != nil {
		r.T.Fatal(err)
	}
	return u
}

// Companion builds a companion over the rig's store and clock (fields of d
// left zero are filled), closed when the test ends.
func (r *Rig) Companion(d companion.Deps, o companion.Options) *companion.Companion {
	if d.Store == nil {
		d.Store = r.DB
	}
	if d.Clock == nil {
		d.Clock = r.Clock
	}
	c := companion.New(d, o)
	r.T.Cleanup(c.Close)
	return c
}

// Server is a running os1 HTTP server of the rig.
type Server struct {
	*server.Server
	HTTP *httptest.Server
	// SetupToken is the one-time token of the setup link Prepare printed.
	SetupToken string
}

// URL is the server's base URL.
func (s *Server) URL() string { return s.HTTP.URL }

// Server starts the HTTP server with d (Store, Clock and BaseURL filled
// when zero) on a loopback port, runs Prepare, and stops it when the test
// ends (after its companion, so no turn writes to a closed store).
func (r *Rig) Server(d server.Deps) *Server {
	r.T.Helper()
	if d.Store == nil {
		d.Store = r.DB
	}
	if d.Clock == nil {
		d.Clock = r.Clock
	}
	hs := httptest.NewUnstartedServer(nil)
	if d.BaseURL == "" {
		d.BaseURL = "http://" + hs.Listener.Addr().String()
	}
	if d.Version == "" {
		d.Version = "test"
	}
	if d.PasswordCost == (auth.Cost{}) {
		d.PasswordCost = auth.TestCost // real argon2id, cheap: these test the flows around it
	}
	srv := server.New(d)
	hs.Config = srv.HTTPServer("")
	hs.Start()
	r.T.Cleanup(func() {
		if d.Companion != nil {
			d.Companion.Close() // running turns store what they have first
		}
		hs.Close()
	})
	link, err := srv.Prepare(context.Background())
	if err != nil {
		r.T.Fatal(err)
	}
	_, token, _ := strings.Cut(link, "token=")
	return &Server{Server: srv, HTTP: hs, SetupToken: token}
}

// Eventually checks cond every few milliseconds until it holds, failing the
// test with what (and cond's last word) after timeout. For waiting on work
// in other goroutines, never for asserting speed.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (ok bool, got string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, got := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still not %s (last: %s)", timeout, what, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
