package clock

import (
	"strings"
	"testing"
	"time"
)

func TestFake(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(t0)
	f.Advance(time.Hour)
	if !f.Now().Equal(t0.Add(time.Hour)) {
		t.Fatalf("Advance: %v", f.Now())
	}
	f.Set(t0)
	if !f.Now().Equal(t0) {
		t.Fatalf("Set: %v", f.Now())
	}
}

func TestIDsAndTokens(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := NewID("msg_")
		if !strings.HasPrefix(id, "msg_") || len(id) != 4+16 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
	if a, b := Token(20), Token(20); a == b || len(a) != 32 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if strings.ContainsAny(Token(64), "+/=_-") {
		t.Fatal("token is not URL-safe base32")
	}
}
