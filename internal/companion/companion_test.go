package companion_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/testrig"
)

// fixedModel hands out one provider, or none.
type fixedModel struct{ p llm.Provider }

func (f fixedModel) Provider(context.Context) (llm.Provider, error) {
	if f.p == nil {
		return nil, fmt.Errorf("%w: connect one in Settings", llm.ErrNoProvider)
	}
	return f.p, nil
}

type harness struct {
	t    *testing.T
	db   *sqlite.DB
	llm  *llmtest.Server
	c    *companion.Companion
	user store.User
	rig  *testrig.Rig
}

func newHarness(t *testing.T, withModel bool) *harness {
	t.Helper()
	return newListeningHarness(t, withModel, nil)
}

// newListeningHarness is newHarness with a Listener. The companion runs
// on the real clock: its flush ticker and the delivery tests need time to pass.
func newListeningHarness(t *testing.T, withModel bool, l companion.Listener) *harness {
	t.Helper()
	r := testrig.New(t)
	var m fixedModel
	if withModel {
		m.p = r.Provider()
	}
	c := r.Companion(companion.Deps{Models: m, Listener: l, Clock: clock.System{}}, companion.Options{FlushEvery: 10 * time.Millisecond})
	u := store.User{ID: "usr_theo", Username: "theo", DisplayName: "Theodore", Role: store.RoleOwner, PasswordHash: "x", CreatedAt: time.Now()}
	if err := r.DB.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, db: r.DB, llm: r.LLM, c: c, user: u, rig: r}
}

// collect drains a turn's events with a timeout.
func collect(t *testing.T, events iter.Seq[companion.Event]) []companion.Event {
	t.Helper()
	done := make(chan []companion.Event)
	go func() {
		var evs []companion.Event
		for ev := range events {
			evs = append(evs, ev)
		}
		done <- evs
	}()
	select {
	case evs := <-done:
		return evs
	case <-time.After(20 * time.Second):
		t.Fatal("turn did not finish")
		return nil
	}
}

// oneDelta joins runs of "delta" in a list of event types: a reader that
// falls behind gets the deltas that piled up as one (events.Queue.Coalesce),
// so how many there are depends on timing; their text does not.
func oneDelta(types string) string {
	for strings.Contains(types, "delta delta") {
		types = strings.ReplaceAll(types, "delta delta", "delta")
	}
	return types
}

func types(evs []companion.Event) string {
	var s []string
	for _, ev := range evs {
		s = append(s, string(ev.Type))
	}
	return strings.Join(s, " ")
}

func (h *harness) messages(conv string) []store.Message {
	h.t.Helper()
	msgs, err := h.db.Messages(context.Background(), h.user.ID, conv)
	if err != nil {
		h.t.Fatal(err)
	}
	return msgs
}

func convOf(evs []companion.Event) string {
	for _, ev := range evs {
		if ev.Conversation != nil {
			return ev.Conversation.ID
		}
	}
	return ""
}

