package worker_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/worker"
)

// changes records what the service's OnChange hook was told.
type changes struct {
	mu  sync.Mutex
	got [][]string // user ID first, then the item IDs
}

func (c *changes) hook(_ context.Context, userID string, itemIDs ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, append([]string{userID}, itemIDs...))
}

func (c *changes) list() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

func TestServiceTellsOnChangeWhatExtractionChanged(t *testing.T) {
	h := newWorkHarness(t)
	var c changes
	s := h.service(worker.Options{})
	s.SetOnChange(c.hook)

	h.LLM.Handle(rememberFirst("Theodore drinks only tea."))
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "I only drink tea.", day0))
	s.TurnStored(h.User.ID, conv)
	h.flush(s)
	tea := h.Items()["Theodore drinks only tea."]
	if tea.ID == "" {
		t.Fatalf("nothing extracted: %v", h.Items())
	}
	if got := c.list(); len(got) != 1 || !slices.Equal(got[0], []string{h.User.ID, tea.ID}) {
		t.Fatalf("after an add the hook got %v, want [[%s %s]]", got, h.User.ID, tea.ID)
	}

	// A supersede names the new item and the one it closed.
	h.LLM.Handle(func(r llmtest.Request) llmtest.Reply {
		return memtest.OpsReply(`{"op":"supersede","target":"` + tea.ID + `","kind":"preference","text":"Theodore drinks coffee now.",` +
			`"sources":["msg_u2"],"confidence":0.9,"importance":0.5}`)
	})
	h.Append(conv, said("msg_u2", "user", "These days I drink coffee.", day0.Add(time.Minute)))
	s.TurnStored(h.User.ID, conv)
	h.flush(s)
	coffee := h.Items()["Theodore drinks coffee now."]
	got := c.list()
	if coffee.ID == "" || len(got) != 2 || !slices.Equal(got[1], []string{h.User.ID, coffee.ID, tea.ID}) {
		t.Fatalf("after a supersede the hook got %v, want [%s %s %s] last", got, h.User.ID, coffee.ID, tea.ID)
	}

	// An extraction that changes nothing tells nobody.
	h.LLM.Handle(func(llmtest.Request) llmtest.Reply { return memtest.OpsReply() })
	h.Append(conv, said("msg_u3", "user", "Hello again.", day0.Add(2*time.Minute)))
	s.TurnStored(h.User.ID, conv)
	h.flush(s)
	if got := c.list(); len(got) != 2 {
		t.Errorf("an empty extraction called the hook: %v", got)
	}
}

func TestServiceOnChangeFromDeps(t *testing.T) {
	h := newWorkHarness(t)
	var c changes
	s := worker.New(worker.Deps{Core: h.DB, Memory: h.Mem, Recall: h.Recall, Models: h.Models, Clock: h.Clock,
		OnChange: c.hook}, worker.Options{TickEvery: -1})
	t.Cleanup(s.Close)
	h.Must(s.Start(h.Ctx))
	h.LLM.Handle(rememberFirst("Theodore drinks only tea."))
	h.Conversation("cnv_1", said("msg_u1", "user", "I only drink tea.", day0))
	s.TurnStored(h.User.ID, "cnv_1")
	h.flush(s)
	items, err := h.Mem.ListItems(h.Ctx, h.User.ID, memory.ItemFilter{})
	h.Must(err)
	if got := c.list(); len(items) != 1 || len(got) != 1 || !slices.Equal(got[0], []string{h.User.ID, items[0].ID}) {
		t.Errorf("items %v, hook got %v", items, got)
	}
}
