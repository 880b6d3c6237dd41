package llm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// deadURL refuses connections: nothing listens on port 1.
const deadURL = "http://127.0.0.1:1"

func TestDetect(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.SetModels("nomic-embed-text:latest", "llama3.2:latest", "qwen2.5:7b")

	for _, tc := range []struct {
		name      string
		opts      llm.DetectOptions
		wantType  string // "openai" or "anthropic"
		wantURL   string
		wantModel string
		wantSrc   llm.Source
	}{{
		name: "configured wins over keys and Ollama",
		opts: llm.DetectOptions{
			Configured:   llm.Endpoint{Kind: "anthropic", URL: srv.AnthropicBaseURL(), Model: "claude-x", APIKey: "k"},
			OpenAIAPIKey: "sk", OllamaURL: srv.OllamaURL(),
		},
		wantType: "anthropic", wantURL: srv.AnthropicBaseURL(), wantModel: "claude-x", wantSrc: llm.SourceConfig,
	}, {
		name: "configured from settings reports so",
		opts: llm.DetectOptions{
			Configured:       llm.Endpoint{URL: srv.OpenAIBaseURL(), Model: "m"},
			ConfiguredSource: llm.SourceSettings,
		},
		wantType: "openai", wantURL: srv.OpenAIBaseURL(), wantModel: "m", wantSrc: llm.SourceSettings,
	}, {
		name:     "configured URL without a model asks the server",
		opts:     llm.DetectOptions{Configured: llm.Endpoint{URL: srv.OpenAIBaseURL()}},
		wantType: "openai", wantURL: srv.OpenAIBaseURL(), wantModel: "llama3.2", wantSrc: llm.SourceConfig,
	}, {
		name:     "Anthropic key",
		opts:     llm.DetectOptions{AnthropicAPIKey: "k", AnthropicURL: srv.AnthropicBaseURL(), OllamaURL: srv.OllamaURL()},
		wantType: "anthropic", wantURL: srv.AnthropicBaseURL(), wantModel: "claude-sonnet-4-5", wantSrc: llm.SourceEnv,
	}, {
		name:     "Anthropic key before OpenAI key",
		opts:     llm.DetectOptions{AnthropicAPIKey: "k", OpenAIAPIKey: "sk", AnthropicURL: srv.AnthropicBaseURL()},
		wantType: "anthropic", wantURL: srv.AnthropicBaseURL(), wantModel: "claude-sonnet-4-5", wantSrc: llm.SourceEnv,
	}, {
		name:     "OpenAI key",
		opts:     llm.DetectOptions{OpenAIAPIKey: "sk", OpenAIURL: srv.OpenAIBaseURL(), OllamaURL: srv.OllamaURL()},
		wantType: "openai", wantURL: srv.OpenAIBaseURL(), wantModel: "gpt-4o-mini", wantSrc: llm.SourceEnv,
	}, {
		name:     "OpenAI key with the configured model",
		opts:     llm.DetectOptions{OpenAIAPIKey: "sk", OpenAIURL: srv.OpenAIBaseURL(), Configured: llm.Endpoint{Model: "gpt-5"}},
		wantType: "openai", wantURL: srv.OpenAIBaseURL(), wantModel: "gpt-5", wantSrc: llm.SourceEnv,
	}, {
		name:     "Ollama: first chat model, embeddings skipped",
		opts:     llm.DetectOptions{OllamaURL: srv.OllamaURL()},
		wantType: "openai", wantURL: srv.URL + "/v1", wantModel: "llama3.2", wantSrc: llm.SourceOllama,
	}, {
		name:     "Ollama: the preferred model when installed",
		opts:     llm.DetectOptions{OllamaURL: srv.OllamaURL() + "/", PreferredModel: "qwen2.5:7b"},
		wantType: "openai", wantURL: srv.URL + "/v1", wantModel: "qwen2.5:7b", wantSrc: llm.SourceOllama,
	}, {
		name:     "Ollama: a preferred model that is missing is passed over",
		opts:     llm.DetectOptions{OllamaURL: srv.OllamaURL(), Configured: llm.Endpoint{Model: "mistral"}},
		wantType: "openai", wantURL: srv.URL + "/v1", wantModel: "llama3.2", wantSrc: llm.SourceOllama,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p, src, err := llm.Detect(t.Context(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var url string
			switch v := p.(type) {
			case *llm.OpenAI:
				url = v.BaseURL()
			case *llm.Anthropic:
				url = v.BaseURL()
			}
			if p.Name() != tc.wantType || url != tc.wantURL || p.Model() != tc.wantModel || src != tc.wantSrc {
				t.Errorf("got %s at %s model %q from %q; want %s at %s model %q from %q",
					p.Name(), url, p.Model(), src, tc.wantType, tc.wantURL, tc.wantModel, tc.wantSrc)
			}
		})
	}
}

func TestDetectedOllamaAnswers(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.SetModels("llama3.2:latest")
	p, _, err := llm.Detect(t.Context(), llm.DetectOptions{OllamaURL: srv.OllamaURL()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Enqueue(llmtest.Reply{Chunks: []string{"hello from ollama"}})
	evs, err := llmtest.Collect(t.Context(), p, hi)
	if err != nil || llmtest.TextOf(evs) != "hello from ollama" {
		t.Fatalf("got %q, %v", llmtest.TextOf(evs), err)
	}
	if r := srv.Requests()[0]; r.Protocol != "openai" || r.Header.Get("Authorization") != "" {
		t.Errorf("request went as %s with Authorization %q", r.Protocol, r.Header.Get("Authorization"))
	}
}

func TestDetectNothing(t *testing.T) {
	embedOnly := llmtest.NewServer(t)
	embedOnly.SetModels("nomic-embed-text:latest")

	for _, tc := range []struct {
		name  string
		url   string
		wants []string
	}{
		{"Ollama not running", deadURL, []string{"Ollama did not answer at " + deadURL, "connection refused"}},
		{"Ollama has only embeddings", embedOnly.OllamaURL(), []string{"only embedding models (nomic-embed-text:latest)"}},
		{"probe off", "off", []string{"looking for Ollama is turned off"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _, err := llm.Detect(t.Context(), llm.DetectOptions{OllamaURL: tc.url})
			if !errors.Is(err, llm.ErrNoProvider) || p != nil {
				t.Fatalf("got %v, %v; want ErrNoProvider", p, err)
			}
			wants := append(tc.wants, "OS1_LLM_URL", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "ollama pull llama3.2")
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestDetectFallback(t *testing.T) {
	srv := llmtest.NewServer(t)
	fb := &llm.Endpoint{Kind: "anthropic", URL: srv.AnthropicBaseURL(), APIKey: "k"}

	p, src, err := llm.Detect(t.Context(), llm.DetectOptions{OpenAIAPIKey: "sk", OpenAIURL: srv.OpenAIBaseURL(), Fallback: fb})
	if err != nil || p.Name() != "openai+anthropic" || src != llm.SourceEnv {
		t.Errorf("got %v from %q, %v; want openai+anthropic from env", p, src, err)
	}

	p, src, err = llm.Detect(t.Context(), llm.DetectOptions{OllamaURL: "off", Fallback: fb})
	if err != nil || p.Name() != "anthropic" || src != llm.SourceConfig {
		t.Errorf("with nothing else, got %v from %q, %v; want the fallback alone", p, src, err)
	}
}

func TestDetectBadConfig(t *testing.T) {
	_, _, err := llm.Detect(t.Context(), llm.DetectOptions{Configured: llm.Endpoint{Kind: "gemini", URL: "http://x"}})
	if err == nil || !strings.Contains(err.Error(), `"gemini"`) {
		t.Errorf("err = %v, want it to name the unknown provider", err)
	}
	_, _, err = llm.Detect(t.Context(), llm.DetectOptions{Configured: llm.Endpoint{URL: deadURL + "/v1"}})
	if !errors.Is(err, llm.ErrNoProvider) || !strings.Contains(err.Error(), "OS1_LLM_MODEL") {
		t.Errorf("err = %v, want ErrNoProvider asking for OS1_LLM_MODEL", err)
	}
}
