package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/accounts"
	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/store"
)

const (
	sessionCookie = "os1_session"
	csrfHeader    = "X-CSRF-Token"
	tokenPrefix   = "os1_"
)

var errUnauthenticated = errors.New("unauthenticated")

// errUnavailable: the credential could not be checked because the database
// did not answer (PostgreSQL restarting); the client keeps its token or
// session and tries again, rather than being told to sign in.
var errUnavailable = errors.New("unavailable")

// lookupFailed is the error of a credential lookup: "not found" means the
// credential is gone (msg), anything else that the database did not answer.
func lookupFailed(err error, msg string) error {
	if err == nil || errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %s", errUnauthenticated, msg)
	}
	return fmt.Errorf("%w: the database did not answer, so your sign-in could not be checked; try again in a moment", errUnavailable)
}

// writeAuthError answers a failed authenticate: 503 when the database did
// not answer, else 401.
func writeAuthError(w http.ResponseWriter, err error) {
	if errors.Is(err, errUnavailable) {
		writeError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	writeError(w, http.StatusUnauthorized, "unauthenticated", err.Error())
}

// authenticate resolves the request's user from a bearer token or the
// session cookie. The session is nil for token requests.
func (s *Server) authenticate(r *http.Request) (store.User, *store.Session, error) {
	ctx := r.Context()
	now := s.Clock.Now()
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || !strings.HasPrefix(tok, tokenPrefix) {
			return store.User{}, nil, fmt.Errorf("%w: the Authorization header must be \"Bearer os1_…\"", errUnauthenticated)
		}
		t, err := s.Store.APITokenByHash(ctx, auth.HashToken(tok))
		if err != nil {
			return store.User{}, nil, lookupFailed(err, "this API token is unknown or was deleted; make a new one in Settings → API tokens")
		}
		u, err := s.Store.UserByID(ctx, t.UserID)
		if err != nil {
			return store.User{}, nil, lookupFailed(err, "the token's user no longer exists")
		}
		if err := checkEnabled(u); err != nil {
			return store.User{}, nil, err
		}
		if now.Sub(t.LastUsedAt) > time.Minute {
			_ = s.Store.TouchAPIToken(ctx, t.ID, now)
		}
		return u, nil, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return store.User{}, nil, fmt.Errorf("%w: sign in first", errUnauthenticated)
	}
	sess, err := s.Store.SessionByHash(ctx, auth.HashToken(c.Value))
	if err != nil {
		return store.User{}, nil, lookupFailed(err, "your session has ended; sign in again")
	}
	if !now.Before(sess.ExpiresAt) {
		_ = s.Store.DeleteSession(ctx, sess.TokenHash)
		return store.User{}, nil, fmt.Errorf("%w: your session expired; sign in again", errUnauthenticated)
	}
	u, err := s.Store.UserByID(ctx, sess.UserID)
	if err != nil {
		return store.User{}, nil, lookupFailed(err, "the session's user no longer exists")
	}
	if err := checkEnabled(u); err != nil {
		return store.User{}, nil, err
	}
	s.touchSession(r, &sess) // sessions.go
	return u, &sess, nil
}

type userHandler func(w http.ResponseWriter, r *http.Request, u store.User)

// user requires a signed-in user and, for cookie sessions, a CSRF token on
// every request that changes something.
func (s *Server) user(h userHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, sess, err := s.authenticate(r)
		if err != nil {
			writeAuthError(w, err)
			return
		}
		if sess != nil && r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !auth.Equal(r.Header.Get(csrfHeader), sess.CSRFToken) {
				writeError(w, http.StatusForbidden, "csrf_failed", "missing or wrong "+csrfHeader+" header; reload the page")
				return
			}
		}
		h(w, r, u)
	}
}

// owner requires the signed-in user to be the owner.
func (s *Server) owner(h userHandler) http.HandlerFunc {
	return s.user(func(w http.ResponseWriter, r *http.Request, u store.User) {
		if u.Role != store.RoleOwner {
			writeError(w, http.StatusForbidden, "forbidden", "only the owner of this os1 server can do this")
			return
		}
		h(w, r, u)
	})
}

// startSession sets the cookie and answers with the user and CSRF token.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u store.User, status int) {
	token := clock.Token(32)
	now := s.Clock.Now()
	ua, addr := s.sessionClient(r)
	sess := store.Session{TokenHash: auth.HashToken(token), UserID: u.ID, CSRFToken: clock.Token(20), CreatedAt: now, ExpiresAt: now.Add(SessionTTL),
		LastUsedAt: now, UserAgent: ua, Address: addr} // where it signed in, until its first use

	if err := s.Store.CreateSession(r.Context(), sess); err != nil {
		s.internal(w, "create session", err)
		return
	}
	secure := s.secure(r)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure})
	exp := now.Add(deviceTTL)
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: auth.SignDevice(s.DeviceKey, u.Username, exp), Path: "/api/login",
		Expires: exp, HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure})
	writeJSON(w, status, map[string]any{"user": userOut(u), "csrf_token": sess.CSRFToken})
}

