package companion_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// titleRig is a companion with model titles on, over the rig's fake clock
// and models.Manager (which can list the scripted server's models).
type titleRig struct {
	*testrig.Rig
	c      *companion.Companion
	owner  store.User
	member store.User
	logs   *syncBuffer
	events chan companion.Event // every conversation_updated the owner's subscribers got
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTitleRig(t *testing.T) *titleRig {
	t.Helper()
	r := testrig.New(t)
	r.LLM.SetModels(testrig.ModelName, "big-model")
	logs := &syncBuffer{}
	c := r.Companion(companion.Deps{Models: r.Models(true), Log: slog.New(slog.NewTextHandler(logs, nil))},
		companion.Options{ModelTitles: true})
	tr := &titleRig{Rig: r, c: c, owner: r.User("theo", store.RoleOwner), member: r.User("mia", store.RoleMember),
		logs: logs, events: make(chan companion.Event, 16)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ready := make(chan struct{})
	go func() {
		first := true
		for ev := range c.Subscribe(ctx, tr.owner.ID) {
			if first {
				close(ready)
				first = false
			}
			if ev.Type == companion.EvConversationUpdated {
				tr.events <- ev
			}
		}
	}()
	// Subscribing is done once the bus delivers an event to us.
	go func() {
		for {
			select {
			case <-ready:
				return
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
				c.Publish(ctx, tr.owner.ID, companion.Event{Type: "ping"})
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the subscription never started")
	}
	return tr
}

func isTitleRequest(r llmtest.Request) bool {
	return strings.HasPrefix(r.System, companion.TitleInstruction)
}

func (tr *titleRig) titleRequests() []llmtest.Request {
	var out []llmtest.Request
	for _, r := range tr.LLM.Requests() {
		if isTitleRequest(r) {
			out = append(out, r)
		}
	}
	return out
}

// send runs one turn of the owner's to its end and returns its conversation.
func (tr *titleRig) send(t *testing.T, convID, text string, reply ...string) string {
	t.Helper()
	tr.LLM.Enqueue(llmtest.Reply{Chunks: reply})
	evs := collect(t, must(tr.c.Send(context.Background(), tr.owner.ID, convID, text)))
	return convOf(evs)
}

func (tr *titleRig) conv(t *testing.T, id string) store.Conversation {
	t.Helper()
	c, err := tr.DB.Conversation(context.Background(), tr.owner.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// settle waits until the title work in flight is done (Close waits for it).
func (tr *titleRig) settle() { tr.c.Close() }

// titledNext starts a new conversation and waits until the model titles
// it: title work for earlier turns started before it, so a test that then
// counts title requests has seen theirs.
func (tr *titleRig) titledNext(t *testing.T) string {
	t.Helper()
	id := tr.send(t, "", "Marker conversation.", "Yes.")
	for {
		select {
		case ev := <-tr.events:
			if ev.ConversationID == id {
				return id
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the marker conversation was never titled; log: %s", tr.logs.String())
		}
	}
}

func (tr *titleRig) failureLogged(t *testing.T) {
	t.Helper()
	testrig.Eventually(t, 10*time.Second, "the title failure is logged", func() (bool, string) {
		return strings.Contains(tr.logs.String(), "conversation title from the model failed"), tr.logs.String()
	})
}

func TestModelTitleAfterFirstReply(t *testing.T) {
	tr := newTitleRig(t)
	tr.LLM.Route(isTitleRequest, func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Reasoning: []string{"They talk about", " their garden."},
			Chunks: []string{"Title: “Tomatoes in", " the garden.”\nAnything else"}}
	})
	id := tr.send(t, "", "I planted tomatoes today.\nThey are small.", "How lovely! ", "What kind?")
	if got := tr.conv(t, id); got.Title != "I planted tomatoes today." && got.TitleSource != store.TitleFromModel {
		t.Errorf("title right after the turn = %q (%q), want the first line of the message until the model's arrives", got.Title, got.TitleSource)
	}

	var ev companion.Event
	select {
	case ev = <-tr.events:
	case <-time.After(10 * time.Second):
		t.Fatalf("no conversation_updated event; requests %d; log: %s", len(tr.LLM.Requests()), tr.logs.String())
	}
	const want = "Tomatoes in the garden"
	if ev.ConversationID != id || ev.Conversation == nil || ev.Conversation.Title != want || ev.Conversation.TitleSource != store.TitleFromModel {
		t.Errorf("conversation_updated = %+v %+v, want conversation %s titled %q by the model", ev, ev.Conversation, id, want)
	}
	if got := tr.conv(t, id); got.Title != want || got.TitleSource != store.TitleFromModel {
		t.Errorf("stored title = %q (%q), want %q from the model", got.Title, got.TitleSource, want)
	}

	reqs := tr.titleRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d title requests, want 1", len(reqs))
	}
	r := reqs[0]
	if len(r.Tools) != 0 || r.MaxTokens == 0 || r.MaxTokens > 64 || len(r.Messages) != 1 {
		t.Errorf("title request has %d tools, max_tokens %d, %d messages; want no tools, a small limit, one message", len(r.Tools), r.MaxTokens, len(r.Messages))
	}
	if m := r.Messages[0].Content; !strings.Contains(m, "I planted tomatoes today.\nThey are small.") || !strings.Contains(m, "How lovely! What kind?") {
		t.Errorf("title request quotes %q, want the first message and the reply", m)
	}

	// Later exchanges never ask again.
	tr.send(t, id, "Cherry ones.", "Sweet.")
	tr.titledNext(t)
	if n := len(tr.titleRequests()); n != 2 {
		t.Errorf("%d title requests after a second exchange and a new conversation, want 2", n)
	}
}

func TestModelTitleNeverReplacesTheUsers(t *testing.T) {
	tr := newTitleRig(t)
	gate := llmtest.NewGate()
	tr.LLM.Route(isTitleRequest, func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"Garden", " news"}, Hold: gate, HoldAfter: 1}
	})
	id := tr.send(t, "", "I planted tomatoes today.", "Lovely.")
	select {
	case <-gate.Reached():
	case <-time.After(10 * time.Second):
		t.Fatal("the title request never came")
	}
	// The user renames while the model is still writing its title.
	title := "  My\tgarden "
	got, err := tr.c.UpdateConversation(context.Background(), tr.owner, id, companion.ConversationChange{Title: &title})
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "My garden" || got.TitleSource != store.TitleFromUser {
		t.Errorf("renamed = %q (%q), want the cleaned title from the user", got.Title, got.TitleSource)
	}
	gate.Release()
	tr.settle()
	if got := tr.conv(t, id); got.Title != "My garden" || got.TitleSource != store.TitleFromUser {
		t.Errorf("after the model answered, title = %q (%q), want the user's", got.Title, got.TitleSource)
	}
}

func TestNoModelTitleForARenamedConversation(t *testing.T) {
	tr := newTitleRig(t)
	tr.LLM.Route(isTitleRequest, func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"Garden news"}} })
	conv, err := tr.c.CreateConversation(context.Background(), tr.owner.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	title := "Plans"
	if _, err := tr.c.UpdateConversation(context.Background(), tr.owner, conv.ID, companion.ConversationChange{Title: &title}); err != nil {
		t.Fatal(err)
	}
	tr.send(t, conv.ID, "I planted tomatoes today.", "Lovely.")
	// Renamed another way (the rename tool, after the user approved it):
	// the title is no longer the first message's.
	other, err := tr.c.CreateConversation(context.Background(), tr.owner.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.DB.RenameConversation(context.Background(), tr.owner.ID, other.ID, "Letters", tr.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	tr.send(t, other.ID, "Write to Anna.", "Done.")
	tr.titledNext(t)
	if reqs := tr.titleRequests(); len(reqs) != 1 || !strings.Contains(reqs[0].Messages[0].Content, "Marker conversation.") {
		t.Errorf("%d title requests, want only the marker conversation's: none for those titled otherwise", len(reqs))
	}
	if got := tr.conv(t, conv.ID); got.Title != "Plans" {
		t.Errorf("title = %q, want the user's", got.Title)
	}
	if got := tr.conv(t, other.ID); got.Title != "Letters" {
		t.Errorf("title = %q, want the one the rename tool gave", got.Title)
	}
}

func TestModelTitleFailuresKeepTheFirstMessage(t *testing.T) {
	for name, reply := range map[string]llmtest.Reply{
		"error":      {Status: 500, Error: "boom"},
		"empty":      {Chunks: []string{"  \n"}},
		"rambling":   {Chunks: []string{"Well, this conversation is about a person who planted some tomatoes in a garden today"}},
		"cut off":    {Chunks: []string{"Tomatoes"}, Fault: llmtest.FaultDrop, FaultAfter: 1},
		"only think": {Reasoning: []string{"Tomatoes"}},
	} {
		t.Run(name, func(t *testing.T) {
			tr := newTitleRig(t)
			tr.LLM.Route(isTitleRequest, func(llmtest.Request) llmtest.Reply { return reply })
			id := tr.send(t, "", "I planted tomatoes today.", "Lovely.")
			tr.failureLogged(t)
			tr.settle()
			if n := len(tr.titleRequests()); n != 1 {
				t.Fatalf("%d title requests, want 1", n)
			}
			if got := tr.conv(t, id); got.Title != "I planted tomatoes today." || got.TitleSource != store.TitleFromFirstMessage {
				t.Errorf("title = %q (%q), want the first message's", got.Title, got.TitleSource)
			}
			select {
			case ev := <-tr.events:
				t.Errorf("got %+v, want no conversation_updated", ev)
			default:
			}
		})
	}
}

func TestModelTitleHasADeadline(t *testing.T) {
	tr := newTitleRig(t)
	tr.LLM.Route(isTitleRequest, func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"Garden"}, Fault: llmtest.FaultStall}
	})
	id := tr.send(t, "", "I planted tomatoes today.", "Lovely.")
	testrig.Eventually(t, 10*time.Second, "the title request stalls", func() (bool, string) {
		return len(tr.titleRequests()) == 1 && tr.LLM.ActiveStreams() == 1, fmt.Sprintf("%d title requests, %d streams", len(tr.titleRequests()), tr.LLM.ActiveStreams())
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Clock.BlockUntil(ctx, 1); err != nil {
		t.Fatal("no deadline armed for the title request")
	}
	tr.Clock.Advance(companion.TitleTimeout)
	testrig.Eventually(t, 10*time.Second, "the stalled title request is given up", func() (bool, string) {
		return tr.LLM.ActiveStreams() == 0, fmt.Sprintf("%d streams", tr.LLM.ActiveStreams())
	})
	if got := tr.conv(t, id); got.TitleSource != store.TitleFromFirstMessage {
		t.Errorf("title source = %q after the deadline, want the first message's", got.TitleSource)
	}
}

func TestConversationModel(t *testing.T) {
	tr := newTitleRig(t)
	tr.LLM.Route(isTitleRequest, func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"Garden"}} })
	ctx := context.Background()
	id := tr.send(t, "", "Hello.", "Hi.")

	big, unknown, bad := "big-model", "nope", "two\nlines"
	got, err := tr.c.UpdateConversation(ctx, tr.owner, id, companion.ConversationChange{Model: &big})
	if err != nil || got.Model != big {
		t.Fatalf("owner picks %s: %+v, %v", big, got, err)
	}
	if _, err := tr.c.UpdateConversation(ctx, tr.owner, id, companion.ConversationChange{Model: &unknown}); !errors.Is(err, companion.ErrUnknownModel) {
		t.Errorf("a model the server does not list: %v, want ErrUnknownModel", err)
	}
	if _, err := tr.c.UpdateConversation(ctx, tr.owner, id, companion.ConversationChange{Model: &bad}); !errors.Is(err, companion.ErrBadModelName) {
		t.Errorf("a model name with a line break: %v, want ErrBadModelName", err)
	}
	tr.send(t, id, "Again.", "Yes.")
	reqs := chatOnly(tr.LLM.Requests())
	if n := len(reqs); n != 2 || reqs[0].Model != testrig.ModelName || reqs[1].Model != big {
		t.Errorf("turns asked for %v, want %s then the picked %s", models(reqs), testrig.ModelName, big)
	}

	// Members use the server's model and cannot pick one.
	mconv, err := tr.c.CreateConversation(ctx, tr.member.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.c.UpdateConversation(ctx, tr.member, mconv.ID, companion.ConversationChange{Model: &big}); !errors.Is(err, companion.ErrModelOwnerOnly) {
		t.Errorf("a member picks a model: %v, want ErrModelOwnerOnly", err)
	}
	// Another user's conversation is not found, whatever the change.
	on := true
	if _, err := tr.c.UpdateConversation(ctx, tr.member, id, companion.ConversationChange{Pinned: &on}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a member pins the owner's conversation: %v, want ErrNotFound", err)
	}

	// Back to the server's model.
	empty := ""
	if got, err := tr.c.UpdateConversation(ctx, tr.owner, id, companion.ConversationChange{Model: &empty, Pinned: &on}); err != nil || got.Model != "" || got.PinnedAt.IsZero() {
		t.Errorf("reset the model and pin: %+v, %v", got, err)
	}
}

func chatOnly(reqs []llmtest.Request) []llmtest.Request {
	var out []llmtest.Request
	for _, r := range reqs {
		if !isTitleRequest(r) {
			out = append(out, r)
		}
	}
	return out
}

func models(reqs []llmtest.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Model)
	}
	return out
}
