// Package accounts is what os1 does with user accounts beyond signing in:
// creating them, disabling, enabling and deleting them with all their data,
// changing and resetting passwords, and making API tokens. The HTTP server
// and the `os1 user` / `os1 token` commands both call it, so the rules
// (username shape, password policy, one-time links, what deleting removes)
// live in one place.
//
// It must never store or return a plaintext password, and returns a secret
// (a token or a link's token) only once, to the caller that made it. It
// knows nothing of live connections: callers end those with the session
// hashes it reports.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/store"
)

// Sentinel errors; store.ErrNotFound and store.ErrConflict pass through.
var (
	// ErrInvalid: the input breaks a rule; the message says which.
	ErrInvalid = errors.New("invalid")
	// ErrWrongPassword: the current password given to ChangePassword is wrong.
	ErrWrongPassword = errors.New("the current password is wrong")
	// ErrSelf: the owner tried to disable or delete their own account.
	ErrSelf = errors.New("the owner cannot disable or delete their own account")
	// ErrLinkInvalid: a reset link is unknown, used or expired.
	ErrLinkInvalid = errors.New("this password reset link is not valid: it was used already, replaced by a newer one, or has expired; ask the owner for a new one")
)

// Lifetimes and prefixes of what this package makes.
const (
	ResetTTL    = 24 * time.Hour
	TokenPrefix = "os1_"
)

// MemoryEraser is a store besides the core one that keeps a user's data (the
// memory store with its in-memory vector index).
type MemoryEraser interface {
	DeleteUser(ctx context.Context, userID string) error
}

// Hasher hashes and checks passwords; the server's caps how many run at
// once (auth.Hasher) and answers auth.ErrBusy beyond that.
type Hasher interface {
	Hash(ctx context.Context, pw string) (string, error)
	Verify(ctx context.Context, hash, pw string) error
}

// Service works on accounts in a store.
type Service struct {
	Store  store.Store
	Clock  clock.Clock
	Memory MemoryEraser // nil: only the core store holds user data
	Hasher Hasher       // nil: hash without a cap (the command line)
}

// New returns a Service; a nil clock is the system clock.
func New(st store.Store, c clock.Clock, mem MemoryEraser) *Service {
	if c == nil {
		c = clock.System{}
	}
	return &Service{Store: st, Clock: c, Memory: mem}
}

type uncapped struct{}

func (uncapped) Hash(_ context.Context, pw string) (string, error) { return auth.HashPassword(pw) }
func (uncapped) Verify(_ context.Context, h, pw string) error      { return auth.VerifyPassword(h, pw) }

func (a *Service) hasher() Hasher {
	if a.Hasher == nil {
		return uncapped{}
	}
	return a.Hasher
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// NewUser describes an account to create.
type NewUser struct {
	Username    string // folded to lower case
	DisplayName string // default: the username
	Password    string
	Role        store.Role
	// PasswordHash, when set, is Password already checked and hashed (a
	// caller that must not spend an invite before hashing can succeed).
	PasswordHash string
}

func invalid(msg string) error { return fmt.Errorf("%w: %s", ErrInvalid, msg) }

// Check normalizes n (lower-case username, trimmed names, display name
// defaulting to the username) and reports the first rule it breaks, as
// ErrInvalid. Callers that spend something first (an invite) check before.
func (n *NewUser) Check() error {
	n.Username = strings.ToLower(strings.TrimSpace(n.Username))
	n.DisplayName = strings.TrimSpace(n.DisplayName)
	if !usernameRE.MatchString(n.Username) {
		return invalid("username must be 2 to 32 characters: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if err := auth.CheckPasswordPolicy(n.Password); err != nil && n.PasswordHash == "" {
		return invalid(err.Error())
	}
	if len([]rune(n.DisplayName)) > 64 {
		return invalid("display name must be at most 64 characters")
	}
	if strings.ContainsFunc(n.DisplayName, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return invalid("display name may not contain control characters")
	}
	if n.DisplayName == "" {
		n.DisplayName = n.Username
	}
	if n.Role != store.RoleOwner && n.Role != store.RoleMember {
		return invalid(fmt.Sprintf("role must be %q or %q", store.RoleOwner, store.RoleMember))
	}
	return nil
}

// Create checks and stores a new account. ErrConflict when the username is taken.
func (a *Service) Create(ctx context.Context, n NewUser) (store.User, error) {
	if err := n.Check(); err != nil {
		return store.User{}, err
	}
	users, err := a.Store.ListUsers(ctx)
	if err != nil {
		return store.User{}, err
	}
	if len(users) == 0 && n.Role != store.RoleOwner {
		return store.User{}, invalid("the first account of a server must be its owner")
	}
	for _, u := range users {
		if u.Role == store.RoleOwner && n.Role == store.RoleOwner {
			return store.User{}, invalid(fmt.Sprintf("this server has an owner already (%s); a server has one owner, and everyone else is a member", u.Username))
		}
	}
	hash := n.PasswordHash
	if hash == "" {
		if hash, err = a.hasher().Hash(ctx, n.Password); err != nil {
			return store.User{}, err
		}
	}
	u := store.User{ID: clock.NewID("usr_"), Username: n.Username, DisplayName: n.DisplayName, Role: n.Role,
		PasswordHash: hash, CreatedAt: a.Clock.Now()}
	if err := a.Store.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return store.User{}, fmt.Errorf("the username %q is taken; choose another: %w", n.Username, store.ErrConflict)
		}
		return store.User{}, err
	}
	if len(users) == 0 {
		// The first owner, however made, ends the setup link `os1 serve` printed.
		if err := a.Store.DeleteSetting(ctx, setupTokenKey); err != nil {
			return u, err
		}
	}
	return u, nil
}

