package clustere2e

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/store/pgtest"
)

// twoNodes starts node a (whose setup makes the owner) and node b, and
// returns the owner on each.
func twoNodes(t *testing.T, f *fixture) (a, b *node, ua, ub *client) {
	t.Helper()
	a = f.start("a")
	ua = owner(t, a)
	b = f.start("b")
	ub = ua.on(b)
	ua.waitModel()
	ub.waitModel()
	for _, n := range []*node{a, b} { // each node says which it is
		var h struct {
			Node string `json:"node"`
		}
		if code, body := newClient(t, n.URL).call(http.MethodGet, "/healthz", nil, &h); code != http.StatusOK || h.Node != n.name {
			t.Fatalf("GET /healthz on %s: HTTP %d %s; want node %q", n.name, code, body, n.name)
		}
	}
	return a, b, ua, ub
}

func assistantDone(t *testing.T, evs []event) *message {
	t.Helper()
	for _, e := range evs {
		if e.Type == "assistant_done" {
			return e.Message
		}
	}
	t.Fatalf("no assistant_done in %s", types(evs))
	return nil
}

// A user with a tab on each node sees the same streamed reply on both,
// whichever node runs the turn; a cancel sent to node B stops the turn that
// runs on node A.
func TestTabOnEachNodeSeesTheSameReply(t *testing.T) {
	f := newFixture(t)
	a, b, ua, ub := twoNodes(t, f)
	conv := ua.newConversation()
	tabA, tabB := ua.tab(), ub.tab()

	const answer = "The sea is wide and deep."
	a.model.Enqueue(llmtest.Reply{Chunks: []string{"The sea ", "is wide ", "and deep."}, ChunkDelay: 20 * time.Millisecond})
	s := ua.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": "Tell me about the sea."})
	if !s.ok() {
		t.Fatalf("send on A: HTTP %d %s", s.status, s.body)
	}
	evs := s.rest()
	done := assistantDone(t, evs)
	if done.Status != "complete" || done.Content != answer || text(evs, done.ID) != answer {
		t.Fatalf("A's stream: %+v, deltas %q", done, text(evs, done.ID))
	}
	for name, tb := range map[string]*tab{"A": tabA, "B": tabB} {
		seen := tb.waitFor("turn_done", conv)
		got := assistantDone(t, seen)
		if got.ID != done.ID || got.Content != answer || text(seen, done.ID) != answer {
			t.Errorf("the tab on %s saw %+v, deltas %q; want %q (%s)", name, got, text(seen, done.ID), answer, types(seen))
		}
		if !strings.Contains(types(seen), "user_message") {
			t.Errorf("the tab on %s did not see the user's message: %s", name, types(seen))
		}
	}

	// The same the other way round: a turn on B reaches A's tab.
	b.model.Enqueue(llmtest.Reply{Chunks: []string{"Salty, ", "mostly."}})
	evs = ub.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": "And the taste?"}).rest()
	done = assistantDone(t, evs)
	seen := tabA.waitFor("turn_done", conv)
	if got := assistantDone(t, seen); got.ID != done.ID || got.Content != "Salty, mostly." {
		t.Errorf("A's tab saw %+v for B's turn", got)
	}
	tabB.waitFor("turn_done", conv) // B's own turn, on B's tab

	// Cancel from B stops a turn running on A.
	gate := llmtest.NewGate()
	t.Cleanup(gate.Release)
	a.model.Enqueue(llmtest.Reply{Chunks: []string{"Once ", "upon ", "a time."}, Hold: gate, HoldAfter: 1})
	s = ua.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": "Tell me a story."})
	for {
		ev, ok := s.next()
		if !ok {
			t.Fatal("the story's stream ended before its first delta")
		}
		if ev.Type == "delta" {
			break
		}
	}
	<-gate.Reached()
	ub.must(http.MethodPost, "/api/conversations/"+conv+"/cancel", nil, nil)
	evs = s.rest()
	if done := assistantDone(t, evs); done.Status != "interrupted" || done.Content != "Once " {
		t.Fatalf("after B's cancel A's turn ended %+v, want interrupted \"Once \"", done)
	}
	if got := assistantDone(t, tabB.waitFor("turn_done", conv)); got.Status != "interrupted" {
		t.Errorf("B's tab saw the cancelled reply as %+v", got)
	}
}

// memoryAdd answers an extraction with one memory citing the user's line.
func memoryAdd(r llmtest.Request, line, memory string) llmtest.Reply {
	prompt := r.Messages[len(r.Messages)-1].Content
	id := ""
	for _, l := range strings.Split(prompt, "\n") {
		if strings.Contains(l, line) && strings.HasPrefix(l, "[") && strings.Contains(l, "]") {
			id = l[1:strings.Index(l, "]")]
		}
	}
	return llmtest.Reply{Chunks: []string{`{"operations":[{"op":"add","kind":"event","text":"` + memory +
		`","sources":["` + id + `"],"people":[],"event_time":"","confidence":0.9,"importance":0.6}]}`}}
}

