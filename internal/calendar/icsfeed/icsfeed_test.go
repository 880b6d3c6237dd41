package icsfeed_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/icsfeed"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

func allowLoopback(ip netip.Addr) bool { return ip.IsLoopback() }

// feedServer serves one .ics file with an ETag and a Last-Modified, and
// answers 304 to a request that names the current ETag.
type feedServer struct {
	mu      sync.Mutex
	body    string
	etag    string
	hits    atomic.Int32
	notMod  atomic.Int32
	lastINM string
	lastIMS string
	chunked bool
	*httptest.Server
}

func newFeedServer(t *testing.T, body string) *feedServer {
	f := &feedServer{body: body, etag: `"v1"`}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		f.mu.Lock()
		body, etag, chunked := f.body, f.etag, f.chunked
		f.lastINM, f.lastIMS = r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since")
		f.mu.Unlock()
		if r.Header.Get("If-None-Match") == etag {
			f.notMod.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "text/calendar")
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Sat, 05 Dec 2026 10:00:00 GMT")
		if chunked {
			w.(http.Flusher).Flush() // no Content-Length: the size cap must hold while reading
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *feedServer) set(body, etag string) {
	f.mu.Lock()
	f.body, f.etag = body, etag
	f.mu.Unlock()
}

func ics(events ...string) string {
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n" + strings.Join(events, "") + "END:VCALENDAR\r\n"
}

func vevent(uid, summary, start string) string {
	return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nSUMMARY:" + summary + "\r\nDTSTART;VALUE=DATE:" + start + "\r\nEND:VEVENT\r\n"
}

const broken = "BEGIN:VEVENT\r\nUID:nostart@test\r\nSUMMARY:No start\r\nEND:VEVENT\r\n"

var t0 = time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)

