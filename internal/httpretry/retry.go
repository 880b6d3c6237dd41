// Package httpretry is the one retry policy of os1's HTTP clients (language
// models, speech, embeddings): exponential backoff with jitter, the server's
// Retry-After (seconds, HTTP date or OpenAI's retry-after-ms), which answers
// are worth repeating, and the typed error an OpenAI-style error body
// decodes to.
//
// It must never retry a request by itself without a Policy saying how many
// times, never wait past its caller's context, and never read the clock
// except through the injected clock.Clock.
package httpretry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// Defaults for Policy's zero fields.
const (
	DefaultBase    = 500 * time.Millisecond
	DefaultMaxWait = 30 * time.Second
)

// Policy says how a client repeats a failed request. The zero value never
// retries; each client sets MaxRetries from its own configuration.
type Policy struct {
	// MaxRetries is how many times a failed attempt is repeated; zero or
	// negative: never.
	MaxRetries int
	// MaxWait caps one wait. A server that asks (Retry-After) for longer
	// is not retried: someone is waiting for an answer. Zero: DefaultMaxWait.
	MaxWait time.Duration
	// Backoff is the wait before retry number attempt (1-based) when the
	// server did not say. Nil: Exponential(DefaultBase, MaxWait).
	Backoff func(attempt int) time.Duration
	// Retryable decides whether an attempt's error is worth repeating.
	// Nil: Retryable.
	Retryable func(error) bool
	// Clock waits between attempts and dates Retry-After. Nil: clock.System.
	Clock clock.Clock
	// Sleep, when set, waits instead of Clock and must return ctx's error
	// early when ctx ends. Tests record the waits with it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Now is the policy clock's time, for dating Retry-After.
func (p Policy) Now() time.Time {
	if p.Clock == nil {
		return time.Now()
	}
	return p.Clock.Now()
}

// Delay says how long to wait before retry number attempt (1-based) given
// what the server asked for. ok is false when the retries are spent or the
// server asked for longer than MaxWait.
func (p Policy) Delay(attempt int, retryAfter time.Duration, hasRetryAfter bool) (wait time.Duration, ok bool) {
	maxWait := p.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	if attempt > p.MaxRetries {
		return 0, false
	}
	if hasRetryAfter {
		return retryAfter, retryAfter <= maxWait
	}
	if p.Backoff != nil {
		return min(p.Backoff(attempt), maxWait), true
	}
	return Backoff(attempt, DefaultBase, maxWait), true
}

// Wait sleeps d with Sleep or on Clock, returning ctx's error if it ends first.
func (p Policy) Wait(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	c := p.Clock
	if c == nil {
		c = clock.System{}
	}
	return clock.Sleep(ctx, c, d)
}

// Do calls op until it succeeds, fails in a way Retryable rejects, or the
// policy gives up, and returns op's last error. A Retry-After comes from an
// *APIError in op's error. When ctx ends during a wait, the error wraps
// ctx's error and names the failure that was being retried.
func Do(ctx context.Context, p Policy, op func(ctx context.Context) error) error {
	retryable := p.Retryable
	if retryable == nil {
		retryable = Retryable
	}
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || ctx.Err() != nil || !retryable(err) {
			return err
		}
		var ae *APIError
		var ra time.Duration
		has := errors.As(err, &ae) && ae.HasRetryAfter
		if has {
			ra = ae.RetryAfter
		}
		wait, ok := p.Delay(attempt, ra, has)
		if !ok {
			return err
		}
		if werr := p.Wait(ctx, wait); werr != nil {
			return fmt.Errorf("%w while waiting %v to try again after: %w", werr, wait.Round(time.Millisecond), err)
		}
	}
}

// Exponential is Backoff with a fixed base and cap, for Policy.Backoff.
func Exponential(base, max time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration { return Backoff(attempt, base, max) }
}

// Constant waits d before every retry, for Policy.Backoff.
func Constant(d time.Duration) func(attempt int) time.Duration {
	return func(int) time.Duration { return d }
}

// Backoff is the wait before retry number attempt (1-based): base doubled
// for each earlier retry, capped at max, with jitter in its upper half so
// that many clients do not come back in step.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	return half + rand.N(half+1)
}

// RetryAfter reads how long the server asked the client to wait: OpenAI's
// retry-after-ms, else Retry-After as seconds or as an HTTP date (relative
// to now). ok is false when it said nothing readable.
func RetryAfter(h http.Header, now time.Time) (d time.Duration, ok bool) {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < 1e10 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		s = min(max(s, 0), 1e7) // beyond any sane wait, and far from overflowing
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// RetryableStatus reports whether an HTTP answer is worth repeating: 408
// Request Timeout, 429 Too Many Requests and every 5xx.
func RetryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// Retryable is the default Policy.Retryable: an *APIError with a
// RetryableStatus, or a connection that was refused, reset or broke off.
// The caller's cancellation, an unknown host and a certificate that does not
// verify are final.
func Retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return RetryableStatus(ae.StatusCode)
	}
	return ConnectionError(err)
}

// ConnectionError reports whether err is a transport failure that another
// attempt may not meet: refused, reset, a broken pipe or a stream cut short.
func ConnectionError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return false
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
