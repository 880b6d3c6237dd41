package worker_test

import (
	"encoding/json"
	"iter"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/worker"
	"github.com/os1ai/os1/internal/store"
)

// TestCompanionRemembersAcrossTurns runs the whole loop: a turn of the
// companion, the listener, the worker's extraction with provenance, and the
// next turn's system prompt and recall tool.
func TestCompanionRemembersAcrossTurns(t *testing.T) {
	h := newWorkHarness(t)
	svc := h.service(worker.Options{})
	tools := companion.NewRegistry()
	for _, tool := range companion.BuiltinTools(h.DB) {
		tools.Register(tool)
	}
	tools.Register(recall.NewTool(h.Recall, h.Echoes))
	comp := companion.New(companion.Deps{Store: h.DB, Models: h.Models, Tools: tools, Listener: svc, Clock: h.Clock,
		Slots: []companion.Slot{recall.NewSlot(h.Recall, h.DB, h.Echoes, 0)}}, companion.Options{FlushEvery: 10 * time.Millisecond})
	t.Cleanup(comp.Close)

	const fact = "Theodore's sister Catherine moved to Boston."
	told := regexp.MustCompile(`\[(msg_[a-z0-9]+)\] [^\n]*Theodore: My sister Catherine`)
	var mu sync.Mutex
	var chats []llmtest.Request
	h.LLM.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "deciding what to remember") {
			// The model proposes the fact whenever it sees it told, and once more
			// from the next turn, copying what was recalled for the companion.
			if m := told.FindStringSubmatch(r.Messages[0].Content); m != nil {
				return memtest.OpsReply(memtest.AddOp("fact", fact, []string{m[1]}, "Catherine"))
			}
			return memtest.OpsReply(memtest.AddOp("fact", fact, idsIn(r)[:1], "Catherine"))
		}
		mu.Lock()
		defer mu.Unlock()
		chats = append(chats, r)
		switch len(chats) {
		case 2: // the second turn looks something up first
			return llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "call_r", Name: "recall", Arguments: json.RawMessage(`{"query":"Catherine"}`)}}}
		case 3:
			return llmtest.Reply{Chunks: []string{"She's in Boston now, isn't she?"}}
		}
		return llmtest.Reply{Chunks: []string{"Boston! That's a big move."}}
	})

	evs := drain(t)(comp.Send(h.Ctx, h.User.ID, "", "My sister Catherine just moved to Boston."))
	conv := evs[0].Conversation.ID
	h.flush(svc)
	msgs, err := h.DB.Messages(h.Ctx, h.User.ID, conv)
	h.Must(err)
	it, ok := h.Items()[fact]
	if !ok || !slices.Equal(it.Sources, []string{msgs[0].ID}) || msgs[0].Role != store.RoleUser {
		t.Fatalf("item = %+v, stored %v; want it sourced from the user's message %s", it, ok, msgs[0].ID)
	}

	drain(t)(comp.Send(h.Ctx, h.User.ID, conv, "Where does Catherine live these days?"))
	h.flush(svc)
	mu.Lock()
	defer mu.Unlock()
	if len(chats) != 3 {
		t.Fatalf("%d companion requests, want 3", len(chats))
	}
	if sys := chats[1].System; !strings.Contains(sys, "## What you remember") || !strings.Contains(sys, fact) {
		t.Errorf("the next turn's system prompt lacks the memory:\n%s", sys)
	}
	if !slices.ContainsFunc(chats[1].Tools, func(tl llm.Tool) bool { return tl.Name == "recall" }) {
		t.Error("the recall tool is not offered")
	}
	var result string
	for _, m := range chats[2].Messages {
		if m.Role == llm.RoleTool {
			result = m.Content
		}
	}
	if !strings.Contains(result, fact) || !strings.Contains(result, "sources: "+msgs[0].ID) {
		t.Errorf("recall tool result = %q", result)
	}
	if n := len(h.Items()); n != 1 {
		t.Errorf("%d items after the second turn; the recalled memory was stored again", n)
	}
	ex := h.Extractions()
	if len(ex) != 2 || strings.Contains(ex[1].Messages[0].Content, "sources:") {
		t.Errorf("the second extraction saw the tool's output or ran %d times", len(ex))
	}
}

// drain reads a turn's events to the end (call it on Send's results).
func drain(t *testing.T) func(iter.Seq[companion.Event], error) []companion.Event {
	return func(events iter.Seq[companion.Event], err error) []companion.Event {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
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
			t.Fatal("the turn did not finish")
			return nil
		}
	}
}
