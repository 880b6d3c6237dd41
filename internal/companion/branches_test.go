package companion_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
)

// said renders what the model was sent as "role:text" lines.
func said(ms []llm.Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Role)+":"+m.Content)
	}
	return strings.Join(out, " | ")
}

func path(msgs []store.Message) string {
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.Role)+":"+m.Content)
	}
	return strings.Join(out, " | ")
}

// twoExchanges sends "Cats?" and "Dogs?" and returns the conversation and
// its messages (cats, cats reply, dogs, dogs reply).
func (h *harness) twoExchanges() (string, []store.Message) {
	h.t.Helper()
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Cats purr."}}, llmtest.Reply{Chunks: []string{"Dogs bark."}})
	conv := convOf(collect(h.t, must(h.c.Send(context.Background(), h.user.ID, "", "Cats?"))))
	collect(h.t, must(h.c.Send(context.Background(), h.user.ID, conv, "Dogs?")))
	msgs := h.messages(conv)
	if got := path(msgs); got != "user:Cats? | assistant:Cats purr. | user:Dogs? | assistant:Dogs bark." {
		h.t.Fatalf("set-up path = %s", got)
	}
	return conv, msgs
}

func (h *harness) lastRequest() llmtest.Request {
	h.t.Helper()
	reqs := h.llm.Requests()
	if len(reqs) == 0 {
		h.t.Fatal("the model was never called")
	}
	return reqs[len(reqs)-1]
}

func (h *harness) tree(conv string) []store.MessageNode {
	h.t.Helper()
	nodes, err := h.db.MessageTree(context.Background(), h.user.ID, conv)
	if err != nil {
		h.t.Fatal(err)
	}
	return nodes
}

func TestEditAnswersTheNewPathAndKeepsTheOldBranch(t *testing.T) {
	h := newHarness(t, true)
	ctx := context.Background()
	conv, old := h.twoExchanges()
	dogs := old[2]

	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Birds sing."}})
	evs := collect(t, must(h.c.Edit(ctx, h.user.ID, conv, dogs.ID, "Birds?")))
	if !strings.Contains(types(evs), "user_message") || !strings.Contains(types(evs), "assistant_done") {
		t.Fatalf("events = %s", types(evs))
	}
	if got, want := said(h.lastRequest().Messages), "user:Cats? | assistant:Cats purr. | user:Birds?"; got != want {
		t.Fatalf("the model was sent %q, want %q (never the old message or its reply)", got, want)
	}
	msgs := h.messages(conv)
	if got := path(msgs); got != "user:Cats? | assistant:Cats purr. | user:Birds? | assistant:Birds sing." {
		t.Fatalf("current path = %s", got)
	}
	if msgs[2].ParentID != old[1].ID {
		t.Fatalf("edited message's parent = %q, want the reply before the old one %q", msgs[2].ParentID, old[1].ID)
	}
	if n := len(h.tree(conv)); n != 6 {
		t.Fatalf("tree has %d messages, want 6 (the old branch kept)", n)
	}

	b, err := h.c.Branches(ctx, h.user.ID, conv)
	if err != nil {
		t.Fatal(err)
	}
	if got := b[msgs[2].ID]; got != (companion.Branch{Index: 2, Count: 2, PrevID: dogs.ID}) {
		t.Fatalf("new message's branch = %+v", got)
	}
	if got := b[dogs.ID]; got != (companion.Branch{Index: 1, Count: 2, NextID: msgs[2].ID}) {
		t.Fatalf("old message's branch = %+v", got)
	}
	if _, ok := b[old[0].ID]; ok {
		t.Fatal("a message without siblings has a branch")
	}

	// Back to the old branch: the old question and its reply are the path again.
	if err := h.c.Show(ctx, h.user.ID, conv, dogs.ID); err != nil {
		t.Fatal(err)
	}
	if got := path(h.messages(conv)); got != "user:Cats? | assistant:Cats purr. | user:Dogs? | assistant:Dogs bark." {
		t.Fatalf("after Show(old) path = %s", got)
	}
	// Replying there continues the old branch.
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Woof."}})
	collect(t, must(h.c.Send(ctx, h.user.ID, conv, "Louder?")))
	if got := said(h.lastRequest().Messages); !strings.HasSuffix(got, "user:Dogs? | assistant:Dogs bark. | user:Louder?") || strings.Contains(got, "Birds") {
		t.Fatalf("after switching back the model was sent %q", got)
	}
}

