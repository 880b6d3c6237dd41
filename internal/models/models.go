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
	"iter"
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
//
// Connected says a provider is configured; Reachable says whether it
// answered the latest real call or live check, so a model server that went
// away shows as connected but not reachable, with LastError saying why in
// plain words (the chat's sentence, llm.PlainFailure) and
// LastErrorDetails holding the error as the client saw it.
type Status struct {
	Connected        bool      `json:"connected"`
	Reachable        bool      `json:"reachable"`
	CheckedAt        time.Time `json:"checked_at"`         // when Reachable was last learned; zero: never
	LastError        string    `json:"last_error"`         // why the last call or check failed, a short sentence; empty when reachable
	LastErrorDetails string    `json:"last_error_details"` // the technical error behind LastError; empty when reachable
	Provider         string    `json:"provider"`
	Model            string    `json:"model"`
	URL              string    `json:"url"`
	Source           string    `json:"source"` // "settings", "config", "env", "ollama"
	Fallback         string    `json:"fallback"`
	Error            string    `json:"error"`
	HowToConnect     string    `json:"how_to_connect"`
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
	raw       llm.Provider // as connected; List and checks use it
	prov      llm.Provider // raw, reporting each call's outcome to the manager
	status    Status
	checkedAt time.Time
}

// NewManager returns a manager; call Refresh once at start.
func NewManager(s SettingsStore, sec Secrets, connect Connector, check Checker, c clock.Clock) *Manager {
	return &Manager{settings: s, secrets: sec, connect: connect, check: check, clock: c}
}

// Refresh looks for a model now and, when one is configured, checks live
// that it answers (as doctor does), so the status never says reachable for a
// server that is down.
func (m *Manager) Refresh(ctx context.Context) Status {
	saved, err := m.saved(ctx)
	var prov llm.Provider
	var st Status
	if err == nil {
		prov, st, err = m.connect(ctx, saved)
	}
	var checkErr error
	if err == nil && prov != nil && m.check != nil {
		checkErr = m.check(ctx, prov)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	m.checkedAt = now
	if err != nil || prov == nil {
		m.raw, m.prov = nil, nil
		st.Connected, st.Reachable, st.CheckedAt = false, false, now
		st.LastError, st.LastErrorDetails = "", ""
		if err != nil {
			st.Error = err.Error()
		}
		st.HowToConnect = HowToConnect
		m.status = st
		return st
	}
	st.Connected, st.Error, st.HowToConnect = true, "", ""
	st.Reachable, st.CheckedAt = checkErr == nil, now
	st.LastError, st.LastErrorDetails = notAnswering(checkErr)
	m.raw, m.prov, m.status = prov, &observed{Provider: prov, m: m}, st
	return st
}

// ReportSuccess records that p answered a real call: the status says
// reachable again. Reports about a provider that was since replaced are
// ignored.
func (m *Manager) ReportSuccess(p llm.Provider) { m.report(p, nil) }

// ReportFailure records that p failed a real call with err: the status says
// not reachable, with err as the reason. A canceled call says nothing about
// the model and is ignored.
func (m *Manager) ReportFailure(p llm.Provider, err error) {
	if err == nil || errors.Is(err, context.Canceled) || llm.KindOf(err) == llm.KindCanceled {
		return
	}
	m.report(p, err)
}

func (m *Manager) report(p llm.Provider, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p == nil || (p != m.raw && p != m.prov) {
		return
	}
	m.status.Reachable, m.status.CheckedAt = err == nil, m.clock.Now()
	m.status.LastError, m.status.LastErrorDetails = notAnswering(err)
}

// notAnswering says why the model did not answer: the sentence the chat
// shows for the same failure and the raw error ("", "" for nil).
func notAnswering(err error) (sentence, details string) {
	if err == nil {
		return "", ""
	}
	return llm.PlainFailure(err)
}

// observed is the connected provider as the companion sees it: every call's
// first outcome is reported to the manager, so the status follows real
// calls without waiting for a check.
type observed struct {
	llm.Provider
	m *Manager
}

func (o *observed) Stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return func(yield func(llm.Event, error) bool) {
		answered := false
		for ev, err := range o.Provider.Stream(ctx, req) {
			switch {
			case err != nil:
				o.m.ReportFailure(o.Provider, err)
			case !answered:
				answered = true
				o.m.ReportSuccess(o.Provider)
			}
			if !yield(ev, err) {
				return
			}
		}
	}
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
	now := m.clock.Now()
	st.Connected, st.Error, st.HowToConnect = true, "", ""
	st.Reachable, st.CheckedAt = true, now
	st.LastError, st.LastErrorDetails = "", ""
	m.mu.Lock()
	m.raw, m.prov, m.status, m.checkedAt = prov, &observed{Provider: prov, m: m}, st, now
	m.mu.Unlock()
	return st, nil
}

// List returns the connected provider's models, when it can list them.
func (m *Manager) List(ctx context.Context) ([]string, error) {
	if _, err := m.Provider(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	prov := m.raw
	m.mu.Unlock()
	if prov == nil {
		return nil, fmt.Errorf("%w. %s", llm.ErrNoProvider, strings.TrimPrefix(HowToConnect, "No language model is connected. "))
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
