package caldavsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/httpretry"
)

// exchange is one request's preconditions and, after it, its status. The
// go-webdav clients do not send If-Match or If-None-Match, nor expose the
// status of a failed request; conn adds the first and records the second
// for the request whose context carries an exchange.
type exchange struct {
	ifMatch     string // an ETag, or "*"
	ifNoneMatch string
	status      int
	header      http.Header
}

type exchangeKey struct{}

func withExchange(ctx context.Context, x *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

// conn is the HTTP client the go-webdav clients use for one account:
// basic auth, preconditions, statuses.
type conn struct {
	http       *http.Client
	user, pass string
}

func (c *conn) Do(req *http.Request) (*http.Response, error) {
	req.SetBasicAuth(c.user, c.pass)
	x, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if x != nil {
		if x.ifMatch != "" {
			req.Header.Set("If-Match", quoteETag(x.ifMatch))
		}
		if x.ifNoneMatch != "" {
			req.Header.Set("If-None-Match", quoteETag(x.ifNoneMatch))
		}
	}
	resp, err := c.http.Do(req)
	if x != nil {
		x.status, x.header = 0, nil
		if resp != nil {
			x.status, x.header = resp.StatusCode, resp.Header
		}
	}
	return resp, err
}

// quoteETag puts back the quotes go-webdav takes off the ETags it reads
// (strconv.Unquote), as If-Match needs them; "*" stays bare.
func quoteETag(e string) string {
	if e == "*" || strings.HasPrefix(e, `"`) || strings.HasPrefix(e, `W/"`) {
		return e
	}
	return strconv.Quote(e)
}

// Errors a request is classified into (besides calendar.ErrAuth).
var (
	errChanged = errors.New("changed on the server since the last sync") // 412
	errGone    = errors.New("not on the server")                         // 404, 410
)

// session is one account's clients.
type session struct {
	acct  calendar.Account
	retry httpretry.Policy
	dav   *webdav.Client
	cal   *caldav.Client
	card  *carddav.Client // for RFC 6578 sync-collection, which caldav's client lacks
}

// DefaultTimeout bounds each request to a server.
const DefaultTimeout = 60 * time.Second

func newSession(a calendar.Account, password string, hc *http.Client, retry httpretry.Policy) (*session, error) {
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	c := &conn{http: hc, user: a.Username, pass: password}
	dav, err := webdav.NewClient(c, a.URL)
	if err != nil {
		return nil, fmt.Errorf("the calendar account %q: the URL %q: %w", a.Name, a.URL, err)
	}
	cal, err := caldav.NewClient(c, a.URL)
	if err != nil {
		return nil, fmt.Errorf("the calendar account %q: the URL %q: %w", a.Name, a.URL, err)
	}
	card, err := carddav.NewClient(c, a.URL)
	if err != nil {
		return nil, fmt.Errorf("the calendar account %q: the URL %q: %w", a.Name, a.URL, err)
	}
	if retry.Retryable == nil {
		// Not httpretry's default: a write cut off by a reset connection
		// may have happened, and repeating it could duplicate an event.
		retry.Retryable = serverDidNothing
	}
	return &session{acct: a, retry: retry, dav: dav, cal: cal, card: card}, nil
}

// serverDidNothing is true for the answers that say the request was not
// acted on: 429 and 503.
func serverDidNothing(err error) bool {
	var ae *httpretry.APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusTooManyRequests || ae.StatusCode == http.StatusServiceUnavailable)
}

// call runs one request with preconditions x (nil: none) and classifies
// its failure: a refused sign-in is calendar.ErrAuth naming the account;
// 412 errChanged; 404 and 410 errGone. A panic in a decoder (go-ical on a
// malformed object) is an error, not a crash.
func (s *session) call(ctx context.Context, x *exchange, what string, f func(ctx context.Context) error) (err error) {
	if x == nil {
		x = &exchange{}
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: the server sent something os1 cannot read (%v)", what, p)
		}
	}()
	// Only answers that say the server did nothing (429, 503) are tried
	// again, so a write is never repeated after it may have happened.
	err = httpretry.Do(ctx, s.retry, func(ctx context.Context) error {
		err := f(withExchange(ctx, x))
		if err != nil && (x.status == http.StatusTooManyRequests || x.status == http.StatusServiceUnavailable) {
			return fmt.Errorf("%w: %w", httpretry.ParseError(x.status, x.header, nil, s.retry.Now()), err)
		}
		return err
	})
	if err == nil {
		return nil
	}
	switch x.status {
	case http.StatusUnauthorized:
		return fmt.Errorf("the calendar account %q (user %q at %s): %w", s.acct.Name, s.acct.Username, s.acct.URL, calendar.ErrAuth)
	case http.StatusForbidden:
		return fmt.Errorf("%s: the server at %s does not allow it (403): %w", what, s.acct.URL, err)
	case http.StatusPreconditionFailed:
		return fmt.Errorf("%s: %w", what, errChanged)
	case http.StatusNotFound, http.StatusGone:
		return fmt.Errorf("%s: %w", what, errGone)
	}
	return fmt.Errorf("%s (calendar account %q): %w", what, s.acct.Name, err)
}
