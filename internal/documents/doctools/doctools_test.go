package doctools_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/documents/doctools"
	"github.com/os1ai/os1/internal/documents/sqlitedocs"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

type env struct {
	rig  *testrig.Rig
	svc  *documents.Service
	comp *companion.Companion
	user string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	r := testrig.New(t)
	u := r.User("sam", store.RoleOwner)
	svc := documents.New(sqlitedocs.New(r.DB), r.Clock, clock.NewFakeIDs())
	reg := companion.NewRegistry()
	if err := reg.RegisterFrom(doctools.SourceName, doctools.Tools(svc)...); err != nil {
		t.Fatal(err)
	}
	comp := r.Companion(companion.Deps{Models: r.Models(true), Tools: reg}, companion.Options{})
	return &env{rig: r, svc: svc, comp: comp, user: u.ID}
}

// turn sends text and fails on an approval card: writing never waits.
func (e *env) turn(t *testing.T, text string) {
	t.Helper()
	conv, err := e.comp.CreateConversation(t.Context(), e.user, "")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := e.comp.Send(t.Context(), e.user, conv.ID, text)
	if err != nil {
		t.Fatal(err)
	}
	for ev := range evs {
		if ev.Type == companion.EvActionRequired {
			t.Fatal("writing a document waited for approval")
		}
	}
}

// "Draft a letter to Chris for her 50th from these notes": she reads the
// user's own letters for their voice, then writes a new letter, saved as a
// draft of hers (source os1) the user can open, change or throw away.
func TestDraftALetterInTheUsersVoice(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	own, err := e.svc.Create(ctx, e.user, documents.NewDocument{Title: "To Gran", Body: "Gran — you absolute legend. Ta ever so for the scarf.\n\nLove and mischief,\nSam x"})
	if err != nil {
		t.Fatal(err)
	}
	var offered []llm.Tool
	e.rig.LLM.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		offered = r.Tools
		return llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c1", Name: "documents_style", Arguments: []byte(`{}`)}}}
	})
	var style string
	body := "Chris — you absolute legend, fifty!\n\nRemember the lighthouse and the ferry we missed?\n\nLove and mischief,\nSam x"
	e.rig.LLM.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		style = r.Messages[len(r.Messages)-1].Content
		args, _ := json.Marshal(map[string]any{"title": "For Chris on her 50th", "kind": "letter", "body": body})
		return llmtest.Reply{ToolCalls: []llm.ToolCall{{ID: "c2", Name: "documents_write", Arguments: args}}}
	})
	var wrote string
	e.rig.LLM.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		wrote = r.Messages[len(r.Messages)-1].Content
		return llmtest.Reply{Chunks: []string{"I drafted it in your voice: have a look."}}
	})
	e.turn(t, "draft a letter to Chris for her 50th from these notes: lighthouse, missed ferry, fifty")

	names := map[string]string{}
	for _, tool := range offered {
		names[tool.Name] = tool.Description
	}
	for _, n := range []string{"documents_list", "documents_read", "documents_write", "documents_style"} {
		if names[n] == "" {
			t.Fatalf("%s not offered; offered %v", n, offered)
		}
	}
	if !strings.Contains(names["documents_style"], "must follow these") {
		t.Fatalf("documents_style does not say drafts must follow it: %q", names["documents_style"])
	}
	if !strings.Contains(style, "Gran — you absolute legend") || !strings.Contains(style, "To Gran") {
		t.Fatalf("style answered %q", style)
	}
	list, err := e.svc.List(ctx, e.user)
	if err != nil || len(list) != 2 || list[0].ID == own.ID {
		t.Fatalf("documents: %+v %v", list, err)
	}
	d, err := e.svc.Get(ctx, e.user, list[0].ID)
	if err != nil || d.Source != documents.SourceOS1 || d.Kind != documents.KindLetter || d.Title != "For Chris on her 50th" || d.Body != body || d.Version != 1 {
		t.Fatalf("the draft: %+v %v", d, err)
	}
	if !strings.Contains(wrote, d.ID) || !strings.Contains(wrote, "/#/desk/"+d.ID) {
		t.Fatalf("write answered %q", wrote)
	}
	// Her draft is not the user's voice: style still shows only Gran's letter.
	if ss, _ := e.svc.Style(ctx, e.user, 5, 100); len(ss) != 1 || ss[0].DocumentID != own.ID {
		t.Fatalf("style after her draft: %+v", ss)
	}
}

