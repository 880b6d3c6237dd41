package auth

import (
	"context"
	"errors"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// ErrBusy means every password-hashing slot stayed taken for the whole wait:
// answer 503 with Retry-After rather than queue more memory-hungry work.
var ErrBusy = errors.New("the server is busy checking other passwords; try again in a moment")

// Hasher runs argon2id hashing and verification with a cap on how many run
// at once. Each costs ~19 MiB for a moment; without the cap, a burst of
// sign-ins multiplies that by the burst.
type Hasher struct {
	slots chan struct{}
	wait  time.Duration
	clock clock.Clock
	cost  Cost
}

// At makes new hashes at cost c (zero: DefaultCost) and returns h.
func (h *Hasher) At(c Cost) *Hasher {
	h.cost = c
	return h
}

// Cost is what a new hash of h costs.
func (h *Hasher) Cost() Cost {
	if h.cost == (Cost{}) {
		return DefaultCost
	}
	return h.cost
}

// NewHasher allows n concurrent hashes; a caller waits at most wait for a
// slot, timed by c (nil: the system clock).
func NewHasher(c clock.Clock, n int, wait time.Duration) *Hasher {
	if c == nil {
		c = clock.System{}
	}
	return &Hasher{slots: make(chan struct{}, max(n, 1)), wait: wait, clock: c}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	t := h.clock.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-t.C():
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash is HashPassword within the cap.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	return HashPasswordAt(h.cost, pw)
}

// Verify is VerifyPassword within the cap.
func (h *Hasher) Verify(ctx context.Context, hash, pw string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	return VerifyPassword(hash, pw)
}

// InUse reports how many hashes are running (for tests and metrics).
func (h *Hasher) InUse() int { return len(h.slots) }