func TestSendStoresFirstThenStreams(t *testing.T) {
	h := newHarness(t, true)
	var storedBeforeModel bool
	h.llm.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		cs, _ := h.db.ListConversations(context.Background(), h.user.ID)
		if len(cs) == 1 {
			msgs, _ := h.db.Messages(context.Background(), h.user.ID, cs[0].ID)
			storedBeforeModel = len(msgs) >= 1 && msgs[0].Role == store.RoleUser && msgs[0].Content == "Hello, who are you?"
		}
		return llmtest.Reply{Chunks: []string{"Hi", " Theodore", ", I'm here."}}
	})
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "Hello, who are you?")))
	if !storedBeforeModel {
		t.Fatal("the user's message was not in the database when the model was called")
	}
	want := "conversation user_message assistant_start delta assistant_done turn_done"
	if got := oneDelta(types(evs)); got != want {
		t.Fatalf("events = %s\nwant     %s", got, want)
	}
	var text string
	for _, ev := range evs {
		if ev.Type == companion.EvDelta {
			text += ev.Text
		}
	}
	msgs := h.messages(convOf(evs))
	if len(msgs) != 2 || msgs[1].Content != "Hi Theodore, I'm here." || msgs[1].Status != store.StatusComplete || text != msgs[1].Content {
		t.Fatalf("stored %+v; streamed %q", msgs, text)
	}
	conv, _ := h.db.Conversation(context.Background(), h.user.ID, convOf(evs))
	if conv.Title != "Hello, who are you?" {
		t.Errorf("title = %q", conv.Title)
	}
	req := h.llm.Requests()[0]
	if !strings.Contains(req.System, "Theodore") || len(req.Messages) != 1 || req.Messages[0].Content != "Hello, who are you?" {
		t.Errorf("model got system=%q messages=%+v", req.System, req.Messages)
	}
	if len(req.Tools) != 2 {
		t.Errorf("model was offered %d tools, want 2", len(req.Tools))
	}
}

func must(events iter.Seq[companion.Event], err error) iter.Seq[companion.Event] {
	if err != nil {
		panic(err)
	}
	return events
}

func TestModelFailureKeepsMessageAndRetryWorks(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.Reply{Status: 500, Error: "model crashed"})
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "are you there?")))
	conv := convOf(evs)
	var errEv *companion.TurnError
	for _, ev := range evs {
		if ev.Type == companion.EvError {
			errEv = ev.Err
		}
	}
	if errEv == nil || errEv.Code != "model_error" || !strings.Contains(errEv.Details, "500") {
		t.Fatalf("want a model_error event with 500 in its details, got %+v", errEv)
	}
	msgs := h.messages(conv)
	if len(msgs) != 2 || msgs[0].Content != "are you there?" || msgs[1].Status != store.StatusFailed || msgs[1].Error == "" {
		t.Fatalf("after failure: %+v", msgs)
	}
	h.llm.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		if len(r.Messages) != 1 || r.Messages[0].Content != "are you there?" {
			t.Errorf("retry sent %+v; the failed reply must not be in the prompt", r.Messages)
		}
		return llmtest.Reply{Chunks: []string{"Yes."}}
	})
	collect(t, must(h.c.Retry(context.Background(), h.user.ID, conv)))
	msgs = h.messages(conv)
	if len(msgs) != 3 || msgs[2].Content != "Yes." || msgs[2].Status != store.StatusComplete {
		t.Fatalf("after retry: %+v", msgs)
	}
}

func TestNoModelSaysHowToConnect(t *testing.T) {
	h := newHarness(t, false)
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "hello?")))
	var got *companion.TurnError
	for _, ev := range evs {
		if ev.Type == companion.EvError {
			got = ev.Err
		}
	}
	if got == nil || got.Code != "no_model" || !strings.Contains(got.Message, "Settings") {
		t.Fatalf("want no_model with instructions, got %+v", got)
	}
	msgs := h.messages(convOf(evs))
	if len(msgs) != 2 || msgs[0].Content != "hello?" || msgs[1].Status != store.StatusFailed || msgs[1].Content != "" {
		t.Fatalf("stored %+v: the user's message must stay and no reply text may be invented", msgs)
	}
}

