package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/coder/websocket"

	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/store"
)

// Live connections: every open /api/ws socket and /api/voice call is
// registered with its user and the credential it was opened with, so that
// signing out, revoking a session or token, changing a password, disabling
// or deleting a user ends them at once instead of when they next reconnect.

// Per-user limits on live connections; one more is refused with 429.
const (
	MaxSocketsPerUser = 8 // /api/ws: a few tabs and devices
	MaxCallsPerUser   = 2 // /api/voice: each call holds speech engines
)

// StatusSignedOut is the WebSocket close code of a connection ended because
// its session or token was revoked, its password changed, or its account
// was disabled or deleted. The close reason says which; clients should
// send the user to sign in rather than reconnect.
const StatusSignedOut websocket.StatusCode = 4001

type connKind int

const (
	kindSocket connKind = iota
	kindCall
)

func (k connKind) String() string {
	if k == kindCall {
		return "voice calls"
	}
	return "open WebSockets"
}

// connRegistry is the set of live connections. Its zero value is ready.
type connRegistry struct {
	mu    sync.Mutex
	conns map[*liveConn]struct{}
}

// liveConn is one registered connection. end is set once the socket is
// accepted; an end requested before that is remembered and run then.
type liveConn struct {
	user string
	cred string // hash of the session cookie or API token
	kind connKind

	mu     sync.Mutex
	end    func(reason string)
	ended  bool
	reason string
}

var errTooManyConns = errors.New("too many connections")

// open registers a connection, or refuses it when the user already holds
// the most allowed of its kind.
func (r *connRegistry) open(user, cred string, kind connKind) (*liveConn, error) {
	limit := MaxSocketsPerUser
	if kind == kindCall {
		limit = MaxCallsPerUser
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for c := range r.conns {
		if c.user == user && c.kind == kind {
			n++
		}
	}
	if n >= limit {
		return nil, fmt.Errorf("%w: you have %d %s, the most one user may have; close one (another tab or device) first", errTooManyConns, n, kind)
	}
	if r.conns == nil {
		r.conns = map[*liveConn]struct{}{}
	}
	c := &liveConn{user: user, cred: cred, kind: kind}
	r.conns[c] = struct{}{}
	return c, nil
}

// release forgets a connection that has closed.
func (r *connRegistry) release(c *liveConn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, c)
}

// attach sets how the connection is ended; if it was ended already, end runs now.
func (c *liveConn) attach(end func(reason string)) {
	c.mu.Lock()
	c.end = end
	ended, reason := c.ended, c.reason
	c.mu.Unlock()
	if ended {
		end(reason)
	}
}

func (c *liveConn) stop(reason string) {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended, c.reason = true, reason
	end := c.end
	c.mu.Unlock()
	if end != nil {
		end(reason)
	}
}

// endWhere ends every connection match selects and returns how many.
func (r *connRegistry) endWhere(reason string, match func(*liveConn) bool) int {
	r.mu.Lock()
	var hit []*liveConn
	for c := range r.conns {
		if match(c) {
			hit = append(hit, c)
		}
	}
	r.mu.Unlock()
	for _, c := range hit {
		c.stop(reason)
	}
	return len(hit)
}

// endCreds ends the connections opened with any of these credential hashes.
func (r *connRegistry) endCreds(reason string, creds ...string) int {
	if len(creds) == 0 {
		return 0
	}
	set := make(map[string]bool, len(creds))
	for _, h := range creds {
		if h != "" {
			set[h] = true
		}
	}
	return r.endWhere(reason, func(c *liveConn) bool { return set[c.cred] })
}

// endUser ends every connection of the user, whatever it was opened with.
func (r *connRegistry) endUser(user, reason string) int {
	return r.endWhere(reason, func(c *liveConn) bool { return c.user == user })
}

