package httpretry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

var now = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{"none", http.Header{}, 0, false},
		{"seconds", http.Header{"Retry-After": {"2"}}, 2 * time.Second, true},
		{"fractional seconds", http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond, true},
		{"negative", http.Header{"Retry-After": {"-3"}}, 0, true},
		{"date", http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second, true},
		{"date in the past", http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, 0, true},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0, false},
		{"milliseconds win", http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"1"}}, 250 * time.Millisecond, true},
		{"bad milliseconds fall back", http.Header{"Retry-After-Ms": {"x"}, "Retry-After": {"1"}}, time.Second, true},
		{"absurd", http.Header{"Retry-After": {"1e300"}}, 1e7 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := RetryAfter(tc.header, now)
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	max := 30 * time.Second
	for _, tc := range []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 250 * time.Millisecond, 500 * time.Millisecond},
		{2, 500 * time.Millisecond, time.Second},
		{3, time.Second, 2 * time.Second},
		{40, 15 * time.Second, 30 * time.Second},
	} {
		for range 50 {
			if d := Backoff(tc.attempt, DefaultBase, max); d < tc.min || d > tc.max {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", tc.attempt, d, tc.min, tc.max)
			}
		}
	}
}

func TestDelay(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        Policy
		attempt  int
		ra       time.Duration
		hasRA    bool
		min, max time.Duration
		ok       bool
	}{
		{"no retries", Policy{}, 1, 0, false, 0, 0, false},
		{"retries spent", Policy{MaxRetries: 2}, 3, 0, false, 0, 0, false},
		{"backoff", Policy{MaxRetries: 2}, 2, 0, false, 500 * time.Millisecond, time.Second, true},
		{"retry-after wins", Policy{MaxRetries: 2}, 1, 7 * time.Second, true, 7 * time.Second, 7 * time.Second, true},
		{"retry-after zero", Policy{MaxRetries: 2}, 1, 0, true, 0, 0, true},
		{"retry-after too long", Policy{MaxRetries: 2, MaxWait: 2 * time.Second}, 1, 3 * time.Second, true, 0, 0, false},
		{"constant", Policy{MaxRetries: 1, Backoff: Constant(500 * time.Millisecond)}, 1, 0, false, 500 * time.Millisecond, 500 * time.Millisecond, true},
		{"backoff capped", Policy{MaxRetries: 1, MaxWait: time.Second, Backoff: Constant(time.Hour)}, 1, 0, false, time.Second, time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := tc.p.Delay(tc.attempt, tc.ra, tc.hasRA)
			if ok != tc.ok || (ok && (d < tc.min || d > tc.max)) {
				t.Fatalf("Delay = %v, %v; want %v in [%v, %v]", d, ok, tc.ok, tc.min, tc.max)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"message":"model 'x' not found","type":"invalid_request_error"}}`:      "model 'x' not found",
		`{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}`: "model: claude-x",
		`{"error":"model \"x\" not found, try pulling it first"}`:                         `model "x" not found, try pulling it first`,
		`{"detail":"Not Found"}`:                               "Not Found",
		`{"detail":[{"loc":["body"],"msg":"field required"}]}`: `[{"loc":["body"],"msg":"field required"}]`,
		`{"message":"quota"}`:                                  "quota",
		`{"other":1}`:                                          "",
		"upstream connect error\n  reset":                      "upstream connect error reset",
		"<html><body>502</body></html>":                        "",
		"":                                                     "",
		strings.Repeat("é", 400):                               strings.Repeat("é", 300) + "…",
	} {
		if got := Message([]byte(body)); got != want {
			t.Errorf("Message(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestParseError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		body   string
		want   APIError
		text   string
	}{
		{"openai", 429, http.Header{"Retry-After": {"3"}},
			`{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded","param":null}}`,
			APIError{StatusCode: 429, Message: "Rate limit reached", Type: "requests", Code: "rate_limit_exceeded", RetryAfter: 3 * time.Second, HasRetryAfter: true},
			"HTTP 429 Too Many Requests: Rate limit reached (rate_limit_exceeded)"},
		{"numeric code and param", 400, nil,
			`{"error":{"message":"too long","type":"invalid_request_error","code":400,"param":"messages"}}`,
			APIError{StatusCode: 400, Message: "too long", Type: "invalid_request_error", Code: "400", Param: "messages"},
			"HTTP 400 Bad Request: too long (400)"},
		{"type only", 401, nil, `{"error":{"message":"bad key","type":"invalid_api_key"}}`,
			APIError{StatusCode: 401, Message: "bad key", Type: "invalid_api_key"},
			"HTTP 401 Unauthorized: bad key (invalid_api_key)"},
		{"ollama", 404, nil, `{"error":"model not found"}`,
			APIError{StatusCode: 404, Message: "model not found"}, "HTTP 404 Not Found: model not found"},
		{"html", 502, nil, `<html>bad gateway</html>`,
			APIError{StatusCode: 502}, "HTTP 502 Bad Gateway"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseError(tc.status, tc.header, []byte(tc.body), now)
			if *got != tc.want {
				t.Fatalf("got %+v\nwant %+v", *got, tc.want)
			}
			if got.Error() != tc.text {
				t.Fatalf("Error() = %q, want %q", got.Error(), tc.text)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, refused := http.Get("http://" + addr)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"429", &APIError{StatusCode: 429}, true},
		{"408", &APIError{StatusCode: 408}, true},
		{"500", &APIError{StatusCode: 500}, true},
		{"503 wrapped", fmt.Errorf("speech: %w", &APIError{StatusCode: 503}), true},
		{"400", &APIError{StatusCode: 400}, false},
		{"401", &APIError{StatusCode: 401}, false},
		{"refused", refused, true},
		{"cut short", io.ErrUnexpectedEOF, true},
		{"canceled", context.Canceled, false},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"no such host", &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}, false},
		{"other", errors.New("bad JSON"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Retryable(tc.err); got != tc.want {
				t.Fatalf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// script is a test server that answers each request with the next step.
type script struct {
	mu    sync.Mutex
	steps []step
	calls int
}

type step struct {
	status     int
	retryAfter string
	body       string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	st := step{status: 200, body: `{"ok":true}`}
	if s.calls < len(s.steps) {
		st = s.steps[s.calls]
	}
	s.calls++
	s.mu.Unlock()
	if st.retryAfter != "" {
		w.Header().Set("Retry-After", st.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(st.status)
	_, _ = io.WriteString(w, st.body)
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// get is an attempt as a client writes it: a non-2xx answer becomes an
// *APIError through DecodeError.
func get(url string, c clock.Clock) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return DecodeError(resp, c.Now())
		}
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
}

func TestDo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		steps   []step
		p       Policy
		calls   int
		waits   []time.Duration
		wantErr string // "" for success
	}{
		{"429 with Retry-After seconds", []step{{429, "2", `{"error":{"message":"slow down"}}`}}, Policy{MaxRetries: 3},
			2, []time.Duration{2 * time.Second}, ""},
		{"429 with Retry-After date", []step{{429, now.Add(5 * time.Second).Format(http.TimeFormat), ""}}, Policy{MaxRetries: 3},
			2, []time.Duration{5 * time.Second}, ""},
		{"503 then 200", []step{{503, "", "<html>down</html>"}}, Policy{MaxRetries: 3, Backoff: Constant(time.Second)},
			2, []time.Duration{time.Second}, ""},
		{"retries spent", []step{{500, "0", ""}, {502, "0", ""}, {503, "0", `{"error":{"message":"overloaded","type":"server_error"}}`}}, Policy{MaxRetries: 2},
			3, []time.Duration{0, 0}, "HTTP 503 Service Unavailable: overloaded (server_error)"},
		{"Retry-After too long", []step{{429, "60", ""}}, Policy{MaxRetries: 3, MaxWait: 30 * time.Second},
			1, nil, "HTTP 429 Too Many Requests"},
		{"OpenAI error is final", []step{{400, "", `{"error":{"message":"Unknown model","type":"invalid_request_error","code":"model_not_found"}}`}}, Policy{MaxRetries: 3},
			1, nil, "HTTP 400 Bad Request: Unknown model (model_not_found)"},
		{"no retries", []step{{503, "0", ""}}, Policy{},
			1, nil, "HTTP 503"},
		{"own classification", []step{{500, "0", ""}}, Policy{MaxRetries: 3, Retryable: func(err error) bool {
			var ae *APIError
			return errors.As(err, &ae) && ae.StatusCode == 429
		}}, 1, nil, "HTTP 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &script{steps: tc.steps}
			srv := httptest.NewServer(s)
			defer srv.Close()
			c := clock.NewFake(now)
			var waits []time.Duration
			tc.p.Clock = c
			tc.p.Sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			err := Do(context.Background(), tc.p, get(srv.URL, c))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if s.count() != tc.calls || fmt.Sprint(waits) != fmt.Sprint(tc.waits) {
				t.Fatalf("%d calls, waits %v; want %d, %v", s.count(), waits, tc.calls, tc.waits)
			}
			var ae *APIError
			if tc.wantErr != "" && !errors.As(err, &ae) {
				t.Fatalf("err %v is not an *APIError", err)
			}
		})
	}
}

// TestDoWaitsOnTheClock runs the real wait on a fake clock: the retry
// happens only once the clock has moved by Retry-After.
func TestDoWaitsOnTheClock(t *testing.T) {
	s := &script{steps: []step{{429, "10", ""}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := clock.NewFake(now)
	done := make(chan error, 1)
	go func() { done <- Do(context.Background(), Policy{MaxRetries: 1, Clock: c}, get(srv.URL, c)) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.Advance(9 * time.Second)
	if s.count() != 1 {
		t.Fatalf("retried before Retry-After: %d calls", s.count())
	}
	c.Advance(time.Second)
	if err := <-done; err != nil || s.count() != 2 {
		t.Fatalf("err %v after %d calls", err, s.count())
	}
}

func TestDoCanceledWhileWaiting(t *testing.T) {
	s := &script{steps: []step{{503, "5", `{"error":{"message":"overloaded"}}`}}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := clock.NewFake(now)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Do(ctx, Policy{MaxRetries: 3, Clock: c}, get(srv.URL, c)) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := c.BlockUntil(wctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	err := <-done
	var ae *APIError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &ae) || ae.StatusCode != 503 {
		t.Fatalf("err = %v, want Canceled naming the 503", err)
	}
	if s.count() != 1 || c.Armed() != 0 {
		t.Fatalf("%d calls, %d timers left armed", s.count(), c.Armed())
	}
}

func TestDoConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	calls := 0
	op := get(url, clock.System{})
	err = Do(context.Background(), Policy{MaxRetries: 2, Sleep: func(context.Context, time.Duration) error { return nil }},
		func(ctx context.Context) error { calls++; return op(ctx) })
	if err == nil || calls != 3 {
		t.Fatalf("err %v after %d calls, want a failure after 3", err, calls)
	}
}