func TestCancelKeepsWhatWasSaid(t *testing.T) {
	h := newHarness(t, true)
	gate := llmtest.NewGate()
	defer gate.Release()
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Once ", "upon ", "a time"}, Hold: gate, HoldAfter: 2})
	events := must(h.c.Send(context.Background(), h.user.ID, "", "tell me a story"))
	done := make(chan []companion.Event)
	go func() {
		var evs []companion.Event
		for ev := range events {
			evs = append(evs, ev)
			if ev.Type == companion.EvConversation {
				go func(id string) {
					<-gate.Reached()
					// Streamed text is flushed while the reply is held.
					deadline := time.Now().Add(5 * time.Second)
					for time.Now().Before(deadline) {
						ms := h.messages(id)
						if len(ms) == 2 && ms[1].Content == "Once upon " {
							break
						}
						time.Sleep(5 * time.Millisecond)
					}
					if ms := h.messages(id); len(ms) != 2 || ms[1].Status != store.StatusStreaming || ms[1].Content != "Once upon " {
						t.Errorf("while streaming, stored %+v", ms)
					}
					if ok, err := h.c.Cancel(context.Background(), h.user.ID, id); !ok || err != nil {
						t.Errorf("Cancel = %v, %v", ok, err)
					}
				}(ev.Conversation.ID)
			}
		}
		done <- evs
	}()
	evs := <-done
	msgs := h.messages(convOf(evs))
	if len(msgs) != 2 || msgs[1].Status != store.StatusInterrupted || msgs[1].Content != "Once upon " {
		t.Fatalf("after cancel: %+v", msgs)
	}
	if h.c.Running(convOf(evs)) {
		t.Error("turn still registered as running")
	}
}

func TestBusyConversation(t *testing.T) {
	h := newHarness(t, true)
	gate := llmtest.NewGate()
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"a", "b"}, Hold: gate, HoldAfter: 1}, llmtest.Reply{Chunks: []string{"c"}})
	conv := h.newConversation()
	first := must(h.c.Send(context.Background(), h.user.ID, conv, "one"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range first {
		}
	}()
	<-gate.Reached()
	if _, err := h.c.Send(context.Background(), h.user.ID, conv, "two"); !errors.Is(err, companion.ErrBusy) {
		t.Fatalf("second send while busy: %v, want ErrBusy", err)
	}
	gate.Release()
	<-done
	collect(t, must(h.c.Send(context.Background(), h.user.ID, conv, "two")))
	if n := len(h.messages(conv)); n != 4 {
		t.Fatalf("got %d messages, want 4 (the refused send stores nothing)", n)
	}
}

func (h *harness) newConversation() string {
	h.t.Helper()
	c := store.Conversation{ID: fmt.Sprintf("cnv_test%d", time.Now().UnixNano()), UserID: h.user.ID, Title: "t", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := h.db.CreateConversation(context.Background(), c); err != nil {
		h.t.Fatal(err)
	}
	return c.ID
}

func TestReadOnlyToolRunsAtOnce(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "call_t", Name: "current_time", Arguments: []byte(`{}`)}}})
	h.llm.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		last := r.Messages[len(r.Messages)-1]
		if last.Role != llm.RoleTool || last.ToolCallID != "call_t" || !strings.Contains(last.Content, "20") {
			t.Errorf("second request should end with the time result, got %+v", last)
		}
		return llmtest.Reply{Chunks: []string{"It is evening."}}
	})
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "what time is it?")))
	want := "conversation user_message assistant_start assistant_done tool_result assistant_start delta assistant_done turn_done"
	if got := types(evs); got != want {
		t.Fatalf("events = %s\nwant     %s", got, want)
	}
	msgs := h.messages(convOf(evs))
	if len(msgs) != 4 || msgs[1].ToolCalls[0].Name != "current_time" || msgs[2].Role != store.RoleTool || msgs[3].Content != "It is evening." {
		t.Fatalf("stored %+v", msgs)
	}
}

