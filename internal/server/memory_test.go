package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/memory/transfer"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store"
)

// withMemory serves env's data from a server with the memory endpoints
// wired (SQLite memory store in the same file, full-text recall).
func withMemory(e *env) *sqlitemem.Store {
	mem := sqlitemem.New(e.db.SQL(), sqlitemem.Options{Clock: e.clock})
	d := e.srv.Deps
	d.Memory = &server.Memory{Store: mem, Recaller: recall.New(mem, nil, e.clock, recall.DefaultOptions())}
	e.srv = server.New(d)
	hs := httptest.NewUnstartedServer(nil)
	hs.Config = e.srv.HTTPServer("")
	hs.Start()
	e.t.Cleanup(hs.Close)
	e.http = hs
	return mem
}

// seedMemory gives a user a conversation with two messages, a person, a
// belief that replaced an older one, and a preference. IDs carry prefix.
func seedMemory(t *testing.T, e *env, mem *sqlitemem.Store, userID, prefix string) (conv string) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	t0 := e.clock.Now()
	conv = prefix + "cnv"
	must(e.db.CreateConversation(ctx, store.Conversation{ID: conv, UserID: userID, Title: "Family", CreatedAt: t0, UpdatedAt: t0}))
	for i, text := range []string{"My secret sister Catherine moved to Boston.", "Actually she lives in Cambridge now."} {
		id := prefix + []string{"m1", "m2"}[i]
		at := t0.Add(time.Duration(i) * time.Hour)
		must(e.db.AppendMessage(ctx, store.Message{ID: id, ConversationID: conv, UserID: userID, Role: store.RoleUser, Content: text, Status: store.StatusComplete, CreatedAt: at, UpdatedAt: at}))
		must(mem.IndexMessage(ctx, memory.MessageDoc{ID: id, UserID: userID, ConversationID: conv, Role: "user", Text: text, Time: at}, nil))
	}
	must(mem.SaveEntity(ctx, memory.Entity{ID: prefix + "cat", UserID: userID, Name: "Catherine", Aliases: []string{"Cat"}, Relation: "sister", Sources: []string{prefix + "m1"}}))
	must(mem.AddItem(ctx, memory.Item{ID: prefix + "boston", UserID: userID, Kind: memory.KindFact, Text: "The secret sister Catherine lives in Boston.",
		EntityIDs: []string{prefix + "cat"}, Sources: []string{prefix + "m1"}, Confidence: 0.9, Importance: 0.6, ValidFrom: t0}, nil))
	must(mem.Supersede(ctx, userID, prefix+"boston", memory.Item{ID: prefix + "cambridge", Kind: memory.KindFact, Text: "The secret sister Catherine lives in Cambridge.",
		EntityIDs: []string{prefix + "cat"}, Sources: []string{prefix + "m2"}, Confidence: 0.9, Importance: 0.6, ValidFrom: t0.Add(time.Hour)}, nil, t0.Add(time.Hour)))
	must(mem.AddItem(ctx, memory.Item{ID: prefix + "tea", UserID: userID, Kind: memory.KindPreference, Text: "Likes secret green tea.",
		Sources: []string{prefix + "m1"}, Confidence: 0.7, Importance: 0.3, ValidFrom: t0.Add(2 * time.Hour)}, nil))
	return conv
}

func ids(list []any, key string) []string {
	var out []string
	for _, x := range list {
		out = append(out, x.(map[string]any)[key].(string))
	}
	return out
}

