package llm

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryBase is the first backoff step; each retry doubles it.
const retryBase = 500 * time.Millisecond

// backoff is the wait before retry number attempt (1-based) when the server
// did not say how long to wait: exponential, capped at max, with jitter so
// that many clients do not come back in step.
func backoff(attempt int, max time.Duration) time.Duration {
	d := retryBase
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	return half + rand.N(half+1)
}

// parseRetryAfter reads how long the server asked us to wait: OpenAI's
// retry-after-ms, else Retry-After as seconds or as an HTTP date.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
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