// kill -9 of a node mid-turn: the user's message is stored, the partial
// reply ends interrupted (the other node's sweep: no node runs that turn
// any more), the other node serves the next turn, and the memory job the
// dead node held is done by the other node. Each node has its own scripted
// model, so the test knows which node's worker took the first turn's job
// (whichever pulled it first): that node runs the second turn and is killed.
func TestNodeKilledMidTurn(t *testing.T) {
	f := newFixture(t)
	const said = "I planted tomatoes today."
	const remembered = "Theo planted tomatoes."
	held := llmtest.NewGate() // the first extraction never gets its answer
	t.Cleanup(held.Release)
	var mu sync.Mutex
	extractions := map[string]int{} // node -> extraction requests about the first turn
	holder := make(chan string, 2)
	f.script = func(n *node) {
		n.model.Route(func(r llmtest.Request) bool {
			return strings.Contains(r.System, "deciding what to remember") && len(r.Messages) > 0 &&
				strings.Contains(r.Messages[len(r.Messages)-1].Content, said)
		}, func(r llmtest.Request) llmtest.Reply {
			mu.Lock()
			first := len(extractions) == 0
			extractions[n.name]++
			mu.Unlock()
			if first {
				holder <- n.name
				return llmtest.Reply{Chunks: []string{`{"operations":`, `[]}`}, Hold: held, HoldAfter: 1}
			}
			return memoryAdd(r, said, remembered)
		})
	}
	a, b, ua, ub := twoNodes(t, f)
	conv := ua.newConversation()

	a.model.Enqueue(llmtest.Reply{Chunks: []string{"How lovely!"}})
	if done := assistantDone(t, ua.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": said}).rest()); done.Status != "complete" {
		t.Fatalf("first turn: %+v", done)
	}
	// One node's worker has the first turn's job and waits for its model.
	dying, living, ud, ul := a, b, ua, ub
	select {
	case name := <-holder:
		if name == "b" {
			dying, living, ud, ul = b, a, ub, ua
		}
	case <-time.After(waitTimeout):
		t.Fatal("no node's memory worker asked its model about the first turn")
	}
	t.Logf("node %s took the first turn's memory job; it runs the second turn and is killed", dying.name)

	tab := ul.tab()
	const asked = "What do they need?"
	const partial = "Sun, "
	gate := llmtest.NewGate()
	t.Cleanup(gate.Release)
	dying.model.Enqueue(llmtest.Reply{Chunks: []string{partial, "water and time."}, Hold: gate, HoldAfter: 1})
	s := ud.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": asked})
	if !s.ok() {
		t.Fatalf("second turn: HTTP %d %s", s.status, s.body)
	}
	seen := tab.waitFor("delta", conv)
	if text(seen, "") != partial {
		t.Fatalf("the tab on %s saw %q of the turn on %s, want %q", living.name, text(seen, ""), dying.name, partial)
	}
	eventually(t, "the partial reply is saved", func() (bool, string) {
		v := ul.conversation(conv)
		n := len(v.Messages)
		return n == 4 && v.Messages[3].Status == "streaming" && v.Messages[3].Content == partial, summary(v)
	})
	dying.kill()
	s.close()

	// The living node's sweep finds the reply streaming, stale, and run by
	// no node.
	eventually(t, "the partial reply is interrupted", func() (bool, string) {
		v := ul.conversation(conv)
		return len(v.Messages) == 4 && v.Messages[3].Status == "interrupted" && v.Messages[3].Content == partial &&
			v.Messages[2].Content == asked && v.Messages[2].Status == "complete", summary(v)
	})

	// The dead node's memory job goes to the living node after the ack
	// wait: its worker extracts the first turn (no other job exists: the
	// second turn never finished).
	eventually(t, "the living node finishes the dead node's memory job", func() (bool, string) {
		_, body := ul.call(http.MethodGet, "/api/memory", nil, nil)
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(body, remembered) && extractions[living.name] == 1, fmt.Sprintf("extractions %v; %s", extractions, body)
	})

	// The living node serves the next turn.
	living.model.Enqueue(llmtest.Reply{Chunks: []string{"Sun, water and time."}})
	evs := ul.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": "Sorry, you were cut off."}).rest()
	if done := assistantDone(t, evs); done.Status != "complete" || done.Content != "Sun, water and time." {
		t.Fatalf("the next turn on %s: %+v (%s)", living.name, done, types(evs))
	}
	if v := ul.conversation(conv); len(v.Messages) != 6 {
		t.Fatalf("after the next turn: %s", summary(v))
	}
}

func summary(v conversationView) string {
	var b strings.Builder
	for _, m := range v.Messages {
		b.WriteString(m.Role + ":" + m.Status + ":" + m.Content + " | ")
	}
	return b.String()
}

