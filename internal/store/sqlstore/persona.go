package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/os1ai/os1/internal/store"
)

// Who the companion is to each user, and what she learned about them.

// Persona returns the user's persona; ErrNotFound before the first meeting.
func (d *Store) Persona(ctx context.Context, userID string) (store.Persona, error) {
	var p store.Persona
	err := d.hot().QueryRowContext(ctx,
		`SELECT user_id, name, voice, style, named_at, updated_at FROM personas WHERE user_id = ?`, userID).
		Scan(&p.UserID, &p.Name, &p.Voice, &p.Style, scanTime(&p.NamedAt), scanTime(&p.UpdatedAt))
	return p, mapErr(err, fmt.Sprintf("persona of user %s", userID))
}

// SavePersona creates or replaces the user's persona; ErrNotFound when the
// user does not exist.
func (d *Store) SavePersona(ctx context.Context, p store.Persona) error {
	_, err := d.db.ExecContext(ctx,
		`INSERT INTO personas (user_id, name, voice, style, named_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		 ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, voice = excluded.voice,
		   style = excluded.style, named_at = excluded.named_at, updated_at = excluded.updated_at`,
		p.UserID, p.Name, p.Voice, p.Style, dbTime(p.NamedAt), dbTime(p.UpdatedAt))
	return mapErr(err, fmt.Sprintf("save persona of user %s", p.UserID))
}

// Profile returns the user's profile; ErrNotFound before the first meeting.
// Answers is never nil.
func (d *Store) Profile(ctx context.Context, userID string) (store.Profile, error) {
	what := fmt.Sprintf("profile of user %s", userID)
	var (
		p       store.Profile
		answers string
	)
	err := d.hot().QueryRowContext(ctx,
		`SELECT user_id, answers, timezone, onboarded_at, updated_at FROM profiles WHERE user_id = ?`, userID).
		Scan(&p.UserID, &answers, &p.Timezone, scanTime(&p.OnboardedAt), scanTime(&p.UpdatedAt))
	if err != nil {
		return p, mapErr(err, what)
	}
	p.Answers = map[string]string{}
	if err := json.Unmarshal([]byte(answers), &p.Answers); err != nil {
		return p, fmt.Errorf("%s: decode stored answers: %w", what, err)
	}
	return p, nil
}

// SaveProfile creates or replaces the user's profile; ErrNotFound when the
// user does not exist.
func (d *Store) SaveProfile(ctx context.Context, p store.Profile) error {
	what := fmt.Sprintf("save profile of user %s", p.UserID)
	answers := p.Answers
	if answers == nil {
		answers = map[string]string{}
	}
	b, err := json.Marshal(answers)
	if err != nil {
		return fmt.Errorf("%s: encode answers: %w", what, err)
	}
	_, err = d.db.ExecContext(ctx,
		`INSERT INTO profiles (user_id, answers, timezone, onboarded_at, updated_at) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (user_id) DO UPDATE SET answers = excluded.answers, timezone = excluded.timezone,
		   onboarded_at = excluded.onboarded_at, updated_at = excluded.updated_at`,
		p.UserID, string(b), p.Timezone, dbTime(p.OnboardedAt), dbTime(p.UpdatedAt))
	return mapErr(err, what)
}
