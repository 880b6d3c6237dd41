package llm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/httpretry"
)

// failure is what one attempt learned about why it failed. The retry loop
// reads it to decide whether to try again, and errorFor turns the last one
// into the *Error the caller sees.
type failure struct {
	kind          ErrorKind
	status        int    // HTTP status, 0 when the failure was not an HTTP answer
	detail        string // the provider's own words, if it gave any
	retryAfter    time.Duration
	hasRetryAfter bool
	retryable     bool  // worth repeating while nothing has been yielded
	cause         error // underlying error, may be nil
	msg           string
	hint          string // what the user can do, appended after "; "
	// context overflows: what the server said about sizes (0: it did not)
	ctxSize, promptTokens int
}

func (f *failure) Error() string {
	if f.msg != "" {
		return f.msg
	}
	return fmt.Sprintf("HTTP %d %s", f.status, f.detail)
}

// errorFor turns the last failure, after attempts tries, into the error the
// caller sees. Messages name the endpoint and say what to do next.
func (e *endpoint) errorFor(f *failure, attempts int) *Error {
	err := &Error{Kind: f.kind, Provider: e.name, StatusCode: f.status, Err: f.cause,
		ContextSize: f.ctxSize, PromptTokens: f.promptTokens}
	if f.hasRetryAfter {
		err.RetryAfter = f.retryAfter
	}
	if f.status == 0 || f.msg != "" {
		msg := f.msg
		if attempts > 1 && f.kind != KindCanceled {
			msg += fmt.Sprintf(" (tried %d times)", attempts)
		}
		if f.hint != "" {
			msg += "; " + f.hint
		}
		err.Message = msg
		return err
	}

	var b strings.Builder
	fmt.Fprintf(&b, "%s answered %d %s", e.where, f.status, http.StatusText(f.status))
	if attempts > 1 {
		fmt.Fprintf(&b, " %d times", attempts)
	}
	if f.detail != "" {
		b.WriteString(": " + f.detail)
	}
	switch f.kind {
	case KindRateLimited, KindServer, KindTimeout:
		if f.hasRetryAfter {
			b.WriteString("; try again in " + humanWait(f.retryAfter))
		} else {
			b.WriteString("; try again later")
		}
	case KindAuth:
		b.WriteString("; check the API key and that it may use this model")
	default:
		b.WriteString("; check the model name and the connection settings")
	}
	err.Message = b.String()
	return err
}

// humanWait renders a wait for a person: whole seconds, never "0s".
func humanWait(d time.Duration) string {
	if d < time.Second {
		return "a moment"
	}
	return d.Round(time.Second).String()
}

// canceled is the error for a stream the caller stopped through ctx.
func (e *endpoint) canceled(ctx context.Context) *Error {
	return e.errorFor(e.ctxFailure(ctx), 1)
}

func (e *endpoint) ctxFailure(ctx context.Context) *failure {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &failure{kind: KindTimeout, cause: ctx.Err(),
			msg: "the deadline for the request to " + e.where + " passed"}
	}
	return &failure{kind: KindCanceled, cause: ctx.Err(),
		msg: "the request to " + e.where + " was cancelled"}
}

