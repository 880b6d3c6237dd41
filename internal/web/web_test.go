package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIndexServed(t *testing.T) {
	h := Handler()
	res := get(t, h, "/", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET / = %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control = %q, want no-cache", cc)
	}
	if b := body(t, res); !strings.Contains(b, `<div id="app">`) {
		t.Errorf("index body does not look like index.html: %.200s", b)
	}
}

func TestContentTypes(t *testing.T) {
	h := Handler()
	for p, want := range map[string]string{
		"/app.js":               "text/javascript; charset=utf-8",
		"/views/chat.js":        "text/javascript; charset=utf-8",
		"/style.css":            "text/css; charset=utf-8",
		"/icon.svg":             "image/svg+xml",
		"/manifest.webmanifest": "application/manifest+json",
	} {
		res := get(t, h, p, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", p, res.StatusCode)
			continue
		}
		if ct := res.Header.Get("Content-Type"); ct != want {
			t.Errorf("GET %s Content-Type = %q, want %q", p, ct, want)
		}
		if res.Header.Get("ETag") == "" {
			t.Errorf("GET %s has no ETag", p)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/", "/app.js", "/c/whatever"} {
		res := get(t, h, p, nil)
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{
			"default-src 'self'",
			"script-src 'self' 'wasm-unsafe-eval';",
			"style-src 'self'",
			"img-src 'self' data:",
			"frame-ancestors 'none'",
			"connect-src 'self' ws://example.com wss://example.com",
		} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", p, csp, want)
			}
		}
		// 'wasm-unsafe-eval' (compiling WebAssembly, for the VAD) is allowed;
		// 'unsafe-eval' (eval, new Function) and 'unsafe-inline' are not.
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "'unsafe-eval'") {
			t.Errorf("GET %s: CSP allows unsafe sources: %q", p, csp)
		}
		if v := res.Header.Get("X-Content-Type-Options"); v != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options = %q", p, v)
		}
		if v := res.Header.Get("Referrer-Policy"); v != "no-referrer" {
			t.Errorf("GET %s: Referrer-Policy = %q", p, v)
		}
	}
}

func TestCSPHostIsValidated(t *testing.T) {
	if got := ContentSecurityPolicy("127.0.0.1:7810"); !strings.Contains(got, "connect-src 'self' ws://127.0.0.1:7810 wss://127.0.0.1:7810;") {
		t.Errorf("CSP for a plain host: %q", got)
	}
	if got := ContentSecurityPolicy("[::1]:7810"); !strings.Contains(got, "ws://[::1]:7810") {
		t.Errorf("CSP for an IPv6 host: %q", got)
	}
	for _, bad := range []string{"", "evil.com; script-src *", "a b", "x'y", "host/path"} {
		if got := ContentSecurityPolicy(bad); !strings.Contains(got, "connect-src 'self';") {
			t.Errorf("CSP for host %q should fall back to 'self': %q", bad, got)
		}
	}
}

func TestFallbackToIndex(t *testing.T) {
	h := Handler()
	index := body(t, get(t, h, "/", nil))
	for _, p := range []string{"/settings", "/c/cnv_123", "/invite/abc"} {
		res := get(t, h, p, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", p, res.StatusCode)
			continue
		}
		if b := body(t, res); b != index {
			t.Errorf("GET %s did not serve index.html", p)
		}
	}
	// A missing asset is a real 404, never HTML.
	if res := get(t, h, "/missing.js", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /missing.js = %d, want 404", res.StatusCode)
	}
	// API paths are not the UI's.
	res := get(t, h, "/api/nope", nil)
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body(t, res), `"code":"not_found"`) {
		t.Errorf("GET /api/nope = %d, want a JSON 404", res.StatusCode)
	}
}

func TestConditionalGet(t *testing.T) {
	h := Handler()
	etag := get(t, h, "/app.js", nil).Header.Get("ETag")
	res := get(t, h, "/app.js", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", res.StatusCode)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", rec.Code)
	}
}