func TestMemoryAPI(t *testing.T) {
	e := newEnv(t, true)
	mem := withMemory(e)
	o := e.owner()
	uid := o.user["id"].(string)
	conv := seedMemory(t, e, mem, uid, "a_")

	// List: current items, newest first; kind filter; history.
	if got := ids(o.want(200, "GET", "/api/memory", nil)["items"].([]any), "id"); strings.Join(got, " ") != "a_tea a_cambridge" {
		t.Fatalf("list %v", got)
	}
	if got := ids(o.want(200, "GET", "/api/memory?kind=fact&history=true", nil)["items"].([]any), "id"); strings.Join(got, " ") != "a_cambridge a_boston" {
		t.Fatalf("facts with history %v", got)
	}
	if got := o.want(200, "GET", "/api/memory?limit=1&offset=1", nil)["items"].([]any); len(got) != 1 || ids(got, "id")[0] != "a_cambridge" {
		t.Fatalf("page 2 %v", got)
	}
	for _, bad := range []string{"?kind=rumour", "?kind=message", "?limit=-1", "?limit=9999", "?history=maybe"} {
		if r := o.do("GET", "/api/memory"+bad, nil); r.Status != 400 || r.code() != "bad_request" {
			t.Errorf("GET /api/memory%s = %d %s", bad, r.Status, r.Body)
		}
	}

	// Search: items and the messages themselves, messages with their conversation.
	res := o.want(200, "GET", "/api/memory?q=Cambridge", nil)["results"].([]any)
	var sawItem, sawMsg bool
	for _, x := range res {
		h := x.(map[string]any)
		switch h["kind"] {
		case "item":
			sawItem = sawItem || h["id"] == "a_cambridge" && h["item"].(map[string]any)["kind"] == "fact"
		case "message":
			sawMsg = sawMsg || h["id"] == "a_m2" && h["conversation_id"] == conv
		}
	}
	if !sawItem || !sawMsg {
		t.Fatalf("search results %v", res)
	}
	if res := o.want(200, "GET", "/api/memory?q=tea&kind=preference", nil)["results"].([]any); len(res) != 1 || ids(res, "id")[0] != "a_tea" {
		t.Fatalf("search preferences %v", res)
	}

	// One item: the messages it came from, its history, its people.
	got := o.want(200, "GET", "/api/memory/a_cambridge", nil)
	src := got["sources"].([]any)
	if len(src) != 1 || src[0].(map[string]any)["id"] != "a_m2" || src[0].(map[string]any)["conversation_id"] != conv || src[0].(map[string]any)["content"] == "" {
		t.Fatalf("sources %v", src)
	}
	if h := ids(got["history"].([]any), "id"); len(h) != 1 || h[0] != "a_boston" {
		t.Fatalf("history %v", h)
	}
	if p := ids(got["people"].([]any), "name"); len(p) != 1 || p[0] != "Catherine" || ids(got["conversations"].([]any), "title")[0] != "Family" {
		t.Fatalf("people %v, conversations %v", p, got["conversations"])
	}
	if old := o.want(200, "GET", "/api/memory/a_boston", nil)["item"].(map[string]any); old["current"] != false || old["superseded_by"] != "a_cambridge" || old["valid_to"] == nil {
		t.Fatalf("old belief %v", old)
	}

	// Edit.
	it := o.want(200, "PATCH", "/api/memory/a_tea", map[string]any{"text": "Loves jasmine tea.", "kind": "fact", "importance": 0.9, "event_time": "2026-12-01T10:00:00Z"})
	if it["text"] != "Loves jasmine tea." || it["kind"] != "fact" || it["importance"] != 0.9 || it["event_time"] != "2026-12-01T10:00:00Z" {
		t.Fatalf("patched %v", it)
	}
	if it := o.want(200, "PATCH", "/api/memory/a_tea", map[string]any{"event_time": nil}); it["event_time"] != nil {
		t.Fatalf("cleared event time: %v", it)
	}
	if r := o.want(200, "GET", "/api/memory?q=jasmine", nil)["results"].([]any); len(r) != 1 {
		t.Fatalf("search after edit %v", r)
	}
	for _, bad := range []map[string]any{{"text": "  "}, {"kind": "rumour"}, {"importance": 2}, {"event_time": "soon"}, {"entity_ids": []string{"nobody"}}, {"colour": "red"}} {
		if r := o.do("PATCH", "/api/memory/a_tea", bad); r.Status != 400 {
			t.Errorf("PATCH %v = %d %s", bad, r.Status, r.Body)
		}
	}

	// People.
	people := o.want(200, "GET", "/api/people", nil)["people"].([]any)
	if len(people) != 1 || people[0].(map[string]any)["item_count"] != 1.0 || people[0].(map[string]any)["relation"] != "sister" {
		t.Fatalf("people %v", people)
	}
	p := o.want(200, "GET", "/api/people/a_cat", nil)
	if p["person"].(map[string]any)["aliases"].([]any)[0] != "Cat" || ids(p["items"].([]any), "id")[0] != "a_cambridge" {
		t.Fatalf("person %v", p)
	}

	// Export.
	r := o.do("GET", "/api/memory/export?format=markdown", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/markdown") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), `filename="os1-memory-theo-2026-11-25.md"`) || !strings.Contains(string(r.Body), "Cambridge") {
		t.Fatalf("markdown export %d %v %s", r.Status, r.Header, r.Body)
	}
	exp := o.do("GET", "/api/memory/export", nil)
	var ex transfer.Export
	if err := json.Unmarshal(exp.Body, &ex); err != nil || ex.Format != "os1-memory" || len(ex.Items) != 3 || len(ex.Conversations) != 1 {
		t.Fatalf("json export %v: %s", err, exp.Body)
	}

	// Forget, with the source messages: gone from search and from lists.
	if r := o.do("DELETE", "/api/memory/a_cambridge?sources=true", nil); r.Status != 204 {
		t.Fatalf("forget %d %s", r.Status, r.Body)
	}
	if r := o.do("GET", "/api/memory/a_cambridge", nil); r.Status != 404 {
		t.Fatalf("forgotten item %d", r.Status)
	}
	for _, h := range o.want(200, "GET", "/api/memory?q=Cambridge", nil)["results"].([]any) {
		if id := h.(map[string]any)["id"]; id == "a_cambridge" || id == "a_m2" {
			t.Fatalf("search still finds %s", id)
		}
	}
	if msgs := o.messages(conv); len(msgs) != 2 {
		t.Fatal("forgetting removed messages from their conversation")
	}
}

