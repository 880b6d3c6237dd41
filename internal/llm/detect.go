package llm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Source says where the connected provider came from. Its values are the
// "source" words of the model status in the HTTP API.
type Source string

// Where a provider came from.
const (
	SourceConfig   Source = "config"   // the config file, flags or OS1_LLM_* settings
	SourceEnv      Source = "env"      // an ANTHROPIC_API_KEY or OPENAI_API_KEY
	SourceOllama   Source = "ollama"   // found running locally
	SourceSettings Source = "settings" // saved through the web UI
)

// DefaultOllamaURL is where Detect looks for a local Ollama.
const DefaultOllamaURL = "http://127.0.0.1:11434"

// DefaultProbeTimeout bounds Detect's look for a local Ollama.
const DefaultProbeTimeout = 1500 * time.Millisecond

// HowToConnect tells a person how to connect a language model. It is part of
// ErrNoProvider's message from Detect and fits a UI hint.
const HowToConnect = "to connect one, set OS1_LLM_URL and OS1_LLM_MODEL to any OpenAI-compatible server " +
	"(Ollama, llama.cpp, vLLM, LM Studio), set ANTHROPIC_API_KEY or OPENAI_API_KEY, " +
	"or install Ollama (https://ollama.com) and run `ollama pull llama3.2`"

// Endpoint is one provider connection in plain values.
type Endpoint struct {
	// Kind is "openai" (any OpenAI-compatible server) or "anthropic". Empty:
	// anthropic when URL is on anthropic.com, else openai.
	Kind   string
	URL    string // empty: the kind's public API
	Model  string // empty: the kind's default model
	APIKey string
}

// New returns the provider for e, without contacting it.
func New(e Endpoint, t Transport) (Provider, error) {
	switch kind := e.kind(); kind {
	case "openai":
		return NewOpenAI(OpenAIConfig{BaseURL: e.URL, APIKey: e.APIKey, Model: e.Model, Transport: t}), nil
	case "anthropic":
		return NewAnthropic(AnthropicConfig{BaseURL: e.URL, APIKey: e.APIKey, Model: e.Model, Transport: t}), nil
	default:
		return nil, fmt.Errorf("unknown language model provider %q: use \"openai\" (for any OpenAI-compatible server) or \"anthropic\"", e.Kind)
	}
}

func (e Endpoint) kind() string {
	k := strings.ToLower(strings.TrimSpace(e.Kind))
	if k == "" {
		if strings.Contains(strings.ToLower(e.URL), "anthropic.com") {
			return "anthropic"
		}
		return "openai"
	}
	return k
}

// DetectOptions are Detect's inputs. The config package fills them from the
// config file, the environment and saved settings; Detect reads nothing else.
type DetectOptions struct {
	// Configured is the connection the user chose. It wins whenever its Kind
	// or URL is set. A Model alone is the model to use with whatever else is found.
	Configured Endpoint
	// ConfiguredSource is reported when Configured is used. Empty: SourceConfig.
	ConfiguredSource Source

	AnthropicAPIKey string
	AnthropicURL    string // empty: DefaultAnthropicURL
	AnthropicModel  string // empty: Configured.Model, else DefaultAnthropicModel

	OpenAIAPIKey string
	OpenAIURL    string // empty: DefaultOpenAIURL
	OpenAIModel  string // empty: Configured.Model, else DefaultOpenAIModel

	// OllamaURL is probed last. Empty: DefaultOllamaURL; "off": not probed.
	OllamaURL string
	// PreferredModel is picked from Ollama's models when installed. Empty:
	// Configured.Model.
	PreferredModel string
	// ProbeTimeout bounds each look at a server (Ollama's model list, or a
	// configured server's when no model is named). Zero: DefaultProbeTimeout.
	ProbeTimeout time.Duration

	// Fallback, when set, answers whenever the detected provider fails before
	// saying anything (see NewFallback). With nothing else found it is used alone.
	Fallback *Endpoint

	// Transport is used by every provider Detect returns.
	Transport Transport
}

// Detect finds a language model, in this order: the configured connection;
// an Anthropic API key; an OpenAI API key; a local Ollama with a chat model.
// Only the Ollama probe touches the network. When nothing is found it
// returns an error wrapping ErrNoProvider that lists what was tried and
// how to connect a model.
func Detect(ctx context.Context, o DetectOptions) (Provider, Source, error) {
	p, src, err := detectPrimary(ctx, o)
	if o.Fallback == nil {
		return p, src, err
	}
	secondary, ferr := New(*o.Fallback, o.Transport)
	if ferr != nil {
		return nil, "", fmt.Errorf("the fallback model: %w", ferr)
	}
	if err != nil {
		if errors.Is(err, ErrNoProvider) {
			return secondary, SourceConfig, nil
		}
		return nil, "", err
	}
	return NewFallback(p, secondary), src, nil
}

