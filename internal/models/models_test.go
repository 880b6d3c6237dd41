package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/models"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/store/sqlite"
)

type fixture struct {
	db    *sqlite.DB
	box   *secret.Box
	clk   *clock.Fake
	llm   *llmtest.Server
	found bool // whether "auto-detection" finds the scripted server
	calls int
}

func newFixture(t *testing.T) (*fixture, *models.Manager) {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), dir+"/os1.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := secret.LoadOrCreateKey(dir + "/secret.key")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, box: box, clk: clock.NewFake(time.Unix(1e9, 0)), llm: llmtest.NewServer(t)}
	connect := func(ctx context.Context, saved *models.Settings) (llm.Provider, models.Status, error) {
		f.calls++
		o := llm.DetectOptions{OllamaURL: "off"}
		if f.found {
			o.Configured = llm.Endpoint{URL: f.llm.OpenAIBaseURL(), Model: "auto"}
		}
		if saved != nil {
			o = llm.DetectOptions{OllamaURL: "off", ConfiguredSource: llm.SourceSettings,
				Configured: llm.Endpoint{Kind: saved.Provider, URL: saved.URL, Model: saved.Model, APIKey: saved.APIKey}}
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
	return f, models.NewManager(db, box, connect, check, f.clk)
}

func TestNoModelThenFoundLater(t *testing.T) {
	f, m := newFixture(t)
	ctx := context.Background()
	st := m.Refresh(ctx)
	if st.Connected || !strings.Contains(st.HowToConnect, "OS1_LLM_URL") || st.Error == "" {
		t.Fatalf("status without a model: %+v", st)
	}
	_, err := m.Provider(ctx)
	if !errors.Is(err, llm.ErrNoProvider) || !strings.Contains(err.Error(), "ollama pull") {
		t.Fatalf("Provider: %v", err)
	}
	f.found = true
	calls := f.calls
	if _, err := m.Provider(ctx); err == nil || f.calls != calls {
		t.Fatal("looked again before 10 s passed")
	}
	f.clk.Advance(11 * time.Second)
	p, err := m.Provider(ctx)
	if err != nil || p.Model() != "auto" || !m.Status().Connected {
		t.Fatalf("after the model appeared: %v %v", p, err)
	}
}

func TestConfigureSavesEncryptedAndSurvivesRestart(t *testing.T) {
	f, m := newFixture(t)
	ctx := context.Background()
	f.llm.SetModels("llama3.2")
	s := models.Settings{Provider: "openai", URL: f.llm.OpenAIBaseURL(), Model: "llama3.2", APIKey: "sk-secret-key"}
	st, err := m.Configure(ctx, s)
	if err != nil || !st.Connected || st.Source != "settings" {
		t.Fatalf("Configure: %+v %v", st, err)
	}
	raw, _ := f.db.Setting(ctx, "llm.connection")
	if strings.Contains(raw, "sk-secret-key") || !strings.Contains(raw, "v1:") {
		t.Fatalf("stored %q: key not encrypted", raw)
	}
	// An empty key keeps the saved one for the same server, never for another.
	f.llm.RequireAPIKey("sk-secret-key")
	if st, err := m.Configure(ctx, models.Settings{Provider: "openai", URL: s.URL, Model: "llama3.2"}); err != nil || !st.Connected {
		t.Fatalf("re-save without retyping the key: %+v %v", st, err)
	}
	other := llmtest.NewServer(t)
	other.RequireAPIKey("sk-secret-key")
	if _, err := m.Configure(ctx, models.Settings{Provider: "openai", URL: other.OpenAIBaseURL(), Model: "llama3.2"}); err == nil {
		t.Fatal("the saved key was sent to a different server")
	}
	// A new manager (a restart) finds the saved connection.
	m2 := models.NewManager(f.db, f.box, func(ctx context.Context, saved *models.Settings) (llm.Provider, models.Status, error) {
		if saved == nil || saved.APIKey != "sk-secret-key" {
			t.Errorf("saved connection after restart: %+v", saved)
			return nil, models.Status{}, errors.New("no")
		}
		p := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: saved.URL, Model: saved.Model, APIKey: saved.APIKey})
		return p, models.Status{Source: "settings"}, nil
	}, nil, f.clk)
	if st := m2.Refresh(ctx); !st.Connected {
		t.Fatalf("after restart: %+v", st)
	}
	// Clearing falls back to detection.
	if st, err := m.Configure(ctx, models.Settings{}); err != nil || st.Connected {
		t.Fatalf("clear: %+v %v", st, err)
	}
}

