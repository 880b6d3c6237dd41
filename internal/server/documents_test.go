package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/documents/sqlitedocs"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

func newDocumentsEnv(t *testing.T) *env {
	t.Helper()
	r := testrig.New(t)
	mm := r.Models(false)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	docs := documents.New(sqlitedocs.New(r.DB), r.Clock, clock.RandomIDs{})
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Documents: docs})
	return &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
}

// TestDocumentsOverHTTP: create, save versions, history, diff, restore and
// delete; a stale save is a 409 carrying the current document.
func TestDocumentsOverHTTP(t *testing.T) {
	e := newDocumentsEnv(t)
	o := e.owner()
	d := o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "For Chris", "body": "Dear Chris,\nHappy birthday.\nLove, Sam"})
	id, _ := d["id"].(string)
	if id == "" || d["version"] != 1.0 || d["kind"] != "letter" || d["source"] != "user" {
		t.Fatalf("created %v", d)
	}
	e.clock.Advance(time.Minute)
	d2 := o.want(http.StatusOK, "PUT", "/api/documents/"+id, map[string]any{"body": "Dear Chris,\nHappy 50th birthday!\nLove, Sam", "base_version": 1})
	if d2["version"] != 2.0 || d2["title"] != "For Chris" {
		t.Fatalf("saved %v", d2)
	}
	// Another tab still on version 1.
	r := o.do("PUT", "/api/documents/"+id, map[string]any{"body": "Dear Chris, from the other tab", "base_version": 1})
	if r.Status != http.StatusConflict || r.code() != "conflict" {
		t.Fatalf("stale save: %d %s", r.Status, r.Body)
	}
	sentenceCase(t, "conflict", r)
	var conflict struct {
		Current documents.Document `json:"current"`
	}
	if err := json.Unmarshal(r.Body, &conflict); err != nil || conflict.Current.Version != 2 || !strings.Contains(conflict.Current.Body, "50th") {
		t.Fatalf("conflict's current: %+v, %v", conflict.Current, err)
	}
	if r := o.do("PUT", "/api/documents/"+id, map[string]any{"body": "x"}); r.Status != http.StatusBadRequest {
		t.Fatalf("a save without base_version: %d %s", r.Status, r.Body)
	}

	list := o.want(http.StatusOK, "GET", "/api/documents", nil)["documents"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["body"] != "" || list[0].(map[string]any)["version"] != 2.0 {
		t.Fatalf("list: %v", list)
	}
	vs := o.want(http.StatusOK, "GET", "/api/documents/"+id+"/versions", nil)["versions"].([]any)
	if len(vs) != 2 || vs[0].(map[string]any)["n"] != 2.0 || vs[1].(map[string]any)["source"] != "user" {
		t.Fatalf("versions: %v", vs)
	}
	v1 := o.want(http.StatusOK, "GET", "/api/documents/"+id+"/versions/1", nil)
	if v1["body"] != "Dear Chris,\nHappy birthday.\nLove, Sam" {
		t.Fatalf("version 1: %v", v1)
	}
	diff := o.want(http.StatusOK, "GET", "/api/documents/"+id+"/diff?from=1&to=2", nil)
	b, _ := json.Marshal(diff["lines"])
	if want := `[{"op":"=","text":"Dear Chris,"},{"op":"-","text":"Happy birthday."},{"op":"+","text":"Happy 50th birthday!"},{"op":"=","text":"Love, Sam"}]`; string(b) != want {
		t.Fatalf("diff: %s", b)
	}
	if d := o.want(http.StatusOK, "GET", "/api/documents/"+id+"/diff?from=2", nil); d["to"] != 2.0 || len(d["lines"].([]any)) != 3 {
		t.Fatalf("diff to the current version: %v", d)
	}
	for _, q := range []string{"", "?from=0", "?from=x&to=2", "?from=1&to=-1"} {
		if r := o.do("GET", "/api/documents/"+id+"/diff"+q, nil); r.Status != http.StatusBadRequest {
			t.Fatalf("diff%s: %d %s", q, r.Status, r.Body)
		} else {
			sentenceCase(t, "diff"+q, r)
		}
	}
	if r := o.do("GET", "/api/documents/"+id+"/diff?from=1&to=9", nil); r.Status != http.StatusNotFound {
		t.Fatalf("diff to a missing version: %d", r.Status)
	}
	e.clock.Advance(time.Minute)
	res := o.want(http.StatusOK, "POST", "/api/documents/"+id+"/versions/1/restore", nil)
	if res["version"] != 3.0 || res["source"] != "restore" || res["body"] != v1["body"] {
		t.Fatalf("restored: %v", res)
	}
	if vs := o.want(http.StatusOK, "GET", "/api/documents/"+id+"/versions", nil)["versions"].([]any); len(vs) != 3 {
		t.Fatalf("versions after restore: %v", vs)
	}
	broken := "# Not [closed(\n```\n**"
	if bd := o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"kind": "note", "body": broken}); bd["body"] != broken || bd["title"] != "Not [closed(" {
		t.Fatalf("broken Markdown: %v", bd)
	}
	if r := o.do("POST", "/api/documents", map[string]any{"kind": "poem", "body": "x"}); r.Status != http.StatusBadRequest {
		t.Fatalf("bad kind: %d", r.Status)
	} else {
		sentenceCase(t, "bad kind", r)
	}
	o.want(http.StatusNoContent, "DELETE", "/api/documents/"+id, nil)
	if r := o.do("GET", "/api/documents/"+id, nil); r.Status != http.StatusNotFound {
		t.Fatalf("get after delete: %d", r.Status)
	}
}