func detectPrimary(ctx context.Context, o DetectOptions) (Provider, Source, error) {
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = DefaultProbeTimeout
	}
	if c := o.Configured; c.Kind != "" || c.URL != "" {
		src := o.ConfiguredSource
		if src == "" {
			src = SourceConfig
		}
		p, err := configured(ctx, o)
		return p, src, err
	}
	if o.AnthropicAPIKey != "" {
		return NewAnthropic(AnthropicConfig{BaseURL: o.AnthropicURL, APIKey: o.AnthropicAPIKey,
			Model: firstOf(o.AnthropicModel, o.Configured.Model), Transport: o.Transport}), SourceEnv, nil
	}
	if o.OpenAIAPIKey != "" {
		return NewOpenAI(OpenAIConfig{BaseURL: o.OpenAIURL, APIKey: o.OpenAIAPIKey,
			Model: firstOf(o.OpenAIModel, o.Configured.Model), Transport: o.Transport}), SourceEnv, nil
	}
	tried := "no model is configured (OS1_LLM_URL, OS1_LLM_MODEL), no ANTHROPIC_API_KEY or OPENAI_API_KEY is set"
	if o.OllamaURL == "off" {
		return nil, "", fmt.Errorf("%w: %s, and looking for Ollama is turned off; %s", ErrNoProvider, tried, HowToConnect)
	}
	base := strings.TrimRight(firstOf(o.OllamaURL, DefaultOllamaURL), "/")
	model, why := probeOllama(ctx, base, firstOf(o.PreferredModel, o.Configured.Model), o)
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("looking for a language model: %w", err)
	}
	if why != "" {
		return nil, "", fmt.Errorf("%w: %s, and %s; %s", ErrNoProvider, tried, why, HowToConnect)
	}
	return NewOpenAI(OpenAIConfig{BaseURL: base + "/v1", Model: model, Transport: o.Transport}), SourceOllama, nil
}

// configured builds the provider the user named. An OpenAI-compatible
// server other than OpenAI's own, named without a model, is asked for its
// models so that "OS1_LLM_URL alone" works with a single-model server.
func configured(ctx context.Context, o DetectOptions) (Provider, error) {
	e := o.Configured
	if e.kind() != "openai" || e.Model != "" || e.URL == "" ||
		strings.TrimRight(e.URL, "/") == DefaultOpenAIURL {
		return New(e, o.Transport)
	}
	probe := NewOpenAI(OpenAIConfig{BaseURL: e.URL, APIKey: e.APIKey, Transport: o.Transport})
	pctx, cancel := context.WithTimeout(ctx, o.ProbeTimeout)
	defer cancel()
	names, err := probe.Models(pctx)
	if err != nil {
		return nil, fmt.Errorf("%w: the model server %s is configured without a model name, and its model list could not be read (%v); set OS1_LLM_MODEL",
			ErrNoProvider, e.URL, rootCause(err))
	}
	e.Model = pickModel(names, o.PreferredModel)
	if e.Model == "" {
		return nil, fmt.Errorf("%w: the model server %s is configured without a model name and lists no chat model; set OS1_LLM_MODEL", ErrNoProvider, e.URL)
	}
	return New(e, o.Transport)
}

// probeOllama asks a local Ollama for its models and picks a chat model.
// why says, for the user, what went wrong; it is empty on success.
func probeOllama(ctx context.Context, base, preferred string, o DetectOptions) (model, why string) {
	tr := o.Transport
	tr.IdleTimeout = o.ProbeTimeout
	ep := endpoint{name: "ollama", where: "Ollama at " + base, tr: tr.withDefaults()}
	pctx, cancel := context.WithTimeout(ctx, o.ProbeTimeout)
	defer cancel()
	var tags struct {
		Models []struct {
			Name  string `json:"name"`
			Model string `json:"model"`
		} `json:"models"`
	}
	if err := ep.getJSON(pctx, base+"/api/tags", nil, &tags); err != nil {
		if KindOf(err) == KindTimeout {
			return "", fmt.Sprintf("Ollama did not answer at %s within %s", base, o.ProbeTimeout)
		}
		return "", fmt.Sprintf("Ollama did not answer at %s (%v)", base, rootCause(err))
	}
	names := make([]string, 0, len(tags.Models))
	for _, m := range tags.Models {
		names = append(names, firstOf(m.Name, m.Model))
	}
	if m := pickModel(names, preferred); m != "" {
		return m, ""
	}
	if len(names) == 0 {
		return "", fmt.Sprintf("Ollama at %s has no models installed", base)
	}
	return "", fmt.Sprintf("Ollama at %s has only embedding models (%s)", base, strings.Join(names, ", "))
}

// pickModel chooses a chat model from names: preferred when it is there,
// else the first that is not an embedding model (Ollama lists the most
// recently used first). A ":latest" tag is dropped, as Ollama allows.
func pickModel(names []string, preferred string) string {
	var chat []string
	for _, n := range names {
		if n != "" && !strings.Contains(strings.ToLower(n), "embed") {
			chat = append(chat, n)
		}
	}
	if len(chat) == 0 {
		return ""
	}
	short := func(n string) string { return strings.TrimSuffix(n, ":latest") }
	if preferred != "" {
		for _, n := range chat {
			if n == preferred || short(n) == short(preferred) {
				return short(n)
			}
		}
	}
	return short(chat[0])
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// rootCause is the innermost error, the part of a long chain a person needs
// ("connection refused").
func rootCause(err error) error {
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			return err
		}
		err = inner
	}
}
