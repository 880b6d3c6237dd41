// Package web serves os1's browser interface: a small single-page app made
// of plain ES modules, HTML and CSS, embedded in the binary. There is no
// build step, no CDN and no external font; everything the page loads comes
// from this handler, and the page talks to the server only through the
// HTTP/WebSocket API described in docs/api.md.
//
// Handler answers every GET/HEAD request it is given:
//
//   - a path naming an embedded file serves that file with an explicit
//     content type (".js" is text/javascript, ".webmanifest" is
//     application/manifest+json), a strong ETag and "Cache-Control: no-cache",
//     so browsers revalidate cheaply and never run stale code after an upgrade;
//   - "/" and any unknown path without a file extension serve index.html, so
//     client-side routes ("#/c/cnv_…" today, "/c/…" if ever wanted) survive a
//     reload;
//   - an unknown path with an extension is a plain 404, so a missing asset is
//     never silently answered with HTML;
//   - paths under /api/ are not the UI's: they answer 404 with the API's JSON
//     error shape in case the API router did not claim them first.
//
// Every response carries a strict Content-Security-Policy (no inline script
// or style, no eval, no third-party origins, no framing; WebAssembly may be
// compiled, for the voice activity detector), X-Content-Type-Options:
// nosniff and Referrer-Policy: no-referrer.
//
// VoiceAssets (voiceassets.go) serves the voice call's VAD model and ONNX
// runtime from the cache folder; they are fetched, not embedded.
//
// About WebSockets and CSP: CSP Level 3 makes 'self' match ws: and wss: on
// the page's own host and port, and current Chromium, Firefox and Safari
// follow it. Older Safari releases did not, so connect-src also names
// ws://HOST and wss://HOST explicitly, built from the request's Host header.
// The Host value is only used when it is a plain host[:port] (letters,
// digits, dots, dashes, colons, brackets); anything else falls back to
// 'self' alone, so a crafted Host header cannot inject policy.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var embedded embed.FS

// static is the embedded "static" directory, rooted at its contents.
var static = mustSub(embedded, "static")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// FS returns the embedded static files (index.html at the root).
func FS() fs.FS { return static }

// contentTypes lists the types this handler sets itself, so the answer does
// not depend on the host's MIME tables (some map .js to application/javascript
// or know nothing of .webmanifest).
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
	".woff2":       "font/woff2",
}

// file is one embedded file, read once.
type file struct {
	name  string
	data  []byte
	ctype string
	etag  string
}

// Handler returns the http.Handler serving the web UI.
func Handler() http.Handler {
	files := map[string]*file{}
	err := fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = http.DetectContentType(data)
		}
		files["/"+p] = &file{
			name:  path.Base(p),
			data:  data,
			ctype: ct,
			etag:  `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		panic("web: reading embedded files: " + err.Error())
	}
	index := files["/index.html"]
	if index == nil {
		panic("web: static/index.html is missing")
	}
	return &handler{files: files, index: index}
}

type handler struct {
	files map[string]*file
	index *file
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	setSecurityHeaders(hdr, r.Host)

	p := r.URL.Path
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	if p == "/api" || strings.HasPrefix(p, "/api/") {
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no such API endpoint"}}` + "\n"))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	f := h.files[path.Clean(p)]
	switch {
	case f != nil && f != h.index:
	case p == "/" || f == h.index || path.Ext(p) == "":
		f = h.index
	default:
		hdr.Set("Cache-Control", "no-cache")
		http.NotFound(w, r)
		return
	}

	hdr.Set("Content-Type", f.ctype)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", f.etag)
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
}

// setSecurityHeaders sets the headers every UI response carries.
func setSecurityHeaders(h http.Header, host string) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy(host))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	// The call button needs the microphone of this origin; nothing else does.
	h.Set("Permissions-Policy", "camera=(), geolocation=(), payment=(), usb=(), microphone=(self)")
}

// scriptSrc allows scripts from this server only. 'wasm-unsafe-eval' is the
// one widening, and the narrowest that exists: it lets
// WebAssembly.instantiate compile the Silero VAD runtime (onnxruntime-web's
// .wasm, served from /voice/assets/) for the call button, and nothing else —
// eval, new Function and string timers stay blocked ('unsafe-eval' is a
// different keyword and is never sent). The VAD and the capture AudioWorklet
// modules load as same-origin scripts under 'self'; worker-src 'self' already
// covers any worker onnxruntime may start.
const scriptSrc = "script-src 'self' 'wasm-unsafe-eval'; "

// ContentSecurityPolicy returns the policy sent with the UI for a request to
// host (the request's Host header). See the package comment for why ws: and
// wss: are named explicitly.
func ContentSecurityPolicy(host string) string {
	connect := "'self'"
	if validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'self'; " +
		scriptSrc +
		"style-src 'self'; " +
		"img-src 'self' data:; " +
		"font-src 'self'; " +
		"connect-src " + connect + "; " +
		"manifest-src 'self'; " +
		"worker-src 'self'; " +
		"object-src 'none'; " +
		"base-uri 'none'; " +
		"form-action 'self'; " +
		"frame-ancestors 'none'"
}

// validHost reports whether host is a plain host[:port] that is safe to
// place in a CSP source expression.
func validHost(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for _, c := range host {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}
