package webpush_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/httpretry"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/webpush"
	"github.com/os1ai/os1/internal/webpush/sqlitewebpush"
	"github.com/os1ai/os1/internal/webpush/webpushtest"
)

type rig struct {
	n     *webpush.Notifier
	st    *sqlitewebpush.Store
	push  *webpushtest.PushService
	clock *clock.Fake
	waits []time.Duration
	ana   string
	ben   string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	box, err := secret.LoadOrCreateKey(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	st := sqlitewebpush.New(db)
	vapid, err := webpush.LoadVAPID(t.Context(), st, box)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{st: st, clock: clock.NewFake(time.Date(2026, 12, 5, 7, 0, 0, 0, time.UTC))}
	for _, name := range []string{"ana", "ben"} {
		if err := db.CreateUser(t.Context(), store.User{ID: "usr_" + name, Username: name, DisplayName: name,
			Role: store.RoleMember, PasswordHash: "x", CreatedAt: r.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	r.ana, r.ben = "usr_ana", "usr_ben"
	r.push = webpushtest.NewPushService(t, vapid.PublicKey(), r.clock.Now)
	r.n = &webpush.Notifier{Store: st, VAPID: vapid, Subject: "mailto:owner@example.org", Clock: r.clock,
		Allow: func(ip netip.Addr) bool { return ip.IsLoopback() },
		TLS:   r.push.TLS(),
		Retry: httpretry.Policy{MaxRetries: 2, MaxWait: time.Minute, Backoff: httpretry.Constant(time.Second),
			Sleep: func(ctx context.Context, d time.Duration) error { r.waits = append(r.waits, d); return nil }}}
	return r
}

// TestPushNotifyDelivers: each of the user's browsers gets the notification,
// signed with VAPID and readable only with its own key; the other user's
// browser gets nothing.
func TestPushNotifyDelivers(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	phone, laptop, bens := webpushtest.NewBrowser(t), webpushtest.NewBrowser(t), webpushtest.NewBrowser(t)
	for _, s := range []struct {
		user, path string
		b          webpushtest.Browser
	}{{r.ana, "/p/phone", phone}, {r.ana, "/p/laptop", laptop}, {r.ben, "/p/ben", bens}} {
		if _, err := r.n.Subscribe(ctx, s.user, s.b.Subscription(r.push.Endpoint(s.path, s.b))); err != nil {
			t.Fatal(err)
		}
	}
	sent, err := r.n.Notify(ctx, r.ana, "Call mum", "You asked me to remind you at 6.", "/#/c/cnv_1")
	if err != nil || sent != 2 {
		t.Fatalf("Notify: sent %d, %v", sent, err)
	}
	want := webpush.Message{Title: "Call mum", Body: "You asked me to remind you at 6.", URL: "/#/c/cnv_1"}
	for _, p := range []string{"/p/phone", "/p/laptop"} {
		if got := r.push.Received(p); len(got) != 1 || got[0] != want {
			t.Fatalf("%s received %+v", p, got)
		}
	}
	if got := r.push.Received("/p/ben"); len(got) != 0 {
		t.Fatalf("another user's browser received %+v", got)
	}
	h := r.push.Requests()[0]
	if h.Get("TTL") != strconv.Itoa(int(webpush.DefaultTTL/time.Second)) || h.Get("Urgency") != "high" || h.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("headers: %v", h)
	}
	// A long body is shortened to fit one push message, not refused.
	long := strings.Repeat("é", 3000)
	if sent, err := r.n.Notify(ctx, r.ana, "Long", long, ""); err != nil || sent != 2 {
		t.Fatalf("a long body: %d, %v", sent, err)
	}
	got := r.push.Received("/p/phone")[1]
	if !strings.HasSuffix(got.Body, "…") || len(got.Body) >= len(long) || !strings.HasPrefix(long, strings.TrimSuffix(got.Body, "…")) {
		t.Fatalf("shortened body: %d bytes", len(got.Body))
	}
	if _, err := r.n.Notify(ctx, r.ana, "x", "", "https://evil.example/"); err == nil {
		t.Fatal("a link to another site was sent")
	}
}

// TestPushNotifyGoneRemovesSubscription: 410 and 404 remove the subscription;
// the rest are still reached.
func TestPushNotifyGoneRemovesSubscription(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	a, b, c := webpushtest.NewBrowser(t), webpushtest.NewBrowser(t), webpushtest.NewBrowser(t)
	r.n.Subscribe(ctx, r.ana, a.Subscription(r.push.Endpoint("/p/gone", a)))
	r.n.Subscribe(ctx, r.ana, b.Subscription(r.push.Endpoint("/p/missing", b)))
	r.n.Subscribe(ctx, r.ana, c.Subscription(r.push.Endpoint("/p/ok", c)))
	r.push.Answer("/p/gone", http.StatusGone)
	r.push.Answer("/p/missing", http.StatusNotFound)
	sent, err := r.n.Notify(ctx, r.ana, "Wake up", "", "")
	if err != nil || sent != 1 {
		t.Fatalf("Notify: %d, %v", sent, err)
	}
	list, _ := r.n.Subscriptions(ctx, r.ana)
	if len(list) != 1 || !strings.HasSuffix(list[0].Endpoint, "/p/ok") {
		t.Fatalf("left: %+v", list)
	}
}

// TestPushNotifyRetriesAfter429: a busy push service's Retry-After is waited
// (on the injected sleep, not the wall clock); one that stays busy is an
// error and the subscription is kept.
func TestPushNotifyRetriesAfter429(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	a := webpushtest.NewBrowser(t)
	r.n.Subscribe(ctx, r.ana, a.Subscription(r.push.Endpoint("/p/busy", a)))
	r.push.Answer("/p/busy", http.StatusTooManyRequests, http.StatusServiceUnavailable)
	sent, err := r.n.Notify(ctx, r.ana, "Soon", "", "")
	if err != nil || sent != 1 || len(r.push.Received("/p/busy")) != 1 {
		t.Fatalf("Notify: %d, %v", sent, err)
	}
	if len(r.waits) != 2 || r.waits[0] != 7*time.Second || r.waits[1] != time.Second {
		t.Fatalf("waits %v, want Retry-After's 7s then the backoff's 1s", r.waits)
	}
	r.push.Answer("/p/busy", 429, 429, 429)
	sent, err = r.n.Notify(ctx, r.ana, "Again", "", "")
	var ae *httpretry.APIError
	if sent != 0 || !errors.As(err, &ae) || ae.StatusCode != 429 {
		t.Fatalf("always busy: %d, %v", sent, err)
	}
	if list, _ := r.n.Subscriptions(ctx, r.ana); len(list) != 1 {
		t.Fatal("a busy push service's subscription was removed")
	}
}

// TestPushSubscribeRefusesBadInput: what a browser (or anyone) may not subscribe.
func TestPushSubscribeRefusesBadInput(t *testing.T) {
	r := newRig(t)
	b := webpushtest.NewBrowser(t)
	good := b.Subscription("https://push.example.org/abc")
	if _, err := r.n.Subscribe(t.Context(), r.ana, good); err != nil {
		t.Fatalf("a good subscription: %v", err)
	}
	short := make([]byte, 65)
	short[0] = 4 // the right length, not a point on the curve
	for name, mod := range map[string]func(*webpush.SubscriptionInput){
		"http":             func(in *webpush.SubscriptionInput) { in.Endpoint = "http://push.example.org/abc" },
		"no endpoint":      func(in *webpush.SubscriptionInput) { in.Endpoint = "" },
		"not a URL":        func(in *webpush.SubscriptionInput) { in.Endpoint = "push service" },
		"credentials":      func(in *webpush.SubscriptionInput) { in.Endpoint = "https://u:p@push.example.org/abc" },
		"private address":  func(in *webpush.SubscriptionInput) { in.Endpoint = "https://10.0.0.1/abc" },
		"metadata address": func(in *webpush.SubscriptionInput) { in.Endpoint = "https://[fe80::1]/abc" },
		"javascript":       func(in *webpush.SubscriptionInput) { in.Endpoint = "javascript:alert(1)" },
		"too long":         func(in *webpush.SubscriptionInput) { in.Endpoint = "https://p.example/" + strings.Repeat("a", 2100) },
		"p256dh not b64":   func(in *webpush.SubscriptionInput) { in.Keys.P256dh = "not base64!" },
		"p256dh short":     func(in *webpush.SubscriptionInput) { in.Keys.P256dh = in.Keys.P256dh[:40] },
		"p256dh off curve": func(in *webpush.SubscriptionInput) { in.Keys.P256dh = base64.RawURLEncoding.EncodeToString(short) },
		"auth missing":     func(in *webpush.SubscriptionInput) { in.Keys.Auth = "" },
		"auth 8 bytes": func(in *webpush.SubscriptionInput) {
			in.Keys.Auth = base64.RawURLEncoding.EncodeToString(make([]byte, 8))
		},
	} {
		in := b.Subscription("https://push.example.org/abc")
		mod(&in)
		_, err := r.n.Subscribe(t.Context(), r.ben, in)
		var ie *webpush.InputError
		if !errors.As(err, &ie) {
			t.Errorf("%s: %v, want an InputError", name, err)
		}
	}
	if list, _ := r.n.Subscriptions(t.Context(), r.ben); len(list) != 0 {
		t.Fatalf("refused subscriptions were stored: %+v", list)
	}
}

// TestPushNotifyGuardsDialledAddress: a name that resolves to loopback is
// refused when dialled, whatever it looked like when subscribed.
func TestPushNotifyGuardsDialledAddress(t *testing.T) {
	r := newRig(t)
	r.n.Allow = nil // as os1 runs
	a := webpushtest.NewBrowser(t)
	// localhost passes the literal-address check at subscribe time.
	ep := strings.Replace(r.push.Endpoint("/p/local", a), "127.0.0.1", "localhost", 1)
	if _, err := r.n.Subscribe(t.Context(), r.ana, a.Subscription(ep)); err != nil {
		t.Fatal(err)
	}
	sent, err := r.n.Notify(t.Context(), r.ana, "x", "", "")
	if sent != 0 || !errors.Is(err, webpush.ErrBlockedAddress) {
		t.Fatalf("pushing to loopback: %d, %v", sent, err)
	}
	if len(r.push.Requests()) != 0 {
		t.Fatal("the push reached the loopback server")
	}
}

// TestPushVAPIDKeyMadeOnceAndSealed: the key is made once, kept sealed (the
// stored text is not the key), and another secret.key cannot open it.
func TestPushVAPIDKeyMadeOnceAndSealed(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	box, _ := secret.LoadOrCreateKey(filepath.Join(dir, "secret.key"))
	st := sqlitewebpush.New(db)
	v1, err := webpush.LoadVAPID(t.Context(), st, box)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := webpush.LoadVAPID(t.Context(), st, box)
	if err != nil || v2.PublicKey() != v1.PublicKey() {
		t.Fatalf("a second load made another key: %v", err)
	}
	if pub, _ := base64.RawURLEncoding.DecodeString(v1.PublicKey()); len(pub) != 65 || pub[0] != 4 {
		t.Fatalf("public key %q is not an uncompressed P-256 point", v1.PublicKey())
	}
	sealed, _ := st.VAPIDKey(t.Context())
	if !strings.HasPrefix(sealed, "v1:") {
		t.Fatalf("the stored key is not sealed: %.10s…", sealed)
	}
	other, _ := secret.LoadOrCreateKey(filepath.Join(t.TempDir(), "secret.key"))
	if _, err := webpush.LoadVAPID(t.Context(), st, other); !errors.Is(err, secret.ErrDecrypt) {
		t.Fatalf("another secret.key: %v", err)
	}
}