// PostgreSQL restarted mid-turn: the client is told the reply could not
// be saved, a message sent while it is down is refused with an error, what
// was stored is kept (the user's message; the partial reply, interrupted),
// and both nodes serve turns again once it is back.
func TestPostgresRestartedMidTurn(t *testing.T) {
	f := newFixture(t)
	a, b, ua, ub := twoNodes(t, f)
	conv := ua.newConversation()
	const asked = "Tell me about roses."
	const partial = "Roses "
	gate := llmtest.NewGate()
	t.Cleanup(gate.Release)
	a.model.Enqueue(llmtest.Reply{Chunks: []string{partial, "have thorns."}, Hold: gate, HoldAfter: 1})
	s := ua.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": asked})
	if !s.ok() {
		t.Fatalf("send: HTTP %d %s", s.status, s.body)
	}
	eventually(t, "the partial reply is saved", func() (bool, string) {
		v := ub.conversation(conv)
		return len(v.Messages) == 2 && v.Messages[1].Content == partial, summary(v)
	})

	pgtest.Stop(t)
	stopped := true
	t.Cleanup(func() {
		if stopped {
			pgtest.Start(t)
		}
	})
	gate.Release()
	evs := s.rest()
	var errCode string
	for _, e := range evs {
		if e.Type == "error" && e.Error != nil {
			errCode = e.Error.Code
		}
	}
	done := assistantDone(t, evs)
	if errCode != "storage" || done.Status != "failed" {
		t.Errorf("the turn that outlived the database ended %+v with error %q (%s); want failed, storage", done, errCode, types(evs))
	}
	if r := ub.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": "Are you there?"}); r.ok() || r.status < 500 {
		t.Errorf("a message sent while PostgreSQL is down: HTTP %d %s; want a 5xx error", r.status, r.body)
	} else if !strings.Contains(r.body, `"error"`) {
		t.Errorf("the refusal is not an API error: %s", r.body)
	}

	pgtest.Start(t)
	stopped = false
	eventually(t, "what was stored is kept, the partial reply interrupted", func() (bool, string) {
		code, _ := ub.call(http.MethodGet, "/api/conversations/"+conv, nil, nil)
		if code != http.StatusOK {
			return false, http.StatusText(code)
		}
		v := ub.conversation(conv)
		return len(v.Messages) == 2 && v.Messages[0].Content == asked && v.Messages[0].Status == "complete" &&
			v.Messages[1].Content == partial && v.Messages[1].Status == "interrupted", summary(v)
	})
	for _, nc := range []struct {
		n *node
		c *client
	}{{a, ua}, {b, ub}} {
		nc.n.model.Enqueue(llmtest.Reply{Chunks: []string{"Still here."}})
		evs := nc.c.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": "Still there, " + nc.n.name + "?"}).rest()
		if done := assistantDone(t, evs); done.Status != "complete" || done.Content != "Still here." {
			t.Errorf("node %s after the restart: %+v (%s)", nc.n.name, done, types(evs))
		}
	}
}

// NATS restarted: the nodes reconnect, a turn on A reaches B's tab again,
// each reply once (no duplicate events, one model call and one stored reply
// per turn).
func TestNATSRestarted(t *testing.T) {
	f := newFixture(t)
	a, b, ua, ub := twoNodes(t, f)
	conv := ua.newConversation()
	tabB := ub.tab()

	f.nats.stop()
	a.model.Enqueue(llmtest.Reply{Chunks: []string{"During ", "the outage."}})
	if done := assistantDone(t, ua.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": "Hello?"}).rest()); done.Status != "complete" {
		t.Fatalf("a turn while NATS is down: %+v", done)
	}
	f.nats.start()
	eventually(t, "node B reconnects to NATS", func() (bool, string) {
		out := b.out.String()
		return strings.Contains(out, "nats: reconnected"), ""
	})
	// Node A may reconnect a moment later; give both the reconnect wait.
	time.Sleep(1500 * time.Millisecond)

	for i, reply := range []string{"After the outage.", "And again."} {
		a.model.Enqueue(llmtest.Reply{Chunks: strings.SplitAfter(reply, " "), ChunkDelay: 10 * time.Millisecond})
		evs := ua.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": "Turn " + string(rune('1'+i))}).rest()
		done := assistantDone(t, evs)
		seen := tabB.waitFor("turn_done", conv)
		for len(seen) > 0 && assistantDoneID(seen) != done.ID {
			seen = tabB.waitFor("turn_done", conv) // an earlier turn's end, or a lagged re-read
		}
		n := 0
		for _, e := range seen {
			if e.Type == "assistant_done" && e.Message != nil && e.Message.ID == done.ID {
				n++
			}
		}
		if n != 1 || text(seen, done.ID) != reply {
			t.Errorf("B's tab after the restart: %d assistant_done, deltas %q; want 1, %q (%s)", n, text(seen, done.ID), reply, types(seen))
		}
	}
	chats := 0
	for _, r := range append(a.model.Requests(), b.model.Requests()...) {
		if !isBackground(r) {
			chats++
		}
	}
	if chats != 3 {
		t.Errorf("the model answered %d chat requests, want 3 (one per turn)", chats)
	}
	v := ub.conversation(conv)
	if len(v.Messages) != 6 {
		t.Errorf("stored: %s; want 3 turns, 6 messages", summary(v))
	}
}

func assistantDoneID(evs []event) string {
	for _, e := range evs {
		if e.Type == "assistant_done" && e.Message != nil {
			return e.Message.ID
		}
	}
	return ""
}
