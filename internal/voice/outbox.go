package voice

import (
	"context"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
)

// Sink carries a call's frames to the client. A session calls it from one
// goroutine at a time, in order; an error means the client is gone, and
// nothing more is sent.
type Sink interface {
	// JSON sends a voice frame as a JSON text frame.
	JSON(ctx context.Context, v any) error
	// Event sends a turn event in the API's wire format (docs/api.md).
	Event(ctx context.Context, ev companion.Event) error
	// Binary sends speech: 16-bit little-endian mono PCM.
	Binary(ctx context.Context, pcm []byte) error
}

// outItem is one frame, or an audio frame and its PCM.
type outItem struct {
	json  any
	lazy  func() any // a frame made when its turn to be sent comes
	event *companion.Event
	pcm   []byte
	reply int             // audio: the reply it belongs to
	sent  func(time.Time) // audio: called once it is written, with when it started
}

// outbox sends frames in order from its own goroutine, so the call never
// waits on the network. Delivery: every frame is sent in order until the
// sink fails; queued speech of a reply that was cut is dropped.
type outbox struct {
	sink  Sink
	clock clock.Clock

	mu     sync.Mutex
	q      []outItem
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

func newOutbox(sink Sink, clk clock.Clock) *outbox {
	o := &outbox{sink: sink, clock: clk, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go o.run()
	return o
}

func (o *outbox) push(it outItem) {
	o.mu.Lock()
	if !o.closed {
		o.q = append(o.q, it)
	}
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *outbox) json(v any)               { o.push(outItem{json: v}) }
func (o *outbox) event(ev companion.Event) { o.push(outItem{event: &ev}) }
func (o *outbox) lazyJSON(f func() any)    { o.push(outItem{lazy: f}) }

func (o *outbox) audio(reply int, f audioFrame, pcm []byte, sent func(time.Time)) {
	o.push(outItem{json: f, pcm: pcm, reply: reply, sent: sent})
}

func (o *outbox) errorFrame(code, msg string) {
	o.json(errorFrame{Type: "error", Error: ErrorBody{Code: code, Message: companion.Sentence(msg)}})
}

// dropAudio forgets the queued speech of a reply.
func (o *outbox) dropAudio(reply int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	keep := o.q[:0]
	for _, it := range o.q {
		if it.pcm == nil || it.reply != reply {
			keep = append(keep, it)
		}
	}
	clear(o.q[len(keep):])
	o.q = keep
}

// close sends what is queued and stops.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	<-o.done
}

func (o *outbox) run() {
	defer close(o.done)
	ctx := context.Background()
	failed := false
	for {
		o.mu.Lock()
		for len(o.q) == 0 {
			if o.closed {
				o.mu.Unlock()
				return
			}
			o.mu.Unlock()
			<-o.wake
			o.mu.Lock()
		}
		it := o.q[0]
		o.q[0] = outItem{}
		o.q = o.q[1:]
		o.mu.Unlock()
		if failed {
			continue
		}
		var err error
		switch {
		case it.event != nil:
			err = o.sink.Event(ctx, *it.event)
		case it.pcm != nil:
			if err = o.sink.JSON(ctx, it.json); err == nil {
				at := o.clock.Now() // the first byte of speech goes out
				if err = o.sink.Binary(ctx, it.pcm); err == nil && it.sent != nil {
					it.sent(at)
				}
			}
		case it.lazy != nil:
			err = o.sink.JSON(ctx, it.lazy())
		default:
			err = o.sink.JSON(ctx, it.json)
		}
		failed = err != nil
	}
}
