package web

import (
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestPushServiceWorkerServed: the service worker is served from the root
// (a worker's scope can be no wider than its folder, and it must cover the
// whole app), as JavaScript (browsers refuse to register any other type),
// revalidated on every load (so a new sw.js reaches browsers), under a CSP
// that lets this origin start workers; Settings registers that same file
// with scope "/".
func TestPushServiceWorkerServed(t *testing.T) {
	h := Handler()
	res := get(t, h, "/sw.js", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /sw.js = %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", cc)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "worker-src 'self'") {
		t.Errorf("CSP %q does not allow this origin's workers", csp)
	}
	if sa := res.Header.Get("Service-Worker-Allowed"); sa != "" {
		t.Errorf("Service-Worker-Allowed = %q: the root needs none, and it must not widen the scope", sa)
	}
	src := body(t, res)
	for _, want := range []string{"addEventListener('push'", "showNotification(", "addEventListener('notificationclick'", "openWindow(", ".focus()"} {
		if !strings.Contains(src, want) {
			t.Errorf("sw.js lacks %s", want)
		}
	}
	// It must not sit between the page and the server.
	if strings.Contains(src, "addEventListener('fetch'") || strings.Contains(src, "caches.") {
		t.Error("sw.js answers fetches or caches: pages must always come from the server")
	}
	settings, err := fs.ReadFile(FS(), "views/settings-push.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(settings), "navigator.serviceWorker.register('/sw.js', { scope: '/' })") {
		t.Error("settings-push.js does not register /sw.js with scope /")
	}
	app, err := fs.ReadFile(FS(), "app.js")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`async logout\([^)]*\) \{\n\s*await forgetThisDevice\(\);`).Match(app) {
		t.Error("app.js's logout does not end this browser's push subscription first")
	}
	if !strings.Contains(string(settings), "'/api/push/key'") || !strings.Contains(string(settings), "'/api/push/subscriptions'") {
		t.Error("settings-push.js does not use the push API")
	}
}
