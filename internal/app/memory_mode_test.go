package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// [memory] mode = "off" (OS1_MEMORY=off): the reply's prompt carries no
// recalled memory, the model is offered no recall tool, and no memory
// worker runs, so nothing is learned from the turn. On (the default), all
// three are there.
func TestMemoryModeOff(t *testing.T) {
	for _, mode := range []string{"on", "off"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			srv := llmtest.NewServer(t)
			srv.Handle(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"Hello."}} })
			cfg := testConfigWith(t, "OS1_LLM_URL", srv.OpenAIBaseURL(), "OS1_LLM_MODEL", "m", "OS1_MEMORY", mode)
			a, err := app.New(ctx, cfg, app.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if (a.Memory != nil) != (mode == "on") {
				t.Fatalf("memory %s: a memory worker built: %v", mode, a.Memory != nil)
			}
			u := theoWithAMemory(t, a)
			events, err := a.Companion.Send(ctx, u.ID, "", "How is my garden doing?")
			must(t, err)
			for range events {
			}
			var chats int
			for _, r := range srv.Requests() {
				if !slices.ContainsFunc(r.Messages, func(m llm.Message) bool { return strings.Contains(m.Content, "How is my garden doing?") }) {
					continue // a title or other side call
				}
				chats++
				recalled := strings.Contains(r.System, "Theodore's garden has tomatoes")
				tool := slices.ContainsFunc(r.Tools, func(tl llm.Tool) bool { return tl.Name == "recall" })
				if recalled != (mode == "on") || tool != (mode == "on") {
					t.Errorf("memory %s: the prompt recalls the memory: %v, the recall tool is offered: %v", mode, recalled, tool)
				}
			}
			if chats != 1 {
				t.Fatalf("%d reply calls, want 1", chats)
			}
			// What she remembered before stays readable either way.
			if it, err := a.MemStore.Item(ctx, u.ID, "mem_1"); err != nil || it.Text != "Theodore's garden has tomatoes" {
				t.Fatalf("the memory is gone: %+v, %v", it, err)
			}
		})
	}
}