// setupTokenKey is the setting that holds the setup link's hash (the
// server's setupTokenKey).
const setupTokenKey = "setup.token_hash"

// Summary is a user as the owner's list shows them.
type Summary struct {
	store.User
	LastSeen time.Time // latest use of any session or token; zero when never
	Sessions int
}

// List returns every account with when it was last seen, oldest first.
func (a *Service) List(ctx context.Context) ([]Summary, error) {
	users, err := a.Store.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(users))
	for i, u := range users {
		out[i].User = u
		sessions, err := a.Store.ListSessions(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		out[i].Sessions = len(sessions)
		for _, s := range sessions {
			out[i].LastSeen = latest(out[i].LastSeen, s.LastUsedAt, s.CreatedAt)
		}
		tokens, err := a.Store.ListAPITokens(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range tokens {
			out[i].LastSeen = latest(out[i].LastSeen, t.LastUsedAt)
		}
	}
	return out, nil
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// Find returns the user with this username (case-insensitive).
func (a *Service) Find(ctx context.Context, username string) (store.User, error) {
	u, err := a.Store.UserByUsername(ctx, strings.ToLower(strings.TrimSpace(username)))
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("no user %q: %w", username, store.ErrNotFound)
	}
	return u, err
}

// member loads the target of an owner's action; by is the acting user's
// ID ("" on the command line, which may act on anyone but the last owner).
func (a *Service) member(ctx context.Context, by, userID string) (store.User, error) {
	u, err := a.Store.UserByID(ctx, userID)
	if err != nil {
		return u, err
	}
	if u.ID == by || (by == "" && u.Role == store.RoleOwner) {
		return u, ErrSelf
	}
	return u, nil
}

// Disable stops the user from signing in or using tokens and ends their
// sessions. It returns the hashes of the sessions ended.
func (a *Service) Disable(ctx context.Context, by, userID string) ([]string, error) {
	if _, err := a.member(ctx, by, userID); err != nil {
		return nil, err
	}
	if err := a.Store.SetUserDisabled(ctx, userID, a.Clock.Now()); err != nil {
		return nil, err
	}
	return a.Store.DeleteOtherSessions(ctx, userID, "")
}

// Enable lets a disabled user sign in again.
func (a *Service) Enable(ctx context.Context, userID string) error {
	return a.Store.SetUserDisabled(ctx, userID, time.Time{})
}

// Delete removes the user and everything they own: memory first (so a
// failure leaves the account in place to retry), then the account with its
// conversations, sessions, tokens and settings.
func (a *Service) Delete(ctx context.Context, by, userID string) error {
	if _, err := a.member(ctx, by, userID); err != nil {
		return err
	}
	if a.Memory != nil {
		if err := a.Memory.DeleteUser(ctx, userID); err != nil {
			return err
		}
	}
	return a.Store.DeleteUser(ctx, userID)
}

// SetPassword sets a new password (checked against the policy) and ends
// every session of the user except keepHash. It returns the hashes ended.
func (a *Service) SetPassword(ctx context.Context, userID, password, keepHash string) ([]string, error) {
	if err := auth.CheckPasswordPolicy(password); err != nil {
		return nil, invalid(err.Error())
	}
	hash, err := a.hasher().Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	if err := a.Store.SetPasswordHash(ctx, userID, hash); err != nil {
		return nil, err
	}
	return a.Store.DeleteOtherSessions(ctx, userID, keepHash)
}

// ChangePassword checks the current password, then does SetPassword.
func (a *Service) ChangePassword(ctx context.Context, u store.User, current, next, keepHash string) ([]string, error) {
	if err := a.hasher().Verify(ctx, u.PasswordHash, current); err != nil {
		if errors.Is(err, auth.ErrMismatch) {
			return nil, ErrWrongPassword
		}
		return nil, err
	}
	if current == next {
		return nil, invalid("the new password is the same as the current one")
	}
	return a.SetPassword(ctx, u.ID, next, keepHash)
}

// ResetLink makes a one-time link token for userID (replacing older ones)
// and returns it with its expiry. by is the owner's ID, "" on the command line.
func (a *Service) ResetLink(ctx context.Context, by, userID string) (string, time.Time, error) {
	if by != "" {
		if _, err := a.member(ctx, by, userID); err != nil {
			return "", time.Time{}, err
		}
	}
	token := clock.Token(20)
	now := a.Clock.Now()
	pr := store.PasswordReset{TokenHash: auth.HashToken(token), UserID: userID, CreatedBy: by, CreatedAt: now, ExpiresAt: now.Add(ResetTTL)}
	if err := a.Store.CreatePasswordReset(ctx, pr); err != nil {
		return "", time.Time{}, err
	}
	return token, pr.ExpiresAt, nil
}

// ResetPassword spends a link and sets the password, ending every session
// of the user. The policy is checked before the link is spent, so a
// too-short password does not waste it.
func (a *Service) ResetPassword(ctx context.Context, token, password string) (store.User, []string, error) {
	if err := auth.CheckPasswordPolicy(password); err != nil {
		return store.User{}, nil, invalid(err.Error())
	}
	pr, err := a.Store.UsePasswordReset(ctx, auth.HashToken(token), a.Clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, nil, ErrLinkInvalid
	}
	if err != nil {
		return store.User{}, nil, err
	}
	ended, err := a.SetPassword(ctx, pr.UserID, password, "")
	if err != nil {
		return store.User{}, nil, err
	}
	u, err := a.Store.UserByID(ctx, pr.UserID)
	return u, ended, err
}

// CreateToken makes an API token for the user and returns it with its
// secret, which is shown once and never stored.
func (a *Service) CreateToken(ctx context.Context, userID, name string) (store.APIToken, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "token"
	}
	if len([]rune(name)) > 64 {
		return store.APIToken{}, "", invalid("token name must be at most 64 characters")
	}
	secret := TokenPrefix + clock.Token(24)
	t := store.APIToken{ID: clock.NewID("tok_"), UserID: userID, Name: name, TokenHash: auth.HashToken(secret), CreatedAt: a.Clock.Now()}
	if err := a.Store.CreateAPIToken(ctx, t); err != nil {
		return store.APIToken{}, "", err
	}
	return t, secret, nil
}

