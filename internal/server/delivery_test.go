package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store"
)

// byLastMessage answers each model request by its user's last message, so
// concurrent turns get their own replies whatever order they arrive in.
func byLastMessage(replies map[string]llmtest.Reply) func(llmtest.Request) llmtest.Reply {
	return func(r llmtest.Request) llmtest.Reply {
		if n := len(r.Messages); n > 0 {
			if rep, ok := replies[r.Messages[n-1].Content]; ok {
				return rep
			}
		}
		return llmtest.Reply{Chunks: []string{"?"}}
	}
}

// TestStalledTCPClientDoesNotHoldTheTurn: a client posts a message over SSE
// and never reads its socket. The turn completes and is stored, another
// user's turn meanwhile runs normally, and the companion's Close (the
// shutdown path) returns promptly.
func TestStalledTCPClientDoesNotHoldTheTurn(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	m := e.member(o, "amy")
	token := o.want(http.StatusCreated, "POST", "/api/tokens", map[string]string{"name": "stalled"})["token"].(string)
	conv := o.newConversation()

	// 4 MiB of reply: more than the socket buffers between the two ends hold.
	chunk := strings.Repeat("x", 4095) + " "
	chunks := make([]string, 1024)
	for i := range chunks {
		chunks[i] = chunk
	}
	replies := map[string]llmtest.Reply{
		"Tell me everything": {Chunks: chunks},
		"Hello":              {Chunks: []string{"Hi ", "Amy."}},
	}
	e.llm.EnqueueFunc(byLastMessage(replies))
	e.llm.EnqueueFunc(byLastMessage(replies))

	conn, err := net.Dial("tcp", e.http.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	body := `{"text":"Tell me everything"}`
	fmt.Fprintf(conn, "POST /api/conversations/%s/messages HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", conv, e.http.Listener.Addr(), token, len(body), body)
	// ... and never read.

	evs := m.turn("/api/conversations/"+m.newConversation()+"/messages", map[string]string{"text": "Hello"})
	if last := evs[len(evs)-2]; last.Type != "assistant_done" || last.Message["content"] != "Hi Amy." {
		t.Fatalf("the other user's turn: %+v", evs)
	}

	want := strings.Repeat(chunk, len(chunks))
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
			t.Fatalf("the reply to the stalled client was not stored complete: %d messages", len(msgs))
		}
		time.Sleep(10 * time.Millisecond)
	}

	done := make(chan struct{})
	go func() { e.srv.Companion.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Companion.Close blocked behind a client that does not read")
	}
	conn.Close()
}

// TestSecondWebSocketFollowsTurn: a socket that sent subscribe follows, live,
// a turn started on another socket and one started over SSE.
func TestSecondWebSocketFollowsTurn(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	starter, follower := o.dial(t), o.dial(t)
	follower.send(t, map[string]any{"type": "subscribe"})
	if ev := follower.next(t); ev.Type != "subscribed" {
		t.Fatalf("answer to subscribe: %+v", ev)
	}
	readTurn := func(w *wsConn) string {
		var types []string
		for {
			ev := w.next(t)
			types = append(types, ev.Type)
			if ev.Type == "turn_done" {
				return oneDelta(strings.Join(types, " "))
			}
		}
	}
	const full = "conversation user_message assistant_start delta assistant_done turn_done"

	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hel", "lo"}})
	starter.send(t, map[string]any{"type": "send", "text": "hi there"})
	if got := readTurn(starter); got != full {
		t.Fatalf("starter saw %s", got)
	}
	if got := readTurn(follower); got != full {
		t.Fatalf("follower saw %s, want %s", got, full)
	}

	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Fi", "ne."}})
	o.turn("/api/conversations/"+o.newConversation()+"/messages", map[string]string{"text": "how are you?"})
	if got := readTurn(follower); got != full {
		t.Fatalf("follower of an SSE turn saw %s", got)
	}

	// The subscribed socket's own turn arrives once, not twice.
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"O", "k."}})
	follower.send(t, map[string]any{"type": "send", "text": "again"})
	if got := readTurn(follower); got != full {
		t.Fatalf("subscribed socket's own turn: %s", got)
	}
	follower.send(t, map[string]any{"type": "subscribe"})
	if ev := follower.next(t); ev.Type != "subscribed" {
		t.Fatalf("after its own turn the subscribed socket got %+v (a duplicate event?)", ev)
	}
}

// TestShuttingDownAnswers503: a turn asked for while the companion stops.
func TestShuttingDownAnswers503(t *testing.T) {
	e := newEnv(t, true)
	o := e.owner()
	conv := o.newConversation()
	e.srv.Companion.Close()
	r := o.do("POST", "/api/conversations/"+conv+"/messages", map[string]string{"text": "hi"})
	if r.Status != http.StatusServiceUnavailable || r.code() != "shutting_down" {
		t.Fatalf("after Close: %d %s", r.Status, r.Body)
	}
}
