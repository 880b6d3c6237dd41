package llmtest

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm"
)

// Sleeps records the waits a provider asks for instead of sleeping. Its
// Sleep method fits llm.Transport.Sleep.
type Sleeps struct {
	mu sync.Mutex
	ds []time.Duration
}

// Sleep records d and returns at once, or with ctx's error if ctx has ended.
func (s *Sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.ds = append(s.ds, d)
	s.mu.Unlock()
	return ctx.Err()
}

// Got returns the recorded waits.
func (s *Sleeps) Got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.ds...)
}

// Collect drains a stream, returning the events before the error, if any.
func Collect(ctx context.Context, p llm.Provider, req llm.Request) ([]llm.Event, error) {
	var evs []llm.Event
	for ev, err := range p.Stream(ctx, req) {
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// TextOf joins a stream's text deltas.
func TextOf(evs []llm.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Kind == llm.EventText {
			b.WriteString(ev.Text)
		}
	}
	return b.String()
}

// ReasoningOf joins a stream's reasoning deltas.
func ReasoningOf(evs []llm.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		if ev.Kind == llm.EventReasoning {
			b.WriteString(ev.Text)
		}
	}
	return b.String()
}

// CheckStream checks the shape of a successful stream: exactly one
// EventDone, last, and at most one EventUsage. It returns the EventDone.
func CheckStream(t testing.TB, evs []llm.Event) llm.Event {
	t.Helper()
	if len(evs) == 0 || evs[len(evs)-1].Kind != llm.EventDone {
		t.Fatalf("stream does not end with EventDone: %+v", evs)
	}
	dones, usages := 0, 0
	for _, ev := range evs {
		switch ev.Kind {
		case llm.EventDone:
			dones++
		case llm.EventUsage:
			usages++
		}
	}
	if dones != 1 || usages > 1 {
		t.Errorf("stream has %d EventDone and %d EventUsage, want 1 and at most 1", dones, usages)
	}
	return evs[len(evs)-1]
}

// JSONEqual reports whether raw and want hold the same JSON value.
func JSONEqual(raw json.RawMessage, want string) bool {
	var a, b any
	if json.Unmarshal(raw, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}
