// Package wyoming speaks the Wyoming protocol of Home Assistant and Rhasspy
// (JSON header lines with optional data and binary payloads) to use a
// wyoming-faster-whisper server as a speech.Transcriber and a wyoming-piper
// server as a speech.Synthesizer.
//
// It opens one connection per request and closes it when the request ends,
// is answered, or its context is done. It must never keep a connection open
// between requests, never run a server of its own outside tests (see
// wyomingtest), and never log what was said.
package wyoming

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/speech"
)

// DefaultTimeout bounds one request when Config.Timeout is zero: connecting,
// sending the audio or text and reading the whole answer.
const DefaultTimeout = 60 * time.Second

// ErrServer is an error event sent by the server; the message holds its text.
var ErrServer = errors.New("wyoming server reported an error")

// Config points at one Wyoming server.
type Config struct {
	// URL is tcp://host:port (host:port alone also works) or unix:///path.
	// wyoming-faster-whisper listens on 10300, wyoming-piper on 10200.
	URL string
	// Model names the speech recognition model (the transcribe event's name);
	// empty lets the server choose.
	Model string
	// Language of the speech ("en"); empty lets the server choose or detect.
	Language string
	// Voice names the piper voice ("en_US-lessac-medium"); empty is the
	// server's default voice.
	Voice string
	// Timeout bounds one request. Zero: DefaultTimeout.
	Timeout time.Duration
}

// endpoint is a parsed Config shared by the transcriber and synthesizer.
type endpoint struct {
	cfg     Config
	network string // "tcp" or "unix"
	addr    string
	url     string // normalised, for messages and Name
}

func newEndpoint(cfg Config) (endpoint, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	raw := strings.TrimSpace(cfg.URL)
	if raw == "" {
		return endpoint{}, errors.New("wyoming: no server URL (want tcp://host:port, e.g. tcp://127.0.0.1:10300)")
	}
	if !strings.Contains(raw, "://") {
		raw = "tcp://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("wyoming: server URL %q: %w", cfg.URL, err)
	}
	switch u.Scheme {
	case "tcp":
		if u.Hostname() == "" || u.Port() == "" {
			return endpoint{}, fmt.Errorf("wyoming: server URL %q needs a host and a port (tcp://127.0.0.1:10300)", cfg.URL)
		}
		return endpoint{cfg: cfg, network: "tcp", addr: u.Host, url: "tcp://" + u.Host}, nil
	case "unix":
		p := u.Host + u.Path
		if p == "" {
			return endpoint{}, fmt.Errorf("wyoming: server URL %q needs a socket path (unix:///run/piper.sock)", cfg.URL)
		}
		return endpoint{cfg: cfg, network: "unix", addr: p, url: "unix://" + p}, nil
	default:
		return endpoint{}, fmt.Errorf("wyoming: server URL %q: scheme %q is not tcp or unix", cfg.URL, u.Scheme)
	}
}

// session is one connection for one request.
type session struct {
	ep   *endpoint
	conn net.Conn
	r    *bufio.Reader
	stop func() bool
}

// dial connects and arranges for the connection to close when ctx ends, so
// that a blocked read or write returns at once.
func (ep *endpoint) dial(ctx context.Context) (*session, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, ep.network, ep.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: wyoming server %s cannot be reached (is it running?): %w", speech.ErrUnavailable, ep.url, err)
	}
	s := &session{ep: ep, conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
	s.stop = context.AfterFunc(ctx, func() { conn.Close() })
	return s, nil
}

func (s *session) close() {
	s.stop()
	s.conn.Close()
}

func (s *session) read() (Event, error) { return ReadEvent(s.r) }

// exchange runs one request against the server with the configured timeout
// and turns failures into errors that name the server: the caller's own
// cancellation or deadline, the timeout, or the protocol error.
func exchange[T any](ctx context.Context, ep *endpoint, what string, run func(*session) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("wyoming %s %s: %w", ep.url, what, err)
	}
	rctx, cancel := context.WithTimeout(ctx, ep.cfg.Timeout)
	defer cancel()
	s, err := ep.dial(rctx)
	if err == nil {
		var v T
		v, err = run(s)
		s.close()
		if err == nil {
			return v, nil
		}
	}
	switch {
	case ctx.Err() != nil:
		return zero, fmt.Errorf("wyoming %s %s: %w", ep.url, what, ctx.Err())
	case rctx.Err() != nil:
		return zero, fmt.Errorf("wyoming %s %s: no answer within %v: %w", ep.url, what, ep.cfg.Timeout, rctx.Err())
	case errors.Is(err, speech.ErrUnavailable):
		return zero, err
	}
	return zero, fmt.Errorf("wyoming %s %s: %w", ep.url, what, err)
}

// serverError turns an error event into a Go error.
func serverError(e Event) error {
	var d struct {
		Text string `json:"text"`
		Code string `json:"code"`
	}
	_ = e.DecodeData(&d)
	if d.Text == "" {
		d.Text = "(no text)"
	}
	if d.Code != "" {
		return fmt.Errorf("%w: %s (code %s)", ErrServer, d.Text, d.Code)
	}
	return fmt.Errorf("%w: %s", ErrServer, d.Text)
}
