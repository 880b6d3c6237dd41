// Package server exposes os1 over HTTP: the JSON API, the streamed turns
// (server-sent events and WebSocket), the embedded web UI, /healthz and
// /metrics. docs/api.md is its contract.
//
// Every handler that touches user data resolves the user from the session
// or API token and passes that user's ID down; it must never take a user ID
// from the request, and another user's data must answer 404.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/mailoauth"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/models"
	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/proofread"
	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/voice"
	"github.com/os1ai/os1/internal/webpush"
)

// Limits on what a client may send.
const (
	MaxMessageBytes = 1 << 20                  // one chat message
	MaxBodyBytes    = MaxMessageBytes + 64<<10 // a request body (message plus JSON envelope)
	MaxHeaderBytes  = 64 << 10
	SessionTTL      = 30 * 24 * time.Hour
	InviteTTL       = 7 * 24 * time.Hour
)

// Limits are what clients must respect, published in /api/status so the web
// UI and other clients never copy them by hand.
func Limits() map[string]int {
	return map[string]int{
		"message_bytes":     MaxMessageBytes,
		"request_bytes":     MaxBodyBytes,
		"auth_body_bytes":   AuthBodyBytes,
		"import_bytes":      MaxImportBytes,
		"memory_text_chars": memory.MaxItemText,
		"sockets_per_user":  MaxSocketsPerUser,
		"calls_per_user":    MaxCallsPerUser,
	}
}

// ModelManager is what the server needs from the model connection.
type ModelManager interface {
	Status() models.Status
	Refresh(ctx context.Context) models.Status
	Configure(ctx context.Context, s models.Settings) (models.Status, error)
	List(ctx context.Context) ([]string, error)
}

// Deps are the server's collaborators.
type Deps struct {
	Store     store.Store
	Companion *companion.Companion
	Models    ModelManager
	Metrics   *metrics.Metrics
	UI        http.Handler // the embedded web UI; nil serves none
	Clock     clock.Clock
	Log       *slog.Logger
	BaseURL   string // for setup and invite links
	Version   string
	// Node names this node of a cluster (docs/scale.md), shown by /healthz;
	// "" for one process.
	Node string
	// Revocations carries the connections this node ends (sign-out, a
	// revoked session or token, a changed password, a disabled or deleted
	// user) to the other nodes of a cluster, which end theirs
	// (EndConnections); nil for one process.
	Revocations Revocations
	// Memory serves the memory browser's endpoints (memory.go); nil: they answer 503.
	Memory *Memory
	// Voice runs calls on /api/voice (voice.go); nil: it answers 503 voice_unavailable.
	Voice *voice.Pipeline
	// Attachments serves files sent with messages (attachments.go); nil: none.
	Attachments AttachmentStore
	// Mail serves each user's mail accounts and inbox (mail.go); nil: 503 mail_unavailable.
	Mail *mail.Service
	// MailOAuth signs users in to OAuth mail providers; nil: app passwords only.
	MailOAuth *mailoauth.Flow
	// MailBulk runs bulk unsubscribe and archive (mail_bulk.go); nil: they answer 503.
	MailBulk *mail.Bulk
	// Calendar serves each user's agenda, CalDAV accounts, import and export (calendar.go); nil: 503 calendar_unavailable.
	Calendar *calendar.Service
	// Push keeps push subscriptions (webpush.go); nil: they answer 503.
	Push *webpush.Notifier
	// Reminders serves reminders and quiet hours (reminders.go); nil: 503 reminders_unavailable.
	Reminders *reminders.Service
	// Documents serves each user's writing desk (documents.go); nil: 503 documents_unavailable.
	Documents *documents.Service
	// Proofreader asks the chat model for edits of a document (proofread.go); nil: 503.
	Proofreader *proofread.Proofreader
	// Speller checks spelling without a model (proofread.go); nil: 503 spelling_unavailable.
	Speller *proofread.Speller
	// Contacts serves each user's address book and people (contacts.go); nil: 503 contacts_unavailable.
	Contacts *contacts.Service
	// Proactive serves the settings and log of messages os1 starts (proactive.go); nil: 503 proactive_unavailable.
	Proactive *proactive.Service
	// Books serves each user's books of letters: build, download, send (books.go); nil: 503 books_unavailable.
	Books *books.Service
	// Wakeups answers a wake-up call with the spoken morning briefing (wakeup.go); nil: 503.
	Wakeups WakeupAnswerer
	// ReminderEmail keeps each user's "also email me reminders" (reminder_email.go); nil: 503.
	ReminderEmail ReminderEmailer
	// PasswordCost is the argon2id cost of new password hashes; zero is
	// auth.DefaultCost. Tests of sign-in flows set auth.TestCost.
	PasswordCost auth.Cost
	// TrustedProxies are reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (edge.go).
	TrustedProxies []netip.Prefix
	// MetricsToken, when set, serves /metrics on this handler to requests
	// bearing it; otherwise /metrics is only on MetricsHandler (its own listener).
	MetricsToken string
	// DeviceKey signs the device cookies that exempt a user's own browser
	// from per-username login throttling; nil: a random key per process.
	DeviceKey []byte
	// AuthReadTimeout overrides AuthReadTimeout (tests); 0: the default.
	AuthReadTimeout time.Duration
	// StreamWriteTimeout bounds one write of a streamed event to a client
	// (SSE and /api/ws); a client that stops reading is dropped after it.
	// 0: StreamWriteTimeout.
	StreamWriteTimeout time.Duration
}

