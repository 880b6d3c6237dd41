package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestCalendarSubscribeCLI: os1 as it runs refuses a subscription on this
// machine's own network (the test server on 127.0.0.1) without contacting
// it, keeps nothing, and says so; the other subscription commands answer
// for an empty list and an unknown name.
func TestCalendarSubscribeCLI(t *testing.T) {
	var hits atomic.Int32
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nEND:VCALENDAR\r\n")
	}))
	t.Cleanup(feed.Close)
	r := startApp(t)
	if code, _, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", stderr)
	}
	code, out, stderr := r.run("", "calendar", "subscribe", feed.URL+"/holidays.ics")
	if code == 0 || !strings.Contains(stderr, "private or local network") || hits.Load() != 0 {
		t.Fatalf("subscribe to 127.0.0.1: %d %q %q (%d requests reached it)", code, out, stderr, hits.Load())
	}
	if code, out, _ := r.run("", "calendar", "subscriptions"); code != 0 || !strings.Contains(out, "No calendar subscription") {
		t.Errorf("subscriptions: %d %q", code, out)
	}
	if code, out, _ := r.run("", "calendar", "refresh"); code != 0 || !strings.Contains(out, "No calendar subscription") {
		t.Errorf("refresh: %d %q", code, out)
	}
	if code, _, stderr := r.run("", "calendar", "unsubscribe", "holidays"); code == 0 || !strings.Contains(stderr, "no calendar subscription") {
		t.Errorf("unsubscribe: %d %q", code, stderr)
	}
	if code, _, stderr := r.run("", "calendar", "subscribe", "ftp://example.com/h.ics"); code == 0 || !strings.Contains(stderr, "not an address of a calendar file") {
		t.Errorf("subscribe to ftp: %d %q", code, stderr)
	}
}
