package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/os1ai/os1/internal/store"
)

// Users, sessions, API tokens and invites: who may talk to this server.

const userCols = `id, username, display_name, role, password_hash, created_at, disabled_at`

type rowScanner interface{ Scan(dest ...any) error }

func scanUser(r rowScanner) (store.User, error) {
	var u store.User
	err := r.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.PasswordHash, scanTime(&u.CreatedAt), scanTime(&u.DisabledAt))
	return u, err
}

// CreateUser stores a new account; ErrConflict when the ID or username is taken.
func (d *Store) CreateUser(ctx context.Context, u store.User) error {
	if u.ID == "" || u.Username == "" {
		return fmt.Errorf("create user %q: id and username are required", u.Username)
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.DisplayName, string(u.Role), u.PasswordHash, dbTime(u.CreatedAt), dbTime(u.DisabledAt))
	return mapErr(err, fmt.Sprintf("create user %q", u.Username))
}

// UserByID returns the account with this ID.
func (d *Store) UserByID(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(d.hot().QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	return u, mapErr(err, fmt.Sprintf("user %s", id))
}

// UserByUsername returns the account with this username, matched exactly.
func (d *Store) UserByUsername(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, username))
	return u, mapErr(err, fmt.Sprintf("user %q", username))
}

// ListUsers returns every account, oldest first.
func (d *Store) ListUsers(ctx context.Context) ([]store.User, error) {
	return all(ctx, d.db, scanUser, "list users", `SELECT `+userCols+` FROM users ORDER BY created_at, `+d.seq)
}

// CountUsers returns how many accounts exist.
func (d *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, mapErr(err, "count users")
}

// SetPasswordHash replaces a user's password hash.
func (d *Store) SetPasswordHash(ctx context.Context, userID, hash string) error {
	res, err := d.db.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
	return affected(res, err, fmt.Sprintf("set password of user %s", userID))
}

const sessionCols = `token_hash, user_id, csrf_token, created_at, expires_at, last_used_at, user_agent, address`

func scanSession(r rowScanner) (store.Session, error) {
	var s store.Session
	err := r.Scan(&s.TokenHash, &s.UserID, &s.CSRFToken, scanTime(&s.CreatedAt), scanTime(&s.ExpiresAt),
		scanTime(&s.LastUsedAt), &s.UserAgent, &s.Address)
	return s, err
}

// SetUserDisabled disables the account at at, or enables it when at is zero.
func (d *Store) SetUserDisabled(ctx context.Context, userID string, at time.Time) error {
	res, err := d.db.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ?`, dbTime(at), userID)
	return affected(res, err, fmt.Sprintf("disable user %s", userID))
}

// DeleteUser removes the account; the schema's ON DELETE CASCADE removes
// every row that references it (including the memory tables of
// internal/memory/sqlitemem). Settings scoped to the user or one of their
// conversations go in the same transaction.
func (d *Store) DeleteUser(ctx context.Context, userID string) error {
	what := fmt.Sprintf("delete user %s", userID)
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, what)
	}
	defer tx.Rollback()
	// Settings keys end in "."+ID by convention (memory.journaled.<user>,
	// memory.watermark.<conversation>).
	if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE
		(length(key) > length(CAST(?1 AS TEXT))
			AND substr(key, length(key) - length(CAST(?1 AS TEXT))) = '.' || CAST(?1 AS TEXT))
		OR EXISTS (SELECT 1 FROM conversations c WHERE c.user_id = CAST(?1 AS TEXT)
			AND length(settings.key) > length(c.id)
			AND substr(settings.key, length(settings.key) - length(c.id)) = '.' || c.id)`, userID); err != nil {
		return mapErr(err, what)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, userID)
	if err := affected(res, err, what); err != nil {
		return err
	}
	return mapErr(tx.Commit(), what)
}

