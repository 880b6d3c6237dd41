package server_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store"
)

// nearEverything embeds every query as the same vector; the messages below
// are indexed at cosine 0.5 from it, so every message is a vector neighbour
// of every query (as a one-word query is with a real sentence model): the
// case where search listed everything. One message is indexed at cosine 1.
type nearEverything struct{}

func (nearEverything) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i := range texts {
		out[i] = []float32{1, 1, 1, 1}
	}
	return out, nil
}

// Issue 10: searching "Maya" listed every message. Only messages that hold
// the word come back, and marks say where, in code points.
func TestMemorySearchOnlyMatches(t *testing.T) {
	e := newEnv(t, true)
	mem := sqlitemem.New(e.db.SQL(), sqlitemem.Options{Clock: e.clock})
	d := e.srv.Deps
	d.Memory = &server.Memory{Store: mem, Recaller: recall.New(mem, nearEverything{}, e.clock, recall.DefaultOptions())}
	e.srv = server.New(d)
	hs := httptest.NewUnstartedServer(nil)
	hs.Config = e.srv.HTTPServer("")
	hs.Start()
	t.Cleanup(hs.Close)
	e.http = hs
	o := e.owner()
	uid := o.user["id"].(string)

	ctx := context.Background()
	t0 := e.clock.Now()
	if err := e.db.CreateConversation(ctx, store.Conversation{ID: "c1", UserID: uid, Title: "Chat", CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{"m1": "hello", "m2": "A fresh start.", "m3": "Café ☕ with Maya, then maya's flat.", "m4": "Pasta again.", "m5": "I miss Maya.", "m6": "Dinner at eight."}
	for i, id := range []string{"m1", "m2", "m3", "m4", "m5", "m6"} {
		at := t0.Add(time.Duration(i) * time.Minute)
		if err := e.db.AppendMessage(ctx, store.Message{ID: id, ConversationID: "c1", UserID: uid, Role: store.RoleUser, Content: texts[id], Status: store.StatusComplete, CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
		vec := []float32{0, 0, 1, 0} // cosine 0.5
		if id == "m6" {
			vec = []float32{1, 1, 1, 1} // cosine 1: close in meaning, no word in common
		}
		if err := mem.IndexMessage(ctx, memory.MessageDoc{ID: id, UserID: uid, ConversationID: "c1", Role: "user", Text: texts[id], Time: at}, vec); err != nil {
			t.Fatal(err)
		}
	}

	res := o.want(200, "GET", "/api/memory?q=Maya", nil)["results"].([]any)
	got := ids(res, "id")
	slices.Sort(got)
	if !slices.Equal(got, []string{"m3", "m5", "m6"}) {
		t.Fatalf("search Maya = %v, want only m3 and m5 (the word) and m6 (the meaning)", got)
	}
	for _, x := range res {
		h := x.(map[string]any)
		text := []rune(h["text"].(string))
		var words []string
		for _, m := range h["marks"].([]any) {
			r := m.([]any)
			words = append(words, string(text[int(r[0].(float64)):int(r[1].(float64))]))
		}
		// The tokenizer splits "maya's" at the apostrophe.
		want := map[string][]string{"m3": {"Maya", "maya"}, "m5": {"Maya"}}[h["id"].(string)]
		if !slices.Equal(words, want) {
			t.Errorf("%s marks %q (%v), want %q", h["id"], words, h["marks"], want)
		}
	}
	if res := o.want(200, "GET", "/api/memory?q=pizza+please", nil)["results"].([]any); !slices.Equal(ids(res, "id"), []string{"m6"}) {
		t.Errorf("search with no matching word = %v, want only m6 (close in meaning)", ids(res, "id"))
	}
}
