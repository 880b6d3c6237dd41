package server_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/testrig"
)

// say runs one turn in a new conversation titled title and returns its ID.
func (c *client) say(title, text, reply string) string {
	c.e.t.Helper()
	c.e.clock.Advance(time.Minute) // each conversation is newer than the last
	id := c.want(http.StatusCreated, "POST", "/api/conversations", map[string]string{"title": title})["id"].(string)
	c.e.llm.Enqueue(llmtest.Reply{Chunks: []string{reply}})
	c.turn("/api/conversations/"+id+"/messages", map[string]string{"text": text})
	return id
}

// list is GET /api/conversations (with ?q= when q is set): IDs in order,
// and each conversation by ID.
func (c *client) list(q string) ([]string, map[string]map[string]any) {
	c.e.t.Helper()
	path := "/api/conversations"
	if q != "" {
		path += "?q=" + url.QueryEscape(q)
	}
	var ids []string
	byID := map[string]map[string]any{}
	for _, x := range c.want(http.StatusOK, "GET", path, nil)["conversations"].([]any) {
		m := x.(map[string]any)
		ids = append(ids, m["id"].(string))
		byID[m["id"].(string)] = m
	}
	return ids, byID
}

func TestConversationSearchPinAndArchive(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	garden := o.say("Weekend", "I planted TOMATOES today.", "Lovely, which kind?")
	trip := o.say("Lisbon in May", "Where should we eat?", "Try the pastéis in Belém.")
	amy := e.member(o, "amy")
	amys := amy.say("Mine", "My tomatoes in Lisbon died.", "I am sorry.")

	for _, tc := range []struct {
		who  *client
		q    string
		want []string
	}{
		{o, "tomato", []string{garden}},             // a word of the user's message, any case
		{o, "belém", []string{trip}},                // a word of her reply
		{o, "lisbon", []string{trip}},               // the title; never Amy's conversation
		{o, "tomatoes lisbon", nil},                 // every word must match
		{amy, "tomatoes", []string{amys}},           // Amy finds only hers
		{amy, "weekend", nil},                       // not the owner's titles either
		{o, "   ", []string{trip, garden}},          // blank: the whole list
		{o, "which kind", []string{garden}},         // several words of one reply
		{o, "nothing like this", nil},               //
		{o, "%", nil},                               // no wildcards
		{amy, "died", []string{amys}},               //
		{o, strings.Repeat("a", 200), nil},          // the longest search
		{o, "i", []string{trip, garden}},            // newest first
		{o, "Where should we eat?", []string{trip}}, //
	} {
		ids, _ := tc.who.list(tc.q)
		if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
			t.Errorf("search %q = %v, want %v", tc.q, ids, tc.want)
		}
	}
	if r := o.do("GET", "/api/conversations?q="+strings.Repeat("a", 201), nil); r.Status != http.StatusBadRequest {
		t.Errorf("a search of 201 characters: %d %s, want 400", r.Status, r.Body)
	}

	// Pinning moves a conversation to the top; it stays there after newer activity elsewhere.
	pinned := o.want(http.StatusOK, "PATCH", "/api/conversations/"+garden, map[string]any{"pinned": true})
	if pinned["pinned"] != true || pinned["archived"] != false {
		t.Errorf("PATCH pinned: %v", pinned)
	}
	newer := o.say("Later", "Good night.", "Sleep well.")
	if ids, _ := o.list(""); strings.Join(ids, ",") != strings.Join([]string{garden, newer, trip}, ",") {
		t.Errorf("list after pinning = %v, want the pinned one first, then newest first", ids)
	}
	// Archived conversations stay in the list, marked; search finds them too.
	o.want(http.StatusOK, "PATCH", "/api/conversations/"+trip, map[string]any{"archived": true})
	_, byID := o.list("")
	if byID[trip]["archived"] != true || byID[garden]["archived"] != false {
		t.Errorf("archived flags: %v / %v", byID[trip], byID[garden])
	}
	if _, found := o.list("lisbon"); found[trip]["archived"] != true {
		t.Errorf("search lost the archived conversation or its mark: %v", found)
	}
	o.want(http.StatusOK, "PATCH", "/api/conversations/"+trip, map[string]any{"archived": false})
	o.want(http.StatusOK, "PATCH", "/api/conversations/"+garden, map[string]any{"pinned": false})
	if ids, _ := o.list(""); strings.Join(ids, ",") != strings.Join([]string{newer, trip, garden}, ",") {
		t.Errorf("list after unpinning = %v, want newest first (pin and archive do not move it)", ids)
	}

	// A rename is the user's title.
	renamed := o.want(http.StatusOK, "PATCH", "/api/conversations/"+garden, map[string]any{"title": " My\tgarden "})
	if renamed["title"] != "My garden" || renamed["title_source"] != "user" {
		t.Errorf("renamed: %v", renamed)
	}
	for _, bad := range []any{map[string]any{}, map[string]any{"title": ""}, map[string]any{"title": strings.Repeat("x", 201)},
		map[string]any{"pinned": "yes"}, map[string]any{"colour": "red"}} {
		if r := o.do("PATCH", "/api/conversations/"+garden, bad); r.Status != http.StatusBadRequest {
			t.Errorf("PATCH %v: %d %s, want 400", bad, r.Status, r.Body)
		}
	}

	// Another user's conversation does not exist for Amy, whatever she asks.
	for _, body := range []map[string]any{{"pinned": true}, {"archived": true}, {"title": "mine now"}} {
		if r := amy.do("PATCH", "/api/conversations/"+garden, body); r.Status != http.StatusNotFound {
			t.Errorf("Amy PATCH %v on the owner's conversation: %d %s, want 404", body, r.Status, r.Body)
		}
	}
	if r := o.do("PATCH", "/api/conversations/"+amys, map[string]any{"pinned": true}); r.Status != http.StatusNotFound {
		t.Errorf("the owner pins Amy's conversation: %d %s, want 404", r.Status, r.Body)
	}
	_, byID = o.list("")
	if c := byID[garden]; c["title"] != "My garden" || c["pinned"] != false || c["archived"] != false {
		t.Errorf("the owner's conversation changed after Amy's tries: %v", c)
	}
}

