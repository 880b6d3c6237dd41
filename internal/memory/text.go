package memory

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/store"
)

// ClipRunes cuts s to at most n runes, marking the cut.
func ClipRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// SingleLine joins s's words with single spaces.
func SingleLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ShortenUTF8 cuts s to at most n bytes on a rune boundary, marking the cut.
func ShortenUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " ") + "…"
}

// ProfileReader finds a user's time zone (the core store).
type ProfileReader interface {
	Profile(ctx context.Context, userID string) (store.Profile, error)
}

// UserLocation is the user's time zone, or the server's when unset or unknown.
func UserLocation(ctx context.Context, p ProfileReader, userID string) (*time.Location, error) {
	prof, err := p.Profile(ctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return prof.Location(), nil // the one place a user's zone is resolved
}
