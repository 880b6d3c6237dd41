package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/httpretry"
)

// RemoteConfig points at a model server's OpenAI-compatible embeddings
// endpoint: OpenAI, Ollama (http://127.0.0.1:11434/v1), llama.cpp server,
// vLLM, LM Studio, LocalAI.
type RemoteConfig struct {
	BaseURL string // e.g. http://127.0.0.1:11434/v1 (POST {BaseURL}/embeddings)
	Model   string // e.g. nomic-embed-text
	APIKey  string // sent as a Bearer token when set
	// Batch caps texts per request (default 64).
	Batch int
	// Timeout bounds one request (default 60s).
	Timeout time.Duration
	// MaxRetries on 429, 5xx and a server that does not answer, honouring
	// Retry-After up to 30s (default 3; negative: never).
	MaxRetries int
	// HTTPClient sends the requests (default: a plain client).
	HTTPClient *http.Client
	// Clock times the waits between retries and dates Retry-After
	// (default: the wall clock).
	Clock clock.Clock
	// Sleep, when set, waits between retries instead of Clock (tests
	// record instead of waiting).
	Sleep func(ctx context.Context, d time.Duration) error
}

// Remote embeds through a model server. Vectors are L2-normalised so they
// compare like the embedded model's.
type Remote struct {
	cfg RemoteConfig
	dim int
}

var _ Embedder = (*Remote)(nil)

// NewRemote checks the server once (embedding one word) to learn the
// vector size, and returns the embedder.
func NewRemote(ctx context.Context, cfg RemoteConfig) (*Remote, error) {
	if cfg.BaseURL == "" || cfg.Model == "" {
		return nil, errors.New("remote embeddings need a server URL and a model name (for Ollama: url http://127.0.0.1:11434/v1, model nomic-embed-text)")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Batch <= 0 {
		cfg.Batch = 64
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 3
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	r := &Remote{cfg: cfg}
	v, err := r.request(ctx, []string{"hello"})
	if err != nil {
		return nil, err
	}
	r.dim = len(v[0])
	return r, nil
}

// Name is "remote:" plus the model, so vectors of different models never mix.
func (r *Remote) Name() string { return "remote:" + r.cfg.Model }

// Dim is the vector size the server returned.
func (r *Remote) Dim() int { return r.dim }

// Embed returns one normalised vector per text, in order.
func (r *Remote) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += r.cfg.Batch {
		part := texts[start:min(start+r.cfg.Batch, len(texts))]
		vecs, err := r.request(ctx, part)
		if err != nil {
			return nil, err
		}
		for _, v := range vecs {
			if r.dim != 0 && len(v) != r.dim {
				return nil, fmt.Errorf("embeddings from %s: got %d values, want %d (did the model change?)", r.cfg.BaseURL, len(v), r.dim)
			}
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func (r *Remote) request(ctx context.Context, texts []string) ([][]float32, error) {
	body, _ := json.Marshal(map[string]any{"model": r.cfg.Model, "input": texts})
	where := r.cfg.BaseURL + "/embeddings"
	policy := httpretry.Policy{MaxRetries: r.cfg.MaxRetries, MaxWait: 30 * time.Second, Retryable: retryable,
		Clock: r.cfg.Clock, Sleep: r.cfg.Sleep}
	var vecs [][]float32
	err := httpretry.Do(ctx, policy, func(ctx context.Context) (err error) {
		vecs, err = r.once(ctx, where, body, len(texts))
		return err
	})
	return vecs, err
}

// noAnswer is a request that got no complete answer: worth another try.
type noAnswer struct {
	msg string
	err error
}

func (e *noAnswer) Error() string { return e.msg + ": " + e.err.Error() }
func (e *noAnswer) Unwrap() error { return e.err }

// retryable: a 408, 429 or 5xx, or no complete answer (its own timeout
// included, unless the caller gave up).
func retryable(err error) bool {
	var na *noAnswer
	return errors.As(err, &na) || httpretry.Retryable(err)
}

// once makes one request.
func (r *Remote) once(ctx context.Context, where string, body []byte, n int) ([][]float32, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, where, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.APIKey)
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, &noAnswer{"embeddings server " + where + " does not answer", err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("embeddings server %s answered %w", where, httpretry.DecodeError(resp, r.cfg.Clock.Now()))
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, &noAnswer{"embeddings from " + where + ": reading the answer", err}
	}
	var out struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("embeddings from %s are not the expected JSON: %w", where, err)
	}
	if len(out.Data) != n {
		return nil, fmt.Errorf("embeddings from %s: %d vectors for %d texts", where, len(out.Data), n)
	}
	vecs := make([][]float32, n)
	for _, d := range out.Data {
		if d.Index < 0 || d.Index >= n || vecs[d.Index] != nil || len(d.Embedding) == 0 {
			return nil, fmt.Errorf("embeddings from %s: bad or repeated index %d", where, d.Index)
		}
		vecs[d.Index] = normalise(d.Embedding)
	}
	return vecs, nil
}

func normalise(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return v
}
