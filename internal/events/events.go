// Package events carries what happens for a user (turns, tool approvals,
// memory changes, and later reminders and proactive messages) to every
// reader that follows that user: a browser tab, a second device, a voice
// call, later a chat channel.
//
// Delivery, for every implementation of Bus:
//
//   - Lossy events (text deltas) never block the publisher. A reader that
//     falls behind by more than Limits.Lossy pending events loses them and
//     receives one lagged marker in their place (made by the Lagged
//     function); it should re-read what is stored (the conversation) and
//     carry on. Lossy events resume once the reader has taken the marker.
//   - Final events (a message stored, a turn finished, a memory saved) are
//     queued for a reader up to Limits.Final pending events. Beyond that the
//     publisher waits at most Limits.FinalWait, and never past its own
//     context; a reader still behind then is cut off: it gets a lagged marker
//     and its subscription ends. So a publisher is delayed by a stalled
//     reader at most once per subscription, by at most FinalWait.
//   - Events of one publisher reach a reader in the order published.
//   - A subscription ends when its context ends or the reader stops ranging;
//     events published before Subscribe returns are not seen.
//
// The package must never hold a publisher (a running turn) hostage to a
// reader, and never deliver one user's events to another user's subscriber.
package events

import (
	"context"
	"iter"
	"sync"
	"time"
)

// Bus publishes a user's events to that user's subscribers. Local is the
// in-process implementation; all implementations share the delivery rules of
// the package doc.
type Bus[T any] interface {
	// Publish hands ev to every current subscriber of userID.
	Publish(ctx context.Context, userID string, ev T)
	// Subscribe follows userID's events until ctx ends or the caller stops
	// ranging. Subscribe registers before it returns.
	Subscribe(ctx context.Context, userID string) iter.Seq[T]
}

// Limits bound what a slow reader costs.
type Limits struct {
	Lossy     int           // pending events beyond which lossy events are dropped (default 256)
	Final     int           // pending events beyond which a final event waits (default 1024)
	FinalWait time.Duration // how long a final event waits for room (default 2s)
}

func (l Limits) withDefaults() Limits {
	if l.Lossy <= 0 {
		l.Lossy = 256
	}
	if l.Final <= l.Lossy {
		l.Final = max(1024, 4*l.Lossy)
	}
	if l.FinalWait <= 0 {
		l.FinalWait = 2 * time.Second
	}
	return l
}

// Classify tells the bus how to deliver an event: whether it is lossy, and
// the lagged marker a reader gets in place of it (and of what follows) when
// it must be dropped.
type Classify[T any] func(ev T) (lossy bool, lagged T)

// Queue is one reader's pending events with the delivery rules of the
// package doc. The companion gives each turn's starter one; Local gives one
// to every subscriber.
type Queue[T any] struct {
	classify Classify[T]
	limits   Limits

	mu      sync.Mutex
	items   []item[T]
	lagging bool // a lagged marker is queued; lossy events are dropped until it is taken
	closed  bool // no more events are accepted (reader left, cut off, or Close)
	ready   chan struct{}
	room    chan struct{}
	left    chan struct{} // closed when the reader stops
	once    sync.Once
	canJoin func(a, b T) bool // Coalesce; nil: every event alone
	join    func(run []T) T
}

type item[T any] struct {
	ev     T
	marker bool
}

// NewQueue returns an empty queue.
func NewQueue[T any](classify Classify[T], l Limits) *Queue[T] {
	return &Queue[T]{classify: classify, limits: l.withDefaults(),
		ready: make(chan struct{}, 1), room: make(chan struct{}, 1), left: make(chan struct{})}
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Push queues ev under the delivery rules. It reports false once the queue
// takes no more events (the reader left, was cut off, or Close was called).
func (q *Queue[T]) Push(ctx context.Context, ev T) bool {
	lossy, marker := q.classify(ev)
	var deadline <-chan time.Time
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return false
		}
		n := len(q.items)
		switch {
		case lossy && q.lagging:
			q.mu.Unlock()
			return true // dropped; the queued marker stands for it
		case lossy && n >= q.limits.Lossy:
			q.items = append(q.items, item[T]{marker, true})
			q.lagging = true
			q.mu.Unlock()
			signal(q.ready)
			return true
		case n < q.limits.Final:
			q.items = append(q.items, item[T]{ev: ev})
			q.mu.Unlock()
			signal(q.ready)
			return true
		}
		q.mu.Unlock()
		if deadline == nil {
			t := time.NewTimer(q.limits.FinalWait)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-q.room:
			continue
		case <-q.left:
			return false
		case <-ctx.Done():
		case <-deadline:
		}
		// Too slow for a final event: cut the reader off with a marker, so it
		// knows to re-read, instead of holding the publisher any longer.
		q.mu.Lock()
		if !q.closed {
			q.items = append(q.items, item[T]{marker, true})
			q.closed = true
		}
		q.mu.Unlock()
		signal(q.ready)
		return false
	}
}

// Coalesce makes the reader take a run of pending events as one event,
// join(run), where canJoin holds for each two neighbours (the companion
// joins text deltas of one message): a reader that fell behind then writes
// one frame for what piled up instead of one per event, and one that keeps
// up sees every event as published. Markers are never joined. Call it
// before the queue is read.
func (q *Queue[T]) Coalesce(canJoin func(a, b T) bool, join func(run []T) T) {
	q.mu.Lock()
	q.canJoin, q.join = canJoin, join
	q.mu.Unlock()
}

// Close ends the queue: the reader gets what is pending, then the stream ends.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	signal(q.ready)
}

// Left is closed once the reader has stopped.
func (q *Queue[T]) Left() <-chan struct{} { return q.left }

// Events yields the queued events until the queue is closed and drained, ctx
// ends, or the caller stops ranging. Only one reader may range at a time.
func (q *Queue[T]) Events(ctx context.Context) iter.Seq[T] {
	return func(yield func(T) bool) {
		defer q.once.Do(func() {
			q.mu.Lock()
			q.closed = true
			q.items = nil
			q.mu.Unlock()
			close(q.left)
		})
		for {
			q.mu.Lock()
			if len(q.items) == 0 {
				closed := q.closed
				q.mu.Unlock()
				if closed {
					return
				}
				select {
				case <-q.ready:
					continue
				case <-ctx.Done():
					return
				}
			}
			it := q.items[0]
			q.items[0] = item[T]{}
			q.items = q.items[1:]
			if it.marker {
				// Lossy events resume after the marker: the reader re-reads
				// what is stored and then follows new deltas.
				q.lagging = false
			}
			ev := it.ev
			if q.canJoin != nil && !it.marker && len(q.items) > 0 && !q.items[0].marker && q.canJoin(ev, q.items[0].ev) {
				run := []T{ev}
				for len(q.items) > 0 && !q.items[0].marker && q.canJoin(run[len(run)-1], q.items[0].ev) {
					run = append(run, q.items[0].ev)
					q.items[0] = item[T]{}
					q.items = q.items[1:]
				}
				ev = q.join(run)
			}
			q.mu.Unlock()
			signal(q.room)
			if !yield(ev) {
				return
			}
		}
	}
}
