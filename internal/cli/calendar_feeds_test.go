package cli

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

const feedICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n" +
	"BEGIN:VEVENT\r\nUID:xmas@h\r\nSUMMARY:Christmas\r\nDTSTART;VALUE=DATE:20261225\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nUID:bad@h\r\nSUMMARY:Broken\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

func feedServer(t *testing.T, addr string, hits *atomic.Int32) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	s := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		fmt.Fprint(w, feedICS)
	})}}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// TestCalendarSubscribeCLI: with [calendar] feeds_allow naming 127.0.0.1
// (OS1_CALENDAR_FEEDS_ALLOW), a subscription there is fetched (the broken
// event named), listed, refreshed (unchanged: a 304), read in the agenda and
// removed; an address outside the allowed range (127.0.0.2) is refused
// without being contacted; the commands answer for an unknown name.
func TestCalendarSubscribeCLI(t *testing.T) {
	var hits, other atomic.Int32
	feed := feedServer(t, "127.0.0.1:0", &hits)
	blocked := feedServer(t, "127.0.0.2:0", &other)
	r := startApp(t, "OS1_CALENDAR_FEEDS_ALLOW", "127.0.0.1")
	if code, _, stderr := r.run("correct horse\n", "login", "-u", "theo", "--password-stdin"); code != 0 {
		t.Fatalf("login: %s", stderr)
	}
	code, out, stderr := r.run("", "calendar", "subscribe", feed.URL+"/holidays.ics", "--name", "Holidays")
	if code != 0 || !strings.Contains(out, "Subscribed to Holidays") || !strings.Contains(out, "1 new") || !strings.Contains(out, "could not read") || !strings.Contains(out, "Broken") {
		t.Fatalf("subscribe: %d %q %q", code, out, stderr)
	}
	if code, out, _ := r.run("", "calendar", "subscriptions"); code != 0 || !strings.Contains(out, "Holidays") || !strings.Contains(out, "(1 events unreadable)") {
		t.Errorf("subscriptions: %d %q", code, out)
	}
	if code, out, stderr := r.run("", "calendar", "refresh", "Holidays"); code != 0 || !strings.Contains(out, "Holidays: unchanged") {
		t.Errorf("refresh: %d %q %q", code, out, stderr)
	}
	if code, out, _ := r.run("", "calendar", "agenda", "--from", "2026-12-24", "--days", "3"); code != 0 || !strings.Contains(out, "Christmas") {
		t.Errorf("agenda: %d %q", code, out)
	}
	if hits.Load() != 2 {
		t.Errorf("the feed was fetched %d times, want 2", hits.Load())
	}

	code, out, stderr = r.run("", "calendar", "subscribe", blocked.URL+"/holidays.ics")
	if code == 0 || !strings.Contains(stderr, "private or local network") || other.Load() != 0 {
		t.Fatalf("subscribe to 127.0.0.2: %d %q %q (%d requests reached it)", code, out, stderr, other.Load())
	}
	if code, _, stderr := r.run("", "calendar", "unsubscribe", "nothing"); code == 0 || !strings.Contains(stderr, "no calendar subscription") {
		t.Errorf("unsubscribe an unknown one: %d %q", code, stderr)
	}
	if code, _, stderr := r.run("", "calendar", "subscribe", "ftp://example.com/h.ics"); code == 0 || !strings.Contains(stderr, "not an address of a calendar file") {
		t.Errorf("subscribe to ftp: %d %q", code, stderr)
	}
	if code, out, _ := r.run("", "calendar", "unsubscribe", "Holidays"); code != 0 || !strings.Contains(out, "Unsubscribed from Holidays") {
		t.Errorf("unsubscribe: %d %q", code, out)
	}
	if code, out, _ := r.run("", "calendar", "subscriptions"); code != 0 || !strings.Contains(out, "No calendar subscription") {
		t.Errorf("subscriptions after unsubscribing: %d %q", code, out)
	}
	if code, out, _ := r.run("", "calendar", "agenda", "--from", "2026-12-24", "--days", "3"); code != 0 || strings.Contains(out, "Christmas") {
		t.Errorf("agenda after unsubscribing: %d %q", code, out)
	}
}
