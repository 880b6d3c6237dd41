package app

import (
	"context"
	"errors"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/models"
)

// NewModels is the language model manager every command uses: the
// connection the owner saved, else the configured one, else what
// llm.Detect finds.
func NewModels(s models.SettingsStore, sec models.Secrets, cfg config.Config, clk clock.Clock) *models.Manager {
	return models.NewManager(s, sec, connector(cfg), checkConnection, clk)
}

// connector turns configuration (and a connection saved in the UI) into a
// provider through llm.Detect. A saved connection wins over configuration:
// it is the owner's latest explicit choice.
func connector(cfg config.Config) models.Connector {
	tr := llm.Transport{
		ConnectTimeout: cfg.LLM.ConnectTimeout.Duration,
		IdleTimeout:    cfg.LLM.IdleTimeout.Duration,
		MaxRetries:     cfg.LLM.MaxRetries,
	}
	if cfg.LLM.MaxRetries == 0 {
		tr.MaxRetries = -1 // config 0 means "never retry"; llm's zero means "default"
	}
	return func(ctx context.Context, saved *models.Settings) (llm.Provider, models.Status, error) {
		o := llm.DetectOptions{
			Configured:      llm.Endpoint{Kind: cfg.LLM.Provider, URL: cfg.LLM.URL, Model: cfg.LLM.Model, APIKey: cfg.LLM.Key},
			AnthropicAPIKey: cfg.LLM.AnthropicAPIKey,
			OpenAIAPIKey:    cfg.LLM.OpenAIAPIKey,
			OllamaURL:       cfg.LLM.OllamaURL,
			Transport:       tr,
		}
		if saved != nil {
			o = llm.DetectOptions{
				Configured:       llm.Endpoint{Kind: saved.Provider, URL: saved.URL, Model: saved.Model, APIKey: saved.APIKey},
				ConfiguredSource: llm.SourceSettings,
				OllamaURL:        "off",
				Transport:        tr,
			}
		}
		if f := cfg.LLM.Fallback; f.Provider != "" || f.URL != "" {
			o.Fallback = &llm.Endpoint{Kind: f.Provider, URL: f.URL, Model: f.Model, APIKey: f.Key}
		}
		p, src, err := llm.Detect(ctx, o)
		if err != nil {
			return nil, models.Status{}, err
		}
		st := models.Status{Provider: p.Name(), Model: p.Model(), Source: string(src)}
		if b, ok := p.(interface{ BaseURL() string }); ok {
			st.URL = b.BaseURL()
		}
		if o.Fallback != nil {
			st.Fallback = o.Fallback.Kind + " " + o.Fallback.URL + " " + o.Fallback.Model
		}
		return p, st, nil
	}
}

// checkConnection confirms a new connection answers by listing its models.
// A server without a model list (404) is accepted: chat may still work.
func checkConnection(ctx context.Context, p llm.Provider) error {
	l, ok := p.(llm.ModelLister)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := l.Models(ctx)
	if err != nil {
		var e *llm.Error
		if errors.As(err, &e) && e.StatusCode == 404 {
			return nil
		}
	}
	return err
}
