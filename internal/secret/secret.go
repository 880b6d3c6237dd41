// Package secret encrypts small secrets at rest, such as the API keys a user
// types into the settings page, so that a copied database file alone does not
// give them away.
//
// A Box seals text with AES-256-GCM under a 32-byte key kept in its own file
// (mode 0600) next to, but apart from, the database. Sealed text is
// versioned ("v1:...") so the format can change without losing old secrets.
// This package must never log, print or put into an error message a key or
// a plaintext, and must never use a key file other users can read.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// ErrDecrypt means sealed text could not be opened: it is malformed, was
// altered, or was sealed with another key.
var ErrDecrypt = errors.New("cannot decrypt secret")

// prefix marks the v1 format: base64url (no padding) of nonce || ciphertext,
// with the prefix itself authenticated as additional data.
const prefix = "v1:"

var encoding = base64.RawURLEncoding

// Box seals and opens secrets with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
	key  []byte
}

// NewBox returns a Box using key, which must be KeySize bytes.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Box{aead: aead, key: slices.Clone(key)}, nil
}

// LoadOrCreateKey returns a Box using the key stored at path, first creating
// the file with a new random key (mode 0600, parent directory 0700) if it does
// not exist. It refuses a key file that other users can read or write.
func LoadOrCreateKey(path string) (*Box, error) {
	key, err := readKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKey(path)
		if errors.Is(err, fs.ErrExist) {
			// Another process created it between our read and create.
			key, err = readKey(path)
		}
	}
	if err != nil {
		return nil, err
	}
	return NewBox(key)
}

// LoadKey returns a Box using the key stored at path, never creating it: a
// missing file is an error that wraps fs.ErrNotExist. Like LoadOrCreateKey
// it refuses a key file that other users can read or write.
func LoadKey(path string) (*Box, error) {
	key, err := readKey(path)
	if err != nil {
		return nil, err
	}
	return NewBox(key)
}

func readKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	// Windows has no Unix permission bits; its ACLs are out of our reach here.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("key file %s can be read or written by other users (mode %04o); run: chmod 600 %s",
			path, perm, path)
	}
	// Read one byte more than a key so an oversized file is caught.
	key, err := io.ReadAll(io.LimitReader(f, KeySize+1))
	if err != nil {
		return nil, fmt.Errorf("read key file %s: %w", path, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("key file %s is damaged: it must hold exactly %d bytes", path, KeySize)
	}
	return key, nil
}

func createKey(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	// O_EXCL: never overwrite a key, or every secret sealed with it is lost.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create key file: %w", err)
	}
	_, err = f.Write(key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // a partial key file would fail every later load
		return nil, fmt.Errorf("create key file %s: %w", path, err)
	}
	return key, nil
}

// Derive returns a 32-byte key for one purpose (HMAC-SHA256 of the purpose
// under the box's key), so other secrets need no storage of their own and
// change when the key file does.
func (b *Box) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, b.key)
	m.Write([]byte("os1 derived key\x00" + purpose))
	return m.Sum(nil)
}

// Verifier returns text that tells whether another Box has the same key
// without revealing the key: HMAC-SHA256 of a fixed label under a key
// derived for this purpose alone, versioned like sealed text ("k1:...").
// Stored where every node can read it (the database), it lets a node with
// another key notice before it seals anything.
func (b *Box) Verifier() string {
	m := hmac.New(sha256.New, b.Derive("key verifier"))
	m.Write([]byte("os1 secret key verifier v1"))
	return "k1:" + encoding.EncodeToString(m.Sum(nil))
}

// Verifies reports whether v is this Box's Verifier (in constant time).
func (b *Box) Verifies(v string) bool {
	return hmac.Equal([]byte(b.Verifier()), []byte(v))
}

// Seal encrypts plaintext and returns it as printable text.
func (b *Box) Seal(plaintext string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal secret: %w", err)
	}
	sealed := b.aead.Seal(nonce, nonce, []byte(plaintext), []byte(prefix))
	return prefix + encoding.EncodeToString(sealed), nil
}

// Open decrypts text made by Seal. Every failure wraps ErrDecrypt.
func (b *Box) Open(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", fmt.Errorf("%w: unknown format (want %q prefix)", ErrDecrypt, prefix)
	}
	raw, err := encoding.DecodeString(rest)
	if err != nil {
		return "", fmt.Errorf("%w: not valid base64", ErrDecrypt)
	}
	if len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", fmt.Errorf("%w: too short", ErrDecrypt)
	}
	nonce, ciphertext := raw[:b.aead.NonceSize()], raw[b.aead.NonceSize():]
	plain, err := b.aead.Open(nil, nonce, ciphertext, []byte(prefix))
	if err != nil {
		return "", fmt.Errorf("%w: it was sealed with another key or has been altered; enter the secret again", ErrDecrypt)
	}
	return string(plain), nil
}
