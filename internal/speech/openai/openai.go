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
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/httpretry"
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
	// ctx ends. Nil: a timer on Clock. Tests record the wait instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Clock reads the time for Retry-After dates and times the wait before
	// the retry. Nil: the wall clock.
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
	if cfg.Clock == nil {
		cfg.Clock = clock.System{}
	}
	return &client{cfg: cfg, base: raw}, nil
}

// StatusError is an answer outside 2xx. A 502, 503 or 504 also matches
// speech.ErrUnavailable; errors.As finds the decoded *httpretry.APIError
// (the server's error type and code, its Retry-After) behind it.
type StatusError struct {
	URL     string // the endpoint
	Status  int
	Message string // the server's own words, from its error JSON or body
	hint    string
	api     *httpretry.APIError
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("openai speech server %s answered %d %s", e.URL, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s + e.hint
}

// Unwrap makes gateway and overload answers speech.ErrUnavailable, and
// gives the decoded answer.
func (e *StatusError) Unwrap() []error {
	var errs []error
	switch e.Status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		errs = append(errs, speech.ErrUnavailable)
	}
	if e.api != nil {
		errs = append(errs, e.api)
	}
	return errs
}

// answer is a 2xx response.
type answer struct {
	contentType string
	body        []byte
}

// retryWait is the wait before the retry when the server does not say.
const retryWait = 500 * time.Millisecond

// post sends body to path, retrying once on 429 or 503 after the wait the
// server asks for (up to MaxRetryWait; 500 ms when it does not say).
func (c *client) post(ctx context.Context, path, contentType string, body []byte, limit int64) (answer, error) {
	policy := httpretry.Policy{MaxRetries: 1, MaxWait: MaxRetryWait, Backoff: httpretry.Constant(retryWait),
		Retryable: retryable, Clock: c.cfg.Clock, Sleep: c.cfg.Sleep}
	var a answer
	err := httpretry.Do(ctx, policy, func(ctx context.Context) (err error) {
		a, err = c.once(ctx, path, contentType, body, limit)
		return err
	})
	var ae *httpretry.APIError
	if err != nil && ctx.Err() == nil && retryable(err) && errors.As(err, &ae) && ae.HasRetryAfter && ae.RetryAfter > MaxRetryWait {
		return answer{}, fmt.Errorf("%w (it asks to retry after %v)", err, ae.RetryAfter.Round(time.Second))
	}
	return a, err
}

// retryable: only overload answers are worth the one retry.
func retryable(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && (se.Status == http.StatusTooManyRequests || se.Status == http.StatusServiceUnavailable)
}

// once makes one request.
func (c *client) once(ctx context.Context, path, contentType string, body []byte, limit int64) (answer, error) {
	where := c.base + path
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	fail := func(err error) (answer, error) {
		switch {
		case ctx.Err() != nil:
			return answer{}, fmt.Errorf("openai speech %s: %w", where, ctx.Err())
		case rctx.Err() != nil:
			return answer{}, fmt.Errorf("openai speech %s: no answer within %v: %w", where, c.cfg.Timeout, rctx.Err())
		case unreachable(err):
			return answer{}, fmt.Errorf("%w: openai speech server %s cannot be reached (is it running?): %w", speech.ErrUnavailable, c.base, err)
		}
		return answer{}, fmt.Errorf("openai speech %s: %w", where, err)
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, where, bytes.NewReader(body))
	if err != nil {
		return answer{}, fmt.Errorf("openai speech %s: %w", where, err)
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
		ae := httpretry.ParseError(resp.StatusCode, resp.Header, raw, c.cfg.Clock.Now())
		serr := &StatusError{URL: where, Status: resp.StatusCode, Message: ae.Message, api: ae}
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			if c.cfg.Key == "" {
				serr.hint = " (the server wants an API key and none is set)"
			} else {
				serr.hint = " (the server refused the API key)"
			}
		case http.StatusNotFound:
			serr.hint = " (is the URL right, and does the server offer this endpoint and model?)"
		}
		return answer{}, serr
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fail(fmt.Errorf("reading the answer: %w", err))
	}
	if int64(len(raw)) > limit {
		return answer{}, fmt.Errorf("openai speech %s: the answer is over %d bytes", where, limit)
	}
	return answer{contentType: resp.Header.Get("Content-Type"), body: raw}, nil
}

// unreachable reports whether err means the server was never reached:
// refused, no route, unknown host.
func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.As(err, &op) && op.Op == "dial"
}
