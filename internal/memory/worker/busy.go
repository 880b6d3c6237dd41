package worker

import (
	"context"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/memory/extract"
)

// BusyFunc reports whether a user's turn is running now
// (companion.Companion.Busy has this shape). The worker asks it before
// every model call it makes, so it must be cheap and never block.
type BusyFunc func() bool

// Defaults for yielding to users' turns (Options.BusyPoll, BusyMaxWait).
const (
	DefaultBusyPoll    = 2 * time.Second
	DefaultBusyMaxWait = 2 * time.Minute
)

// SetBusy replaces the hook that says a user's turn is running (nil:
// never wait). Like SetOnChange it is safe while the worker runs, so the
// program can wire the companion, built after this Service, afterwards.
func (s *Service) SetBusy(f BusyFunc) {
	if f == nil {
		s.busy.Store(nil)
		return
	}
	s.busy.Store(&f)
}

// yieldingModels hands out the model only when no user's turn is running.
// Extraction and the journal ask for the provider right before each call
// (extract.Models), so waiting here holds back exactly the model calls,
// not indexing or bookkeeping. A small model server (llama-server with one
// or two slots) then answers the user first instead of queueing the reply
// behind a background extraction.
type yieldingModels struct {
	s    *Service
	next extract.Models
}

func (m yieldingModels) Provider(ctx context.Context) (llm.Provider, error) {
	if err := m.s.waitWhileBusy(ctx); err != nil {
		return nil, err
	}
	return m.next.Provider(ctx)
}

// waitWhileBusy polls the busy hook every BusyPoll on the worker's clock
// and returns once no turn runs, or after BusyMaxWait so that a user who
// never stops talking still gets memories (then the call goes ahead and
// shares the server). It returns ctx.Err() when the worker is closed
// meanwhile. The worker is one goroutine, so its model calls run one at a
// time; this only decides when the next one starts.
func (s *Service) waitWhileBusy(ctx context.Context) error {
	f := s.busy.Load()
	if f == nil || !(*f)() {
		return ctx.Err()
	}
	start := s.d.Clock.Now()
	s.d.Meter.MemoryEvent("yield", 1)
	for (*f)() {
		waited := s.d.Clock.Now().Sub(start)
		if waited >= s.opts.BusyMaxWait {
			s.d.Log.Info("memory: a turn is still running; calling the model anyway", "waited", waited)
			return ctx.Err()
		}
		if err := clock.Sleep(ctx, s.d.Clock, min(s.opts.BusyPoll, s.opts.BusyMaxWait-waited)); err != nil {
			return err
		}
	}
	return ctx.Err()
}
