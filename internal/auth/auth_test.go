package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
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

func TestThrottleDelaysGrowAndNeverLockForever(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	th := NewThrottle(c, 3, time.Second, 8*time.Second, time.Hour)
	for i := 0; i < 3; i++ {
		if w := th.Begin("ip"); w != 0 {
			t.Fatalf("attempt %d: wait %v within the free allowance", i, w)
		}
	}
	var waits []time.Duration
	for i := 0; i < 6; i++ {
		if w := th.Begin("ip"); w != 0 {
			t.Fatalf("attempt after the delay refused: %v", w)
		}
		w := th.Begin("ip")
		waits = append(waits, w)
		c.Advance(w)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("delays %v, want %v (doubling, capped)", waits, want)
		}
	}
	if w := th.Begin("other"); w != 0 {
		t.Fatalf("another key is slowed: %v", w)
	}
	c.Advance(2 * time.Hour)
	if w := th.Begin("ip"); w != 0 || th.Failures("ip") != 1 {
		t.Fatalf("after Forget: wait %v, failures %d; want a fresh record", w, th.Failures("ip"))
	}
}

// A burst of parallel attempts is counted before any password is checked,
// so at most the free allowance plus one gets through.
func TestThrottleCountsBeforeChecking(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	th := NewThrottle(c, 5, time.Second, time.Minute, time.Hour)
	var wg sync.WaitGroup
	var through atomic.Int32
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if th.Begin("ip") == 0 {
				through.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := through.Load(); n != 6 {
		t.Fatalf("%d of 40 parallel attempts got through; want 6 (5 free + 1)", n)
	}
}

func TestThrottleSucceedTakesBackTheAttempt(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	th := NewThrottle(c, 1, time.Second, time.Minute, time.Hour)
	th.Begin("ip")
	th.Succeed("ip", false)
	if w := th.Begin("ip"); w != 0 {
		t.Fatalf("a successful attempt counted as a failure: wait %v", w)
	}
	if w := th.Begin("ip"); w != 0 {
		t.Fatalf("second attempt: %v", w)
	}
	if w := th.Begin("ip"); w == 0 {
		t.Fatal("third attempt after two failures was not slowed")
	}
	th.Succeed("ip", true)
	if th.Failures("ip") != 0 {
		t.Fatal("reset did not forget the failures")
	}
}

func TestHasherCapsConcurrency(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	h := NewHasher(c, 1, 2*time.Second)
	h.slots <- struct{}{} // one hash in progress
	busy := func(f func() error) error {
		done := make(chan error, 1)
		go func() { done <- f() }()
		if err := c.BlockUntil(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		c.Advance(2 * time.Second)
		return <-done
	}
	if err := busy(func() error { _, err := h.Hash(t.Context(), "a long enough password"); return err }); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with every slot taken: %v, want ErrBusy", err)
	}
	if err := busy(func() error { return h.Verify(t.Context(), "x", "y") }); !errors.Is(err, ErrBusy) {
		t.Fatalf("Verify with every slot taken: %v, want ErrBusy", err)
	}
	h.release()
	hash, err := h.Hash(t.Context(), "a long enough password")
	if err != nil || h.Verify(t.Context(), hash, "a long enough password") != nil {
		t.Fatalf("with a free slot: %v", err)
	}
	if h.InUse() != 0 {
		t.Fatalf("%d slots still held after the calls returned", h.InUse())
	}
}

func TestDeviceCookie(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	v := SignDevice(key, "ann", now.Add(time.Hour))
	if !VerifyDevice(key, v, "ann", now) {
		t.Fatal("a fresh device cookie does not verify")
	}
	for name, c := range map[string]struct {
		key  []byte
		v, u string
		at   time.Time
	}{
		"other user": {key, v, "bob", now},
		"expired":    {key, v, "ann", now.Add(2 * time.Hour)},
		"other key":  {[]byte("another key entirely, 32 bytes.."), v, "ann", now},
		"tampered":   {key, strings.Replace(v, ".", "x.", 1), "ann", now},
		"garbage":    {key, "no dots", "ann", now},
		"no key":     {nil, v, "ann", now},
	} {
		if VerifyDevice(c.key, c.v, c.u, c.at) {
			t.Errorf("%s: verified", name)
		}
	}
}

// A success lets the next attempt through at once, and only failures keep
// a record alive.
func TestThrottleSuccessImposesNoWait(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	th := NewThrottle(c, 2, time.Second, time.Minute, time.Hour)
	for range 3 {
		th.Begin("ip") // three failures: a 1 s delay is due
	}
	c.Advance(time.Second)
	if w := th.Begin("ip"); w != 0 {
		t.Fatalf("after the delay: %v", w)
	}
	th.Succeed("ip", false)
	if w := th.Begin("ip"); w != 0 {
		t.Fatalf("right after a success: wait %v, want none", w)
	}
	th.Succeed("ip", false)
	// Successes every 40 minutes do not keep the failures alive.
	for range 2 {
		c.Advance(40 * time.Minute)
		th.Begin("ip")
		th.Succeed("ip", false)
	}
	if n := th.Failures("ip"); n != 0 {
		t.Fatalf("%d failures remembered an hour after the last one", n)
	}
}

// New hashes cost DefaultCost unless a Hasher is told otherwise, and every
// cost's hash verifies, because the cost travels in the hash.
func TestHashCost(t *testing.T) {
	def, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(def, "$m=19456,t=2,p=1$") {
		t.Errorf("default hash %q is not at OWASP's minimum cost", def)
	}
	h := NewHasher(nil, 1, time.Second)
	if h.Cost() != DefaultCost {
		t.Errorf("a new Hasher costs %+v, want DefaultCost", h.Cost())
	}
	cheap, err := h.At(TestCost).Hash(context.Background(), "correct horse battery")
	if err != nil || !strings.Contains(cheap, "$m=64,t=1,p=1$") {
		t.Fatalf("hash at TestCost: %q, %v", cheap, err)
	}
	for _, hash := range []string{def, cheap} {
		if err := VerifyPassword(hash, "correct horse battery"); err != nil {
			t.Errorf("verify %q: %v", hash, err)
		}
		if err := VerifyPassword(hash, "wrong horse battery"); err != ErrMismatch {
			t.Errorf("verify a wrong password against %q: %v", hash, err)
		}
	}
}
