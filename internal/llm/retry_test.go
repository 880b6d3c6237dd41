package llm

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
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
		{"absurd", http.Header{"Retry-After": {"1e300"}}, 1e7 * time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tc.header, now)
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
			if d := backoff(tc.attempt, max); d < tc.min || d > tc.max {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", tc.attempt, d, tc.min, tc.max)
			}
		}
	}
}

func TestProviderMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":{"message":"model 'x' not found","type":"invalid_request_error"}}`:      "model 'x' not found",
		`{"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}`: "model: claude-x",
		`{"error":"model \"x\" not found, try pulling it first"}`:                         `model "x" not found, try pulling it first`,
		`{"detail":"Not Found"}`:          "Not Found",
		"upstream connect error\n  reset": "upstream connect error reset",
		"<html><body>502</body></html>":   "",
		"":                                "",
	} {
		if got := providerMessage([]byte(body)); got != want {
			t.Errorf("providerMessage(%q) = %q, want %q", body, got, want)
		}
	}
}
