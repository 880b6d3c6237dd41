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
	"strconv"
	"strings"
	"time"
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
	// MaxRetries on 429 and 5xx, honouring Retry-After up to 30s (default 3).
	MaxRetries int
	// HTTPClient sends the requests (default: a plain client).
	HTTPClient *http.Client
	// Sleep waits between retries (tests record instead of waiting).
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
	if cfg.Sleep == nil {
		cfg.Sleep = func(ctx context.Context, d time.Duration) error {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
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
	for attempt := 0; ; attempt++ {
		vecs, retryAfter, err := r.once(ctx, where, body, len(texts))
		if err == nil {
			return vecs, nil
		}
		if retryAfter < 0 || attempt >= r.cfg.MaxRetries || ctx.Err() != nil {
			return nil, err
		}
		wait := max(retryAfter, time.Duration(1<<attempt)*500*time.Millisecond)
		if wait > 30*time.Second {
			return nil, err
		}
		if serr := r.cfg.Sleep(ctx, wait); serr != nil {
			return nil, serr
		}
	}
}

// once makes one request. retryAfter < 0 means the error is final.
func (r *Remote) once(ctx context.Context, where string, body []byte, n int) ([][]float32, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, where, bytes.NewReader(body))
	if err != nil {
		return nil, -1, err
	}
	req.Header.Set("Content-Type", "application/json")
	if r.cfg.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+r.cfg.APIKey)
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("embeddings server %s does not answer: %w", where, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, 0, fmt.Errorf("embeddings from %s: reading the answer: %w", where, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error json.RawMessage `json:"error"`
		}
		_ = json.Unmarshal(raw, &e)
		msg := strings.TrimSpace(string(e.Error))
		if msg == "" {
			msg = strings.TrimSpace(string(raw))
		}
		err := fmt.Errorf("embeddings server %s answered %s: %.300s", where, resp.Status, msg)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			return nil, time.Duration(secs) * time.Second, err
		}
		return nil, -1, err
	}
	var out struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, -1, fmt.Errorf("embeddings from %s are not the expected JSON: %w", where, err)
	}
	if len(out.Data) != n {
		return nil, -1, fmt.Errorf("embeddings from %s: %d vectors for %d texts", where, len(out.Data), n)
	}
	vecs := make([][]float32, n)
	for _, d := range out.Data {
		if d.Index < 0 || d.Index >= n || vecs[d.Index] != nil || len(d.Embedding) == 0 {
			return nil, -1, fmt.Errorf("embeddings from %s: bad or repeated index %d", where, d.Index)
		}
		vecs[d.Index] = normalise(d.Embedding)
	}
	return vecs, 0, nil
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
