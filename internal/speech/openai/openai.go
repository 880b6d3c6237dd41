// Package openai uses a server speaking OpenAI's audio API as os1's speech
// engines: POST /v1/audio/transcriptions for speech to text and POST
// /v1/audio/speech for text to speech. Speaches (faster-whisper), whisper.cpp
// server, LocalAI, Kokoro-FastAPI, openedai-speech and OpenAI itself speak it.
//
// It must never send audio or text anywhere but the configured URL, never
// retry more than once, and never log what was said or the API key.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/speech"
)

// Defaults for Config's zero fields.
const (
	DefaultSTTModel = "whisper-1"
	DefaultTTSModel = "tts-1"
	DefaultVoice    = "alloy"
	DefaultTimeout  = 60 * time.Second
)

// Bounds on what a server may send back.
const (
	MaxJSONBytes  = 1 << 20  // a transcript or an error
	MaxAudioBytes = 64 << 20 // synthesized speech (about 20 minutes of 24 kHz WAV)
)

// MaxRetryWait is the longest Retry-After honoured before the one retry on
// 429 or 503; a server asking for longer fails at once, since someone is
// waiting for an answer.
const MaxRetryWait = 2 * time.Second

// Config points at one OpenAI-compatible audio server.
type Config struct {
	// URL is the server's base, with or without /v1:
	// http://127.0.0.1:8000 (Speaches), https://api.openai.com/v1.
	URL string
	// Key is sent as a Bearer token when set.
	Key string
	// STTModel names the transcription model. Zero: DefaultSTTModel.
	STTModel string
	// TTSModel names the speech model. Zero: DefaultTTSModel.
	TTSModel string
	// Voice names the voice. Zero: DefaultVoice.
	Voice string
	// Language of the speech (ISO-639-1, "en"); empty lets the server detect it.
	Language string
	// HTTPClient sends the requests. Nil: a plain client.
	HTTPClient *http.Client
	// Timeout bounds one request, answer included. Zero: DefaultTimeout.
	Timeout time.Duration
	// Sleep waits before the retry and returns early with ctx's error when
	// ctx ends. Nil: a timer. Tests record the wait instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Clock reads the time for Retry-After dates. Nil: the wall clock.
	Clock clock.Clock
}

// client is the HTTP side shared by Transcriber and Synthesizer.
type client struct {
	cfg  Config
	base string // without /v1, for Name and messages
}

func newClient(cfg Config) (*client, error) {
	raw := strings.TrimRight(strings.TrimSpace(cfg.URL), "/")
	if raw == "" {
		return nil, errors.New("openai speech: no server URL (for Speaches: http://127.0.0.1:8000)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("openai speech: server URL %q: %w", cfg.URL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai speech: server URL %q must start with http:// or https:// and name a host", cfg.URL)
	}
	raw = strings.TrimSuffix(raw, "/v1")
	if cfg.STTModel == "" {
		cfg.STTModel = DefaultSTTModel
	}
	if cfg.TTSModel == "" {
		cfg.TTSModel = DefaultTTSModel
	}
	if cfg.Voice == "" {
		cfg.Voice = DefaultVoice
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	return &client{cfg: cfg, base: raw}, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StatusError is an answer outside 2xx. A 502, 503 or 504 also matches
// speech.ErrUnavailable.
type StatusError struct {
	URL     string // the endpoint
	Status  int
	Message string // the server's own words, from its error JSON or body
	hint    string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("openai speech server %s answered %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s + e.hint
}

// Unwrap makes gateway and overload answers speech.ErrUnavailable.
func (e *StatusError) Unwrap() error {
	switch e.Status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return speech.ErrUnavailable
	}
	return nil
}

// answer is a 2xx response.
type answer struct {
	contentType string
	body        []byte
}

// post sends body to path, retrying once on 429 or 503 after the wait the
// server asks for (up to MaxRetryWait; 500 ms when it does not say).
func (c *client) post(ctx context.Context, path, contentType string, body []byte, limit int64) (answer, error) {
	for attempt := 0; ; attempt++ {
		a, wait, err := c.once(ctx, path, contentType, body, limit)
		if err == nil || wait < 0 || attempt == 1 {
			return a, err
		}
		if wait > MaxRetryWait {
			return answer{}, fmt.Errorf("%w (it asks to retry after %v)", err, wait.Round(time.Second))
		}
		if serr := c.cfg.Sleep(ctx, wait); serr != nil {
			return answer{}, fmt.Errorf("openai speech %s%s: %w", c.base, path, serr)
		}
	}
}

// once makes one request; wait >= 0 means it may be retried after wait.
func (c *client) once(ctx context.Context, path, contentType string, body []byte, limit int64) (a answer, wait time.Duration, err error) {
	where := c.base + path
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	fail := func(err error) (answer, time.Duration, error) {
		switch {
		case ctx.Err() != nil:
			return answer{}, -1, fmt.Errorf("openai speech %s: %w", where, ctx.Err())
		case rctx.Err() != nil:
			return answer{}, -1, fmt.Errorf("openai speech %s: no answer within %v: %w", where, c.cfg.Timeout, rctx.Err())
		case unreachable(err):
			return answer{}, -1, fmt.Errorf("%w: openai speech server %s cannot be reached (is it running?): %w", speech.ErrUnavailable, c.base, err)
		}
		return answer{}, -1, fmt.Errorf("openai speech %s: %w", where, err)
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, where, bytes.NewReader(body))
	if err != nil {
		return answer{}, -1, fmt.Errorf("openai speech %s: %w", where, err)
	}
	req.Header.Set("Content-Type", contentType)
	if c.cfg.Key != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Key)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, MaxJSONBytes))
		serr := &StatusError{URL: where, Status: resp.StatusCode, Message: serverMessage(raw)}
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			if c.cfg.Key == "" {
				serr.hint = " (the server wants an API key and none is set)"
			} else {
				serr.hint = " (the server refused the API key)"
			}
		case http.StatusNotFound:
			serr.hint = " (is the URL right, and does the server offer this endpoint and model?)"
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			return answer{}, c.retryAfter(resp.Header), serr
		}
		return answer{}, -1, serr
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fail(fmt.Errorf("reading the answer: %w", err))
	}
	if int64(len(raw)) > limit {
		return answer{}, -1, fmt.Errorf("openai speech %s: the answer is over %d bytes", where, limit)
	}
	return answer{contentType: resp.Header.Get("Content-Type"), body: raw}, 0, nil
}

// retryAfter reads Retry-After as seconds or an HTTP date; 500 ms when absent.
func (c *client) retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 500 * time.Millisecond
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(min(max(s, 0), 1e6) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(c.cfg.Clock.Now()), 0)
	}
	return 500 * time.Millisecond
}

// unreachable reports whether err means the server was never reached:
// refused, no route, unknown host.
func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial"
}

// serverMessage finds the server's own words in an error body: OpenAI's
// {"error":{"message"}}, {"error":"…"}, FastAPI's {"detail"}, {"message"},
// else the body itself, shortened.
func serverMessage(raw []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Detail  json.RawMessage `json:"detail"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(raw, &e) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(e.Error, &inner) == nil && inner.Message != "":
			return shorten(inner.Message)
		case json.Unmarshal(e.Error, &s) == nil && s != "":
			return shorten(s)
		case json.Unmarshal(e.Detail, &s) == nil && s != "":
			return shorten(s)
		case len(e.Detail) > 0 && string(e.Detail) != "null":
			return shorten(string(e.Detail))
		case e.Message != "":
			return shorten(e.Message)
		}
	}
	return shorten(string(raw))
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 300 {
		return string(r[:300]) + "…"
	}
	return s
}
