package companion_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

func TestKeepHeard(t *testing.T) {
	h := newHarness(t, true)
	ctx := context.Background()
	gate := llmtest.NewGate()
	defer gate.Release()
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"One. ", "Two words here. ", "Three."}, Hold: gate, HoldAfter: 2})
	conv := h.newConversation()
	events := must(h.c.Send(ctx, h.user.ID, conv, "count"))
	done := make(chan []companion.Event)
	go func() { done <- collect(t, events) }()
	<-gate.Reached()
	// The reply is stored while the model streams; wait for it.
	testrig.Eventually(t, 10*time.Second, "the streaming reply stored", func() (bool, string) {
		n := len(h.messages(conv))
		return n >= 2, fmt.Sprint(n, " messages")
	})
	reply := h.messages(conv)[1]
	if err := h.c.KeepHeard(ctx, h.user.ID, reply.ID, "One."); !errors.Is(err, companion.ErrBusy) {
		t.Fatalf("KeepHeard while streaming: %v, want ErrBusy", err)
	}
	gate.Release()
	<-done

	if err := h.c.KeepHeard(ctx, h.user.ID, reply.ID, "One. Two invented"); !errors.Is(err, companion.ErrNotHeard) {
		t.Fatalf("KeepHeard with words the model did not write: %v, want ErrNotHeard", err)
	}
	if err := h.c.KeepHeard(ctx, "usr_other", reply.ID, "One."); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user's reply: %v, want ErrNotFound", err)
	}
	user := h.messages(conv)[0]
	if err := h.c.KeepHeard(ctx, h.user.ID, user.ID, ""); !errors.Is(err, companion.ErrNotHeard) {
		t.Fatalf("a user message: %v, want ErrNotHeard", err)
	}
	if err := h.c.KeepHeard(ctx, h.user.ID, reply.ID, "One. Two words"); err != nil {
		t.Fatal(err)
	}
	got := h.messages(conv)[1]
	if got.Content != "One. Two words" || got.Status != store.StatusInterrupted {
		t.Fatalf("after KeepHeard: %q %s", got.Content, got.Status)
	}
}

// revisions records what a Reviser hears.
type revisions struct {
	mu  sync.Mutex
	got []string
}

func (r *revisions) TurnStored(string, string) {}
func (r *revisions) MessageRevised(userID, conv, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, userID+"/"+conv+"/"+msg)
}

func TestKeepHeardTellsTheListener(t *testing.T) {
	rev := &revisions{}
	h := newListeningHarness(t, true, rev)
	ctx := context.Background()
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"One. ", "Two."}})
	conv := h.newConversation()
	collect(t, must(h.c.Send(ctx, h.user.ID, conv, "count")))
	reply := h.messages(conv)[1]
	if err := h.c.KeepHeard(ctx, h.user.ID, reply.ID, reply.Content); err != nil {
		t.Fatal(err)
	}
	if err := h.c.KeepHeard(ctx, h.user.ID, reply.ID, "One."); err != nil {
		t.Fatal(err)
	}
	rev.mu.Lock()
	defer rev.mu.Unlock()
	// Keeping the whole reply changes no text: only the cut is a revision.
	if want := h.user.ID + "/" + conv + "/" + reply.ID; len(rev.got) != 1 || rev.got[0] != want {
		t.Fatalf("revisions %v, want [%s]", rev.got, want)
	}
}