type newAccount struct {
	Token       string `json:"token"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
}

// check applies the account rules (internal/accounts) before any link is
// spent, answering on failure.
func (a *newAccount) check(w http.ResponseWriter) bool {
	n := accounts.NewUser{Username: a.Username, DisplayName: a.DisplayName, Password: a.Password, Role: store.RoleMember}
	if err := n.Check(); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", strings.TrimPrefix(err.Error(), accounts.ErrInvalid.Error()+": "))
		return false
	}
	a.Username, a.DisplayName = n.Username, n.DisplayName
	return true
}

// createAccount stores the account; hash is its password hashed already, or "".
func (s *Server) createAccount(ctx context.Context, w http.ResponseWriter, a newAccount, role store.Role, hash string) (store.User, bool) {
	u, err := s.accounts().Create(ctx, accounts.NewUser{Username: a.Username, DisplayName: a.DisplayName, Password: a.Password, Role: role, PasswordHash: hash})
	if err != nil {
		s.accountError(w, "create user", err)
		return store.User{}, false
	}
	return u, true
}

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	var in newAccount
	if readJSON(w, r, &in) != nil || !in.check(w) {
		return
	}
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	ctx := r.Context()
	n, err := s.Store.CountUsers(ctx)
	if err != nil {
		s.internal(w, "count users", err)
		return
	}
	want, err := s.Store.Setting(ctx, setupTokenKey)
	if n > 0 || err != nil || !auth.Equal(auth.HashToken(in.Token), want) {
		writeError(w, http.StatusForbidden, "forbidden", "this setup link is not valid (it works once, and only the newest one printed by `os1 serve`); if the owner exists, sign in instead")
		return
	}
	u, ok := s.createAccount(ctx, w, in, store.RoleOwner, "")
	if !ok {
		return
	}
	if err := s.Store.DeleteSetting(ctx, setupTokenKey); err != nil {
		s.Log.Error("delete setup token", "err", err)
	}
	s.Log.Info("owner account created", "username", u.Username)
	s.startSession(w, r, u, http.StatusCreated)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	name := strings.ToLower(strings.TrimSpace(in.Username))
	// Attempts are counted before the password is checked, so parallel
	// guesses cannot all pass. A browser that signed in as this user before
	// carries a device cookie: its attempts are counted for that cookie
	// alone, so neither guessing at the username from elsewhere nor
	// guessing from the same address (a household behind one NAT) ever
	// locks the user out of their own browser.
	device := cookieValue(r, deviceCookie)
	known := auth.VerifyDevice(s.DeviceKey, device, name, s.Clock.Now())
	addr := s.clientAddr(r)
	if known {
		addr = "device:" + auth.HashToken(device)
	}
	if wait := s.loginByAddr.Begin(addr); wait > 0 {
		tooManySignIns(w, wait)
		return
	}
	if !known {
		if wait := s.loginByUser.Begin(name); wait > 0 {
			s.loginByAddr.Succeed(addr, false) // refused before checking: not a guess
			tooManySignIns(w, wait)
			return
		}
	}
	takeBack := func() {
		s.loginByAddr.Succeed(addr, false)
		if !known {
			s.loginByUser.Succeed(name, false)
		}
	}
	u, err := s.Store.UserByUsername(r.Context(), name)
	if err == nil {
		err = s.hasher.Verify(r.Context(), u.PasswordHash, in.Password)
	} else if errors.Is(err, store.ErrNotFound) {
		// Spend the same time as a real check so timing does not tell which usernames exist.
		if verr := s.hasher.Verify(r.Context(), s.dummyHash(), in.Password); errors.Is(verr, auth.ErrBusy) {
			err = verr
		}
	}
	switch {
	case errors.Is(err, auth.ErrBusy):
		takeBack()
		s.busy(w, err)
		return
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, auth.ErrMismatch):
		writeError(w, http.StatusUnauthorized, "bad_credentials", "wrong username or password")
		return
	case err != nil:
		takeBack()
		s.internal(w, "sign in", err)
		return
	}
	takeBack()
	if err := checkEnabled(u); err != nil { // users.go; told only to who knows the password
		writeError(w, http.StatusUnauthorized, "account_disabled", strings.TrimPrefix(err.Error(), errUnauthenticated.Error()+": "))
		return
	}
	s.startSession(w, r, u, http.StatusOK)
}

const deviceCookie = "os1_device"

// deviceTTL is how long a browser stays known after signing in.
const deviceTTL = 365 * 24 * time.Hour

func cookieValue(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

func tooManySignIns(w http.ResponseWriter, wait time.Duration) {
	secs := int(wait.Seconds() + 0.999)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	unit := "seconds"
	if secs == 1 {
		unit = "second"
	}
	writeError(w, http.StatusTooManyRequests, "rate_limited", fmt.Sprintf("too many failed sign-ins; try again in %d %s", secs, unit))
}

// busy answers 503 when every password-hashing slot is taken.
func (s *Server) busy(w http.ResponseWriter, err error) {
	w.Header().Set("Retry-After", "2")
	writeError(w, http.StatusServiceUnavailable, "busy", err.Error())
}

// dummyHash is checked for an unknown username, so it costs what a real
// user's check costs. It is made on first use, not at start-up: hashing
// costs memory and time every command would otherwise pay.
func (s *Server) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := auth.HashPasswordAt(s.hasher.Cost(), "not a real password at all")
		if err != nil {
			panic(err)
		}
		s.dummy = h
	})
	return s.dummy
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, _ store.User) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		_ = s.Store.DeleteSession(r.Context(), auth.HashToken(c.Value))
		s.endCreds(r.Context(), reasonLogout, auth.HashToken(c.Value))
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	out := map[string]any{"user": userOut(u), "onboarded": false, "named": false, "persona": nil, "profile": nil}
	if _, sess, err := s.authenticate(r); err == nil && sess != nil {
		out["csrf_token"] = sess.CSRFToken
	}
	if p, err := s.Store.Profile(ctx, u.ID); err == nil {
		po := profileOut(p)
		out["profile"], out["onboarded"] = po, po.Onboarded
	} else if !errors.Is(err, store.ErrNotFound) {
		s.internal(w, "read profile", err)
		return
	}
	if p, err := s.Store.Persona(ctx, u.ID); err == nil {
		po := personaOut(p)
		out["persona"], out["named"] = po, po.Named
	} else if !errors.Is(err, store.ErrNotFound) {
		s.internal(w, "read persona", err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createInvite(w http.ResponseWriter, r *http.Request, u store.User) {
	token := clock.Token(20)
	now := s.Clock.Now()
	in := store.Invite{TokenHash: auth.HashToken(token), CreatedBy: u.ID, CreatedAt: now, ExpiresAt: now.Add(InviteTTL)}
	if err := s.Store.CreateInvite(r.Context(), in); err != nil {
		s.internal(w, "create invite", err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"url": s.BaseURL + "/#/invite/" + token, "expires_at": in.ExpiresAt})
}

func (s *Server) acceptInvite(w http.ResponseWriter, r *http.Request) {
	var in newAccount
	if readJSON(w, r, &in) != nil || !in.check(w) {
		return
	}
	ctx := r.Context()
	// The link is checked first, and bad links count like failed sign-ins:
	// without a valid one nobody learns which usernames exist or makes the
	// server hash anything.
	addr := s.clientAddr(r)
	if wait := s.loginByAddr.Begin(addr); wait > 0 {
		tooManySignIns(w, wait)
		return
	}
	if _, err := s.Store.Invite(ctx, auth.HashToken(in.Token), s.Clock.Now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusForbidden, "forbidden", msgInviteUnusable)
			return
		}
		s.internal(w, "read invite", err)
		return
	}
	s.loginByAddr.Succeed(addr, false)
	if _, err := s.Store.UserByUsername(ctx, in.Username); err == nil {
		writeError(w, http.StatusConflict, "conflict", fmt.Sprintf("the username %q is taken; choose another", in.Username))
		return
	}
	// Hash before the invite is spent: a busy server answers 503 and the
	// link still works when the user tries again.
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		s.accountError(w, "hash password", err)
		return
	}
	if _, err := s.Store.UseInvite(ctx, auth.HashToken(in.Token), s.Clock.Now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			writeError(w, http.StatusForbidden, "forbidden", msgInviteUnusable)
			return
		}
		s.internal(w, "use invite", err)
		return
	}
	u, ok := s.createAccount(ctx, w, in, store.RoleMember, hash)
	if !ok {
		return
	}
	s.startSession(w, r, u, http.StatusCreated)
}

type tokenJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, u store.User) {
	toks, err := s.Store.ListAPITokens(r.Context(), u.ID)
	if err != nil {
		s.internal(w, "list tokens", err)
		return
	}
	out := make([]tokenJSON, len(toks))
	for i, t := range toks {
		out[i] = tokenJSON{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt}
		if !t.LastUsedAt.IsZero() {
			lu := t.LastUsedAt
			out[i].LastUsedAt = &lu
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Name string `json:"name"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = "token"
	}
	if len([]rune(in.Name)) > 64 {
		writeError(w, http.StatusBadRequest, "bad_request", "token name must be at most 64 characters")
		return
	}
	secret := tokenPrefix + clock.Token(24)
	t := store.APIToken{ID: clock.NewID("tok_"), UserID: u.ID, Name: in.Name, TokenHash: auth.HashToken(secret), CreatedAt: s.Clock.Now()}
	if err := s.Store.CreateAPIToken(r.Context(), t); err != nil {
		s.internal(w, "create token", err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"id": t.ID, "name": t.Name, "token": secret, "created_at": t.CreatedAt})
}

func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, u store.User) {
	hash := s.accounts().TokenHash(r.Context(), u.ID, r.PathValue("id"))
	if err := s.Store.DeleteAPIToken(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.storeError(w, "delete token", err)
		return
	}
	s.endCreds(r.Context(), reasonToken, hash)
	w.WriteHeader(http.StatusNoContent)
}

// storeError answers 404 for ErrNotFound, 500 otherwise.
func (s *Server) storeError(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "not found")
		return
	}
	s.internal(w, what, err)
}
