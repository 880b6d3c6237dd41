package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/server"
)

// TestIsolationEveryEndpoint shows, for each endpoint that takes an ID, that
// user B gets 404 for user A's data (as if it did not exist) and that A's
// data is unchanged afterwards; and that list endpoints show B only B's data.
func TestIsolationEveryEndpoint(t *testing.T) {
	e := newEnv(t, true)
	a := e.owner()
	a.want(200, "PUT", "/api/profile", map[string]any{"answers": map[string]string{"matters": "Catherine"}, "finish": true})
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{`{"name":"Samantha"}`}})
	a.want(200, "POST", "/api/persona/name", nil)
	conv := a.newConversation()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"A's secret reply"}, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "rename_conversation", Arguments: json.RawMessage(`{"title":"Hijacked"}`)}}})
	evs := a.turn("/api/conversations/"+conv+"/messages", map[string]string{"text": "A's secret"})
	var actionID string
	for _, ev := range evs {
		if ev.Action != nil {
			actionID = ev.Action["id"].(string)
		}
	}
	tokenID := a.want(201, "POST", "/api/tokens", map[string]string{"name": "a"})["id"].(string)

	am := a.messages(conv)
	userMsg, herMsg := am[0].(map[string]any)["id"].(string), am[1].(map[string]any)["id"].(string)

	b := e.member(a, "amy")
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/conversations/" + conv, nil},
		{"PATCH", "/api/conversations/" + conv, map[string]string{"title": "mine now"}},
		{"DELETE", "/api/conversations/" + conv, nil},
		{"POST", "/api/conversations/" + conv + "/messages", map[string]string{"text": "hello A"}},
		{"POST", "/api/conversations/" + conv + "/retry", nil},
		{"POST", "/api/conversations/" + conv + "/cancel", nil},
		{"POST", "/api/actions/" + actionID, map[string]bool{"approve": true}},
		{"POST", "/api/conversations/" + conv + "/messages/" + userMsg + "/edit", map[string]string{"text": "hello A"}},
		{"POST", "/api/conversations/" + conv + "/messages/" + herMsg + "/regenerate", nil},
		{"POST", "/api/conversations/" + conv + "/messages/" + userMsg + "/show", nil},
		{"POST", "/api/conversations/" + conv + "/messages/" + herMsg + "/speak", nil},
		{"DELETE", "/api/tokens/" + tokenID, nil},
	} {
		r := b.do(tc.method, tc.path, tc.body)
		if r.Status != http.StatusNotFound || r.code() != "not_found" {
			t.Errorf("B %s %s = %d %s, want 404 not_found", tc.method, tc.path, r.Status, r.Body)
		}
		if strings.Contains(string(r.Body), "secret") {
			t.Errorf("B %s %s leaks A's content: %s", tc.method, tc.path, r.Body)
		}
	}
	if cs := b.want(200, "GET", "/api/conversations", nil)["conversations"].([]any); len(cs) != 0 {
		t.Errorf("B lists A's conversations: %+v", cs)
	}
	if ts := b.want(200, "GET", "/api/tokens", nil)["tokens"].([]any); len(ts) != 0 {
		t.Errorf("B lists A's tokens: %+v", ts)
	}
	if r := b.do("GET", "/api/persona", nil); r.Status != 404 || strings.Contains(string(r.Body), "Samantha") {
		t.Errorf("B sees A's persona: %d %s", r.Status, r.Body)
	}
	if p := b.want(200, "GET", "/api/profile", nil); len(p["answers"].(map[string]any)) != 0 {
		t.Errorf("B sees A's profile: %+v", p)
	}
	if m := b.want(200, "GET", "/api/me", nil); m["named"] != false || m["user"].(map[string]any)["username"] != "amy" {
		t.Errorf("B's me: %+v", m)
	}

	// Over the WebSocket too.
	ws := b.dial(t)
	for _, f := range []map[string]any{
		{"type": "send", "conversation_id": conv, "text": "hello A"},
		{"type": "retry", "conversation_id": conv},
		{"type": "edit", "conversation_id": conv, "message_id": userMsg, "text": "hello A"},
		{"type": "regenerate", "conversation_id": conv, "message_id": herMsg},
		{"type": "cancel", "conversation_id": conv},
		{"type": "confirm", "action_id": actionID, "approve": true},
	} {
		ws.send(t, f)
		if ev := ws.next(t); ev.Type != "error" || ev.Error["code"] != "not_found" {
			t.Errorf("B over WebSocket %v: %+v", f, ev)
		}
	}

	// A's data is untouched.
	got := a.want(200, "GET", "/api/conversations/"+conv, nil)
	if title := got["conversation"].(map[string]any)["title"]; title != "t" {
		t.Errorf("A's title changed to %q", title)
	}
	if n := len(got["messages"].([]any)); n != 2 {
		t.Errorf("A has %d messages, want 2", n)
	}
	if n := len(got["pending_actions"].([]any)); n != 1 {
		t.Errorf("A's pending action is gone")
	}
	if ts := a.want(200, "GET", "/api/tokens", nil)["tokens"].([]any); len(ts) != 1 {
		t.Errorf("A's token is gone")
	}
	if len(e.llm.Requests()) != 2 {
		t.Errorf("B's attempts reached the model: %d requests", len(e.llm.Requests()))
	}
}