func TestMemoryImportAPI(t *testing.T) {
	e := newEnv(t, true)
	mem := withMemory(e)
	o := e.owner()
	seedMemory(t, e, mem, o.user["id"].(string), "a_")
	body := o.do("GET", "/api/memory/export", nil).Body

	// The same file on the same server clashes (IDs are unique per database).
	b := e.member(o, "amy")
	if r := b.raw("POST", "/api/memory/import?dry_run=true", body, nil); r.Status != 409 || r.code() != "conflict" {
		t.Fatalf("import of clashing ids: %d %s", r.Status, r.Body)
	}
	// Renamed IDs import, first as a dry run.
	renamed := []byte(strings.ReplaceAll(string(body), `"a_`, `"b_`))
	rep := b.want(200, "POST", "/api/memory/import?dry_run=true", json.RawMessage(renamed))
	if rep["dry_run"] != true || rep["items"] != 3.0 || rep["messages"] != 2.0 {
		t.Fatalf("dry run %v", rep)
	}
	if got := b.want(200, "GET", "/api/memory", nil)["items"].([]any); len(got) != 0 {
		t.Fatal("dry run imported")
	}
	if rep := b.want(201, "POST", "/api/memory/import", json.RawMessage(renamed)); rep["items"] != 3.0 {
		t.Fatalf("import %v", rep)
	}
	if got := ids(b.want(200, "GET", "/api/memory", nil)["items"].([]any), "id"); strings.Join(got, " ") != "b_tea b_cambridge" {
		t.Fatalf("imported %v", got)
	}
	for _, tc := range []struct {
		body       string
		status     int
		code, want string
	}{
		{"{\"format\":\"os1-memory\xff\"}", 400, "invalid_utf8", "UTF-8"},
		{`{"format":"other","version":1}`, 400, "bad_request", "format"},
		{`[1,2]`, 400, "bad_request", "not an os1 memory export"},
	} {
		r := b.raw("POST", "/api/memory/import", []byte(tc.body), nil)
		if r.Status != tc.status || r.code() != tc.code || !strings.Contains(string(r.Body), tc.want) {
			t.Errorf("import %q = %d %s", tc.body, r.Status, r.Body)
		}
	}
}