// TestDocumentsAreEachUsersOwn: every endpoint answers 404 for another
// user's document, and their lists are apart.
func TestDocumentsAreEachUsersOwn(t *testing.T) {
	e := newDocumentsEnv(t)
	o := e.owner()
	d := o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "Private", "body": "the owner's words"})
	id := d["id"].(string)
	m := e.member(o, "ana")
	if l := m.want(http.StatusOK, "GET", "/api/documents", nil)["documents"].([]any); len(l) != 0 {
		t.Fatalf("another user lists %v", l)
	}
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/documents/" + id, nil},
		{"PUT", "/api/documents/" + id, map[string]any{"body": "ana's", "base_version": 1}},
		{"DELETE", "/api/documents/" + id, nil},
		{"GET", "/api/documents/" + id + "/versions", nil},
		{"GET", "/api/documents/" + id + "/versions/1", nil},
		{"GET", "/api/documents/" + id + "/diff?from=1&to=1", nil},
		{"POST", "/api/documents/" + id + "/versions/1/restore", nil},
	} {
		if r := m.do(req.method, req.path, req.body); r.Status != http.StatusNotFound || r.code() != "not_found" {
			t.Errorf("%s %s by another user: %d %s", req.method, req.path, r.Status, r.Body)
		}
	}
	if got := o.want(http.StatusOK, "GET", "/api/documents/"+id, nil); got["body"] != "the owner's words" || got["version"] != 1.0 {
		t.Fatalf("the owner's document after another user's tries: %v", got)
	}
	if r := e.client().do("GET", "/api/documents", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("signed out: %d", r.Status)
	}
}

// TestDocumentLimits: a body up to 5 MB is kept whole; beyond is a 413
// saying the limit, for a new document and for a save.
func TestDocumentLimits(t *testing.T) {
	e := newDocumentsEnv(t)
	o := e.owner()
	full := strings.Repeat("word ", documents.MaxBodyBytes/5)
	d := o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "Five MB", "body": full})
	if got := o.want(http.StatusOK, "GET", fmt.Sprintf("/api/documents/%s", d["id"]), nil); got["body"] != full {
		t.Fatalf("a 5 MB body came back as %d bytes", len(got["body"].(string)))
	}
	over := full + "x"
	r := o.do("POST", "/api/documents", map[string]any{"title": "Too big", "body": over})
	if r.Status != http.StatusRequestEntityTooLarge || r.code() != "payload_too_large" || !strings.Contains(string(r.Body), "5 MB") {
		t.Fatalf("over 5 MB: %d %s", r.Status, r.Body)
	}
	sentenceCase(t, "over 5 MB", r)
	if r := o.do("PUT", fmt.Sprintf("/api/documents/%s", d["id"]), map[string]any{"body": over, "base_version": 1}); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("saving over 5 MB: %d %s", r.Status, r.Body)
	}
	// A request far past any document is cut off while reading.
	huge := strings.Repeat("\n", server.MaxDocumentRequestBytes)
	if r := o.do("POST", "/api/documents", map[string]any{"body": huge}); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a huge request: %d %.200s", r.Status, r.Body)
	} else {
		sentenceCase(t, "huge request", r)
	}
	if vs := o.want(http.StatusOK, "GET", fmt.Sprintf("/api/documents/%s/versions", d["id"]), nil)["versions"].([]any); len(vs) != 1 {
		t.Fatalf("a refused save made a version: %v", vs)
	}
}

// TestMemorySearchFindsDocuments: the memory page's search finds the
// user's documents as hits of kind "document", with the title, the
// passage that matched and a link; another user's documents never show.
func TestMemorySearchFindsDocuments(t *testing.T) {
	e := newDocumentsEnv(t)
	mem := sqlitemem.New(e.db.SQL(), sqlitemem.Options{Clock: e.clock})
	d := e.srv.Deps
	d.Memory = &server.Memory{Store: mem, Recaller: recall.New(mem, nil, e.clock, recall.DefaultOptions())}
	e.srv = server.New(d)
	hs := httptest.NewUnstartedServer(nil)
	hs.Config = e.srv.HTTPServer("")
	hs.Start()
	t.Cleanup(hs.Close)
	e.http = hs
	o := e.owner()
	doc := o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "For Chris",
		"body": "Dear Chris,\n\nFifty years! I still laugh about the lighthouse and the ferry we missed.\n\nLove, Sam"})
	o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "Groceries", "kind": "note", "body": "eggs and bread"})
	m := e.member(o, "ana")
	m.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "Ana's lighthouse", "body": "Ana's own lighthouse story"})

	for _, q := range []string{"/api/memory?q=lighthouse", "/api/memory?q=lighthouse&kind=document"} {
		res := o.want(http.StatusOK, "GET", q, nil)["results"].([]any)
		if len(res) != 1 {
			t.Fatalf("%s: %v", q, res)
		}
		h := res[0].(map[string]any)
		ref, _ := h["document"].(map[string]any)
		if h["kind"] != "document" || h["id"] != doc["id"] || ref == nil || ref["url"] != "/#/desk/"+doc["id"].(string) || ref["title"] != "For Chris" {
			t.Fatalf("%s: hit %v", q, h)
		}
		if want := "For Chris — Fifty years! I still laugh about the lighthouse and the ferry we missed."; h["text"] != want {
			t.Fatalf("%s: text %q, want %q", q, h["text"], want)
		}
	}
	if res := o.want(http.StatusOK, "GET", "/api/memory?q=lighthouse&kind=fact", nil)["results"].([]any); len(res) != 0 {
		t.Fatalf("kind=fact holds documents: %v", res)
	}
	res := m.want(http.StatusOK, "GET", "/api/memory?q=lighthouse", nil)["results"].([]any)
	if len(res) != 1 || res[0].(map[string]any)["document"].(map[string]any)["title"] != "Ana's lighthouse" {
		t.Fatalf("ana's search: %v", res)
	}
}