type wsConn struct {
	c   *websocket.Conn
	ctx context.Context
}

// dial opens /api/ws with the client's cookie and this server's Origin.
func (c *client) dial(t *testing.T) *wsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	h := http.Header{"Origin": {c.e.http.URL}}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.e.http.URL, "http")+"/api/ws", &websocket.DialOptions{HTTPClient: c.hc, HTTPHeader: h})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	conn.SetReadLimit(8 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	return &wsConn{c: conn, ctx: ctx}
}

func (w *wsConn) send(t *testing.T, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := w.c.Write(w.ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
}

func (w *wsConn) next(t *testing.T) event {
	t.Helper()
	_, b, err := w.c.Read(w.ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var ev event
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("frame %s: %v", b, err)
	}
	return ev
}

func TestWebSocketTurn(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	ws := o.dial(t)
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hel", "lo"}})
	ws.send(t, map[string]any{"type": "send", "text": "hi there"})
	var types []string
	var conv string
	for {
		ev := ws.next(t)
		types = append(types, ev.Type)
		if ev.Conversation != nil {
			conv = ev.Conversation["id"].(string)
		}
		if ev.Type == "turn_done" {
			break
		}
	}
	if got := oneDelta(strings.Join(types, " ")); got != "conversation user_message assistant_start delta assistant_done turn_done" {
		t.Fatalf("events %s", got)
	}
	if msgs := o.messages(conv); len(msgs) != 2 || msgs[1].(map[string]any)["content"] != "Hello" {
		t.Fatalf("stored %+v", msgs)
	}
	for _, bad := range []string{`{"type":"dance"}`, `not json`, "{\"type\":\"send\",\"text\":\"\xff\"}"} {
		if err := ws.c.Write(ws.ctx, websocket.MessageText, []byte(bad)); err != nil {
			t.Fatal(err)
		}
		if ev := ws.next(t); ev.Type != "error" {
			t.Errorf("bad frame %q: %+v", bad, ev)
		}
	}
	// A frame over the limit closes the socket with 1009.
	big := `{"type":"send","text":"` + strings.Repeat("x", server.MaxSocketFrameBytes) + `"}`
	_ = ws.c.Write(ws.ctx, websocket.MessageText, []byte(big))
	_, _, err := ws.c.Read(ws.ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("oversize frame: %v, want close 1009", err)
	}
}

func TestWebSocketNeedsAuthAndOrigin(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	url := "ws" + strings.TrimPrefix(e.http.URL, "http") + "/api/ws"
	ctx := context.Background()
	if _, resp, err := websocket.Dial(ctx, url, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("anonymous dial: %v %v", err, resp)
	}
	h := http.Header{"Origin": {"http://evil.example"}}
	if _, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: o.hc, HTTPHeader: h}); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("cross-site dial with the cookie: %v %v", err, resp)
	}
}

func TestWebSocketCancel(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	conv := o.newConversation()
	gate := llmtest.NewGate()
	defer gate.Release()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"I was saying", " something long"}, Hold: gate, HoldAfter: 1})
	ws := o.dial(t)
	ws.send(t, map[string]any{"type": "send", "conversation_id": conv, "text": "talk"})
	for ev := ws.next(t); ev.Type != "delta"; ev = ws.next(t) {
	}
	ws.send(t, map[string]any{"type": "cancel", "conversation_id": conv})
	var done event
	for ev := ws.next(t); ev.Type != "turn_done"; ev = ws.next(t) {
		if ev.Type == "assistant_done" {
			done = ev
		}
	}
	if done.Message["status"] != "interrupted" || done.Message["content"] != "I was saying" {
		t.Fatalf("assistant_done after cancel: %+v", done.Message)
	}
	if msgs := o.messages(conv); msgs[1].(map[string]any)["status"] != "interrupted" {
		t.Fatalf("stored %+v", msgs[1])
	}
}

