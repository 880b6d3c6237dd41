package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/httpretry"
)

// Defaults for Transport's zero fields.
const (
	DefaultConnectTimeout = 10 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultMaxRetries     = 3
	DefaultMaxRetryWait   = 30 * time.Second
)

// Transport is the connection behaviour shared by every provider. The zero
// value is ready to use: each zero field takes its default.
type Transport struct {
	// HTTPClient sends the requests. Nil: a client that dials with
	// ConnectTimeout and uses no proxy (set one here to go through a proxy).
	// Its Timeout should be zero: streams last as long as the model talks, and
	// IdleTimeout already guards against a silent server.
	HTTPClient *http.Client
	// ConnectTimeout bounds dialling and the TLS handshake of the default
	// client. Zero: DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// IdleTimeout is the longest the server may stay silent: while waiting
	// for the response headers and between bytes of the stream. Zero:
	// DefaultIdleTimeout. Time the caller spends handling an event does not count.
	IdleTimeout time.Duration
	// MaxRetries is how many times a request is repeated after a 429, a 5xx
	// or a refused or reset connection, only while nothing has been yielded.
	// Zero: DefaultMaxRetries; negative: never retry.
	MaxRetries int
	// MaxRetryWait caps one wait between attempts. A Retry-After longer than
	// this fails at once, with Error.RetryAfter set. Zero: DefaultMaxRetryWait.
	MaxRetryWait time.Duration
	// Sleep waits between attempts and must return early with ctx's error
	// when ctx ends. Nil: a timer on Clock. Tests record the durations instead.
	Sleep func(ctx context.Context, d time.Duration) error
	// Clock reads the time for Retry-After dates, times the waits between
	// attempts and the idle watchdog. Nil: the wall clock.
	Clock clock.Clock
}

