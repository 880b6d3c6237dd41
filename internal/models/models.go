// Package models keeps track of which language model os1 talks to: the
// connection saved by the owner in the UI (its API key encrypted at rest),
// else what configuration and auto-detection find. It hands the current
// provider to the companion and explains, in words a user can act on, how to
// connect one when there is none.
//
// It must never store an API key in plaintext or return one to a caller.
package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
)

// HowToConnect tells a user every way to connect a model.
const HowToConnect = "No language model is connected. Any one of these works: " +
	"(1) run Ollama on this machine (`ollama serve`, then `ollama pull llama3.2`); os1 looks for it at 127.0.0.1:11434 unless OS1_OLLAMA_URL=off. " +
	"(2) Point os1 at any OpenAI-compatible server (llama.cpp, vLLM, LM Studio, OpenRouter): set OS1_LLM_URL (e.g. http://127.0.0.1:8080/v1) and OS1_LLM_MODEL, then restart `os1 serve`. " +
	"(3) Set ANTHROPIC_API_KEY or OPENAI_API_KEY and restart. " +
	"(4) As the owner, open Settings → Model in the web UI and enter a server URL, model and key."

// Settings is a connection saved from the UI.
type Settings struct {
	Provider string `json:"provider"` // "openai" or "anthropic"
	URL      string `json:"url"`
	Model    string `json:"model"`
	APIKey   string `json:"api_key,omitempty"`
}

// Validate says what is wrong with s.
func (s Settings) Validate() error {
	switch s.Provider {
	case "openai":
		if s.URL == "" {
			return errors.New("url is required for an OpenAI-compatible server (for example http://127.0.0.1:11434/v1)")
		}
	case "anthropic":
		if s.APIKey == "" {
			return errors.New("api_key is required for Anthropic")
		}
	default:
		return fmt.Errorf("provider %q is unknown: use \"openai\" (any OpenAI-compatible server) or \"anthropic\"", s.Provider)
	}
	if s.URL != "" {
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("url %q is not an http(s) URL", s.URL)
		}
	}
	if len(s.Model) > 200 || len(s.APIKey) > 4096 || len(s.URL) > 2048 {
		return errors.New("a field is too long")
	}
	return nil
}

// Status describes the current connection for the UI, the CLI and doctor.
type Status struct {
	Connected    bool   `json:"connected"`
	Provider     string `json:"provider"`
	Model        string `json:"model"`
	URL          string `json:"url"`
	Source       string `json:"source"` // "settings", "config", "env", "ollama"
	Fallback     string `json:"fallback"`
	Error        string `json:"error"`
	HowToConnect string `json:"how_to_connect"`
}

// Connector builds a provider. With saved non-nil it must use exactly that
// connection; otherwise it runs configuration and auto-detection.
type Connector func(ctx context.Context, saved *Settings) (llm.Provider, Status, error)

// Checker verifies a new connection answers (for example by listing models).
type Checker func(ctx context.Context, p llm.Provider) error

// Secrets seals and opens secrets at rest.
type Secrets interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// SettingsStore is where the saved connection lives.
type SettingsStore interface {
	Setting(ctx context.Context, key string) (string, error)
	SetSetting(ctx context.Context, key, value string) error
	DeleteSetting(ctx context.Context, key string) error
}

const settingKey = "llm.connection"

// redetectEvery bounds how often a missing model is looked for again, so a
// model started after os1 is picked up without a restart.
const redetectEvery = 10 * time.Second

// Manager holds the current provider.
type Manager struct {
	settings SettingsStore
	secrets  Secrets
	connect  Connector
	check    Checker
	clock    clock.Clock

	mu        sync.Mutex
	prov      llm.Provider
	status    Status
	checkedAt time.Time
}

// NewManager returns a manager; call Refresh once at start.
func NewManager(s SettingsStore, sec Secrets, connect Connector, check Checker, c clock.Clock) *Manager {
	return &Manager{settings: s, secrets: sec, connect: connect, check: check, clock: c}
}