func newService(t *testing.T, f *icsfeed.Fetcher) (*calendar.Service, string, string) {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, u := range []string{"ana", "bob"} {
		if err := db.CreateUser(t.Context(), store.User{ID: "usr_" + u, Username: u, DisplayName: u, Role: store.RoleMember, PasswordHash: "x", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	s := &calendar.Service{Store: sqlitecal.New(db), Clock: clock.NewFake(t0), IDs: clock.NewFakeIDs(), Feeds: f, FeedEvery: -1}
	t.Cleanup(func() { s.Close() })
	return s, "usr_ana", "usr_bob"
}

func agenda(t *testing.T, s *calendar.Service, user string) []string {
	t.Helper()
	occ, err := s.Agenda(t.Context(), user, calendar.Range{From: t0.AddDate(0, 0, -1), To: t0.AddDate(0, 1, 0)}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range occ {
		out = append(out, o.Event.Summary)
	}
	return out
}

// A subscription: fetched when added (the broken event named, the others
// kept), fetched again with its ETag (a 304 changes nothing), and a
// changed file adds, replaces and removes; the calendar refuses every
// write, and another user cannot see, fetch or remove it.
func TestSubscribeRefresh(t *testing.T) {
	f := newFeedServer(t, ics(vevent("xmas@h", "Christmas", "20261225"), broken, vevent("boxing@h", "Boxing Day", "20261226")))
	s, ana, bob := newService(t, &icsfeed.Fetcher{Allow: allowLoopback})
	ctx := t.Context()

	c, rep, err := s.Subscribe(ctx, ana, calendar.SubscriptionInput{URL: f.URL + "/holidays.ics"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 2 || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0], "No start") {
		t.Fatalf("first fetch: %+v", rep)
	}
	if c.Name != "holidays" || !c.ReadOnly || !c.Subscription() || c.Local() {
		t.Errorf("the calendar: %+v", c)
	}
	if got := agenda(t, s, ana); strings.Join(got, ",") != "Christmas,Boxing Day" {
		t.Errorf("agenda: %v", got)
	}
	if _, _, err := s.Subscribe(ctx, ana, calendar.SubscriptionInput{URL: f.URL + "/holidays.ics"}); !errors.Is(err, calendar.ErrConflict) {
		t.Errorf("subscribing twice: %v", err)
	}

	// Unchanged: a 304, nothing rewritten, the broken event still named.
	rep, err = s.Refresh(ctx, ana, c.ID)
	if err != nil || !rep.NotModified || len(rep.Errors) != 1 {
		t.Fatalf("refresh: %+v %v", rep, err)
	}
	if f.notMod.Load() != 1 || f.lastINM != `"v1"` || f.lastIMS == "" {
		t.Errorf("the refresh was not conditional: If-None-Match %q, If-Modified-Since %q", f.lastINM, f.lastIMS)
	}

	// Changed: Boxing Day gone, Christmas renamed, New Year added.
	f.set(ics(vevent("xmas@h", "Christmas Day", "20261225"), vevent("ny@h", "New Year", "20270101")), `"v2"`)
	rep, err = s.Refresh(ctx, ana, c.ID)
	if err != nil || rep.NotModified || rep.Added != 1 || rep.Updated != 1 || rep.Removed != 1 || len(rep.Errors) != 0 {
		t.Fatalf("refresh of a changed file: %+v %v", rep, err)
	}
	if got := agenda(t, s, ana); strings.Join(got, ",") != "Christmas Day,New Year" {
		t.Errorf("agenda after the change: %v", got)
	}
	got, _ := s.Store.Calendar(ctx, ana, c.ID)
	if got.FeedETag != `"v2"` || len(got.FeedErrors) != 0 || got.FetchError != "" || got.FetchedAt.IsZero() {
		t.Errorf("the stored fetch: %+v", got)
	}

	// Read-only: create, move, cancel and import are refused, by name.
	evs, _ := s.Store.ListEvents(ctx, ana, c.ID, calendar.Range{}, false)
	if _, err := s.Create(ctx, ana, calendar.EventInput{CalendarID: c.ID, Summary: "Party", Start: calendar.At(t0)}); !errors.Is(err, calendar.ErrReadOnly) || !strings.Contains(err.Error(), "holidays") {
		t.Errorf("create in a subscription: %v", err)
	}
	if _, err := s.Move(ctx, ana, evs[0].ID, calendar.When{}, calendar.Day(2026, 12, 27), calendar.When{}); !errors.Is(err, calendar.ErrReadOnly) {
		t.Errorf("move in a subscription: %v", err)
	}
	if _, err := s.Cancel(ctx, ana, evs[0].ID, calendar.When{}); !errors.Is(err, calendar.ErrReadOnly) {
		t.Errorf("cancel in a subscription: %v", err)
	}
	if _, err := s.Import(ctx, ana, c.ID, strings.NewReader(ics(vevent("x@y", "X", "20261210")))); !errors.Is(err, calendar.ErrReadOnly) {
		t.Errorf("import into a subscription: %v", err)
	}
	// The local calendar is another one; creating there works.
	if _, err := s.Create(ctx, ana, calendar.EventInput{Summary: "Party", Start: calendar.At(t0.Add(time.Hour))}); err != nil {
		t.Errorf("create in the local calendar: %v", err)
	}

	// Per user.
	if subs, _ := s.Subscriptions(ctx, bob); len(subs) != 0 {
		t.Errorf("bob sees %d subscriptions", len(subs))
	}
	if _, err := s.Refresh(ctx, bob, c.ID); !errors.Is(err, calendar.ErrNotFound) {
		t.Errorf("bob refreshes ana's: %v", err)
	}
	if err := s.Unsubscribe(ctx, bob, c.ID); !errors.Is(err, calendar.ErrNotFound) {
		t.Errorf("bob removes ana's: %v", err)
	}
	local, _ := s.LocalCalendar(ctx, ana)
	if err := s.Unsubscribe(ctx, ana, local.ID); !errors.Is(err, calendar.ErrNotFound) {
		t.Errorf("unsubscribing from the local calendar: %v", err)
	}
	if err := s.Unsubscribe(ctx, ana, c.ID); err != nil {
		t.Fatal(err)
	}
	if got := agenda(t, s, ana); strings.Join(got, ",") != "Party" {
		t.Errorf("agenda after unsubscribing: %v", got)
	}
}

// A file over the cap (with and without a Content-Length), a file that is
// no calendar, a server error, and an address on the local network are
// each refused when subscribing, and nothing is kept.
func TestSubscribeRefused(t *testing.T) {
	big := ics(vevent("a@b", strings.Repeat("x", 3000), "20261225"))
	tests := []struct {
		name    string
		fetcher *icsfeed.Fetcher
		body    string
		chunked bool
		path    string
		want    string
		is      error
	}{
		{"too big", &icsfeed.Fetcher{Allow: allowLoopback, MaxBytes: 1000}, big, false, "/h.ics", "too large", icsfeed.ErrTooBig},
		{"too big, no length", &icsfeed.Fetcher{Allow: allowLoopback, MaxBytes: 1000}, big, true, "/h.ics", "too large", icsfeed.ErrTooBig},
		{"not a calendar", &icsfeed.Fetcher{Allow: allowLoopback}, "<html>hello</html>", false, "/h.ics", "not a calendar file", nil},
		{"private address", &icsfeed.Fetcher{}, ics(vevent("a@b", "A", "20261225")), false, "/h.ics", "private or local network", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFeedServer(t, tc.body)
			f.chunked = tc.chunked
			s, ana, _ := newService(t, tc.fetcher)
			_, _, err := s.Subscribe(t.Context(), ana, calendar.SubscriptionInput{URL: f.URL + tc.path})
			var in *calendar.InputError
			if err == nil || !errors.As(err, &in) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("subscribe: %v, want an input error saying %q", err, tc.want)
			}
			if subs, _ := s.Subscriptions(t.Context(), ana); len(subs) != 0 {
				t.Errorf("%d subscriptions kept", len(subs))
			}
			if tc.name == "private address" && f.hits.Load() != 0 {
				t.Errorf("the refused address was contacted %d times", f.hits.Load())
			}
		})
	}
	// The guard's error is ErrBlockedAddress, and the size cap's ErrTooBig.
	f := newFeedServer(t, big)
	if _, err := (&icsfeed.Fetcher{}).Fetch(t.Context(), f.URL, calendar.FeedVersion{}); !errors.Is(err, icsfeed.ErrBlockedAddress) {
		t.Errorf("fetch from loopback: %v", err)
	}
	if _, err := (&icsfeed.Fetcher{Allow: allowLoopback, MaxBytes: 100}).Fetch(t.Context(), f.URL, calendar.FeedVersion{}); !errors.Is(err, icsfeed.ErrTooBig) {
		t.Errorf("fetch of a big file: %v", err)
	}
	// A redirect from an allowed address to a refused one is refused at
	// the dial too (the target listens on 127.0.0.2, only 127.0.0.1 is let through).
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no 127.0.0.2 here: %v", err)
	}
	var inner atomic.Int32
	target := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.Add(1)
		fmt.Fprint(w, big)
	})}}
	target.Start()
	t.Cleanup(target.Close)
	redir := httptest.NewServer(http.RedirectHandler(target.URL+"/h.ics", http.StatusFound))
	t.Cleanup(redir.Close)
	only1 := &icsfeed.Fetcher{Allow: func(ip netip.Addr) bool { return ip == netip.MustParseAddr("127.0.0.1") }}
	if _, err := only1.Fetch(t.Context(), redir.URL, calendar.FeedVersion{}); !errors.Is(err, icsfeed.ErrBlockedAddress) || inner.Load() != 0 {
		t.Errorf("fetch through a redirect: %v (the target was asked %d times)", err, inner.Load())
	}
	// Addresses os1 does not take.
	s, ana, _ := newService(t, &icsfeed.Fetcher{Allow: allowLoopback})
	for _, u := range []string{"ftp://example.com/h.ics", "https://ana:pw@example.com/h.ics", "not a url", "https:///h.ics"} {
		var in *calendar.InputError
		if _, _, err := s.Subscribe(t.Context(), ana, calendar.SubscriptionInput{URL: u}); !errors.As(err, &in) {
			t.Errorf("subscribe to %q: %v, want an input error", u, err)
		}
	}
}