// StreamWriteTimeout is the default bound on one streamed write.
const StreamWriteTimeout = 10 * time.Second

// Server is the HTTP front of os1.
type Server struct {
	Deps
	loginByAddr   *auth.Throttle // every attempt from an address
	loginByUser   *auth.Throttle // attempts on a username without its device cookie
	hasher        *auth.Hasher   // caps concurrent argon2id work
	dummyOnce     sync.Once
	dummy         string        // see dummyHash
	authTimeout   time.Duration // read deadline of sign-in bodies (edge.go)
	bodyTimeout   time.Duration // read deadline of other bodies
	streamTimeout time.Duration // write deadline of one streamed event
	probe         writeProbe    // /healthz's write check
	setupMu       sync.Mutex
	mux           *http.ServeMux
	conns         connRegistry // live sockets and calls (conns.go)
}

// New builds the server and its routes.
func New(d Deps) *Server {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		Deps:        d,
		loginByAddr: auth.NewThrottle(d.Clock, 10, time.Second, 15*time.Minute, time.Hour),
		loginByUser: auth.NewThrottle(d.Clock, 10, time.Second, 5*time.Minute, time.Hour),
		hasher:      auth.NewHasher(nil, max(2, runtime.GOMAXPROCS(0)), 2*time.Second).At(d.PasswordCost),
		authTimeout: AuthReadTimeout,
		bodyTimeout: BodyReadTimeout,
		mux:         http.NewServeMux(),
	}
	if d.AuthReadTimeout > 0 {
		s.authTimeout = d.AuthReadTimeout
	}
	s.streamTimeout = StreamWriteTimeout
	if d.StreamWriteTimeout > 0 {
		s.streamTimeout = d.StreamWriteTimeout
	}
	if len(s.DeviceKey) == 0 {
		s.DeviceKey = []byte(clock.Token(32))
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.healthz)
	if s.Metrics != nil && s.MetricsToken == "" {
		// Not on this listener: say so, rather than serving the web page.
		m.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, "not_found", "metrics are not served on this listener: set metrics_addr (a listener of their own) or metrics_token (then send Authorization: Bearer <token>)")
		})
	}
	if s.Metrics != nil && s.MetricsToken != "" {
		mh := s.Metrics.Handler()
		m.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
			if !s.metricsAuthorized(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="os1 metrics"`)
				writeError(w, http.StatusUnauthorized, "unauthenticated", "/metrics needs Authorization: Bearer <metrics_token>")
				return
			}
			mh.ServeHTTP(w, r)
		})
	}
	m.HandleFunc("GET /api/status", s.status)
	m.HandleFunc("POST /api/setup", s.setup)
	m.HandleFunc("POST /api/login", s.login)
	m.HandleFunc("POST /api/invites/accept", s.acceptInvite)
	m.HandleFunc("POST /api/invites/check", s.checkInvite)

	m.HandleFunc("POST /api/logout", s.user(s.logout))
	m.HandleFunc("GET /api/me", s.user(s.me))
	m.HandleFunc("GET /api/profile", s.user(s.getProfile))
	m.HandleFunc("PUT /api/profile", s.user(s.putProfile))
	m.HandleFunc("GET /api/persona", s.user(s.getPersona))
	m.HandleFunc("PUT /api/persona", s.user(s.putPersona))
	m.HandleFunc("POST /api/persona/name", s.user(s.namePersona))
	m.HandleFunc("GET /api/model", s.user(s.getModel))
	m.HandleFunc("PUT /api/model", s.owner(s.putModel))
	m.HandleFunc("GET /api/model/models", s.user(s.listModels))
	m.HandleFunc("GET /api/conversations", s.user(s.listConversations))
	m.HandleFunc("POST /api/conversations", s.user(s.createConversation))
	m.HandleFunc("GET /api/conversations/{id}", s.user(s.getConversation))
	m.HandleFunc("PATCH /api/conversations/{id}", s.user(s.patchConversation))
	m.HandleFunc("DELETE /api/conversations/{id}", s.user(s.deleteConversation))
	m.HandleFunc("POST /api/conversations/{id}/messages", s.user(s.postMessage))
	m.HandleFunc("GET /api/attachments/{id}", s.user(s.getAttachment))
	m.HandleFunc("POST /api/conversations/{id}/retry", s.user(s.retry))
	m.HandleFunc("POST /api/conversations/{id}/cancel", s.user(s.cancel))
	m.HandleFunc("POST /api/actions/{id}", s.user(s.decide))
	s.branchRoutes(m) // edit, regenerate, show a version, read aloud (branches.go)
	m.HandleFunc("GET /api/tokens", s.user(s.listTokens))
	m.HandleFunc("POST /api/tokens", s.user(s.createToken))
	m.HandleFunc("DELETE /api/tokens/{id}", s.user(s.deleteToken))
	s.reminderRoutes(m)  // /api/reminders… (reminders.go)
	s.calendarRoutes(m)  // /api/calendar… (calendar.go)
	s.contactRoutes(m)   // /api/contacts… (contacts.go)
	s.documentRoutes(m)  // /api/documents… (documents.go)
	s.proofreadRoutes(m) // proofreading and spelling (proofread.go)
	m.HandleFunc("POST /api/invites", s.owner(s.createInvite))
	m.HandleFunc("GET /api/users", s.owner(s.listUsers))
	s.sessionRoutes(m) // sessions, passwords, members (sessions.go, users.go)
	m.HandleFunc("GET /api/ws", s.websocket)
	m.HandleFunc("GET /api/voice", s.voiceCall)
	s.memoryRoutes(m) // /api/memory…, /api/people… (memory.go)
	s.mailRoutes(m)   // /api/mail… (mail.go)
	s.pushRoutes(m)   // /api/push… (webpush.go)
	// /api/proactive… (proactive.go)
	s.proactiveRoutes(m)
	s.bookRoutes(m) // /api/books… (books.go)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("no API endpoint %s %s; see docs/api.md", r.Method, r.URL.Path))
	})
	if s.UI != nil {
		m.Handle("/", s.UI)
	}
}

// Handler returns the root handler with logging, metrics and panic recovery.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.Clock.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				if !rec.wrote {
					writeError(rec, http.StatusInternalServerError, "internal", "internal error; the server log has details")
				}
			}
			if s.Metrics != nil {
				s.Metrics.HTTPStatus(rec.status)
			}
			s.Log.Debug("http", "method", r.Method, "path", r.URL.Path, "status", rec.status, "dur", s.Clock.Now().Sub(start))
		}()
		h := rec.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		s.guardBody(rec, r)
		if !s.checkCookieRoute(rec, r) {
			return
		}
		s.mux.ServeHTTP(rec, r)
	})
}

// MetricsHandler serves /metrics alone, for a listener of its own
// (metrics_addr); nil when the server has no metrics.
func (s *Server) MetricsHandler() http.Handler {
	if s.Metrics == nil {
		return nil
	}
	m := http.NewServeMux()
	m.Handle("GET /metrics", s.Metrics.Handler())
	if profilingOn() {
		addProfiling(m)
	}
	return m
}

// HTTPServer wraps Handler with os1's timeouts and limits. WriteTimeout and
// ReadTimeout stay 0 because turns stream for as long as the model talks and
// calls last as long as the talk; bodies get a deadline per route instead
// (edge.go).
func (s *Server) HTTPServer(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
}

// Prepare runs start-up chores: marks replies cut off by a crash as
// interrupted, removes expired sessions, and, while no owner exists, makes a
// fresh one-time setup link (returned; "" once set up).
func (s *Server) Prepare(ctx context.Context) (setupURL string, err error) {
	now := s.Clock.Now()
	n, err := s.Store.MarkInterrupted(ctx, now)
	if err != nil {
		return "", fmt.Errorf("mark interrupted replies: %w", err)
	}
	if n > 0 {
		s.Log.Info("replies cut off by an earlier stop were marked interrupted", "count", n)
	}
	if _, err := s.Store.DeleteExpiredSessions(ctx, now); err != nil {
		return "", fmt.Errorf("delete expired sessions: %w", err)
	}
	users, err := s.Store.CountUsers(ctx)
	if err != nil {
		return "", fmt.Errorf("count users: %w", err)
	}
	if users > 0 {
		return "", nil
	}
	token := clock.Token(20)
	if err := s.Store.SetSetting(ctx, setupTokenKey, auth.HashToken(token)); err != nil {
		return "", fmt.Errorf("save setup token: %w", err)
	}
	return s.BaseURL + "/#/setup?token=" + token, nil
}

const setupTokenKey = "setup.token_hash"

// healthz answers 200 only while the database both answers and takes
// writes: a full disk lets reads succeed while every write fails.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Store.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unhealthy", "database": err.Error(), "writes": "unknown"})
		return
	}
	if err := s.probe.check(ctx, s); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unhealthy", "database": "ok", "writes": err.Error()})
		return
	}
	ok := map[string]string{"status": "ok", "database": "ok", "writes": "ok"}
	if s.Node != "" {
		ok["node"] = s.Node
	}
	writeJSON(w, http.StatusOK, ok)
}

// writeProbe writes one setting at most every probeEvery, so frequent
// health checks cost one small write, not one each.
type writeProbe struct {
	mu   sync.Mutex
	at   time.Time
	last error
}

const probeEvery = 5 * time.Second

func (p *writeProbe) check(ctx context.Context, s *Server) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := s.Clock.Now()
	if !p.at.IsZero() && now.Sub(p.at) < probeEvery && now.After(p.at) {
		return p.last
	}
	p.at = now
	p.last = nil
	if err := s.Store.SetSetting(ctx, "health.write_probe", now.UTC().Format(time.RFC3339Nano)); err != nil {
		p.last = fmt.Errorf("the database refuses writes (disk full or read-only?): %w", err)
	}
	return p.last
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	n, err := s.Store.CountUsers(r.Context())
	if err != nil {
		s.internal(w, "count users", err)
		return
	}
	out := map[string]any{"setup_required": n == 0, "authenticated": false, "version": s.Version, "limits": Limits()}
	if u, _, err := s.authenticate(r); err == nil {
		out["authenticated"] = true
		out["username"] = u.Username
		st := s.Models.Status()
		out["model"] = st
		if n := s.memoryNotice(r.Context()); n != "" {
			out["memory_notice"] = n // an embedding model change: what to run
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) internal(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.Log.Error(what, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", "Something went wrong on the server ("+what+"); the server log has details.")
}