// ioFailure classifies a transport error. midStream says whether the
// response had started; ctx is the caller's context, which wins over
// everything else.
func (e *endpoint) ioFailure(ctx context.Context, wd *watchdog, err error, midStream bool) *failure {
	if ctx.Err() != nil {
		return e.ctxFailure(ctx)
	}
	if wd.fired.Load() {
		// err is the context.Canceled the watchdog caused; passing it on
		// would make a timeout look like the caller's own cancellation.
		if midStream {
			return &failure{kind: KindTimeout,
				msg:  fmt.Sprintf("%s stopped sending for %s in the middle of a reply", e.where, e.tr.IdleTimeout),
				hint: "try again; if it keeps happening the server may be overloaded"}
		}
		return &failure{kind: KindTimeout,
			msg:  fmt.Sprintf("%s sent nothing for %s", e.where, e.tr.IdleTimeout),
			hint: "it may be busy or still loading the model; try again, or raise the idle timeout"}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return &failure{kind: KindConnection, cause: err,
			msg: "could not find the host of " + e.where, hint: "check the URL"}
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return &failure{kind: KindConnection, cause: err,
			msg: "could not verify the TLS certificate of " + e.where, hint: "check the URL and the server's certificate"}
	}
	var ne net.Error
	if !midStream && errors.As(err, &ne) && ne.Timeout() {
		return &failure{kind: KindTimeout, cause: err,
			msg:  fmt.Sprintf("could not connect to %s within %s", e.where, e.tr.ConnectTimeout),
			hint: "check that it is running and reachable from this machine"}
	}
	if midStream {
		return &failure{kind: KindConnection, cause: err, retryable: true,
			msg: "the connection to " + e.where + " broke in the middle of a reply", hint: "try again"}
	}
	return &failure{kind: KindConnection, cause: err, retryable: true,
		msg: "could not connect to " + e.where, hint: "check that it is running and that the URL is right"}
}

// statusFailure reads a non-2xx answer: its kind, whether to retry, and the
// provider's own explanation from the body.
func (e *endpoint) statusFailure(resp *http.Response, wd *watchdog) *failure {
	body, _ := io.ReadAll(io.LimitReader(&watchedBody{r: resp.Body, wd: wd}, httpretry.MaxErrorBody))
	ae := httpretry.ParseError(resp.StatusCode, resp.Header, body, e.tr.Clock.Now())
	f := &failure{status: ae.StatusCode, detail: ae.Message, retryAfter: ae.RetryAfter,
		hasRetryAfter: ae.HasRetryAfter, retryable: ae.Retryable()}
	if s := resp.StatusCode; s >= 400 && s < 600 && isOverflow(ae.Type+" "+ae.Code, ae.Message) {
		return e.overflowFailure(f, body)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		f.kind = KindRateLimited
	case s == http.StatusRequestTimeout:
		f.kind = KindTimeout
	case s >= 500:
		f.kind = KindServer
	case s == http.StatusUnauthorized, s == http.StatusForbidden:
		f.kind = KindAuth
	default:
		f.kind = KindBadRequest
	}
	e.imageRefusal(f)
	return f
}

// streamFailure is an error the provider reported inside an otherwise
// healthy stream. errType is the provider's word for it.
func (e *endpoint) streamFailure(errType, message string) *failure {
	t := strings.ToLower(errType)
	f := &failure{kind: KindServer, retryable: true, detail: message}
	if isOverflow(errType, message) {
		return e.overflowFailure(f, nil)
	}
	switch {
	case strings.Contains(t, "rate_limit"), strings.Contains(t, "too_many"):
		f.kind = KindRateLimited
	case strings.Contains(t, "auth"), strings.Contains(t, "permission"), strings.Contains(t, "api_key"):
		f.kind, f.retryable = KindAuth, false
	case strings.Contains(t, "invalid_request"), strings.Contains(t, "not_found"), strings.Contains(t, "too_large"):
		f.kind, f.retryable = KindBadRequest, false
	}
	what := message
	if what == "" {
		what = "no explanation"
	}
	if errType != "" {
		what += " (" + errType + ")"
	}
	f.msg = fmt.Sprintf("%s reported an error while streaming: %s", e.where, what)
	switch f.kind {
	case KindAuth:
		f.hint = "check the API key"
	case KindBadRequest:
		f.hint = "check the model name and the connection settings"
	default:
		f.hint = "try again later"
	}
	return f
}

// protocolFailure is a stream this package cannot read.
func (e *endpoint) protocolFailure(what string, cause error) *failure {
	return &failure{kind: KindProtocol, cause: cause,
		msg:  fmt.Sprintf("%s sent %s", e.where, what),
		hint: "check that the URL points at a compatible API"}
}

// truncatedFailure is a stream that ended cleanly before the reply was complete.
func (e *endpoint) truncatedFailure() *failure {
	return &failure{kind: KindConnection, retryable: true, cause: io.ErrUnexpectedEOF,
		msg: "the stream from " + e.where + " ended before the reply was complete", hint: "try again"}
}
