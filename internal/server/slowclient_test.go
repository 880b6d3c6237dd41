package server_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
)

// stalledSocket opens /api/ws as c (bearer token) over a TCP connection
// with a tiny receive buffer; the caller writes to it and never reads, so
// the server's writes fill the buffers between the two ends and block.
func stalledSocket(t *testing.T, c *client, token string) *websocket.Conn {
	t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_ = conn.(*net.TCPConn).SetReadBuffer(4096)
		}
		return conn, err
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	h := http.Header{"Origin": {c.e.http.URL}, "Authorization": {"Bearer " + token}}
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.e.http.URL, "http")+"/api/ws",
		&websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}, HTTPHeader: h})
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// readReply reads a turn on w to turn_done and returns its streamed text.
func readReply(t *testing.T, w *wsConn) string {
	t.Helper()
	var text strings.Builder
	for {
		ev := w.next(t)
		switch ev.Type {
		case "delta":
			text.WriteString(ev.Text)
		case "error":
			t.Fatalf("error event: %+v", ev.Error)
		case "turn_done":
			return text.String()
		}
	}
}

// bigReply is 4 MiB of reply: more than the socket buffers between the
// two ends hold.
func bigReply() (llmtest.Reply, string) {
	chunk := strings.Repeat("x", 4095) + " "
	chunks := make([]string, 1024)
	for i := range chunks {
		chunks[i] = chunk
	}
	return llmtest.Reply{Chunks: chunks}, strings.Repeat(chunk, len(chunks))
}

// TestStalledWebSocketDoesNotHoldOthers: a WebSocket client sends a
// message and stops reading. Another user's turn meanwhile runs normally,
// and the stalled client's reply is stored whole.
func TestStalledWebSocketDoesNotHoldOthers(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	m := e.member(o, "amy")
	token := o.want(http.StatusCreated, "POST", "/api/tokens", map[string]string{"name": "stalled"})["token"].(string)
	conv := o.newConversation()
	big, want := bigReply()
	replies := map[string]llmtest.Reply{"Tell me everything": big, "Hello": {Chunks: []string{"Hi ", "Amy."}}}
	e.llm.EnqueueFunc(byLastMessage(replies))
	e.llm.EnqueueFunc(byLastMessage(replies))

	stalled := stalledSocket(t, o, token)
	if err := stalled.Write(context.Background(), websocket.MessageText,
		[]byte(`{"type":"send","conversation_id":"`+conv+`","text":"Tell me everything"}`)); err != nil {
		t.Fatal(err)
	}
	// ... and never read.

	amy := m.dial(t)
	amy.send(t, map[string]any{"type": "send", "text": "Hello"})
	if got := readReply(t, amy); got != "Hi Amy." {
		t.Fatalf("the other user's reply streamed %q", got)
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		msgs, err := e.db.Messages(context.Background(), o.user["id"].(string), conv)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 2 && msgs[1].Status == store.StatusComplete {
			if msgs[1].Content != want {
				t.Fatalf("stored reply of %d bytes, want %d", len(msgs[1].Content), len(want))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply to the stalled socket was not stored complete: %d messages", len(msgs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStalledSecondTabDoesNotHoldTheFirst: one of a user's two tabs
// follows their events and stops reading; the tab that sent the message
// still gets the whole reply, live, and the turn ends.
func TestStalledSecondTabDoesNotHoldTheFirst(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	token := o.want(http.StatusCreated, "POST", "/api/tokens", map[string]string{"name": "second tab"})["token"].(string)
	big, want := bigReply()
	e.llm.Enqueue(big)

	tab := stalledSocket(t, o, token)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tab.Write(ctx, websocket.MessageText, []byte(`{"type":"subscribe"}`)); err != nil {
		t.Fatal(err)
	}
	if _, b, err := tab.Read(ctx); err != nil || !strings.Contains(string(b), `"subscribed"`) {
		t.Fatalf("answer to subscribe: %s %v", b, err)
	}
	// ... and from now on never read.

	first := o.dial(t)
	rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Minute) // 4 MiB in 1,024 frames under -race
	defer rcancel()
	first.ctx = rctx
	first.send(t, map[string]any{"type": "send", "text": "Tell me everything"})
	if got := readReply(t, first); got != want {
		t.Fatalf("the first tab read %d bytes of the reply, want %d", len(got), len(want))
	}
}
