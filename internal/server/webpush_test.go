package server_test

import (
	"encoding/base64"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
	"github.com/os1ai/os1/internal/webpush"
	"github.com/os1ai/os1/internal/webpush/sqlitewebpush"
	"github.com/os1ai/os1/internal/webpush/webpushtest"
)

func newPushEnv(t *testing.T) (*env, *webpush.Notifier, *webpushtest.PushService) {
	t.Helper()
	r := testrig.New(t)
	st := sqlitewebpush.New(r.DB)
	vapid, err := webpush.LoadVAPID(t.Context(), st, r.Box)
	if err != nil {
		t.Fatal(err)
	}
	push := webpushtest.NewPushService(t, vapid.PublicKey(), r.Clock.Now)
	n := &webpush.Notifier{Store: st, VAPID: vapid, Subject: "mailto:owner@example.org", Clock: r.Clock,
		Allow: func(ip netip.Addr) bool { return ip.IsLoopback() }, TLS: push.TLS()}
	mm := r.Models(false)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Push: n,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, MetricsToken: testMetricsToken})
	return &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}, n, push
}

// TestPushOverHTTP: the key, subscribing a browser (the PushSubscription
// JSON as the browser sends it), the test notification decrypted by that
// browser, another user's view (nothing, 404 on the id), and unsubscribing.
func TestPushOverHTTP(t *testing.T) {
	e, n, push := newPushEnv(t)
	o := e.owner()
	m := e.member(o, "ana")

	key := o.want(http.StatusOK, "GET", "/api/push/key", nil)["public_key"]
	if key != n.PublicKey() {
		t.Fatalf("key %v, want the notifier's", key)
	}
	if raw, _ := base64.RawURLEncoding.DecodeString(key.(string)); len(raw) != 65 {
		t.Fatalf("key is %d bytes", len(raw))
	}

	b := webpushtest.NewBrowser(t)
	in := b.Subscription(push.Endpoint("/push/theo-laptop", b))
	body := map[string]any{"endpoint": in.Endpoint, "expirationTime": nil,
		"keys": map[string]string{"p256dh": in.Keys.P256dh, "auth": in.Keys.Auth}}
	sub := o.want(http.StatusCreated, "POST", "/api/push/subscriptions", body)
	id, _ := sub["id"].(string)
	if id == "" || sub["endpoint"] != in.Endpoint || sub["auth"] != nil || sub["keys"] != nil {
		t.Fatalf("subscribe answered %v", sub)
	}
	// The same browser again is the same subscription.
	if again := o.want(http.StatusCreated, "POST", "/api/push/subscriptions", body); again["id"] != id {
		t.Fatalf("resubscribe made %v, want %s", again["id"], id)
	}
	list := o.want(http.StatusOK, "GET", "/api/push/subscriptions", nil)["subscriptions"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Fatalf("owner's list %v", list)
	}
	if r := o.do("GET", "/api/push/subscriptions", nil); strings.Contains(string(r.Body), in.Keys.Auth) {
		t.Fatal("the auth secret came back")
	}

	if res := o.want(http.StatusOK, "POST", "/api/push/test", nil); res["sent"] != 1.0 {
		t.Fatalf("test push %v", res)
	}
	got := push.Received("/push/theo-laptop")
	if len(got) != 1 || got[0].Title != "os1" || !strings.HasPrefix(got[0].URL, "/#/") {
		t.Fatalf("the browser decrypted %+v", got)
	}

	// Isolation: Ana sees none of it, cannot delete it, and her test push
	// reaches nobody.
	if l := m.want(http.StatusOK, "GET", "/api/push/subscriptions", nil)["subscriptions"].([]any); len(l) != 0 {
		t.Fatalf("another user's list %v", l)
	}
	if r := m.do("DELETE", "/api/push/subscriptions/"+id, nil); r.Status != http.StatusNotFound {
		t.Fatalf("another user's delete: %d %s", r.Status, r.Body)
	}
	if res := m.want(http.StatusOK, "POST", "/api/push/test", nil); res["sent"] != 0.0 {
		t.Fatalf("another user's test push reached %v", res["sent"])
	}
	if len(push.Received("/push/theo-laptop")) != 1 {
		t.Fatal("another user's push reached the owner's browser")
	}

	o.want(http.StatusNoContent, "DELETE", "/api/push/subscriptions/"+id, nil)
	if r := o.do("DELETE", "/api/push/subscriptions/"+id, nil); r.Status != http.StatusNotFound {
		t.Fatalf("deleting twice: %d", r.Status)
	}
	if l := o.want(http.StatusOK, "GET", "/api/push/subscriptions", nil)["subscriptions"].([]any); len(l) != 0 {
		t.Fatalf("after delete %v", l)
	}
}

// TestPushRefusesBadSubscriptions: a non-https endpoint and malformed keys
// are 400 with a reason; unknown fields are refused; signed out is 401.
func TestPushRefusesBadSubscriptions(t *testing.T) {
	e, _, _ := newPushEnv(t)
	o := e.owner()
	b := webpushtest.NewBrowser(t)
	in := b.Subscription("https://push.example.org/x")
	for name, c := range map[string]struct {
		body map[string]any
		want string
	}{
		"http":        {map[string]any{"endpoint": "http://push.example.org/x", "keys": map[string]string{"p256dh": in.Keys.P256dh, "auth": in.Keys.Auth}}, "https"},
		"bad p256dh":  {map[string]any{"endpoint": in.Endpoint, "keys": map[string]string{"p256dh": "AAAA", "auth": in.Keys.Auth}}, "p256dh"},
		"bad auth":    {map[string]any{"endpoint": in.Endpoint, "keys": map[string]string{"p256dh": in.Keys.P256dh, "auth": "!!"}}, "auth"},
		"no keys":     {map[string]any{"endpoint": in.Endpoint}, "p256dh"},
		"extra field": {map[string]any{"endpoint": in.Endpoint, "user_id": "usr_other", "keys": map[string]string{"p256dh": in.Keys.P256dh, "auth": in.Keys.Auth}}, "user_id"},
	} {
		r := o.do("POST", "/api/push/subscriptions", c.body)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), c.want) {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	if l := o.want(http.StatusOK, "GET", "/api/push/subscriptions", nil)["subscriptions"].([]any); len(l) != 0 {
		t.Fatalf("refused subscriptions stored: %v", l)
	}
	if r := e.client().do("GET", "/api/push/key", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("signed out: %d", r.Status)
	}
}

// TestPushUnavailable: a server without a notifier says so.
func TestPushUnavailable(t *testing.T) {
	e := newEnv(t, false)
	o := e.owner()
	if r := o.do("GET", "/api/push/key", nil); r.Status != http.StatusServiceUnavailable || r.code() != "push_unavailable" {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