// CreateSession stores a browser login; ErrNotFound when the user does not exist.
func (d *Store) CreateSession(ctx context.Context, s store.Session) error {
	_, err := d.db.ExecContext(ctx,
		`INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.TokenHash, s.UserID, s.CSRFToken, dbTime(s.CreatedAt), dbTime(s.ExpiresAt),
		dbTime(s.LastUsedAt), s.UserAgent, s.Address)
	return mapErr(err, fmt.Sprintf("create session for user %s", s.UserID))
}

// SessionByHash returns the session with this token hash, expired or not;
// the caller checks ExpiresAt against its clock.
func (d *Store) SessionByHash(ctx context.Context, tokenHash string) (store.Session, error) {
	s, err := scanSession(d.hot().QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions WHERE token_hash = ?`, tokenHash))
	return s, mapErr(err, "session")
}

// ListSessions returns the user's sessions, most recently used first.
func (d *Store) ListSessions(ctx context.Context, userID string) ([]store.Session, error) {
	what := fmt.Sprintf("list sessions of user %s", userID)
	return all(ctx, d.db, scanSession, what, `SELECT `+sessionCols+` FROM sessions WHERE user_id = ?
		ORDER BY coalesce(last_used_at, created_at) DESC, `+d.seq+` DESC`, userID)
}

// TouchSession records a use of the session.
func (d *Store) TouchSession(ctx context.Context, tokenHash string, at time.Time, userAgent, address string) error {
	res, err := d.hot().ExecContext(ctx, `UPDATE sessions SET last_used_at = ?, user_agent = ?, address = ? WHERE token_hash = ?`,
		dbTime(at), userAgent, address, tokenHash)
	return affected(res, err, "touch session")
}

// DeleteOtherSessions removes the user's sessions except keepHash.
func (d *Store) DeleteOtherSessions(ctx context.Context, userID, keepHash string) ([]string, error) {
	what := fmt.Sprintf("delete other sessions of user %s", userID)
	return all(ctx, d.db, scanString, what,
		`DELETE FROM sessions WHERE user_id = ? AND token_hash <> ? RETURNING token_hash`, userID, keepHash)
}

// DeleteSession removes a session. Removing one that is already gone is not an error.
func (d *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
	return mapErr(err, "delete session")
}

// DeleteUserSessions removes every session of a user (log out everywhere).
func (d *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	return mapErr(err, fmt.Sprintf("delete sessions of user %s", userID))
}

// DeleteExpiredSessions removes sessions whose ExpiresAt is at or before now,
// and sessions without an expiry, and returns how many it removed.
func (d *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at IS NULL OR expires_at <= ?`, dbTime(now))
	if err != nil {
		return 0, mapErr(err, "delete expired sessions")
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err, "delete expired sessions")
}

const tokenCols = `id, user_id, name, token_hash, created_at, last_used_at`

func scanToken(r rowScanner) (store.APIToken, error) {
	var t store.APIToken
	err := r.Scan(&t.ID, &t.UserID, &t.Name, &t.TokenHash, scanTime(&t.CreatedAt), scanTime(&t.LastUsedAt))
	return t, err
}

// CreateAPIToken stores a token; ErrConflict when its ID or hash is taken.
func (d *Store) CreateAPIToken(ctx context.Context, t store.APIToken) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO api_tokens (`+tokenCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.UserID, t.Name, t.TokenHash, dbTime(t.CreatedAt), dbTime(t.LastUsedAt))
	return mapErr(err, fmt.Sprintf("create API token %q for user %s", t.Name, t.UserID))
}

// APITokenByHash returns the token with this hash.
func (d *Store) APITokenByHash(ctx context.Context, tokenHash string) (store.APIToken, error) {
	t, err := scanToken(d.hot().QueryRowContext(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE token_hash = ?`, tokenHash))
	return t, mapErr(err, "API token")
}

// ListAPITokens returns a user's tokens, oldest first.
func (d *Store) ListAPITokens(ctx context.Context, userID string) ([]store.APIToken, error) {
	what := fmt.Sprintf("list API tokens of user %s", userID)
	return all(ctx, d.db, scanToken, what, `SELECT `+tokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY created_at, `+d.seq, userID)
}

// DeleteAPIToken removes one of the user's tokens.
func (d *Store) DeleteAPIToken(ctx context.Context, userID, id string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, id, userID)
	return affected(res, err, fmt.Sprintf("delete API token %s", id))
}