// TestMemoryIsolation is TestIsolationEveryEndpoint for memory: user B gets
// 404 for A's memories and people, lists and searches show B only B's, a
// file naming A's messages as sources is refused like unknown ones, and A's
// memories are unchanged afterwards.
func TestMemoryIsolation(t *testing.T) {
	e := newEnv(t, true)
	mem := withMemory(e)
	a := e.owner()
	seedMemory(t, e, mem, a.user["id"].(string), "a_")
	before := a.do("GET", "/api/memory/export", nil).Body

	b := e.member(a, "amy")
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/memory/a_cambridge", nil},
		{"GET", "/api/memory/a_boston", nil},
		{"PATCH", "/api/memory/a_cambridge", map[string]any{"text": "mine now"}},
		{"DELETE", "/api/memory/a_cambridge", nil},
		{"DELETE", "/api/memory/a_tea?sources=true", nil},
		{"GET", "/api/people/a_cat", nil},
	} {
		r := b.do(tc.method, tc.path, tc.body)
		if r.Status != http.StatusNotFound || r.code() != "not_found" {
			t.Errorf("B %s %s = %d %s, want 404 not_found", tc.method, tc.path, r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "secret") {
			t.Errorf("B %s %s leaks A's content: %s", tc.method, tc.path, r.Body)
		}
	}
	for _, path := range []string{"/api/memory", "/api/memory?history=true", "/api/memory?q=sister+Catherine+Cambridge+tea",
		"/api/memory?q=sister&kind=message", "/api/people", "/api/memory/export", "/api/memory/export?format=markdown"} {
		r := b.do("GET", path, nil)
		if r.Status != 200 || strings.Contains(string(r.Body), "secret") || strings.Contains(string(r.Body), "a_") {
			t.Errorf("B GET %s = %d shows A's data: %s", path, r.Status, r.Body)
		}
	}
	// A file that names A's messages as sources is refused, in the same
	// words as for messages that do not exist.
	file := `{"format":"os1-memory","version":1,"user":{},"persona":null,"profile":null,"conversations":[],"entities":[],
		"items":[{"id":"b_x","kind":"fact","text":"t","entity_ids":[],"sources":["%s"],"confidence":1,"importance":1}],"journals":[]}`
	r1 := b.raw("POST", "/api/memory/import", []byte(strings.Replace(file, "%s", "a_m1", 1)), nil)
	r2 := b.raw("POST", "/api/memory/import", []byte(strings.Replace(file, "%s", "zz_none", 1)), nil)
	if r1.Status != 400 || r2.Status != 400 || strings.ReplaceAll(string(r1.Body), "a_m1", "X") != strings.ReplaceAll(string(r2.Body), "zz_none", "X") {
		t.Errorf("import naming A's message: %d %s; unknown message: %d %s", r1.Status, r1.Body, r2.Status, r2.Body)
	}

	if after := a.do("GET", "/api/memory/export", nil).Body; string(after) != string(before) {
		t.Errorf("A's memory changed:\n%s\n%s", before, after)
	}
}

func TestMemoryUnavailable(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	for _, path := range []string{"/api/memory", "/api/memory/x", "/api/people"} {
		if r := o.do("GET", path, nil); r.Status != 503 || r.code() != "memory_unavailable" {
			t.Errorf("GET %s without memory = %d %s", path, r.Status, r.Body)
		}
	}
	if r := e.client().do("GET", "/api/memory", nil); r.Status != 401 {
		t.Errorf("anonymous GET /api/memory = %d", r.Status)
	}
}

