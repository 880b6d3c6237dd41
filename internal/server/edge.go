package server

import (
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/auth"
)

// What the server does before a handler runs: where a request really comes
// from (behind trusted proxies), whether it arrived over TLS, how long its
// body may take to arrive and how large it may be, and whether a request
// that sets a session cookie may come from the page that sent it.

// Limits for the routes that sign people in.
const (
	// AuthBodyBytes caps the body of sign-in, setup, invite and reset requests.
	AuthBodyBytes = 8 << 10
	// AuthReadTimeout is how long such a body may take to arrive.
	AuthReadTimeout = 10 * time.Second
	// BodyReadTimeout is how long any other API body may take to arrive.
	BodyReadTimeout = 60 * time.Second
	// ImportReadTimeout is how long an import upload may take to arrive.
	ImportReadTimeout = 10 * time.Minute
)

// cookieRoutes set a session cookie without one: they take only JSON from
// this server's own pages (login CSRF), small bodies, quickly.
var cookieRoutes = map[string]bool{
	"/api/setup":          true,
	"/api/login":          true,
	"/api/invites/accept": true,
	"/api/password/reset": true,
}

// slowRoutes may upload for longer (imports up to MaxImportBytes).
var slowRoutes = map[string]bool{
	"/api/memory/import": true,
}

// guardBody sets the read deadline and size cap of a request body by route,
// and clears the deadline once the body has been read, so a reply that
// streams for minutes afterwards is not cut off. WebSocket upgrades (GET)
// carry no body and get no deadline: after the upgrade the connection lives
// as long as the call.
func (s *Server) guardBody(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Body == nil || r.Body == http.NoBody {
		return
	}
	d := s.bodyTimeout
	switch {
	case cookieRoutes[r.URL.Path]:
		d = s.authTimeout
		r.Body = http.MaxBytesReader(w, r.Body, AuthBodyBytes)
	case slowRoutes[r.URL.Path]:
		d = ImportReadTimeout
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(d)) != nil {
		return // not a real connection (handler tests)
	}
	r.Body = &deadlineBody{ReadCloser: r.Body, clear: func() { _ = rc.SetReadDeadline(time.Time{}) }}
}

// deadlineBody clears the connection's read deadline once the body ends.
type deadlineBody struct {
	io.ReadCloser
	once  sync.Once
	clear func()
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.once.Do(b.clear)
	}
	return n, err
}

// checkCookieRoute refuses a cookie-setting request that is not JSON or
// comes from another site's page: a browser sends text/plain and form
// bodies cross-site without asking, JSON only after a CORS preflight that
// os1 never grants. Clients that are not browsers send no Origin and no
// Sec-Fetch-Site and are let through (they hold no victim's cookies).
func (s *Server) checkCookieRoute(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost || !cookieRoutes[r.URL.Path] {
		return true
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type", "send the request as JSON with Content-Type: application/json")
		return false
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		writeError(w, http.StatusForbidden, "cross_site", "sign-in requests must come from os1's own pages, not from "+site+" ones")
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && !s.sameOrigin(r, o) {
		writeError(w, http.StatusForbidden, "cross_site", "sign-in requests must come from os1's own pages; this one came from "+o)
		return false
	}
	return true
}

// sameOrigin reports whether origin is this server as the request reached
// it, or its configured public URL.
func (s *Server) sameOrigin(r *http.Request, origin string) bool {
	scheme := "http"
	if s.secure(r) {
		scheme = "https"
	}
	if strings.EqualFold(origin, scheme+"://"+r.Host) {
		return true
	}
	if s.BaseURL != "" && strings.EqualFold(origin, strings.TrimRight(s.BaseURL, "/")) {
		return true
	}
	return false
}

// remoteIP is the address of the peer that connected (maybe a proxy).
func remoteIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if a.IsValid() && p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address rate limits count: the peer, or, when the peer
// is a trusted proxy, the nearest untrusted address in X-Forwarded-For.
func (s *Server) clientAddr(r *http.Request) string {
	peer := remoteIP(r)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: trust nothing further left
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

// secure reports whether the browser reached os1 over TLS: directly, or
// through a trusted proxy that says so in X-Forwarded-Proto.
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !s.trusted(remoteIP(r)) {
		return false
	}
	protos := strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(protos[len(protos)-1]), "https")
}

// metricsAuthorized checks the bearer token for /metrics on the main listener.
func (s *Server) metricsAuthorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.MetricsToken != "" && auth.Equal(tok, s.MetricsToken)
}