func TestSideEffectToolWaitsForConsent(t *testing.T) {
	for _, approve := range []bool{true, false} {
		t.Run(fmt.Sprintf("approve=%v", approve), func(t *testing.T) {
			h := newHarness(t, true)
			h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Sure."}, ToolCalls: []llm.ToolCall{{ID: "call_r", Name: "rename_conversation", Arguments: []byte(`{"title":"Letters to Catherine"}`)}}})
			evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "please call this conversation Letters to Catherine")))
			conv := convOf(evs)
			var act *companion.ActionView
			for _, ev := range evs {
				if ev.Type == companion.EvActionRequired {
					act = ev.Action
				}
			}
			if act == nil || act.Summary != "Rename this conversation to “Letters to Catherine”" {
				t.Fatalf("no action_required event with a summary: %s", types(evs))
			}
			c, _ := h.db.Conversation(context.Background(), h.user.ID, conv)
			if c.Title == "Letters to Catherine" {
				t.Fatal("the side-effect tool ran before the user confirmed")
			}
			if len(h.llm.Requests()) != 1 {
				t.Fatal("the model was called again before the user decided")
			}
			h.llm.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
				last := r.Messages[len(r.Messages)-1]
				if last.Role != llm.RoleTool || last.ToolCallID != "call_r" {
					t.Errorf("continuation must end with the tool result, got %+v", last)
				}
				return llmtest.Reply{Chunks: []string{"Done."}}
			})
			collect(t, must(h.c.Decide(context.Background(), h.user.ID, act.ID, approve)))
			c, _ = h.db.Conversation(context.Background(), h.user.ID, conv)
			if renamed := c.Title == "Letters to Catherine"; renamed != approve {
				t.Fatalf("title %q after approve=%v", c.Title, approve)
			}
			a, _ := h.db.Action(context.Background(), h.user.ID, act.ID)
			if want := map[bool]store.ActionStatus{true: store.ActionDone, false: store.ActionDenied}[approve]; a.Status != want {
				t.Errorf("action status %s, want %s", a.Status, want)
			}
			if _, err := h.c.Decide(context.Background(), h.user.ID, act.ID, true); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("deciding twice: %v, want ErrNotFound", err)
			}
			msgs := h.messages(conv)
			if last := msgs[len(msgs)-1]; last.Content != "Done." {
				t.Errorf("companion did not continue: %+v", last)
			}
		})
	}
}

func TestNewMessageDeclinesPendingAction(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "call_r", Name: "rename_conversation", Arguments: []byte(`{"title":"X"}`)}}})
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "rename it X")))
	conv := convOf(evs)
	h.llm.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		for i, m := range r.Messages {
			if m.Role == llm.RoleTool && m.ToolCallID == "call_r" && !strings.Contains(m.Content, "without confirming") {
				t.Errorf("message %d: stale call result %q", i, m.Content)
			}
		}
		return llmtest.Reply{Chunks: []string{"ok"}}
	})
	collect(t, must(h.c.Send(context.Background(), h.user.ID, conv, "never mind")))
	pending, _ := h.db.PendingActions(context.Background(), h.user.ID, conv)
	if len(pending) != 0 {
		t.Fatalf("%d actions still pending", len(pending))
	}
	for _, ev := range evs {
		if ev.Action != nil {
			if _, err := h.c.Decide(context.Background(), h.user.ID, ev.Action.ID, true); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a superseded action could still be approved: %v", err)
			}
		}
	}
}

func TestUserIsolation(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"secret reply"}})
	evs := collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "my secret")))
	conv := convOf(evs)
	other := store.User{ID: "usr_amy", Username: "amy", Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}
	if err := h.db.CreateUser(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.Send(context.Background(), other.ID, conv, "let me in"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Send into another user's conversation: %v", err)
	}
	if _, err := h.c.Retry(context.Background(), other.ID, conv); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Retry of another user's conversation: %v", err)
	}
	if _, err := h.c.Cancel(context.Background(), other.ID, conv); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Cancel of another user's conversation: %v", err)
	}
	if n := len(h.messages(conv)); n != 2 {
		t.Errorf("owner's conversation changed: %d messages", n)
	}
}

func TestInvalidInput(t *testing.T) {
	h := newHarness(t, true)
	if _, err := h.c.Send(context.Background(), h.user.ID, "", "  \n "); !errors.Is(err, companion.ErrEmptyMessage) {
		t.Errorf("empty: %v", err)
	}
	if _, err := h.c.Send(context.Background(), h.user.ID, "", "bad \xff"); !errors.Is(err, companion.ErrInvalidUTF8) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	if _, err := h.c.Send(context.Background(), h.user.ID, "cnv_nope", "hi"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown conversation: %v", err)
	}
}