func TestEditTheFirstMessageBranchesAtTheRoot(t *testing.T) {
	h := newHarness(t, true)
	ctx := context.Background()
	conv, old := h.twoExchanges()
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Fish swim."}})
	collect(t, must(h.c.Edit(ctx, h.user.ID, conv, old[0].ID, "Fish?")))
	if got, want := said(h.lastRequest().Messages), "user:Fish?"; got != want {
		t.Fatalf("the model was sent %q, want %q", got, want)
	}
	msgs := h.messages(conv)
	if got := path(msgs); got != "user:Fish? | assistant:Fish swim." {
		t.Fatalf("path = %s", got)
	}
	b, _ := h.c.Branches(ctx, h.user.ID, conv)
	if got := b[msgs[0].ID]; got.Index != 2 || got.Count != 2 || got.PrevID != old[0].ID {
		t.Fatalf("root branch = %+v", got)
	}
}

func TestRegenerateAnswersTheSameQuestionWithoutTheOldReply(t *testing.T) {
	h := newHarness(t, true)
	ctx := context.Background()
	conv, old := h.twoExchanges()
	dogs, dogsReply := old[2], old[3]

	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Dogs wag."}})
	evs := collect(t, must(h.c.Regenerate(ctx, h.user.ID, conv, dogsReply.ID)))
	if strings.Contains(types(evs), "user_message") {
		t.Fatalf("regenerating stored a user message: %s", types(evs))
	}
	if got, want := said(h.lastRequest().Messages), "user:Cats? | assistant:Cats purr. | user:Dogs?"; got != want {
		t.Fatalf("the model was sent %q, want %q (never the old reply)", got, want)
	}
	msgs := h.messages(conv)
	if got := path(msgs); got != "user:Cats? | assistant:Cats purr. | user:Dogs? | assistant:Dogs wag." {
		t.Fatalf("path = %s", got)
	}
	if msgs[3].ParentID != dogs.ID {
		t.Fatalf("new reply's parent = %q, want the question %q", msgs[3].ParentID, dogs.ID)
	}
	if n := len(h.tree(conv)); n != 5 {
		t.Fatalf("tree has %d messages, want 5 (the old reply kept)", n)
	}
	b, _ := h.c.Branches(ctx, h.user.ID, conv)
	if got := b[msgs[3].ID]; got != (companion.Branch{Index: 2, Count: 2, PrevID: dogsReply.ID}) {
		t.Fatalf("new reply's branch = %+v", got)
	}

	// Regenerating an earlier reply (not the last one) forgets what came after it.
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Cats nap."}})
	collect(t, must(h.c.Regenerate(ctx, h.user.ID, conv, old[1].ID)))
	if got, want := said(h.lastRequest().Messages), "user:Cats?"; got != want {
		t.Fatalf("the model was sent %q, want %q", got, want)
	}
	if got := path(h.messages(conv)); got != "user:Cats? | assistant:Cats nap." {
		t.Fatalf("path = %s", got)
	}
}

