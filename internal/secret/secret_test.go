package secret_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/secret"
)

func testKey(fill byte) []byte {
	k := make([]byte, secret.KeySize)
	for i := range k {
		k[i] = fill + byte(i)
	}
	return k
}

func newBox(t *testing.T, key []byte) *secret.Box {
	t.Helper()
	b, err := secret.NewBox(key)
	if err != nil {
		t.Fatalf("NewBox: %v", err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	b := newBox(t, testKey(0))
	for _, plain := range []string{"", "sk-proj-abc123", "pässwörd 🔑\nline two", strings.Repeat("x", 1<<16)} {
		sealed, err := b.Seal(plain)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if !strings.HasPrefix(sealed, "v1:") {
			t.Errorf("sealed text %q lacks the v1: prefix", sealed)
		}
		if plain != "" && strings.Contains(sealed, plain) {
			t.Errorf("sealed text contains the plaintext")
		}
		got, err := b.Open(sealed)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if got != plain {
			t.Errorf("Open(Seal(%.20q)) = %.20q", plain, got)
		}
	}
}

func TestSealIsRandomized(t *testing.T) {
	b := newBox(t, testKey(0))
	s1, _ := b.Seal("same")
	s2, _ := b.Seal("same")
	if s1 == s2 {
		t.Error("sealing the same text twice gave the same output; the nonce must be random")
	}
}

// TestOpenV1 pins the v1 format: text sealed by this version must open forever.
func TestOpenV1(t *testing.T) {
	const sealed = "v1:wf_VpGT8mkOXkbr3HPC6XUKDIlfZg9CFQJfkL_vgiefXE90vQh6xYmjLflie"
	got, err := newBox(t, testKey(0)).Open(sealed)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if want := "sk-test-1234 🔑"; got != want {
		t.Errorf("Open = %q, want %q", got, want)
	}
}

func TestTamperDetected(t *testing.T) {
	b := newBox(t, testKey(0))
	sealed, err := b.Seal("sk-secret")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	if err != nil {
		t.Fatal(err)
	}
	// Flipping any bit of nonce, ciphertext or tag must be caught.
	for i := range raw {
		bad := bytes.Clone(raw)
		bad[i] ^= 0x01
		if _, err := b.Open("v1:" + base64.RawURLEncoding.EncodeToString(bad)); !errors.Is(err, secret.ErrDecrypt) {
			t.Fatalf("byte %d flipped: got %v, want ErrDecrypt", i, err)
		}
	}
	for name, s := range map[string]string{
		"no prefix":    strings.TrimPrefix(sealed, "v1:"),
		"other format": "v2:" + strings.TrimPrefix(sealed, "v1:"),
		"not base64":   "v1:***",
		"truncated":    sealed[:len(sealed)-4],
		"too short":    "v1:AAAA",
		"empty":        "",
		"plaintext":    "sk-secret",
	} {
		_, err := b.Open(s)
		if !errors.Is(err, secret.ErrDecrypt) {
			t.Errorf("%s: got %v, want ErrDecrypt", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "sk-secret") {
			t.Errorf("%s: error %q leaks the secret", name, err)
		}
	}
}

func TestWrongKey(t *testing.T) {
	sealed, err := newBox(t, testKey(0)).Seal("sk-secret")
	if err != nil {
		t.Fatal(err)
	}
	_, err = newBox(t, testKey(1)).Open(sealed)
	if !errors.Is(err, secret.ErrDecrypt) {
		t.Fatalf("Open with another key: got %v, want ErrDecrypt", err)
	}
	if !strings.Contains(err.Error(), "another key") {
		t.Errorf("error %q should say the key may differ", err)
	}
}

func TestNewBoxKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := secret.NewBox(make([]byte, n)); err == nil {
			t.Errorf("NewBox with a %d-byte key succeeded", n)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config", "secret.key")
	b1, err := secret.LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("key file mode = %04o, want 0600", got)
		}
		di, err := os.Stat(filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		if got := di.Mode().Perm(); got != 0o700 {
			t.Errorf("key directory mode = %04o, want 0700", got)
		}
	}
	if fi.Size() != secret.KeySize {
		t.Errorf("key file size = %d, want %d", fi.Size(), secret.KeySize)
	}
	key, _ := os.ReadFile(path)

	sealed, err := b1.Seal("sk-secret")
	if err != nil {
		t.Fatal(err)
	}
	b2, err := secret.LoadOrCreateKey(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	got, err := b2.Open(sealed)
	if err != nil || got != "sk-secret" {
		t.Fatalf("Open with the reloaded key = %q, %v; want the secret", got, err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, key) {
		t.Error("loading an existing key file changed it")
	}
}

func TestLoadRefusesOpenPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	path := filepath.Join(t.TempDir(), "secret.key")
	if _, err := secret.LoadOrCreateKey(path); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := secret.LoadOrCreateKey(path)
		if err == nil {
			t.Fatalf("mode %04o: loaded a key other users can read", mode)
		}
		if !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %04o: error %q should tell the user to chmod 600 the file", mode, err)
		}
	}
}

func TestLoadRejectsDamagedKeyFile(t *testing.T) {
	for _, size := range []int{0, 16, secret.KeySize + 1} {
		path := filepath.Join(t.TempDir(), "secret.key")
		if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := secret.LoadOrCreateKey(path)
		if err == nil || !strings.Contains(err.Error(), "damaged") {
			t.Errorf("%d-byte key file: got %v, want a damaged-file error", size, err)
		}
		if data, _ := os.ReadFile(path); len(data) != size {
			t.Errorf("%d-byte key file was rewritten", size)
		}
	}
}

func TestDerive(t *testing.T) {
	a, _ := secret.NewBox(make([]byte, secret.KeySize))
	k2 := make([]byte, secret.KeySize)
	k2[0] = 1
	b, _ := secret.NewBox(k2)
	if len(a.Derive("x")) != 32 || string(a.Derive("x")) != string(a.Derive("x")) {
		t.Fatal("Derive is not a stable 32-byte key")
	}
	if string(a.Derive("x")) == string(a.Derive("y")) || string(a.Derive("x")) == string(b.Derive("x")) {
		t.Fatal("Derive does not depend on both the purpose and the key")
	}
}

func TestLoadKeyNeverCreates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	if _, err := secret.LoadKey(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadKey of a missing file: got %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadKey created %s", path)
	}
	made, err := secret.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := secret.LoadKey(path)
	if err != nil {
		t.Fatalf("LoadKey: %v", err)
	}
	if !loaded.Verifies(made.Verifier()) {
		t.Error("LoadKey gave another key than the file's")
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := secret.LoadKey(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("LoadKey of a world-readable key file: got %v, want a refusal", err)
		}
	}
}

func TestVerifier(t *testing.T) {
	a, a2, b := newBox(t, testKey(0)), newBox(t, testKey(0)), newBox(t, testKey(1))
	v := a.Verifier()
	if !strings.HasPrefix(v, "k1:") || v != a.Verifier() {
		t.Fatalf("Verifier = %q: want a stable k1: value", v)
	}
	if !a2.Verifies(v) {
		t.Error("the same key does not verify")
	}
	if b.Verifies(v) || b.Verifier() == v {
		t.Error("another key verifies")
	}
	for _, bad := range []string{"", "k1:", v[:len(v)-1], strings.ToUpper(v)} {
		if a.Verifies(bad) && bad != v {
			t.Errorf("Verifies(%q) = true", bad)
		}
	}
	// It reveals neither the key nor a derived key used elsewhere.
	enc := base64.RawURLEncoding
	for _, k := range [][]byte{testKey(0), a.Derive("key verifier"), a.Derive("login device cookie")} {
		if strings.Contains(v, enc.EncodeToString(k)) || strings.Contains(v, enc.EncodeToString(k[:16])) {
			t.Error("the verifier contains key material")
		}
	}
}