var (
	htmlRef   = regexp.MustCompile(`(?:src|href)="([^"#:]+)"`)
	importRef = regexp.MustCompile(`(?m)(?:^import\b[^'"]*|\bimport\s*\()\s*['"]([^'"]+)['"]`)
	cssURL    = regexp.MustCompile(`url\(\s*['"]?([^'")]+)['"]?\s*\)`)
)

// Every file index.html references, and every module those modules import,
// must exist in the embedded files.
func TestReferencedFilesExist(t *testing.T) {
	f := FS()
	index, err := fs.ReadFile(f, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	refs := htmlRef.FindAllStringSubmatch(string(index), -1)
	if len(refs) < 4 {
		t.Fatalf("index.html references only %d files", len(refs))
	}
	seen := map[string]bool{}
	var queue []string
	for _, m := range refs {
		queue = append(queue, strings.TrimPrefix(path.Clean("/"+m[1]), "/"))
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		data, err := fs.ReadFile(f, p)
		if err != nil {
			t.Errorf("referenced file %q is missing: %v", p, err)
			continue
		}
		var next [][]string
		switch path.Ext(p) {
		case ".js":
			next = importRef.FindAllStringSubmatch(string(data), -1)
		case ".css":
			next = cssURL.FindAllStringSubmatch(string(data), -1)
		}
		for _, m := range next {
			ref := m[1]
			if strings.HasPrefix(ref, "data:") {
				continue
			}
			if strings.HasPrefix(ref, "/") {
				queue = append(queue, strings.TrimPrefix(path.Clean(ref), "/"))
			} else {
				queue = append(queue, path.Join(path.Dir(p), ref))
			}
		}
	}
	for _, want := range []string{"app.js", "api.js", "stream.js", "dom.js", "markdown.js", "theme.js", "style.css", "icon.svg", "manifest.webmanifest", "views/common.js", "views/chat.js", "views/settings.js", "views/modelform.js",
		"views/call.js", "voice/call.js", "voice/player.js", "voice/vad.js", "views/mail.js", "views/mail-tidy.js", "views/settings-mail.js"} {
		if !seen[want] {
			t.Errorf("%s is not reachable from index.html", want)
		}
	}
}

// The CSP forbids inline script and style; make sure the markup has none.
func TestNoInlineScriptOrStyle(t *testing.T) {
	index, err := fs.ReadFile(FS(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	s := string(index)
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(s) {
		t.Error("index.html has an inline script")
	}
	if strings.Contains(s, "<style") || strings.Contains(s, " style=") {
		t.Error("index.html has inline style")
	}
	err = fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".js" {
			return err
		}
		data, _ := fs.ReadFile(FS(), p)
		if strings.Contains(string(data), ".innerHTML") || strings.Contains(string(data), "insertAdjacentHTML") {
			t.Errorf("%s uses innerHTML; build DOM nodes instead", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The capture worklet is loaded by URL (audioWorklet.addModule), not
// imported, so the reachability walk above cannot see it.
func TestCaptureWorkletEmbedded(t *testing.T) {
	call, err := fs.ReadFile(FS(), "voice/call.js")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`const WORKLET = '([^']+)'`).FindSubmatch(call)
	if m == nil {
		t.Fatal("voice/call.js names no WORKLET")
	}
	data, err := fs.ReadFile(FS(), strings.TrimPrefix(string(m[1]), "/"))
	if err != nil {
		t.Fatalf("the capture worklet %s is not embedded: %v", m[1], err)
	}
	if !strings.Contains(string(data), "registerProcessor('os1-capture'") {
		t.Errorf("%s does not register os1-capture", m[1])
	}
	res := get(t, Handler(), string(m[1]), nil)
	if ct := res.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("GET %s Content-Type = %q", m[1], ct)
	}
}

// The CSP forbids eval; the UI's own scripts must not need it.
func TestNoEval(t *testing.T) {
	bad := regexp.MustCompile("\\beval\\s*\\(|new\\s+Function\\s*\\(|setTimeout\\(\\s*['\"`]")
	err := fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".js" {
			return err
		}
		data, _ := fs.ReadFile(FS(), p)
		if loc := bad.FindIndex(data); loc != nil {
			t.Errorf("%s evaluates strings as code (%q); the CSP forbids it", p, data[loc[0]:loc[1]])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