func TestCloseInterruptsRunningTurns(t *testing.T) {
	h := newHarness(t, true)
	gate := llmtest.NewGate()
	defer gate.Release()
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"partial", " never"}, Hold: gate, HoldAfter: 1})
	conv := h.newConversation()
	events := must(h.c.Send(context.Background(), h.user.ID, conv, "hi"))
	delta := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			if ev.Type == companion.EvDelta {
				close(delta)
			}
		}
	}()
	<-delta
	h.c.Close()
	<-done
	msgs := h.messages(conv)
	if msgs[1].Status != store.StatusInterrupted || msgs[1].Content != "partial" {
		t.Fatalf("after Close: %+v", msgs[1])
	}
	if _, err := h.c.Send(context.Background(), h.user.ID, conv, "again"); err == nil {
		t.Error("Send after Close should fail")
	}
}

func TestChooseName(t *testing.T) {
	h := newHarness(t, true)
	ctx := context.Background()
	if _, err := h.c.ChooseName(ctx, h.user.ID, false); !errors.Is(err, companion.ErrNotOnboarded) {
		t.Fatalf("before the first meeting: %v", err)
	}
	if _, err := h.c.SaveMeeting(ctx, h.user.ID, map[string]string{"social": "somewhat", "matters": "my letters", "sound": "warm"}, "Europe/Berlin", true); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.SaveMeeting(ctx, h.user.ID, nil, "Mars/Olympus", false); err == nil {
		t.Error("unknown time zone accepted")
	}
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"I am not sure I can."}})
	if _, err := h.c.ChooseName(ctx, h.user.ID, false); !errors.Is(err, companion.ErrBadName) {
		t.Fatalf("unusable answer: %v, want ErrBadName", err)
	}
	if p, _ := h.db.Persona(ctx, h.user.ID); p.Name != "" || p.Voice != "warm" {
		t.Fatalf("persona after a bad answer: %+v", p)
	}
	h.llm.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		if !strings.Contains(r.Messages[0].Content, "my letters") {
			t.Errorf("naming prompt lacks what the user said: %q", r.Messages[0].Content)
		}
		return llmtest.Reply{Chunks: []string{`{"na`, `me": "Samantha"}`}}
	})
	p, err := h.c.ChooseName(ctx, h.user.ID, false)
	if err != nil || p.Name != "Samantha" {
		t.Fatalf("ChooseName = %+v, %v", p, err)
	}
	again, err := h.c.ChooseName(ctx, h.user.ID, false)
	if err != nil || again.Name != "Samantha" || len(h.llm.Requests()) != 2 {
		t.Fatalf("second ChooseName must return the stored name without asking: %+v %v", again, err)
	}
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{`{"name": "Iris"}`}})
	if p, err := h.c.ChooseName(ctx, h.user.ID, true); err != nil || p.Name != "Iris" {
		t.Fatalf("again: %+v %v", p, err)
	}
	// The name is used ever after.
	h.llm.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		if !strings.HasPrefix(r.System, "You are Iris,") {
			t.Errorf("system prompt does not use the chosen name: %q", r.System[:40])
		}
		return llmtest.Reply{Chunks: []string{"hi"}}
	})
	collect(t, must(h.c.Send(ctx, h.user.ID, "", "hello")))
}

func TestNoModelNoName(t *testing.T) {
	h := newHarness(t, false)
	ctx := context.Background()
	if _, err := h.c.SaveMeeting(ctx, h.user.ID, map[string]string{"sound": "calm"}, "", true); err != nil {
		t.Fatal(err)
	}
	if _, err := h.c.ChooseName(ctx, h.user.ID, false); !errors.Is(err, llm.ErrNoProvider) {
		t.Fatalf("without a model: %v, want ErrNoProvider", err)
	}
}