// Refresh looks for a model now.
func (m *Manager) Refresh(ctx context.Context) Status {
	saved, err := m.saved(ctx)
	var prov llm.Provider
	var st Status
	if err == nil {
		prov, st, err = m.connect(ctx, saved)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.checkedAt = m.clock.Now()
	if err != nil || prov == nil {
		m.prov = nil
		st.Connected = false
		if err != nil {
			st.Error = err.Error()
		}
		st.HowToConnect = HowToConnect
		m.status = st
		return st
	}
	st.Connected, st.Error, st.HowToConnect = true, "", ""
	m.prov, m.status = prov, st
	return st
}

// Provider returns the connected provider or an error wrapping
// llm.ErrNoProvider that says how to connect one.
func (m *Manager) Provider(ctx context.Context) (llm.Provider, error) {
	m.mu.Lock()
	prov, stale := m.prov, m.prov == nil && m.clock.Now().Sub(m.checkedAt) >= redetectEvery
	m.mu.Unlock()
	if prov != nil {
		return prov, nil
	}
	if stale {
		m.Refresh(ctx)
		m.mu.Lock()
		prov = m.prov
		m.mu.Unlock()
		if prov != nil {
			return prov, nil
		}
	}
	return nil, fmt.Errorf("%w. %s", llm.ErrNoProvider, strings.TrimPrefix(HowToConnect, "No language model is connected. "))
}

// Status reports the current connection without probing.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// Configure checks a new connection live and, when it answers, saves it
// (key encrypted) and switches to it. An empty Provider clears the saved
// connection and falls back to configuration and auto-detection.
func (m *Manager) Configure(ctx context.Context, s Settings) (Status, error) {
	if s.Provider == "" {
		if err := m.settings.DeleteSetting(ctx, settingKey); err != nil && !errors.Is(err, store.ErrNotFound) {
			return m.Status(), err
		}
		return m.Refresh(ctx), nil
	}
	if s.APIKey == "" {
		// An empty key means "keep the saved one" — but only for the same
		// server, so a key is never sent somewhere new.
		if saved, err := m.saved(ctx); err == nil && saved != nil && saved.Provider == s.Provider && saved.URL == s.URL {
			s.APIKey = saved.APIKey
		}
	}
	if err := s.Validate(); err != nil {
		return m.Status(), err
	}
	prov, st, err := m.connect(ctx, &s)
	if err != nil {
		return m.Status(), err
	}
	if m.check != nil {
		if err := m.check(ctx, prov); err != nil {
			return m.Status(), fmt.Errorf("the model server did not answer the check: %w", err)
		}
	}
	stored := s
	if s.APIKey != "" {
		sealed, err := m.secrets.Seal(s.APIKey)
		if err != nil {
			return m.Status(), fmt.Errorf("encrypt api key: %w", err)
		}
		stored.APIKey = sealed
	}
	b, _ := json.Marshal(stored)
	if err := m.settings.SetSetting(ctx, settingKey, string(b)); err != nil {
		return m.Status(), fmt.Errorf("save model connection: %w", err)
	}
	st.Connected, st.Error, st.HowToConnect = true, "", ""
	m.mu.Lock()
	m.prov, m.status, m.checkedAt = prov, st, m.clock.Now()
	m.mu.Unlock()
	return st, nil
}

// List returns the connected provider's models, when it can list them.
func (m *Manager) List(ctx context.Context) ([]string, error) {
	prov, err := m.Provider(ctx)
	if err != nil {
		return nil, err
	}
	l, ok := prov.(llm.ModelLister)
	if !ok {
		return nil, fmt.Errorf("%s cannot list its models", prov.Name())
	}
	return l.Models(ctx)
}

func (m *Manager) saved(ctx context.Context) (*Settings, error) {
	v, err := m.settings.Setting(ctx, settingKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read saved model connection: %w", err)
	}
	var s Settings
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		return nil, fmt.Errorf("saved model connection is damaged (%v): save it again in Settings → Model", err)
	}
	if s.APIKey != "" {
		key, err := m.secrets.Open(s.APIKey)
		if err != nil {
			return nil, fmt.Errorf("cannot decrypt the saved API key (was secret.key replaced?): %w; save the connection again in Settings → Model", err)
		}
		s.APIKey = key
	}
	return &s, nil
}