// credential returns the hash of the credential the request authenticated
// with: the bearer token when there is one (as authenticate prefers it),
// else the session cookie.
func credential(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, _ := strings.CutPrefix(h, "Bearer ")
		return auth.HashToken(tok)
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		return auth.HashToken(c.Value)
	}
	return ""
}

// openConn authenticates a WebSocket upgrade and registers it. It answers
// the request itself (401, 429) and returns nil when the upgrade must not
// go on. The credential is checked again after registering, so a sign-out
// racing the upgrade cannot leave a connection nobody will end.
func (s *Server) openConn(w http.ResponseWriter, r *http.Request, kind connKind) (store.User, *liveConn, bool) {
	u, _, err := s.authenticate(r)
	if err != nil {
		writeAuthError(w, err)
		return u, nil, false
	}
	lc, err := s.conns.open(u.ID, credential(r), kind)
	if err != nil {
		writeError(w, http.StatusTooManyRequests, "too_many_connections", err.Error())
		return u, nil, false
	}
	if _, _, err := s.authenticate(r); err != nil {
		s.conns.release(lc)
		writeError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
		return u, nil, false
	}
	return u, lc, true
}

// attachSocket makes lc end by closing conn with StatusSignedOut and
// cancelling the connection's context.
func attachSocket(lc *liveConn, conn *websocket.Conn, cancel context.CancelFunc) {
	lc.attach(func(reason string) {
		// Close waits for the peer's answer; the caller must not.
		code := StatusSignedOut
		if reason == reasonShutdown {
			code = websocket.StatusGoingAway // come back later; nothing to sign in again for
		}
		go func() {
			_ = conn.Close(code, reason)
			cancel()
		}()
	})
}

// Reasons given in the close frame.
const (
	reasonLogout   = "you signed out"
	reasonSession  = "this session was signed out"
	reasonToken    = "the API token was deleted"
	reasonPassword = "the password was changed; sign in again"
	reasonDisabled = "this account was disabled"
	reasonDeleted  = "this account was deleted"
	reasonShutdown = "the server is shutting down"
	// reasonSignedOut is for a credential found no longer valid when the
	// socket used it (its end was decided elsewhere).
	reasonSignedOut = "signed out: sign in again"
)

// Revocation is an end of live connections decided on one node, for the
// other nodes of a cluster to apply to theirs.
type Revocation struct {
	User   string   `json:"user,omitempty"`  // every connection of this user (disabled, deleted)
	Creds  []string `json:"creds,omitempty"` // the connections opened with these credential hashes
	Reason string   `json:"reason"`
}

// Revocations carries this node's Revocations to the other nodes.
type Revocations interface {
	Broadcast(ctx context.Context, rev Revocation)
}

// EndConnections ends this node's connections that rev names (a
// revocation decided on another node) and returns how many.
func (s *Server) EndConnections(rev Revocation) int {
	if rev.User != "" {
		return s.conns.endUser(rev.User, rev.Reason)
	}
	return s.conns.endCreds(rev.Reason, rev.Creds...)
}

// endCreds ends the connections opened with these credentials here and on
// the other nodes.
func (s *Server) endCreds(ctx context.Context, reason string, creds ...string) {
	s.conns.endCreds(reason, creds...)
	if s.Revocations != nil && len(creds) > 0 {
		s.Revocations.Broadcast(ctx, Revocation{Creds: creds, Reason: reason})
	}
}

// endUser ends every connection of the user here and on the other nodes.
func (s *Server) endUser(ctx context.Context, user, reason string) {
	s.conns.endUser(user, reason)
	if s.Revocations != nil {
		s.Revocations.Broadcast(ctx, Revocation{User: user, Reason: reason})
	}
}

// CloseConnections ends every live WebSocket and voice call (close code
// 1001, going away), for a shutdown: http.Server.Shutdown does not wait for
// hijacked connections, and their clients should reconnect, not sign in.
func (s *Server) CloseConnections() int {
	return s.conns.endWhere(reasonShutdown, func(*liveConn) bool { return true })
}
