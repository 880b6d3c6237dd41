package worker_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/worker"
	"github.com/os1ai/os1/internal/store"
)

// Her thinking is stored apart from the reply (store.Message.Reasoning) and
// is hers alone: it never reaches extraction, the journal or recall.
func TestReasoningNeverReachesMemory(t *testing.T) {
	const marker = "zebracrossing7731"
	h := newWorkHarness(t)
	s := h.service(worker.Options{Journal: extract.JournalOptions{IdleAfter: 30 * time.Minute}})
	h.flush(s)
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "My sister Catherine just moved to Boston.", day0))
	h.Must(h.DB.AppendMessage(h.Ctx, store.Message{ID: "msg_a1", ConversationID: conv, UserID: h.User.ID,
		Role: store.RoleAssistant, Content: "Boston! How does she like it?",
		Reasoning:  "The user mentions a sister; " + marker + " is a private thought about Boston.",
		ThoughtFor: 4 * time.Second, Status: store.StatusComplete, CreatedAt: day0.Add(time.Second), UpdatedAt: day0.Add(time.Second)}))
	h.LLM.EnqueueFunc(rememberFirst("Theodore's sister Catherine moved to Boston."))
	s.TurnStored(h.User.ID, conv)
	h.flush(s)

	h.Clock.Set(day0.Add(time.Hour)) // idle: the day's journal is due
	h.LLM.Enqueue(memtest.JournalReply("Theodore's sister moved to Boston."))
	h.Must(h.tick(s))

	if n, j := len(h.Extractions()), len(h.JournalRequests()); n != 1 || j != 1 {
		t.Fatalf("%d extraction and %d journal requests, want 1 and 1", n, j)
	}
	if ids := idsIn(h.Extractions()[0]); len(ids) != 2 || ids[1] != "msg_a1" {
		t.Fatalf("extraction saw %v, want the reply whose reasoning is stored", ids)
	}
	for _, r := range h.LLM.Requests() {
		if bytes.Contains(r.Body, []byte(marker)) {
			t.Errorf("a request to the model holds the reasoning: %.300s", r.Body)
		}
	}
	hits, err := h.Mem.SearchText(h.Ctx, h.User.ID, memory.Query{Text: marker})
	h.Must(err)
	if len(hits) != 0 {
		t.Errorf("recall finds the reasoning: %+v", hits)
	}
	// The reply itself is indexed: the search above could find a word.
	hits, err = h.Mem.SearchText(h.Ctx, h.User.ID, memory.Query{Text: "Boston", Kinds: []memory.DocKind{memory.DocMessage}})
	h.Must(err)
	if len(hits) != 2 {
		t.Errorf("%d messages found for Boston, want 2", len(hits))
	}
}