// A user has at most MaxSubscriptions subscriptions, and a file with more
// than MaxFeedEvents events is refused.
func TestSubscriptionLimits(t *testing.T) {
	f := newFeedServer(t, ics(vevent("xmas@h", "Christmas", "20261225")))
	s, ana, bob := newService(t, &icsfeed.Fetcher{Allow: allowLoopback})
	for i := range calendar.MaxSubscriptions {
		if _, _, err := s.Subscribe(t.Context(), ana, calendar.SubscriptionInput{URL: fmt.Sprintf("%s/%d.ics", f.URL, i)}); err != nil {
			t.Fatalf("subscription %d: %v", i+1, err)
		}
	}
	var in *calendar.InputError
	if _, _, err := s.Subscribe(t.Context(), ana, calendar.SubscriptionInput{URL: f.URL + "/one-more.ics"}); !errors.As(err, &in) || !strings.Contains(err.Error(), "remove one first") {
		t.Errorf("one subscription too many: %v", err)
	}
	var many strings.Builder
	for i := range calendar.MaxFeedEvents + 1 {
		many.WriteString(vevent(fmt.Sprintf("e%d@h", i), "E", "20261225"))
	}
	f.set(ics(many.String()), `"big"`)
	if _, _, err := s.Subscribe(t.Context(), bob, calendar.SubscriptionInput{URL: f.URL + "/big.ics"}); !errors.As(err, &in) || !strings.Contains(err.Error(), "more than the") {
		t.Errorf("a file with too many events: %v", err)
	}
}