func (t Transport) withDefaults() Transport {
	if t.ConnectTimeout <= 0 {
		t.ConnectTimeout = DefaultConnectTimeout
	}
	if t.IdleTimeout <= 0 {
		t.IdleTimeout = DefaultIdleTimeout
	}
	switch {
	case t.MaxRetries == 0:
		t.MaxRetries = DefaultMaxRetries
	case t.MaxRetries < 0:
		t.MaxRetries = 0
	}
	if t.MaxRetryWait <= 0 {
		t.MaxRetryWait = DefaultMaxRetryWait
	}
	if t.Clock == nil {
		t.Clock = clock.System{}
	}
	if t.HTTPClient == nil {
		d := &net.Dialer{Timeout: t.ConnectTimeout, KeepAlive: 30 * time.Second}
		t.HTTPClient = &http.Client{Transport: &http.Transport{
			DialContext:         d.DialContext,
			TLSHandshakeTimeout: t.ConnectTimeout,
			ForceAttemptHTTP2:   true,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	return t
}

// retryPolicy is the transport's retry rules in httpretry's terms.
func (t Transport) retryPolicy() httpretry.Policy {
	return httpretry.Policy{MaxRetries: t.MaxRetries, MaxWait: t.MaxRetryWait, Clock: t.Clock, Sleep: t.Sleep}
}

// endpoint is one provider's connection: where it is, how it is described to
// the user, and the transport rules it follows.
type endpoint struct {
	name  string // Provider.Name
	where string // "openai-compatible model at http://…", used in every message
	tr    Transport
}

// call is one HTTP request, replayable across attempts.
type call struct {
	method string
	url    string
	header http.Header
	body   []byte
}

// decodeFunc reads one response stream and hands each event to emit. It
// returns nil at the end of a complete stream, the error emit returned, a
// *failure for what the provider said, or the read error.
type decodeFunc func(events *sseReader, emit func(Event) error) error

// errStop ends a stream because the consumer stopped ranging over it.
var errStop = errors.New("consumer stopped")

// stream runs c with retries and feeds the decoded events to yield. It never
// retries once an event has been yielded, because the caller already acted on it.
func (e *endpoint) stream(ctx context.Context, c call, decode decodeFunc, yield func(Event, error) bool) {
	yielded := false
	emit := func(ev Event) error {
		if err := ctx.Err(); err != nil {
			return e.canceled(ctx)
		}
		yielded = true
		if !yield(ev, nil) {
			return errStop
		}
		return nil
	}
	policy := e.tr.retryPolicy()
	for attempt := 1; ; attempt++ {
		f := e.attempt(ctx, c, decode, emit)
		if f == nil {
			return
		}
		// A Retry-After over MaxRetryWait fails at once, with Error.RetryAfter set.
		wait, ok := policy.Delay(attempt, f.retryAfter, f.hasRetryAfter)
		if yielded || !f.retryable || !ok || ctx.Err() != nil {
			yield(Event{}, e.errorFor(f, attempt))
			return
		}
		if err := policy.Wait(ctx, wait); err != nil {
			yield(Event{}, e.canceled(ctx))
			return
		}
	}
}

// attempt sends c once and decodes the reply. It returns nil when the stream
// completed or the consumer stopped.
func (e *endpoint) attempt(ctx context.Context, c call, decode decodeFunc, emit func(Event) error) *failure {
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	wd := startWatchdog(e.tr.Clock, e.tr.IdleTimeout, cancel)
	defer wd.stop()

	resp, f := e.send(ctx, actx, wd, c)
	if f != nil {
		return f
	}
	defer resp.Body.Close()
	if f := e.checkStreamType(resp); f != nil {
		return f
	}
	paused := func(ev Event) error {
		// The caller's time with an event is not the server's silence.
		wd.pause()
		defer wd.touch()
		return emit(ev)
	}
	err := decode(newSSEReader(&watchedBody{r: resp.Body, wd: wd}), paused)
	var f2 *failure
	var ce *Error
	switch {
	case err == nil:
		e.drain(resp.Body, cancel)
		return nil
	case errors.Is(err, errStop):
		return nil
	case errors.As(err, &f2):
		return f2
	case errors.As(err, &ce): // cancellation noticed by emit
		return &failure{kind: ce.Kind, cause: ce.Err, msg: ce.Message}
	}
	return e.ioFailure(ctx, wd, err, true)
}

// drainWait bounds the wait for the end of a response body after the
// stream said it was complete.
const drainWait = 100 * time.Millisecond

// drain reads what is left of a complete stream's body: the end of the HTTP
// response, which servers send right after [DONE] or message_stop. Closing
// the body before it would close the connection (HTTP/1.1, as llama-server
// speaks it), and the next reply would pay for a new one (and a TLS
// handshake where there is TLS). A server that keeps the stream open longer
// than drainWait, or sends more than a little, loses the connection as before.
func (e *endpoint) drain(body io.Reader, cancel context.CancelFunc) {
	t := e.tr.Clock.AfterFunc(drainWait, cancel)
	defer t.Stop()
	io.CopyN(io.Discard, body, 4<<10)
}

// send performs the request and turns every non-2xx answer into a failure.
func (e *endpoint) send(ctx, actx context.Context, wd *watchdog, c call) (*http.Response, *failure) {
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(actx, c.method, c.url, body)
	if err != nil {
		return nil, &failure{kind: KindBadRequest, cause: err,
			msg: "cannot build a request for " + e.where, hint: "check the URL"}
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	resp, err := e.tr.HTTPClient.Do(req)
	if err != nil {
		return nil, e.ioFailure(ctx, wd, err, false)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, e.statusFailure(resp, wd)
	}
	wd.touch()
	return resp, nil
}

// getJSON fetches url once (no retries: listings are cheap to ask again) and
// decodes the JSON answer into out.
func (e *endpoint) getJSON(ctx context.Context, url string, header http.Header, out any) error {
	return e.fetchJSON(ctx, call{method: http.MethodGet, url: url, header: header}, out)
}

// fetchJSON sends c once and decodes the JSON answer into out.
func (e *endpoint) fetchJSON(ctx context.Context, c call, out any) error {
	url := c.url
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	wd := startWatchdog(e.tr.Clock, e.tr.IdleTimeout, cancel)
	defer wd.stop()
	resp, f := e.send(ctx, actx, wd, c)
	if f != nil {
		return e.errorFor(f, 1)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(&watchedBody{r: resp.Body, wd: wd}, 16<<20))
	if err != nil {
		return e.errorFor(e.ioFailure(ctx, wd, err, true), 1)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return e.errorFor(&failure{kind: KindProtocol, cause: err,
			msg:  fmt.Sprintf("%s answered %s with something other than the expected JSON", e.where, url),
			hint: "check that the URL points at the API"}, 1)
	}
	return nil
}

// checkStreamType rejects answers that are plainly not an event stream, such
// as a login page or a non-streamed JSON reply, with a message that says so.
func (e *endpoint) checkStreamType(resp *http.Response) *failure {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "text/html" && mt != "application/json" {
		return nil
	}
	msg := fmt.Sprintf("%s answered with %s instead of an event stream", e.where, mt)
	if mt == "application/json" {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if d := httpretry.Message(body); d != "" {
			msg += ": " + d
		}
	}
	return &failure{kind: KindProtocol, msg: msg,
		hint: "check that the URL points at the API and that the server supports streaming"}
}

// watchdog cancels a request when the server has been silent for too long.
type watchdog struct {
	d     time.Duration
	t     clock.Timer
	fired atomic.Bool
}

func startWatchdog(c clock.Clock, d time.Duration, cancel context.CancelFunc) *watchdog {
	w := &watchdog{d: d}
	w.t = c.AfterFunc(d, func() {
		w.fired.Store(true)
		cancel()
	})
	return w
}

func (w *watchdog) touch() { w.t.Reset(w.d) }
func (w *watchdog) pause() { w.t.Stop() }
func (w *watchdog) stop()  { w.t.Stop() }

// watchedBody tells the watchdog about every byte that arrives.
type watchedBody struct {
	r  io.Reader
	wd *watchdog
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		b.wd.touch()
	}
	return n, err
}