// TestDeleteMemberRemovesAllData: after the owner deletes a member, no row
// of any table names the member (memory included, and the vectors the
// memory store held in RAM), their sockets are closed, their token is dead,
// and the owner's data is exactly as before.
func TestDeleteMemberRemovesAllData(t *testing.T) {
	e := newEnv(t, true)
	mem := withMemory(e)
	a := e.owner()
	aID := a.user["id"].(string)
	seedMemory(t, e, mem, aID, "a_")
	aConv := a.newConversation()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"owner's reply"}})
	a.turn("/api/conversations/"+aConv+"/messages", map[string]string{"text": "owner's words"})
	beforeMemory := a.do("GET", "/api/memory/export", nil).Body
	beforeConv := a.do("GET", "/api/conversations/"+aConv, nil).Body

	b := e.member(a, "amy")
	bID := b.user["id"].(string)
	b.want(200, "PUT", "/api/profile", map[string]any{"answers": map[string]string{"matters": "Catherine"}, "finish": true})
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{`{"name":"Ava"}`}})
	b.want(200, "POST", "/api/persona/name", nil)
	seedMemory(t, e, mem, bID, "b_")
	bConv := b.newConversation()
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"amy's reply"}, ToolCalls: []llm.ToolCall{{ID: "c1", Name: "rename_conversation", Arguments: json.RawMessage(`{"title":"x"}`)}}})
	b.turn("/api/conversations/"+bConv+"/messages", map[string]string{"text": "amy's words"})
	tok := b.want(201, "POST", "/api/tokens", map[string]string{"name": "b"})["token"].(string)
	if err := e.db.SetSetting(context.Background(), "memory.journaled."+bID, "2026-11-24"); err != nil {
		t.Fatal(err)
	}
	if err := mem.IndexMessage(context.Background(), memory.MessageDoc{ID: "b_vec", UserID: bID, ConversationID: bConv, Role: "user", Text: "vector", Time: e.clock.Now()}, []float32{1, 0, 0}); err != nil {
		t.Fatal(err)
	}
	if hits, err := mem.SearchVector(context.Background(), bID, []float32{1, 0, 0}, memory.Query{}); err != nil || len(hits) != 1 || mem.IndexBytes() == 0 {
		t.Fatalf("load amy's vector index: %v %v", hits, err)
	}
	ws := b.dial(t)

	if r := b.do("DELETE", "/api/users/"+aID, nil); r.Status != http.StatusForbidden {
		t.Errorf("a member deletes the owner: %d", r.Status)
	}
	if r := a.do("DELETE", "/api/users/"+aID, nil); r.Status != http.StatusForbidden {
		t.Errorf("the owner deletes themself: %d %s", r.Status, r.Body)
	}
	a.want(http.StatusNoContent, "DELETE", "/api/users/"+bID, nil)
	endsSoon(t, ws.c, "deleted member's socket")
	if r := a.do("DELETE", "/api/users/"+bID, nil); r.Status != http.StatusNotFound {
		t.Errorf("deleting twice: %d", r.Status)
	}
	script := e.client()
	script.token = tok
	if r := script.do("GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
		t.Errorf("deleted member's token: %d", r.Status)
	}
	if r := e.client().do("POST", "/api/login", map[string]string{"username": "amy", "password": "another password"}); r.Status != http.StatusUnauthorized {
		t.Errorf("deleted member signs in: %d", r.Status)
	}

	// No row anywhere names amy: every table with a user_id column, the
	// full-text index, and settings.
	sqlDB := e.db.SQL()
	rows, err := sqlDB.Query(`SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND c.name = 'user_id'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("found only %d tables with user_id: %v", len(tables), tables)
	}
	for _, table := range tables {
		var n int
		if err := sqlDB.QueryRow(`SELECT count(*) FROM `+table+` WHERE user_id = ?`, bID).Scan(&n); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if n != 0 {
			t.Errorf("%s still has %d rows of the deleted member", table, n)
		}
	}
	for q, arg := range map[string]string{
		`SELECT count(*) FROM memory_fts WHERE memory_fts MATCH 'Cambridge' AND user_id = ?`: bID,
		`SELECT count(*) FROM settings WHERE key LIKE '%' || ?`:                              bID,
		`SELECT count(*) FROM messages WHERE conversation_id = ?`:                            bConv,
		`SELECT count(*) FROM memory_item_sources WHERE message_id LIKE 'b\_%' ESCAPE '\'`:   "",
		`SELECT count(*) FROM invites i JOIN users u ON u.id = i.created_by WHERE u.id = ?`:  bID,
	} {
		var n int
		var err error
		if arg == "" {
			err = sqlDB.QueryRow(q).Scan(&n)
		} else {
			err = sqlDB.QueryRow(q, arg).Scan(&n)
		}
		if err != nil || n != 0 {
			t.Errorf("%s: %d rows (%v)", q, n, err)
		}
	}
	if got := mem.IndexBytes(); got != 0 {
		// Only amy's index was loaded; dropping it leaves none.
		t.Errorf("the vector index still holds %d bytes after deleting amy", got)
	}

	// The owner's data is untouched.
	if after := a.do("GET", "/api/memory/export", nil).Body; string(after) != string(beforeMemory) {
		t.Errorf("the owner's memory changed:\n%s\n%s", beforeMemory, after)
	}
	if after := a.do("GET", "/api/conversations/"+aConv, nil).Body; string(after) != string(beforeConv) {
		t.Errorf("the owner's conversation changed:\n%s\n%s", beforeConv, after)
	}
	if users := a.want(200, "GET", "/api/users", nil)["users"].([]any); len(users) != 1 {
		t.Errorf("users after deleting amy: %+v", users)
	}
}
