package companion_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/events"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
)

// tight are delivery limits small enough that a long reply overflows them.
var tight = events.Limits{Lossy: 8, Final: 16, FinalWait: 100 * time.Millisecond}

// newDeliveryHarness is a harness whose companion has tight delivery limits.
func newDeliveryHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, true)
	h.c = companion.New(companion.Deps{Store: h.db, Models: fixedModel{h.provider()}},
		companion.Options{FlushEvery: 10 * time.Millisecond, Delivery: tight})
	t.Cleanup(h.c.Close)
	return h
}

func manyChunks(n int) ([]string, string) {
	chunks := make([]string, n)
	for i := range chunks {
		chunks[i] = "word "
	}
	return chunks, strings.Repeat("word ", n)
}

// waitStored waits until the conversation's last message is a final reply.
func (h *harness) waitStored(userID string, within time.Duration) store.Message {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for {
		cs, err := h.db.ListConversations(context.Background(), userID)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(cs) > 0 {
			msgs, err := h.db.Messages(context.Background(), userID, cs[0].ID)
			if err != nil {
				h.t.Fatal(err)
			}
			if n := len(msgs); n > 0 && msgs[n-1].Role == store.RoleAssistant && msgs[n-1].Status != store.StatusStreaming {
				return msgs[n-1]
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no finished reply stored for %s within %s (the turn is stuck behind its reader)", userID, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func closeWithin(t *testing.T, c *companion.Companion, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("Close did not return within %s", d)
	}
}

// TestReaderThatNeverReads: the caller takes the stream and never ranges
// it. The turn completes and is stored, and Close returns.
func TestReaderThatNeverReads(t *testing.T) {
	h := newDeliveryHarness(t)
	chunks, want := manyChunks(300)
	h.llm.Enqueue(llmtest.Reply{Chunks: chunks})
	if _, err := h.c.Send(context.Background(), h.user.ID, "", "Tell me a long story"); err != nil {
		t.Fatal(err)
	}
	got := h.waitStored(h.user.ID, 10*time.Second)
	if got.Status != store.StatusComplete || got.Content != want {
		t.Fatalf("stored reply %q (%s), want the whole reply complete", got.Content, got.Status)
	}
	closeWithin(t, h.c, 5*time.Second)
}

// TestReaderThatStopsOnFirstEvent is the reported bug: a reader stuck on
// its first event (an SSE write to a dead client) froze the turn, left the
// reply streaming, and made Close block. Another user's turn meanwhile
// runs normally.
func TestReaderThatStopsOnFirstEvent(t *testing.T) {
	h := newDeliveryHarness(t)
	amy := store.User{ID: "usr_amy", Username: "amy", DisplayName: "Amy", Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}
	if err := h.db.CreateUser(context.Background(), amy); err != nil {
		t.Fatal(err)
	}
	chunks, want := manyChunks(300)
	h.llm.Enqueue(llmtest.Reply{Chunks: chunks})
	evs, err := h.c.Send(context.Background(), h.user.ID, "", "Tell me a long story")
	if err != nil {
		t.Fatal(err)
	}
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	go func() {
		for range evs {
			<-stuck // the write never returns
		}
	}()
	got := h.waitStored(h.user.ID, 10*time.Second)
	if got.Status != store.StatusComplete || got.Content != want {
		t.Fatalf("stored reply %q (%s), want the whole reply complete", got.Content, got.Status)
	}

	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hi Amy."}})
	amyEvs := collect(t, must(h.c.Send(context.Background(), amy.ID, "", "Hello")))
	if !strings.HasSuffix(types(amyEvs), "assistant_done turn_done") {
		t.Fatalf("Amy's turn: %s", types(amyEvs))
	}
	closeWithin(t, h.c, 5*time.Second)
}

// TestReaderOncePerSecond: a reader that takes one event a second does not
// slow the turn; it later gets a lagged marker for the deltas it missed and
// every final event, the whole reply in assistant_done.
func TestReaderOncePerSecond(t *testing.T) {
	h := newDeliveryHarness(t)
	chunks, want := manyChunks(300)
	h.llm.Enqueue(llmtest.Reply{Chunks: chunks})
	evs, err := h.c.Send(context.Background(), h.user.ID, "", "Tell me a long story")
	if err != nil {
		t.Fatal(err)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var got []companion.Event
	stored := false
	for ev := range evs {
		got = append(got, ev)
		if !stored {
			<-tick.C
			// By the second read the turn has long finished.
			if len(got) >= 2 {
				m := h.waitStored(h.user.ID, 5*time.Second)
				stored = m.Content == want && m.Status == store.StatusComplete
				if !stored {
					t.Fatalf("stored %q (%s) while the reader was slow", m.Content, m.Status)
				}
			}
		}
	}
	ts := types(got)
	if !strings.Contains(ts, "lagged") || !strings.HasSuffix(ts, "assistant_done turn_done") {
		t.Fatalf("slow reader got %s; want a lagged marker and the final events", ts)
	}
	for _, ev := range got {
		if ev.Type == companion.EvLagged && (ev.MessageID == "" || ev.ConversationID == "") {
			t.Errorf("lagged marker %+v does not say which message to re-read", ev)
		}
		if ev.Type == companion.EvAssistantDone && ev.Message.Content != want {
			t.Errorf("assistant_done carries %q, want the whole reply", ev.Message.Content)
		}
	}
}

// TestSubscribeFollowsTurnStartedElsewhere: a subscriber of the user (a
// second tab) sees the turn live, and other users' subscribers do not.
func TestSubscribeFollowsTurnStartedElsewhere(t *testing.T) {
	h := newHarness(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	follow := h.c.Subscribe(ctx, h.user.ID)
	other := h.c.Subscribe(ctx, "usr_someone_else")
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hi", " there."}})
	collect(t, must(h.c.Send(context.Background(), h.user.ID, "", "Hello")))
	var seen []companion.Event
	for ev := range follow {
		seen = append(seen, ev)
		if ev.Type == companion.EvTurnDone {
			break
		}
	}
	if got, want := oneDelta(types(seen)), "conversation user_message assistant_start delta assistant_done turn_done"; got != want {
		t.Fatalf("follower saw %s, want %s", got, want)
	}
	h.c.MemoryChanged(ctx, h.user.ID, "itm_1")
	for ev := range follow {
		if ev.Type != companion.EvMemoryChanged || len(ev.ItemIDs) != 1 {
			t.Fatalf("after MemoryChanged got %+v", ev)
		}
		break
	}
	cancel()
	for ev := range other {
		t.Fatalf("another user's subscriber saw %+v", ev)
	}
}

// TestInitiateStoresReason: os1 speaks first; the reply keeps why.
func TestInitiateStoresReason(t *testing.T) {
	h := newHarness(t, true)
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Time to call Catherine."}})
	evs := collect(t, must(h.c.Initiate(context.Background(), h.user.ID, "", "reminder: call Catherine at 18:00")))
	if got := types(evs); got != "conversation assistant_start delta assistant_done turn_done" {
		t.Fatalf("events %s", got)
	}
	msgs := h.messages(convOf(evs))
	if len(msgs) != 1 || msgs[0].Reason != "reminder: call Catherine at 18:00" || msgs[0].Content != "Time to call Catherine." {
		t.Fatalf("stored %+v", msgs)
	}
	req := h.llm.Requests()[0]
	if !strings.Contains(req.System, "call Catherine") || len(req.Messages) != 1 || req.Messages[0].Role != "user" {
		t.Errorf("model got system=%q messages=%+v", req.System, req.Messages)
	}
	if _, err := h.c.Initiate(context.Background(), h.user.ID, "", "  "); !errors.Is(err, companion.ErrNoReason) {
		t.Errorf("Initiate without a reason: %v, want ErrNoReason", err)
	}
	if _, err := h.c.Initiate(context.Background(), h.user.ID, "", strings.Repeat("x", companion.MaxReasonChars+1)); !errors.Is(err, companion.ErrReasonTooLong) {
		t.Errorf("Initiate with a long reason: %v, want ErrReasonTooLong", err)
	}
	// A reason is one clean line, as imports require.
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Ok."}})
	evs = collect(t, must(h.c.Initiate(context.Background(), h.user.ID, "", "wake-up\n\u202eat 7:00")))
	if m := h.messages(convOf(evs)); len(m) != 1 || m[0].Reason != "wake-up at 7:00" {
		t.Errorf("stored reason %q", m[0].Reason)
	}
}

func TestShuttingDownIsTyped(t *testing.T) {
	h := newHarness(t, true)
	h.c.Close()
	if _, err := h.c.Send(context.Background(), h.user.ID, "", "hi"); !errors.Is(err, companion.ErrShuttingDown) {
		t.Fatalf("Send after Close: %v, want ErrShuttingDown", err)
	}
}

func TestCreateConversation(t *testing.T) {
	h := newHarness(t, false)
	c, err := h.c.CreateConversation(context.Background(), h.user.ID, "  ")
	if err != nil || c.Title != "New conversation" || c.UserID != h.user.ID || !strings.HasPrefix(c.ID, "cnv_") {
		t.Fatalf("CreateConversation: %+v, %v", c, err)
	}
	if _, err := h.c.CreateConversation(context.Background(), h.user.ID, strings.Repeat("x", 201)); !errors.Is(err, companion.ErrTitleTooLong) {
		t.Fatalf("long title: %v", err)
	}
}

func TestRegistryReturnsErrors(t *testing.T) {
	run := func(context.Context, companion.Call) (string, error) { return "", nil }
	r := companion.NewRegistry()
	if err := r.Register(companion.Tool{Name: "current_time", Run: run}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		tools []companion.Tool
		want  error
	}{
		{"duplicate", []companion.Tool{{Name: "current_time", Run: run}}, companion.ErrDuplicateTool},
		{"twice in one call", []companion.Tool{{Name: "a", Run: run}, {Name: "a", Run: run}}, companion.ErrDuplicateTool},
		{"no run", []companion.Tool{{Name: "b"}}, companion.ErrInvalidTool},
		{"bad name", []companion.Tool{{Name: "Send Mail", Run: run}}, companion.ErrInvalidTool},
	} {
		if err := r.Register(tc.tools...); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, ok := r.Lookup("a"); ok {
		t.Error("a failed Register added some of its tools")
	}
	if err := r.RegisterFrom("mail", companion.Tool{Name: "send", Run: run}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Lookup("mail_send"); !ok {
		t.Error("RegisterFrom(mail, send) did not register mail_send")
	}
	if err := r.RegisterFrom("mail", companion.Tool{Name: "send", Run: run}); !errors.Is(err, companion.ErrDuplicateTool) {
		t.Errorf("mail_send twice: %v", err)
	}
}

// TestToolsForGivesUsersTheirOwnTools: the model is offered the user's set.
func TestToolsForGivesUsersTheirOwnTools(t *testing.T) {
	h := newHarness(t, true)
	base := companion.NewRegistry()
	if err := base.Register(companion.BuiltinTools(h.db)...); err != nil {
		t.Fatal(err)
	}
	theirs := base.Clone()
	if err := theirs.RegisterFrom("mail", companion.Tool{Name: "send", Run: func(context.Context, companion.Call) (string, error) { return "", nil }}); err != nil {
		t.Fatal(err)
	}
	c := companion.New(companion.Deps{Store: h.db, Models: fixedModel{h.provider()}, Tools: base,
		ToolsFor: func(_ context.Context, userID string) (*companion.Registry, error) {
			if userID == h.user.ID {
				return theirs, nil
			}
			return base, nil
		}}, companion.Options{})
	t.Cleanup(c.Close)
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"ok"}})
	collect(t, must(c.Send(context.Background(), h.user.ID, "", "hi")))
	var names []string
	for _, tl := range h.llm.Requests()[0].Tools {
		names = append(names, tl.Name)
	}
	if strings.Join(names, ",") != "current_time,mail_send,rename_conversation" {
		t.Fatalf("tools offered: %v", names)
	}
}

// slowSlot ignores its context, as a stuck backend might.
type slowSlot struct{ release chan struct{} }

func (slowSlot) SlotName() string { return "Slow" }
func (s slowSlot) SlotText(context.Context, string, string) (string, error) {
	<-s.release
	return "late", nil
}

// timedSlot records the time and zone it was asked with.
type timedSlot struct{ got chan companion.SlotInput }

func (timedSlot) SlotName() string { return "Today" }
func (timedSlot) SlotText(context.Context, string, string) (string, error) {
	return "", errors.New("not used")
}
func (s timedSlot) SlotFor(_ context.Context, in companion.SlotInput) (string, error) {
	s.got <- in
	return "Dinner at 20:00.", nil
}

// TestSlowSlotIsSkipped: slots run at once with a deadline each; a late one
// is left out, not waited for, and slots get the turn's time and zone.
func TestSlowSlotIsSkipped(t *testing.T) {
	h := newHarness(t, true)
	if err := h.db.SaveProfile(context.Background(), store.Profile{UserID: h.user.ID, Timezone: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	slow := slowSlot{release: make(chan struct{})}
	defer close(slow.release)
	timed := timedSlot{got: make(chan companion.SlotInput, 4)}
	c := companion.New(companion.Deps{Store: h.db, Models: fixedModel{h.provider()}, Slots: []companion.Slot{slow, timed}},
		companion.Options{SlotTimeout: time.Second})
	t.Cleanup(c.Close)
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"ok"}})
	collect(t, must(c.Send(context.Background(), h.user.ID, "", "What's on today?")))
	sys := h.llm.Requests()[0].System
	if strings.Contains(sys, "late") || !strings.Contains(sys, "Dinner at 20:00.") {
		t.Fatalf("system prompt: %s", sys)
	}
	in := <-timed.got
	if in.Location.String() != "Europe/Berlin" || in.Now.IsZero() || in.Latest != "What's on today?" {
		t.Fatalf("slot asked with %+v", in)
	}
}

var _ llm.Provider = panickyProvider{}
