package web

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// voiceDir lays out a cache "voice" folder the way scripts/assets.sh does,
// inside a parent that also holds a file no request may reach.
func voiceDir(t *testing.T) string {
	t.Helper()
	parent := t.TempDir()
	dir := filepath.Join(parent, "voice")
	files := map[string]string{
		"vad-web/bundle.min.js":                       "var vad={};",
		"vad-web/vad.worklet.bundle.min.js":           "registerProcessor('x', class {});",
		"vad-web/silero_vad_legacy.onnx":              "\x08\x07onnx",
		"vad-web/bundle.min.js.LICENSE.txt":           "MIT",
		"vad-web/package.json":                        `{"name":"@ricky0123/vad-web"}`,
		"vad-web/SHA256SUMS":                          "abc  bundle.min.js\n",
		"vad-web/.pin":                                "@ricky0123/vad-web@0.0.31 sha512-x",
		"onnxruntime-web/ort-wasm-simd-threaded.mjs":  "export default function(){}",
		"onnxruntime-web/ort-wasm-simd-threaded.wasm": "\x00asm\x01\x00\x00\x00",
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(parent, "secret.js"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// mountVoice mounts the handler the way the server is told to.
func mountVoice(dir string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(VoiceAssetsPrefix, VoiceAssets(dir))
	return mux
}

func TestVoiceAssetsServed(t *testing.T) {
	h := mountVoice(voiceDir(t))
	for _, c := range []struct{ path, ctype, body string }{
		{"/voice/assets/vad-web/bundle.min.js", "text/javascript; charset=utf-8", "var vad={};"},
		{"/voice/assets/vad-web/vad.worklet.bundle.min.js", "text/javascript; charset=utf-8", "registerProcessor('x', class {});"},
		{"/voice/assets/vad-web/silero_vad_legacy.onnx", "application/octet-stream", "\x08\x07onnx"},
		{"/voice/assets/vad-web/bundle.min.js.LICENSE.txt", "text/plain; charset=utf-8", "MIT"},
		{"/voice/assets/onnxruntime-web/ort-wasm-simd-threaded.mjs", "text/javascript; charset=utf-8", "export default function(){}"},
		{"/voice/assets/onnxruntime-web/ort-wasm-simd-threaded.wasm", "application/wasm", "\x00asm\x01\x00\x00\x00"},
	} {
		res := get(t, h, c.path, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", c.path, res.StatusCode)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != c.ctype {
			t.Errorf("GET %s Content-Type = %q, want %q", c.path, got, c.ctype)
		}
		if got := res.Header.Get("Cache-Control"); got != voiceCacheControl {
			t.Errorf("GET %s Cache-Control = %q, want %q", c.path, got, voiceCacheControl)
		}
		if res.Header.Get("ETag") == "" || res.Header.Get("Last-Modified") == "" {
			t.Errorf("GET %s has no ETag or Last-Modified", c.path)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s X-Content-Type-Options = %q", c.path, got)
		}
		if got := body(t, res); got != c.body {
			t.Errorf("GET %s body = %q, want %q", c.path, got, c.body)
		}
	}
}

func TestVoiceAssetsConditionalAndHead(t *testing.T) {
	h := mountVoice(voiceDir(t))
	const p = "/voice/assets/onnxruntime-web/ort-wasm-simd-threaded.wasm"
	etag := get(t, h, p, nil).Header.Get("ETag")
	if res := get(t, h, p, map[string]string{"If-None-Match": etag}); res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET = %d, want 304", res.StatusCode)
	}
	req := httptest.NewRequest(http.MethodHead, p, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "application/wasm" {
		t.Errorf("HEAD = %d, %d body bytes, type %q; want 200, none, application/wasm", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Type"))
	}
	req = httptest.NewRequest(http.MethodPost, p, nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", rec.Code)
	}
}

// Nothing outside the folder, nothing hidden and nothing that is not a
// runtime asset is served, however the path is spelled.
func TestVoiceAssetsRefused(t *testing.T) {
	dir := voiceDir(t)
	if err := os.Symlink(filepath.Join(dir, "..", "secret.js"), filepath.Join(dir, "vad-web", "link.js")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "vad-web", "dir.js"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := VoiceAssets(dir) // called directly: no ServeMux cleaning in front
	for _, p := range []string{
		"/voice/assets/../secret.js",
		"/voice/assets/vad-web/../../secret.js",
		"/voice/assets/vad-web/./bundle.min.js",
		"/voice/assets/vad-web//bundle.min.js",
		"/voice/assets//etc/passwd.js",
		"/voice/assets/vad-web\\..\\..\\secret.js",
		"/voice/assets/vad-web/link.js", // a symlink out of the folder
		"/voice/assets/vad-web/SHA256SUMS",
		"/voice/assets/vad-web/.pin",
		"/voice/assets/vad-web/package.json",
		"/voice/assets/vad-web/",
		"/voice/assets/vad-web/dir.js", // a directory, whatever its name
		"/voice/assets/",
		"/voice/other/bundle.min.js",
		"/secret.js",
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = p
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %q = %d, want 404", p, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "secret") {
			t.Errorf("GET %q leaked a file outside the folder", p)
		}
	}
}

func TestVoiceAssetsMissing(t *testing.T) {
	h := mountVoice(filepath.Join(t.TempDir(), "never-fetched"))
	res := get(t, h, "/voice/assets/vad-web/bundle.min.js", nil)
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET without assets = %d, want 404", res.StatusCode)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("a missing asset is cacheable: Cache-Control %q", cc)
	}
	if b := body(t, res); !strings.Contains(b, "scripts/assets.sh voice") {
		t.Errorf("404 body %q does not say how to fetch the assets", b)
	}
}

// Assets fetched while os1 runs are served without a restart.
func TestVoiceAssetsFetchedLater(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "voice")
	h := mountVoice(dir)
	const p = "/voice/assets/vad-web/bundle.min.js"
	if res := get(t, h, p, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("before the fetch: %d, want 404", res.StatusCode)
	}
	if err := os.MkdirAll(filepath.Join(dir, "vad-web"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vad-web", "bundle.min.js"), []byte("ok"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := get(t, h, p, nil); res.StatusCode != http.StatusOK {
		t.Errorf("after the fetch: %d, want 200", res.StatusCode)
	}
}