// Sessions returns the user's sessions, most recently used first, with the
// current one (currentHash) first of all.
func (a *Service) Sessions(ctx context.Context, userID, currentHash string) ([]store.Session, error) {
	list, err := a.Store.ListSessions(ctx, userID)
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(list, func(s store.Session) bool { return s.TokenHash == currentHash }); i > 0 {
		cur := list[i]
		list = append(list[:i], list[i+1:]...)
		list = append([]store.Session{cur}, list...)
	}
	return list, nil
}

// SessionID is the public name of a session: a prefix of its token's hash,
// which is itself a hash, so the ID reveals nothing usable.
func SessionID(tokenHash string) string {
	if len(tokenHash) > 16 {
		return tokenHash[:16]
	}
	return tokenHash
}

// EndSession deletes the user's session with this ID and returns its hash.
// ErrNotFound when the user has no such session.
func (a *Service) EndSession(ctx context.Context, userID, id string) (string, error) {
	list, err := a.Store.ListSessions(ctx, userID)
	if err != nil {
		return "", err
	}
	for _, s := range list {
		if SessionID(s.TokenHash) == id {
			return s.TokenHash, a.Store.DeleteSession(ctx, s.TokenHash)
		}
	}
	return "", fmt.Errorf("session %s: %w", id, store.ErrNotFound)
}

// TokenHash returns the hash of one of the user's tokens, for ending the
// connections it opened; "" when there is none.
func (a *Service) TokenHash(ctx context.Context, userID, id string) string {
	toks, err := a.Store.ListAPITokens(ctx, userID)
	if err != nil {
		return ""
	}
	for _, t := range toks {
		if t.ID == id {
			return t.TokenHash
		}
	}
	return ""
}