func TestConversationModelIsTheOwners(t *testing.T) {
	e := newEnv(t, true)
	e.llm.SetModels(testrig.ModelName, "big-model")
	o := e.owner()
	conv := o.say("Weekend", "Hello.", "Hi.")

	got := o.want(http.StatusOK, "PATCH", "/api/conversations/"+conv, map[string]any{"model": "big-model"})
	if got["model"] != "big-model" {
		t.Fatalf("PATCH model: %v", got)
	}
	if r := o.do("PATCH", "/api/conversations/"+conv, map[string]any{"model": "not-listed"}); r.Status != http.StatusBadRequest {
		t.Errorf("a model the server does not list: %d %s, want 400", r.Status, r.Body)
	}
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Still here."}})
	o.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "Are you there?"})
	reqs := e.llm.Requests()
	if last := reqs[len(reqs)-1]; last.Model != "big-model" {
		t.Errorf("the turn asked for %q, want the conversation's big-model", last.Model)
	}
	// The choice persists: a reload shows it.
	if c := o.want(http.StatusOK, "GET", "/api/conversations/"+conv, nil)["conversation"].(map[string]any); c["model"] != "big-model" {
		t.Errorf("GET conversation: %v", c)
	}

	// Members never pick: their own conversations and others' alike answer 403.
	amy := e.member(o, "amy")
	amys := amy.say("Mine", "Hello.", "Hi.")
	for _, id := range []string{amys, conv} {
		r := amy.do("PATCH", "/api/conversations/"+id, map[string]any{"model": "big-model"})
		if r.Status != http.StatusForbidden || r.code() != "forbidden" {
			t.Errorf("Amy picks a model for %s: %d %s, want 403", id, r.Status, r.Body)
		}
	}
	if r := o.do("PATCH", "/api/conversations/"+amys, map[string]any{"model": "big-model"}); r.Status != http.StatusNotFound {
		t.Errorf("the owner picks a model for Amy's conversation: %d %s, want 404", r.Status, r.Body)
	}
	// Back to the server's model.
	if got := o.want(http.StatusOK, "PATCH", "/api/conversations/"+conv, map[string]any{"model": ""}); got["model"] != "" {
		t.Errorf("reset: %v", got)
	}
}