// Issue 8: an invited member imported one memory of "kk " ten million times
// (30 MiB, under the 64 MiB body limit); recalling "kk" then crashed the
// server at every start. The import is refused, saying why, and nothing is
// written.
func TestMemoryImportRefusesAHugeMemory(t *testing.T) {
	e := newEnv(t, true)
	mem := withMemory(e)
	o := e.owner()
	b := e.member(o, "amy")
	file := `{"format":"os1-memory","version":1,"user":{"username":"amy","display_name":""},"persona":null,"profile":null,
		"conversations":[{"id":"c1","title":"t","messages":[{"id":"m1","role":"user","content":"kk","status":"complete"}]}],
		"entities":[],"items":[{"id":"i1","kind":"fact","text":"` + strings.Repeat("kk ", 10_000_000) + `","entity_ids":[],
		"sources":["m1"],"confidence":1,"importance":1}],"journals":[]}`
	r := b.raw("POST", "/api/memory/import", []byte(file), nil)
	if r.Status != 400 || r.code() != "bad_request" || !strings.Contains(string(r.Body), "memory i1 has 30000000 characters of text; the limit is 2000") {
		t.Fatalf("import of a 30 MiB memory = %d %.300s", r.Status, r.Body)
	}
	if items, err := mem.ListItems(context.Background(), b.user["id"].(string), memory.ItemFilter{History: true}); err != nil || len(items) != 0 {
		t.Fatalf("items after the refused import: %d %v", len(items), err)
	}
	if server.MaxMessageBytes != memory.MaxMessageBytes {
		t.Fatalf("chat allows %d bytes a message, imports %d", server.MaxMessageBytes, memory.MaxMessageBytes)
	}
}

// The memory page lists the user's records that memory's worker
// quarantined, and only the user's.
func TestMemoryQuarantineAPI(t *testing.T) {
	e := newEnv(t, true)
	mem := withMemory(e)
	o := e.owner()
	b := e.member(o, "amy")
	at := e.clock.Now().UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(mem.Progress().SetFailures(context.Background(), []memory.Failure{
		{Kind: memory.FailedConversation, ID: "cnv_amy", UserID: b.user["id"].(string), Count: 3, Error: "sqlite3: out of memory", At: at, Quarantined: true},
		{Kind: memory.FailedConversation, ID: "cnv_once", UserID: b.user["id"].(string), Count: 1, Error: "boom", At: at},
		{Kind: memory.FailedJournal, ID: o.user["id"].(string), UserID: o.user["id"].(string), Count: 3, Error: "boom", At: at, Quarantined: true},
	}))
	got := b.want(200, "GET", "/api/memory/quarantine", nil)["quarantined"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["id"] != "cnv_amy" || got[0].(map[string]any)["panics"] != 3.0 {
		t.Fatalf("amy's quarantine: %v", got)
	}
	if got := o.want(200, "GET", "/api/memory/quarantine", nil)["quarantined"].([]any); len(got) != 1 || got[0].(map[string]any)["kind"] != "journal" {
		t.Fatalf("owner's quarantine: %v", got)
	}
	// Releasing: only one's own records, answering 404 for anyone else's.
	if r := o.do("POST", "/api/memory/quarantine/cnv_amy/release", nil); r.Status != 404 {
		t.Fatalf("owner releasing amy's record: %d", r.Status)
	}
	b.want(204, "POST", "/api/memory/quarantine/cnv_amy/release", nil)
	if got := b.want(200, "GET", "/api/memory/quarantine", nil)["quarantined"].([]any); len(got) != 0 {
		t.Fatalf("after release: %v", got)
	}
	if r := b.do("POST", "/api/memory/quarantine/cnv_amy/release", nil); r.Status != 404 {
		t.Fatalf("releasing twice: %d", r.Status)
	}
}
