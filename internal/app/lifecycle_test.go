package app

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// part records its calls in a shared log.
type part struct {
	name string
	log  *[]string
	err  error
}

func (p part) Start(context.Context) error { *p.log = append(*p.log, "start "+p.name); return p.err }
func (p part) Close() error                { *p.log = append(*p.log, "close "+p.name); return p.err }

func TestLifecycleStartsInOrderAndClosesInReverseOnce(t *testing.T) {
	var got []string
	var l lifecycle
	for _, n := range []string{"db", "worker", "companion"} {
		p := part{name: n, log: &got}
		l.onStart(p)
		l.onClose(p)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	_ = l.Close()
	want := "[start db start worker start companion close companion close worker close db]"
	if fmt.Sprint(got) != want {
		t.Fatalf("calls %v, want %s", got, want)
	}
}

func TestLifecycleStopsAtAFailedStartAndClosesEverything(t *testing.T) {
	var got []string
	boom := errors.New("boom")
	var l lifecycle
	l.onStart(part{name: "a", log: &got, err: boom})
	l.onStart(part{name: "b", log: &got})
	l.onClose(part{name: "a", log: &got, err: boom})
	l.onClose(part{name: "b", log: &got})
	if err := l.Start(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Start: %v, want %v", err, boom)
	}
	if err := l.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close: %v, want %v", err, boom)
	}
	if fmt.Sprint(got) != "[start a close b close a]" {
		t.Fatalf("calls %v", got)
	}
}
