package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/accounts"
	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// A user's own security: the sessions they are signed in with, signing out
// elsewhere, and changing or resetting their password. Each of these ends
// the live connections of what it revokes (conns.go).

// sessionRoutes is called from routes().
func (s *Server) sessionRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/sessions", s.user(s.listSessions))
	m.HandleFunc("DELETE /api/sessions/{id}", s.user(s.endSession))
	m.HandleFunc("POST /api/sessions/revoke-others", s.user(s.revokeOtherSessions))
	m.HandleFunc("POST /api/logout-everywhere", s.user(s.logoutEverywhere))
	m.HandleFunc("PUT /api/password", s.user(s.changePassword))
	m.HandleFunc("POST /api/password/reset", s.resetPassword)
	m.HandleFunc("POST /api/users/{id}/disable", s.owner(s.disableUser))
	m.HandleFunc("POST /api/users/{id}/enable", s.owner(s.enableUser))
	m.HandleFunc("DELETE /api/users/{id}", s.owner(s.deleteUser))
	m.HandleFunc("POST /api/users/{id}/reset-link", s.owner(s.resetLink))
}

// accounts is the account domain over this server's stores.
func (s *Server) accounts() *accounts.Service {
	var mem accounts.MemoryEraser
	if s.Memory != nil {
		mem, _ = s.Memory.Store.(accounts.MemoryEraser)
	}
	a := accounts.New(s.Store, s.Clock, mem)
	a.Hasher = s.hasher
	return a
}

// sessionTouchEvery bounds how often a session's last use is written, as
// for API tokens.
const sessionTouchEvery = time.Minute

// sessionClient is the browser and address a session list shows: the user
// agent (shortened, one clean line) and the client's address.
func (s *Server) sessionClient(r *http.Request) (ua, addr string) {
	ua = textsafe.CleanTitle(r.UserAgent())
	if len(ua) > 256 {
		ua = strings.ToValidUTF8(ua[:256], "")
	}
	return ua, s.clientAddr(r)
}

// touchSession records the session's use at most once a minute.
func (s *Server) touchSession(r *http.Request, sess *store.Session) {
	now := s.Clock.Now()
	if now.Sub(sess.LastUsedAt) < sessionTouchEvery {
		return
	}
	ua, addr := s.sessionClient(r)
	if s.Store.TouchSession(r.Context(), sess.TokenHash, now, ua, addr) == nil {
		sess.LastUsedAt, sess.UserAgent, sess.Address = now, ua, addr
	}
}

type sessionJSON struct {
	ID         string     `json:"id"`
	Current    bool       `json:"current"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	UserAgent  string     `json:"user_agent"`
	Address    string     `json:"address"`
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, u store.User) {
	cur := credential(r)
	list, err := s.accounts().Sessions(r.Context(), u.ID, cur)
	if err != nil {
		s.internal(w, "list sessions", err)
		return
	}
	out := make([]sessionJSON, len(list))
	for i, x := range list {
		out[i] = sessionJSON{ID: accounts.SessionID(x.TokenHash), Current: x.TokenHash == cur, CreatedAt: x.CreatedAt,
			ExpiresAt: x.ExpiresAt, UserAgent: x.UserAgent, Address: x.Address}
		if !x.LastUsedAt.IsZero() {
			lu := x.LastUsedAt
			out[i].LastUsedAt = &lu
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request, u store.User) {
	hash, err := s.accounts().EndSession(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.storeError(w, "end session", err)
		return
	}
	s.endCreds(r.Context(), reasonSession, hash)
	if hash == credential(r) {
		clearSessionCookie(w)
	}
	w.WriteHeader(http.StatusNoContent)
}

// revokeOtherSessions signs the user out everywhere but here.
func (s *Server) revokeOtherSessions(w http.ResponseWriter, r *http.Request, u store.User) {
	ended, err := s.Store.DeleteOtherSessions(r.Context(), u.ID, credential(r))
	if err != nil {
		s.internal(w, "end other sessions", err)
		return
	}
	s.endCreds(r.Context(), reasonSession, ended...)
	writeJSON(w, http.StatusOK, map[string]any{"ended": len(ended)})
}

// logoutEverywhere signs the user out of every session, this one included.
// API tokens stay: they are deleted one by one under /api/tokens.
func (s *Server) logoutEverywhere(w http.ResponseWriter, r *http.Request, u store.User) {
	ended, err := s.Store.DeleteOtherSessions(r.Context(), u.ID, "")
	if err != nil {
		s.internal(w, "end sessions", err)
		return
	}
	s.endCreds(r.Context(), reasonSession, ended...)
	clearSessionCookie(w)
	writeJSON(w, http.StatusOK, map[string]any{"ended": len(ended)})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// changePassword sets a new password after checking the current one, and
// ends the user's other sessions (this one stays signed in).
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Current string `json:"current"`
		New     string `json:"new"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	// A stolen session must not become a way to guess the password: wrong
	// current passwords are throttled like sign-ins.
	key := "change-password:" + u.ID
	if wait := s.loginByUser.Begin(key); wait > 0 {
		tooManySignIns(w, wait)
		return
	}
	ended, err := s.accounts().ChangePassword(r.Context(), u, in.Current, in.New, credential(r))
	if !errors.Is(err, accounts.ErrWrongPassword) {
		s.loginByUser.Succeed(key, false)
	}
	if err != nil {
		s.accountError(w, "change password", err)
		return
	}
	s.endCreds(r.Context(), reasonPassword, ended...)
	writeJSON(w, http.StatusOK, map[string]any{"ended": len(ended)})
}

// resetPassword spends a one-time reset link (unauthenticated: the link is
// the credential) and ends every session of the user.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	u, ended, err := s.accounts().ResetPassword(r.Context(), in.Token, in.Password)
	if err != nil {
		s.accountError(w, "reset password", err)
		return
	}
	s.endCreds(r.Context(), reasonPassword, ended...)
	s.Log.Info("password reset by link", "username", u.Username)
	writeJSON(w, http.StatusOK, map[string]any{"username": u.Username})
}

// accountError maps the accounts package's errors to answers.
func (s *Server) accountError(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, accounts.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", strings.TrimPrefix(err.Error(), accounts.ErrInvalid.Error()+": "))
	case errors.Is(err, auth.ErrBusy):
		s.busy(w, err)
	case errors.Is(err, accounts.ErrWrongPassword):
		writeError(w, http.StatusForbidden, "wrong_password", "the current password is wrong")
	case errors.Is(err, accounts.ErrSelf):
		writeError(w, http.StatusForbidden, "forbidden", "you cannot disable, delete or reset your own account here; change your password under Security instead")
	case errors.Is(err, accounts.ErrLinkInvalid):
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	default:
		s.storeError(w, what, err)
	}
}
