package recall_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/recall"
)

func TestRecallTool(t *testing.T) {
	h := memtest.New(t)
	h.Conversation("cnv_1", said("msg_u1", "user", "My sister Catherine moved to Boston.", day0))
	h.Item("mem_boston", memory.KindFact, "Theodore's sister Catherine moved to Boston.", "msg_u1")
	h.Must(h.Mem.IndexMessage(h.Ctx, memory.MessageDoc{ID: "msg_u1", UserID: h.User.ID, ConversationID: "cnv_1", Speaker: "Theodore",
		Role: "user", Text: "My sister Catherine moved to Boston.", Time: day0}, nil))
	tool := recall.NewTool(h.Recall, h.Echoes)
	if tool.Name != "recall" || tool.SideEffects || !json.Valid(tool.Parameters) {
		t.Fatalf("tool = %+v", tool)
	}
	run := func(args string) (string, error) {
		return tool.Run(h.Ctx, companion.Call{UserID: h.User.ID, ConversationID: "cnv_1", Args: json.RawMessage(args),
			Now: day0, Location: h.Berlin})
	}
	out, err := run(`{"query":"Catherine Boston","limit":5}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2026-03-02", "memory (fact) mem_boston", "Theodore's sister Catherine moved to Boston.",
		"sources: msg_u1", "said in a conversation", "2026-03-02 15:00"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(strings.Join(h.Echoes.Recent(h.User.ID), "\n"), "Catherine moved to Boston") {
		t.Error("the tool's results were not remembered as echoes")
	}
	if out, err := run(`{"query":"volcano"}`); err != nil || !strings.HasPrefix(out, "Nothing found") {
		t.Errorf("no hits: %q, %v", out, err)
	}
	for _, bad := range []string{`{"query":"  "}`, `not json`} {
		if _, err := run(bad); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
	// Another user finds nothing of Theodore's.
	other := h.AddUser("usr_amy", "amy", "Amy")
	out, err = tool.Run(h.Ctx, companion.Call{UserID: other.ID, Args: json.RawMessage(`{"query":"Catherine Boston"}`), Now: day0, Location: time.UTC})
	if err != nil || !strings.HasPrefix(out, "Nothing found") {
		t.Errorf("another user's recall: %q, %v", out, err)
	}
}