// "Make it warmer": she reads the letter and writes a new version of it;
// the user's earlier version stays restorable. A stale base version is
// refused, so a newer edit of the user's is never overwritten, and
// another user's document cannot be read or written.
func TestReviseKeepsEveryVersion(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	d, _ := e.svc.Create(ctx, e.user, documents.NewDocument{Title: "For Chris", Body: "Happy birthday."})
	tools := map[string]companion.Tool{}
	for _, tool := range doctools.Tools(e.svc) {
		tools[tool.Name] = tool
	}
	run := func(user, name string, args map[string]any) (string, error) {
		raw, _ := json.Marshal(args)
		return tools[name].Run(ctx, companion.Call{UserID: user, Args: raw})
	}
	out, err := run(e.user, "read", map[string]any{"id": d.ID})
	if err != nil || !strings.Contains(out, "version 1") || !strings.HasSuffix(out, "Happy birthday.") {
		t.Fatalf("read: %q %v", out, err)
	}
	out, err = run(e.user, "write", map[string]any{"id": d.ID, "body": "Happy birthday, my dear friend. Fifty looks wonderful on you.", "base_version": 1})
	if err != nil || !strings.Contains(out, "version 2") {
		t.Fatalf("write: %q %v", out, err)
	}
	cur, _ := e.svc.Get(ctx, e.user, d.ID)
	if cur.Version != 2 || cur.Source != documents.SourceOS1 || cur.Title != "For Chris" {
		t.Fatalf("after write: %+v", cur)
	}
	if v1, _ := e.svc.Version(ctx, e.user, d.ID, 1); v1.Body != "Happy birthday." {
		t.Fatalf("version 1 lost: %+v", v1)
	}
	// The user edits in the editor; her write on version 2 is refused.
	e.svc.Save(ctx, e.user, d.ID, documents.Edit{Body: "The user's own newer words.", BaseVersion: 2})
	if _, err := run(e.user, "write", map[string]any{"id": d.ID, "body": "Overwrite?", "base_version": 2}); err == nil || !strings.Contains(err.Error(), "read it again") {
		t.Fatalf("a stale write: %v", err)
	}
	if cur, _ := e.svc.Get(ctx, e.user, d.ID); cur.Body != "The user's own newer words." {
		t.Fatalf("the user's edit was overwritten: %+v", cur)
	}
	if out, err := run(e.user, "read", map[string]any{"id": d.ID, "version": 1}); err != nil || !strings.HasSuffix(out, "Happy birthday.") {
		t.Fatalf("read version 1: %q %v", out, err)
	}
	if out, _ := run(e.user, "list", map[string]any{}); !strings.Contains(out, d.ID) || !strings.Contains(out, "version 3") {
		t.Fatalf("list: %q", out)
	}
	ben := e.rig.User("ben", store.RoleMember).ID
	for _, c := range []struct {
		name string
		args map[string]any
	}{{"read", map[string]any{"id": d.ID}}, {"write", map[string]any{"id": d.ID, "body": "ben's"}}} {
		if _, err := run(ben, c.name, c.args); err == nil {
			t.Fatalf("ben's %s of sam's document worked", c.name)
		}
	}
	if out, _ := run(ben, "list", nil); !strings.Contains(out, "no documents") {
		t.Fatalf("ben's list: %q", out)
	}
}

// The recall tool lists matching documents as their own kind of hit.
func TestRecallListsDocuments(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	d, _ := e.svc.Create(ctx, e.user, documents.NewDocument{Title: "For Chris", Body: "Intro.\n\nThe lighthouse walk in the rain.\n\nLove, Sam"})
	base := companion.Tool{Name: "recall", Description: "Search memory.", Run: func(context.Context, companion.Call) (string, error) {
		return "Memory: nothing about that.", nil
	}}
	tool := doctools.Recall(base, e.svc)
	out, err := tool.Run(ctx, companion.Call{UserID: e.user, Args: []byte(`{"query":"the lighthouse"}`)})
	if err != nil || !strings.HasPrefix(out, "Memory: nothing about that.") ||
		!strings.Contains(out, "[document "+d.ID+"] letter “For Chris”, version 1 (/#/desk/"+d.ID+"): The lighthouse walk in the rain.") {
		t.Fatalf("recall: %q %v", out, err)
	}
	ben := e.rig.User("ben", store.RoleMember).ID
	if out, _ := tool.Run(ctx, companion.Call{UserID: ben, Args: []byte(`{"query":"lighthouse"}`)}); strings.Contains(out, "document") {
		t.Fatalf("ben's recall shows sam's document: %q", out)
	}
	if out, _ := tool.Run(ctx, companion.Call{UserID: e.user, Args: []byte(`{"query":"zebra"}`)}); out != "Memory: nothing about that." {
		t.Fatalf("no match: %q", out)
	}
}