func TestConfigureRejects(t *testing.T) {
	f, m := newFixture(t)
	ctx := context.Background()
	for _, s := range []models.Settings{
		{Provider: "gemini"},
		{Provider: "openai"},
		{Provider: "openai", URL: "ftp://x"},
		{Provider: "anthropic"},
	} {
		if _, err := m.Configure(ctx, s); err == nil {
			t.Errorf("Configure(%+v) accepted", s)
		}
	}
	if _, err := m.Configure(ctx, models.Settings{Provider: "openai", URL: "http://127.0.0.1:1/v1", Model: "m"}); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("unreachable server accepted: %v", err)
	}
	if _, err := f.db.Setting(ctx, "llm.connection"); err == nil {
		t.Error("a rejected connection was saved")
	}
}

func TestDamagedSavedConnection(t *testing.T) {
	f, m := newFixture(t)
	ctx := context.Background()
	_ = f.db.SetSetting(ctx, "llm.connection", `{"provider":"openai","url":"http://x/v1","api_key":"v1:garbage"}`)
	st := m.Refresh(ctx)
	if st.Connected || !strings.Contains(st.Error, "decrypt") {
		t.Fatalf("damaged key: %+v", st)
	}
}

// drain runs one real call through the provider the companion would get.
func drain(ctx context.Context, t *testing.T, m *models.Manager) error {
	t.Helper()
	p, err := m.Provider(ctx)
	if err != nil {
		t.Fatalf("Provider: %v", err)
	}
	for _, err := range p.Stream(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}) {
		if err != nil {
			return err
		}
	}
	return nil
}

func TestStatusFollowsRealCallsAndChecks(t *testing.T) {
	_, m := newFixture(t)
	ctx := context.Background()
	answer := llmtest.Options{Handler: func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"hello"}} }}
	srv, err := llmtest.Start("127.0.0.1:0", answer)
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(srv.URL, "http://")
	restart := func() {
		t.Helper()
		var err error
		if srv, err = llmtest.Start(addr, answer); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { srv.Close() })
	st, err := m.Configure(ctx, models.Settings{Provider: "openai", URL: srv.OpenAIBaseURL(), Model: llmtest.DefaultModel})
	if err != nil || !st.Connected || !st.Reachable || st.CheckedAt.IsZero() || st.LastError != "" {
		t.Fatalf("after Configure: %+v %v", st, err)
	}

	srv.Close()
	if err := drain(ctx, t, m); err == nil {
		t.Fatal("a call to a stopped server succeeded")
	}
	st = m.Status()
	if !st.Connected || st.Reachable {
		t.Fatalf("after a failed call: %+v", st)
	}
	plainWords(t, "after a failed call", st, addr)
	if st = m.Refresh(ctx); !st.Connected || st.Reachable {
		t.Fatalf("a live check of a stopped server: %+v", st)
	}
	plainWords(t, "a live check of a stopped server", st, addr)

	restart()
	if st = m.Refresh(ctx); !st.Reachable || st.LastError != "" || st.LastErrorDetails != "" {
		t.Fatalf("a live check after the server came back: %+v", st)
	}

	srv.Close()
	_ = drain(ctx, t, m)
	if m.Status().Reachable {
		t.Fatal("still reachable after a failed call")
	}
	restart()
	if err := drain(ctx, t, m); err != nil {
		t.Fatalf("call after the server came back: %v", err)
	}
	if st = m.Status(); !st.Reachable || st.LastError != "" || st.LastErrorDetails != "" {
		t.Fatalf("after a successful call: %+v", st)
	}

	// A call the caller canceled says nothing about the model.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_ = drain(cctx, t, m)
	if !m.Status().Reachable {
		t.Fatal("a canceled call marked the model unreachable")
	}
}

func TestRefreshWithNothingListening(t *testing.T) {
	f, m := newFixture(t)
	f.found = true
	f.llm.Close()
	st := m.Refresh(context.Background())
	if !st.Connected || st.Reachable || st.CheckedAt.IsZero() {
		t.Fatalf("configured server not listening: %+v", st)
	}
	plainWords(t, "nothing listening at start-up", st, strings.TrimPrefix(f.llm.URL, "http://"))
}

// plainWords checks that a status for a server that is down says so in a
// short sentence naming where the model should be (the chat's sentence)
// and keeps Go's error for the details.
func plainWords(t *testing.T, when string, st models.Status, addr string) {
	t.Helper()
	if want := "I can't reach the model at " + addr + " — is it running?"; st.LastError != want {
		t.Errorf("%s: last_error = %q, want %q", when, st.LastError, want)
	}
	if !strings.Contains(st.LastErrorDetails, "connection refused") || !strings.Contains(st.LastErrorDetails, addr) {
		t.Errorf("%s: last_error_details = %q, want the raw error", when, st.LastErrorDetails)
	}
	for _, raw := range []string{"dial tcp", "connect:", "openai:"} {
		if strings.Contains(st.LastError, raw) {
			t.Errorf("%s: last_error %q shows %q", when, st.LastError, raw)
		}
	}
}
