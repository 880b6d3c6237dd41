// Package auth holds os1's account security primitives: argon2id password
// hashing, hashing of session and API tokens, and the login rate limiter.
//
// It must never store or log a plaintext password or token; only hashes
// leave this package.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's recommended minimum (19 MiB, 2 passes, 1
// lane). Each sign-in costs that much memory for a moment, which keeps a
// burst of logins on a small server affordable. The parameters are stored
// in every hash, so they can be raised later without breaking old ones.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// ErrMismatch means the password does not match the hash.
var ErrMismatch = errors.New("password does not match")

// CheckPasswordPolicy says what is wrong with a new password, or nil.
func CheckPasswordPolicy(pw string) error {
	if !utf8.ValidString(pw) {
		return errors.New("password is not valid UTF-8")
	}
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return fmt.Errorf("password is too short: use at least %d characters", MinPasswordLen)
	}
	if len(pw) > 1024 {
		return errors.New("password is too long: use at most 1024 bytes")
	}
	return nil
}

// Cost is what one argon2id hash spends: passes over Memory KiB.
type Cost struct {
	Time   uint32
	Memory uint32 // KiB
}

// DefaultCost is the cost of every password os1 stores.
var DefaultCost = Cost{Time: argonTime, Memory: argonMemory}

// TestCost is a cost for tests of the code around hashing (sign-in flows,
// not hashing itself): hashes stay real argon2id, just cheap. Never for
// passwords people use.
var TestCost = Cost{Time: 1, Memory: 64}

// HashPassword returns an argon2id hash in the PHC string format at DefaultCost.
func HashPassword(pw string) (string, error) { return HashPasswordAt(DefaultCost, pw) }

// HashPasswordAt is HashPassword at cost c; a zero cost is DefaultCost.
// The cost is stored in the hash, so VerifyPassword needs no telling.
func HashPasswordAt(c Cost, pw string) (string, error) {
	if c == (Cost{}) {
		c = DefaultCost
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, c.Time, c.Memory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, c.Memory, c.Time, argonThreads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// VerifyPassword checks pw against a PHC argon2id hash in constant time.
func VerifyPassword(hash, pw string) error {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("verify password: stored hash is not argon2id")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("verify password: unsupported argon2 version")
	}
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil {
		return fmt.Errorf("verify password: bad parameters: %w", err)
	}
	enc := base64.RawStdEncoding
	salt, err := enc.DecodeString(parts[4])
	if err != nil {
		return fmt.Errorf("verify password: bad salt: %w", err)
	}
	want, err := enc.DecodeString(parts[5])
	if err != nil {
		return fmt.Errorf("verify password: bad key: %w", err)
	}
	got := argon2.IDKey([]byte(pw), salt, iter, mem, threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// HashToken hashes a session cookie, API token or one-time link token for
// storage. Tokens carry 160+ bits of randomness, so a plain SHA-256 suffices.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
