package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

func TestPasswordRoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	if err := VerifyPassword(h, "correct horse battery"); err != nil {
		t.Fatalf("right password rejected: %v", err)
	}
	if err := VerifyPassword(h, "correct horse batterY"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: got %v, want ErrMismatch", err)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	if err := VerifyPassword("$2a$bcrypt", "x"); err == nil || errors.Is(err, ErrMismatch) {
		t.Fatalf("foreign hash: got %v, want a format error", err)
	}
}

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{"0123456789", true},
		{"\xff\xfe0123456789", false},
		{strings.Repeat("a", 1025), false},
		{"ü很长的密码很长的密码很", true},
	} {
		if err := CheckPasswordPolicy(tc.pw); (err == nil) != tc.ok {
			t.Errorf("CheckPasswordPolicy(%q) = %v, want ok=%v", tc.pw, err, tc.ok)
		}
	}
}

func TestHashToken(t *testing.T) {
	if HashToken("a") == HashToken("b") || HashToken("a") != HashToken("a") || len(HashToken("a")) != 64 {
		t.Fatal("HashToken is not a stable SHA-256 hex digest")
	}
}

func TestLimiter(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := NewLimiter(c, 3, time.Minute)
	for i := 0; i < 3; i++ {
		if w := l.Wait("ip"); w != 0 {
			t.Fatalf("attempt %d: wait %v before the limit", i, w)
		}
		l.Fail("ip")
		c.Advance(10 * time.Second)
	}
	if w := l.Wait("ip"); w != 30*time.Second {
		t.Fatalf("after 3 failures: wait %v, want 30s", w)
	}
	if w := l.Wait("other"); w != 0 {
		t.Fatalf("other key limited: %v", w)
	}
	c.Advance(30 * time.Second)
	if w := l.Wait("ip"); w != 0 {
		t.Fatalf("after the window: wait %v, want 0", w)
	}
	l.Fail("ip")
	l.Fail("ip")
	l.Reset("ip")
	if w := l.Wait("ip"); w != 0 {
		t.Fatalf("after reset: wait %v", w)
	}
}