// A refresh that finds a broken file or a failing server keeps the events
// it had and records the error on the calendar; the next good fetch
// clears it.
func TestRefreshFailureKeepsEvents(t *testing.T) {
	f := newFeedServer(t, ics(vevent("xmas@h", "Christmas", "20261225")))
	s, ana, _ := newService(t, &icsfeed.Fetcher{Allow: allowLoopback})
	c, _, err := s.Subscribe(t.Context(), ana, calendar.SubscriptionInput{URL: "webcal://" + strings.TrimPrefix(f.URL, "http://") + "/h.ics", Name: "Holidays"})
	if err == nil {
		t.Fatal("webcal:// is https, which the plain-http test server cannot answer")
	}
	c, _, err = s.Subscribe(t.Context(), ana, calendar.SubscriptionInput{URL: f.URL + "/h.ics", Name: "Holidays"})
	if err != nil || c.Name != "Holidays" {
		t.Fatalf("subscribe: %+v %v", c, err)
	}
	f.set("garbage", `"v2"`)
	if _, err := s.Refresh(t.Context(), ana, c.ID); err == nil {
		t.Fatal("a broken file refreshed without an error")
	}
	got, _ := s.Store.Calendar(t.Context(), ana, c.ID)
	if got.FetchError == "" {
		t.Error("the failed fetch is not recorded")
	}
	if a := agenda(t, s, ana); len(a) != 1 {
		t.Errorf("a failed fetch lost the events: %v", a)
	}
	f.set(ics(vevent("xmas@h", "Christmas", "20261225")), `"v3"`)
	if _, err := s.Refresh(t.Context(), ana, c.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Store.Calendar(t.Context(), ana, c.ID); got.FetchError != "" {
		t.Errorf("a good fetch left the error: %q", got.FetchError)
	}
}

// Subscriptions are fetched in the background every FeedEvery of the
// injected clock (conditionally, so an unchanged file is a 304).
func TestBackgroundRefresh(t *testing.T) {
	f := newFeedServer(t, ics(vevent("xmas@h", "Christmas", "20261225")))
	s, ana, _ := newService(t, &icsfeed.Fetcher{Allow: allowLoopback})
	if _, _, err := s.Subscribe(t.Context(), ana, calendar.SubscriptionInput{URL: f.URL + "/h.ics"}); err != nil {
		t.Fatal(err)
	}
	s.FeedEvery = 6 * time.Hour
	fake := s.Clock.(*clock.Fake)
	if err := s.Start(context.WithoutCancel(t.Context())); err != nil {
		t.Fatal(err)
	}
	wait := func(n int32) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for f.hits.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d fetches, want %d", f.hits.Load(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	wait(2) // the subscribe, and the start
	if err := fake.BlockUntil(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	f.set(ics(vevent("ny@h", "New Year", "20270101")), `"v2"`)
	fake.Advance(6 * time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for {
		occ, _ := s.Agenda(t.Context(), ana, calendar.Range{From: t0, To: t0.AddDate(0, 2, 0)}, time.UTC)
		if len(occ) == 1 && occ[0].Event.Summary == "New Year" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the background fetch (%d fetches): %+v", f.hits.Load(), occ)
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if f.hits.Load() != 3 || f.notMod.Load() != 1 {
		t.Errorf("%d fetches and %d 304s, want 3 and 1 (the fetch at start)", f.hits.Load(), f.notMod.Load())
	}
}