func TestBranchOperationsRefuseWrongTargets(t *testing.T) {
	h := newHarness(t, true)
	ctx := context.Background()
	conv, old := h.twoExchanges()

	if _, err := h.c.Edit(ctx, h.user.ID, conv, old[1].ID, "x"); !errors.Is(err, companion.ErrNotUserMessage) {
		t.Fatalf("editing her reply: %v", err)
	}
	if _, err := h.c.Regenerate(ctx, h.user.ID, conv, old[0].ID); !errors.Is(err, companion.ErrNotAssistantMessage) {
		t.Fatalf("regenerating the user's message: %v", err)
	}
	if _, err := h.c.Edit(ctx, h.user.ID, conv, old[0].ID, "  "); !errors.Is(err, companion.ErrEmptyMessage) {
		t.Fatalf("empty edit: %v", err)
	}

	// Another user's conversation and message are not found, whoever asks.
	other := store.User{ID: "usr_maya", Username: "maya", DisplayName: "Maya", Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}
	if err := h.db.CreateUser(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Edit(ctx, other.ID, conv, old[0].ID, "mine now"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user's edit: %v", err)
	}
	if _, err := h.c.Regenerate(ctx, other.ID, conv, old[1].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user's regenerate: %v", err)
	}
	if err := h.c.Show(ctx, other.ID, conv, old[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user's show: %v", err)
	}
	if _, err := h.c.Branches(ctx, other.ID, conv); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user's branches: %v", err)
	}
	// A message of another conversation of the same user is not found here.
	second, err := h.c.CreateConversation(ctx, h.user.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Edit(ctx, h.user.ID, second.ID, old[0].ID, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("message of another conversation: %v", err)
	}
	if n := len(h.tree(conv)); n != 4 {
		t.Fatalf("refused operations stored something: %d messages", n)
	}
}

func TestBranchOperationsWaitForTheRunningTurn(t *testing.T) {
	h := newHarness(t, true)
	ctx := context.Background()
	conv, old := h.twoExchanges()
	gate := llmtest.NewGate()
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Slow", " answer."}, Hold: gate, HoldAfter: 1})
	events := must(h.c.Send(ctx, h.user.ID, conv, "Slowly?"))
	done := make(chan []companion.Event)
	go func() { done <- collect(t, events) }()
	<-gate.Reached()
	if _, err := h.c.Edit(ctx, h.user.ID, conv, old[2].ID, "x"); !errors.Is(err, companion.ErrBusy) {
		t.Errorf("edit during a turn: %v", err)
	}
	if _, err := h.c.Regenerate(ctx, h.user.ID, conv, old[3].ID); !errors.Is(err, companion.ErrBusy) {
		t.Errorf("regenerate during a turn: %v", err)
	}
	if err := h.c.Show(ctx, h.user.ID, conv, old[2].ID); !errors.Is(err, companion.ErrBusy) {
		t.Errorf("show during a turn: %v", err)
	}
	if _, err := h.c.Send(ctx, h.user.ID, conv, "Second?"); !errors.Is(err, companion.ErrBusy) {
		t.Errorf("a second message during a turn: %v", err)
	}
	gate.Release()
	<-done
	// The turn lock is free by the time turn_done is delivered: a queued
	// message sent on hearing it is taken.
	if got := path(h.messages(conv)); !strings.HasSuffix(got, "user:Slowly? | assistant:Slow answer.") {
		t.Fatalf("path = %s", got)
	}
}

func TestTurnLockIsFreeWhenTurnDoneArrives(t *testing.T) {
	h := newHarness(t, true)
	ctx := context.Background()
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"One."}}, llmtest.Reply{Chunks: []string{"Two."}})
	var conv string
	for ev := range must(h.c.Send(ctx, h.user.ID, "", "First")) {
		if ev.Conversation != nil {
			conv = ev.Conversation.ID
		}
		if ev.Type == companion.EvTurnDone {
			// What a client does with a queued message on hearing turn_done.
			evs, err := h.c.Send(ctx, h.user.ID, conv, "Queued")
			if err != nil {
				t.Fatalf("send on turn_done: %v", err)
			}
			collect(t, evs)
		}
	}
	if got := path(h.messages(conv)); got != "user:First | assistant:One. | user:Queued | assistant:Two." {
		t.Fatalf("path = %s", got)
	}
}