// TouchAPIToken records that a token was used at at.
func (d *Store) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	res, err := d.hot().ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, dbTime(at), id)
	return affected(res, err, fmt.Sprintf("touch API token %s", id))
}

// CreateInvite stores a one-time invitation.
func (d *Store) CreateInvite(ctx context.Context, in store.Invite) error {
	_, err := d.db.ExecContext(ctx,
		`INSERT INTO invites (token_hash, created_by, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?)`,
		in.TokenHash, in.CreatedBy, dbTime(in.CreatedAt), dbTime(in.ExpiresAt), dbTime(in.UsedAt))
	return mapErr(err, fmt.Sprintf("create invite by user %s", in.CreatedBy))
}

// UseInvite marks an unused invite that has not expired at now as used, in
// one statement, so two people racing for the same link cannot both win. An
// invite without an expiry is treated as expired.
func (d *Store) UseInvite(ctx context.Context, tokenHash string, now time.Time) (store.Invite, error) {
	if now.IsZero() {
		return store.Invite{}, fmt.Errorf("use invite: no time given")
	}
	var in store.Invite
	err := d.db.QueryRowContext(ctx,
		`UPDATE invites SET used_at = ?1
		 WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1
		 RETURNING token_hash, created_by, created_at, expires_at, used_at`,
		dbTime(now), tokenHash).
		Scan(&in.TokenHash, &in.CreatedBy, scanTime(&in.CreatedAt), scanTime(&in.ExpiresAt), scanTime(&in.UsedAt))
	return in, mapErr(err, "use invite")
}

// Invite reads a usable invite without using it.
func (d *Store) Invite(ctx context.Context, tokenHash string, now time.Time) (store.Invite, error) {
	var in store.Invite
	err := d.db.QueryRowContext(ctx,
		`SELECT token_hash, created_by, created_at, expires_at, used_at FROM invites
		 WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1`,
		dbTime(now), tokenHash).
		Scan(&in.TokenHash, &in.CreatedBy, scanTime(&in.CreatedAt), scanTime(&in.ExpiresAt), scanTime(&in.UsedAt))
	return in, mapErr(err, "read invite")
}

// CreatePasswordReset stores a reset link and drops the user's older unused ones.
func (d *Store) CreatePasswordReset(ctx context.Context, pr store.PasswordReset) error {
	what := fmt.Sprintf("create password reset for user %s", pr.UserID)
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, what)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM password_resets WHERE user_id = ? AND used_at IS NULL`, pr.UserID); err != nil {
		return mapErr(err, what)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?)`,
		pr.TokenHash, pr.UserID, pr.CreatedBy, dbTime(pr.CreatedAt), dbTime(pr.ExpiresAt), dbTime(pr.UsedAt)); err != nil {
		return mapErr(err, what)
	}
	return mapErr(tx.Commit(), what)
}

// UsePasswordReset marks an unused, unexpired link used in one statement.
func (d *Store) UsePasswordReset(ctx context.Context, tokenHash string, now time.Time) (store.PasswordReset, error) {
	if now.IsZero() {
		return store.PasswordReset{}, fmt.Errorf("use password reset: no time given")
	}
	var pr store.PasswordReset
	err := d.db.QueryRowContext(ctx,
		`UPDATE password_resets SET used_at = ?1
		 WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1
		 RETURNING token_hash, user_id, created_by, created_at, expires_at, used_at`,
		dbTime(now), tokenHash).
		Scan(&pr.TokenHash, &pr.UserID, &pr.CreatedBy, scanTime(&pr.CreatedAt), scanTime(&pr.ExpiresAt), scanTime(&pr.UsedAt))
	return pr, mapErr(err, "use password reset")
}
