package embed

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// embeddingsServer speaks the OpenAI-compatible /v1/embeddings protocol,
// answering each input with a vector derived from its length, in reverse
// index order (servers may reorder), after `fail` 429s.
func embeddingsServer(t *testing.T, fail int32) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, `{"error":{"message":"bad path or key"}}`, http.StatusUnauthorized)
			return
		}
		if calls.Add(1) <= fail {
			w.Header().Set("Retry-After", "2")
			http.Error(w, `{"error":{"message":"slow down"}}`, http.StatusTooManyRequests)
			return
		}
		var in struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Model != "nomic-embed-text" {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i := len(in.Input) - 1; i >= 0; i-- {
			data = append(data, item{i, []float32{float32(len(in.Input[i])), 3, 4}})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestRemoteEmbeddings(t *testing.T) {
	srv, _ := embeddingsServer(t, 0)
	r, err := NewRemote(context.Background(), RemoteConfig{BaseURL: srv.URL + "/v1/", Model: "nomic-embed-text", APIKey: "k", Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r.Dim() != 3 || r.Name() != "remote:nomic-embed-text" {
		t.Fatalf("dim %d name %s", r.Dim(), r.Name())
	}
	vecs, err := r.Embed(context.Background(), []string{"a", "bbbb", "cc", "ddddd", "e"})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float32{1, 4, 2, 5, 1} {
		v := vecs[i]
		n := math.Sqrt(float64(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]))
		if math.Abs(n-1) > 1e-5 || math.Abs(float64(v[0]/v[1])-float64(want)/3) > 1e-5 {
			t.Errorf("vector %d = %v: wrong order or not normalised", i, v)
		}
	}
}

func TestRemoteRetriesAndErrors(t *testing.T) {
	srv, calls := embeddingsServer(t, 2)
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	if _, err := NewRemote(context.Background(), RemoteConfig{BaseURL: srv.URL + "/v1", Model: "nomic-embed-text", APIKey: "k", Sleep: sleep}); err != nil {
		t.Fatalf("after two 429s: %v", err)
	}
	if calls.Load() != 3 || len(waits) != 2 || waits[0] != 2*time.Second {
		t.Fatalf("calls %d waits %v: want 3 calls honouring Retry-After 2s", calls.Load(), waits)
	}
	_, err := NewRemote(context.Background(), RemoteConfig{BaseURL: srv.URL + "/v1", Model: "nomic-embed-text", APIKey: "wrong", Sleep: sleep})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := NewRemote(context.Background(), RemoteConfig{BaseURL: "http://127.0.0.1:1/v1", Model: "m", MaxRetries: -1}); err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("unreachable: %v", err)
	}
	if _, err := NewRemote(context.Background(), RemoteConfig{}); err == nil {
		t.Fatal("empty config accepted")
	}
}

// TestRemoteWaitsOnTheClock: the wait Retry-After asks for runs on the
// injected clock, so a test moves time instead of sleeping.
func TestRemoteWaitsOnTheClock(t *testing.T) {
	srv, calls := embeddingsServer(t, 1)
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	done := make(chan error, 1)
	go func() {
		_, err := NewRemote(context.Background(), RemoteConfig{BaseURL: srv.URL + "/v1", Model: "nomic-embed-text", APIKey: "k", Clock: c})
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls before the wait, want 1", calls.Load())
	}
	c.Advance(2 * time.Second)
	if err := <-done; err != nil || calls.Load() != 2 {
		t.Fatalf("err %v after %d calls", err, calls.Load())
	}
}
