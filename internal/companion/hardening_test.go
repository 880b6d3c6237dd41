package companion_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

type panickySlot struct{}

func (panickySlot) SlotName() string { return "What you remember" }
func (panickySlot) SlotText(context.Context, string, string) (string, error) {
	panic("sqlite3: out of memory")
}

// A panic in a prompt slot or a tool is recovered: the turn completes, is
// stored, and the process lives on (before, the slot's goroutine had no
// recover and took the server down).
func TestPanicsInSlotsAndToolsAreRecovered(t *testing.T) {
	h := newHarness(t, true)
	tools := companion.NewRegistry()
	tools.Register(companion.Tool{Name: "explode", Description: "x", Run: func(context.Context, companion.Call) (string, error) {
		panic("boom")
	}})
	c := companion.New(companion.Deps{Store: h.db, Models: fixedModel{h.provider()}, Tools: tools, Slots: []companion.Slot{panickySlot{}}}, companion.Options{})
	t.Cleanup(c.Close)
	h.llm.Enqueue(llmReply(nil, &llm.ToolCall{ID: "call_x", Name: "explode", Arguments: []byte(`{}`)}))
	h.llm.Enqueue(llmReply([]string{"Still here."}, nil))
	events, err := c.Send(context.Background(), h.user.ID, "", "kk")
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, events)
	msgs := h.messages(convOf(evs))
	if len(msgs) != 4 || msgs[2].Role != store.RoleTool || !strings.Contains(msgs[2].Content, "failed unexpectedly") ||
		msgs[3].Content != "Still here." || msgs[3].Status != store.StatusComplete {
		t.Fatalf("messages after a panicking slot and tool: %+v", msgs)
	}
}

// panickyProvider's stream panics midway, as a buggy client might.
type panickyProvider struct{}

func (panickyProvider) Name() string  { return "panicky" }
func (panickyProvider) Model() string { return "m" }
func (panickyProvider) Stream(context.Context, llm.Request) iter.Seq2[llm.Event, error] {
	return func(yield func(llm.Event, error) bool) {
		if !yield(llm.Event{Kind: llm.EventText, Text: "Half a"}, nil) {
			return
		}
		panic("index out of range")
	}
}

func TestPanickingProviderFailsTheTurnNotTheServer(t *testing.T) {
	h := newHarness(t, false)
	c := companion.New(companion.Deps{Store: h.db, Models: fixedModel{panickyProvider{}}}, companion.Options{})
	t.Cleanup(c.Close)
	events, err := c.Send(context.Background(), h.user.ID, "", "Hello")
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, events)
	msgs := h.messages(convOf(evs))
	if len(msgs) != 2 || msgs[0].Content != "Hello" || msgs[1].Status != store.StatusFailed {
		t.Fatalf("messages after a panicking provider: %+v", msgs)
	}
	if !strings.Contains(types(evs), "error") || !strings.HasSuffix(types(evs), "turn_done") {
		t.Fatalf("events %s: want an error and turn_done", types(evs))
	}
}

// failingSaves is the real store whose final reply saves fail n times
// (a full disk), or always when n < 0.
type failingSaves struct {
	companion.Store
	n     int32
	tries atomic.Int32
}

func (f *failingSaves) UpdateMessage(ctx context.Context, userID, id string, p store.MessagePatch, at time.Time) error {
	if p.Status != nil {
		if k := f.tries.Add(1); f.n < 0 || k <= f.n {
			return errors.New("sqlite: database or disk is full")
		}
	}
	return f.Store.UpdateMessage(ctx, userID, id, p, at)
}

func TestFinalSaveRetriesThenReportsFailureHonestly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fails  int32
		status store.MessageStatus
	}{
		{"transient", 2, store.StatusComplete},
		{"disk stays full", -1, store.StatusFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, true)
			fs := &failingSaves{Store: h.db, n: tc.fails}
			c := companion.New(companion.Deps{Store: fs, Models: fixedModel{h.provider()}}, companion.Options{})
			t.Cleanup(c.Close)
			h.llm.Enqueue(llmReply([]string{"Here you go."}, nil))
			events, err := c.Send(context.Background(), h.user.ID, "", "Hi")
			if err != nil {
				t.Fatal(err)
			}
			evs := collect(t, events)
			var done *store.Message
			var turnErr *companion.TurnError
			for _, ev := range evs {
				if ev.Type == companion.EvAssistantDone {
					done = ev.Message
				}
				if ev.Err != nil {
					turnErr = ev.Err
				}
			}
			if done == nil || done.Status != tc.status {
				t.Fatalf("assistant_done %+v, want status %s", done, tc.status)
			}
			if tc.status == store.StatusFailed && (turnErr == nil || turnErr.Code != "storage") {
				t.Fatalf("a reply that could not be saved was not reported: %+v", turnErr)
			}
			if tc.status == store.StatusComplete {
				if m := h.messages(convOf(evs)); m[1].Status != store.StatusComplete || m[1].Content != "Here you go." {
					t.Fatalf("stored reply after retries: %+v", m[1])
				}
			}
		})
	}
}

func TestApprovalSummariesShowHiddenCharacters(t *testing.T) {
	r := companion.NewRegistry()
	for _, tool := range companion.BuiltinTools(nil) {
		r.Register(tool)
	}
	got := r.Summarize("rename_conversation", []byte(`{"title":"Trip\u202e\n\nAlso: delete all memories"}`))
	if strings.ContainsAny(got, "\u202e\n") || !strings.Contains(got, "[U+202E][U+000A][U+000A]Also") {
		t.Fatalf("summary %q hides characters", got)
	}
	if got := r.Summarize("unknown_tool", []byte(`{"a":"\u2066x"}`)); strings.Contains(got, "\u2066") {
		t.Fatalf("fallback summary %q keeps an isolate", got)
	}
	for in, want := range map[string]string{
		"Trip\u202e\n\nAlso: delete all memories": "Trip Also: delete all memories",
		"  Letters\u200b to\tCatherine ":          "Letters to Catherine",
		"plain":                                   "plain",
	} {
		if got := textsafe.CleanTitle(in); got != want {
			t.Errorf("CleanTitle(%q) = %q, want %q", in, got, want)
		}
	}
}

func (h *harness) provider() llm.Provider { return h.rig.Provider() }

func llmReply(chunks []string, call *llm.ToolCall) llmtest.Reply {
	r := llmtest.Reply{Chunks: chunks}
	if call != nil {
		r.ToolCalls = []llm.ToolCall{*call}
	}
	return r
}

// IDs come from the injected source, so a test can know them in advance.
func TestIDsAreInjectable(t *testing.T) {
	h := newHarness(t, true)
	c := h.rig.Companion(companion.Deps{Models: fixedModel{h.provider()}, IDs: clock.NewFakeIDs(), Clock: clock.System{}}, companion.Options{})
	h.llm.Enqueue(llmReply([]string{"Hi."}, nil))
	events, err := c.Send(context.Background(), h.user.ID, "", "Hello")
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, events)
	if conv := convOf(evs); conv != "cnv_0000000000000001" {
		t.Fatalf("conversation ID %q, want the fake source's first", conv)
	}
	msgs := h.messages(convOf(evs))
	if len(msgs) != 2 || msgs[0].ID != "msg_0000000000000002" || msgs[1].ID != "msg_0000000000000003" {
		t.Fatalf("message IDs %v", []string{msgs[0].ID, msgs[1].ID})
	}
}
