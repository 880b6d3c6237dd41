package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/store"
)

// Recall asks the model to re-rank only when [memory] rerank = "model":
// then the turn's prompt slot makes one re-ranking call before the reply.
func TestRerankIsWiredOnlyWhenAsked(t *testing.T) {
	for _, rerank := range []string{"", "model"} {
		t.Run("rerank="+rerank, func(t *testing.T) {
			ctx := context.Background()
			srv := llmtest.NewServer(t)
			srv.Route(func(r llmtest.Request) bool { return strings.Contains(r.System, "You rank search results") },
				func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{`{"ids": [1]}`}} })
			srv.Handle(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"Hello."}} })
			cfg := testConfigWith(t, "OS1_LLM_URL", srv.OpenAIBaseURL(), "OS1_LLM_MODEL", "m", "OS1_MEMORY_RERANK", rerank)
			a, err := app.NewTalk(ctx, cfg, app.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if (a.Reranker != nil) != (rerank == "model") {
				t.Fatalf("rerank %q built a reranker: %v", rerank, a.Reranker != nil)
			}
			u := theoWithAMemory(t, a)
			events, err := a.Companion.Send(ctx, u.ID, "", "How is my garden doing?")
			must(t, err)
			for range events {
			}
			var ranks, chats int
			for _, r := range srv.Requests() {
				if strings.Contains(r.System, "You rank search results") {
					ranks++
					if !strings.Contains(r.Messages[0].Content, "Theodore's garden has tomatoes") {
						t.Fatalf("the re-ranking call does not list the memory: %q", r.Messages[0].Content)
					}
				} else {
					chats++
					if !strings.Contains(r.System, "Theodore's garden has tomatoes") {
						t.Fatalf("the reply's prompt lacks the recalled memory:\n%s", r.System)
					}
				}
			}
			if want := map[string]int{"": 0, "model": 1}[rerank]; ranks != want || chats != 1 {
				t.Fatalf("%d re-ranking calls (want %d) and %d replies (want 1)", ranks, want, chats)
			}
		})
	}
}

// theoWithAMemory is a member who has met her, with one memory: "Theodore's
// garden has tomatoes" (mem_1).
func theoWithAMemory(t *testing.T, a *app.App) store.User {
	t.Helper()
	ctx, now := context.Background(), time.Now()
	u := store.User{ID: "usr_theo", Username: "theo", DisplayName: "Theodore", Role: store.RoleMember, PasswordHash: "x", CreatedAt: now}
	must(t, a.DB.CreateUser(ctx, u))
	must(t, a.DB.SavePersona(ctx, store.Persona{UserID: u.ID, Name: "Samantha", NamedAt: now, UpdatedAt: now}))
	must(t, a.DB.SaveProfile(ctx, store.Profile{UserID: u.ID, Timezone: "UTC", OnboardedAt: now, UpdatedAt: now}))
	must(t, a.MemStore.AddItem(ctx, memory.Item{ID: "mem_1", UserID: u.ID, Kind: memory.KindFact, Text: "Theodore's garden has tomatoes",
		Sources: []string{"msg_0"}, Confidence: 0.9, Importance: 0.5, ValidFrom: now, CreatedAt: now}, nil))
	return u
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
