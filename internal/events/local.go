package events

import (
	"context"
	"iter"
	"sync"
)

// Local is the in-process Bus: one process, one set of subscribers.
type Local[T any] struct {
	classify Classify[T]
	limits   Limits

	mu      sync.Mutex
	subs    map[string]map[*Queue[T]]struct{} // user ID -> subscribers
	canJoin func(a, b T) bool
	join    func(run []T) T
}

var _ Bus[int] = (*Local[int])(nil)

// NewLocal returns an in-process bus; classify decides each event's delivery.
func NewLocal[T any](classify Classify[T], l Limits) *Local[T] {
	return &Local[T]{classify: classify, limits: l.withDefaults(), subs: map[string]map[*Queue[T]]struct{}{}}
}

// Publish hands ev to userID's subscribers. Subscribers are served one
// after another; only a subscriber over its Final limit can delay it, once,
// by at most FinalWait (then it is cut off).
func (b *Local[T]) Publish(ctx context.Context, userID string, ev T) {
	b.mu.Lock()
	qs := make([]*Queue[T], 0, len(b.subs[userID]))
	for q := range b.subs[userID] {
		qs = append(qs, q)
	}
	b.mu.Unlock()
	for _, q := range qs {
		if !q.Push(ctx, ev) {
			b.remove(userID, q)
		}
	}
}

// Coalesce gives every later subscription Queue.Coalesce.
func (b *Local[T]) Coalesce(canJoin func(a, b T) bool, join func(run []T) T) {
	b.mu.Lock()
	b.canJoin, b.join = canJoin, join
	b.mu.Unlock()
}

// Subscribe follows userID's events from now on.
func (b *Local[T]) Subscribe(ctx context.Context, userID string) iter.Seq[T] {
	q := NewQueue(b.classify, b.limits)
	b.mu.Lock()
	q.canJoin, q.join = b.canJoin, b.join
	if b.subs[userID] == nil {
		b.subs[userID] = map[*Queue[T]]struct{}{}
	}
	b.subs[userID][q] = struct{}{}
	b.mu.Unlock()
	// A subscription that is never ranged still ends with its context.
	context.AfterFunc(ctx, func() {
		b.remove(userID, q)
		q.Close()
	})
	return func(yield func(T) bool) {
		defer b.remove(userID, q)
		for ev := range q.Events(ctx) {
			if !yield(ev) {
				return
			}
		}
	}
}

// Subscribers counts userID's current subscribers (for tests and metrics).
func (b *Local[T]) Subscribers(userID string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[userID])
}

func (b *Local[T]) remove(userID string, q *Queue[T]) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs[userID], q)
	if len(b.subs[userID]) == 0 {
		delete(b.subs, userID)
	}
}
