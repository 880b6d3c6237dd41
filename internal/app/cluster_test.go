package app_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/cluster/natstest"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// clusterConfig is a node's configuration: its own home, the shared data
// dir (one SQLite file here; PostgreSQL in internal/cluster/clustere2e).
func clusterConfig(t *testing.T, data, natsURL, node, modelURL string) config.Config {
	t.Helper()
	return app.ConfigForTest(t, "OS1_DATA_DIR", data,
		"OS1_NATS_URL", natsURL, "OS1_NODE_NAME", node, "OS1_CLUSTER_STALE_AFTER", "1ms",
		"OS1_LLM_URL", modelURL, "OS1_LLM_MODEL", llmtest.DefaultModel)
}

// twoNodes starts nodes "a" and "b" on one data dir and natsURL, answered by
// model, with the user usr_theo and a conversation of theirs.
func twoNodes(t *testing.T, natsURL string, model *llmtest.Server) (a, b *app.App, user string, conv store.Conversation) {
	t.Helper()
	ctx := context.Background()
	data := t.TempDir()
	var nodes []*app.App
	for _, name := range []string{"a", "b"} {
		n, err := app.New(ctx, clusterConfig(t, data, natsURL, name, model.OpenAIBaseURL()), app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		if n.Cluster == nil || n.Cluster.Node != name {
			t.Fatalf("node %s: cluster %+v", name, n.Cluster)
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		n.Models.Refresh(ctx)
		nodes = append(nodes, n)
	}
	a, b, user = nodes[0], nodes[1], "usr_theo"
	if err := a.DB.CreateUser(ctx, store.User{ID: user, Username: "theo", DisplayName: "Theo", Role: store.RoleOwner,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	conv, err := a.Companion.CreateConversation(ctx, user, "")
	if err != nil {
		t.Fatal(err)
	}
	return a, b, user, conv
}

// collect follows a user's events on a node.
type collected struct {
	mu  sync.Mutex
	evs []companion.Event
}

func (c *collected) find(f func(companion.Event) bool) *companion.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.evs {
		if f(c.evs[i]) {
			return &c.evs[i]
		}
	}
	return nil
}

// Two nodes in one process, joined through NATS: a proactive message (a
// turn os1 starts, as proactive messages and reminders do) on A reaches
// the user's subscriber on B; B cancels A's turn; a sweep leaves a live
// turn of another node alone and marks an orphaned streaming reply
// interrupted; a stored turn's memory job goes through the queue.
func TestClusterNodesInProcess(t *testing.T) {
	ctx := context.Background()
	natsURL := natstest.Start(t, true)
	model := llmtest.NewServer(t)
	var extractions sync.WaitGroup
	extractions.Add(1)
	var once sync.Once
	model.Route(func(r llmtest.Request) bool { return strings.Contains(r.System, "deciding what to remember") },
		func(llmtest.Request) llmtest.Reply {
			once.Do(extractions.Done)
			return llmtest.Reply{Chunks: []string{`{"operations":[]}`}}
		})
	model.Route(func(r llmtest.Request) bool { return strings.HasPrefix(r.System, "You write short titles") },
		func(llmtest.Request) llmtest.Reply { return llmtest.Reply{} })
	a, b, user, conv := twoNodes(t, natsURL, model)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	onB := &collected{}
	sub := b.Companion.Subscribe(sctx, user)
	go func() {
		for ev := range sub {
			onB.mu.Lock()
			onB.evs = append(onB.evs, ev)
			onB.mu.Unlock()
		}
	}()

	// A proactive message started on A reaches B's subscriber.
	model.Enqueue(llmtest.Reply{Chunks: []string{"Your call with Ana ", "starts in five minutes."}})
	evs, err := a.Companion.Initiate(ctx, user, conv.ID, "Your meeting “Call with Ana” starts soon")
	if err != nil {
		t.Fatal(err)
	}
	for range evs {
	}
	testrig.Eventually(t, 10*time.Second, "B's subscriber has A's proactive message", func() (bool, string) {
		ev := onB.find(func(e companion.Event) bool {
			return e.Type == companion.EvAssistantDone && e.Message != nil && e.Message.Content == "Your call with Ana starts in five minutes." &&
				strings.HasPrefix(e.Message.Reason, "Your meeting")
		})
		return ev != nil, "not yet"
	})
	// A turn's memory job is queued and done by some node.
	model.Enqueue(llmtest.Reply{Chunks: []string{"How lovely!"}})
	evs, err = a.Companion.Send(ctx, user, conv.ID, "I planted tomatoes today.")
	if err != nil {
		t.Fatal(err)
	}
	for range evs {
	}
	done := make(chan struct{})
	go func() { extractions.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("no node's memory worker took the stored turn's job")
	}
	testrig.Eventually(t, 10*time.Second, "the jobs queue is empty", func() (bool, string) {
		n, err := a.Cluster.Jobs.Pending(ctx)
		return err == nil && n == 0, fmt.Sprint(n, err)
	})

	// B cancels a turn that runs on A; a sweep meanwhile leaves it alone.
	gate := llmtest.NewGate()
	t.Cleanup(gate.Release)
	model.Enqueue(llmtest.Reply{Chunks: []string{"Once ", "upon a time."}, Hold: gate, HoldAfter: 1})
	turn, err := a.Companion.Send(ctx, user, conv.ID, "Tell me a story.")
	if err != nil {
		t.Fatal(err)
	}
	<-gate.Reached()
	testrig.Eventually(t, 10*time.Second, "the partial reply is saved", func() (bool, string) {
		msgs, err := a.DB.Messages(ctx, user, conv.ID)
		if err != nil || len(msgs) == 0 {
			return false, fmt.Sprint(err)
		}
		last := msgs[len(msgs)-1]
		return last.Status == store.StatusStreaming && last.Content == "Once ", fmt.Sprintf("%+v", last)
	})
	time.Sleep(5 * time.Millisecond) // past the 1 ms stale bound
	if n, err := b.Cluster.Sweep(ctx); n != 0 || err != nil {
		t.Fatalf("B swept %d replies (%v) while A runs the turn", n, err)
	}
	if ok, err := b.Companion.Cancel(ctx, user, conv.ID); !ok || err != nil {
		t.Fatalf("B's cancel of A's turn: %v, %v", ok, err)
	}
	var last companion.Event
	for ev := range turn {
		if ev.Type == companion.EvAssistantDone {
			last = ev
		}
	}
	if last.Message == nil || last.Message.Status != store.StatusInterrupted || last.Message.Content != "Once " {
		t.Fatalf("A's turn after B's cancel: %+v", last.Message)
	}
	if ok, err := b.Companion.Cancel(ctx, user, conv.ID); ok || err != nil {
		t.Fatalf("a second cancel: %v, %v; nothing runs", ok, err)
	}

	// A reply left streaming by a node that died: swept once, by either node.
	orphan, err := a.Companion.CreateConversation(ctx, user, "orphan")
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for i, m := range []store.Message{
		{ID: "msg_o1", Role: store.RoleUser, Content: "Hi", Status: store.StatusComplete},
		{ID: "msg_o2", Role: store.RoleAssistant, Content: "Hel", Status: store.StatusStreaming},
	} {
		m.ConversationID, m.UserID, m.CreatedAt, m.UpdatedAt = orphan.ID, user, old.Add(time.Duration(i)), old.Add(time.Duration(i))
		if err := a.DB.AppendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := b.Cluster.Sweep(ctx); n != 1 || err != nil {
		t.Fatalf("B swept %d (%v), want the orphan", n, err)
	}
	if n, err := a.Cluster.Sweep(ctx); n != 0 || err != nil {
		t.Fatalf("A swept %d (%v) after B; want 0", n, err)
	}
	msgs, err := a.DB.Messages(ctx, user, orphan.ID)
	if err != nil || len(msgs) != 2 || msgs[1].Status != store.StatusInterrupted || msgs[1].Content != "Hel" {
		t.Fatalf("the orphan after the sweep: %+v, %v", msgs, err)
	}
}

// Without a NATS URL os1 is one process: no cluster is built.
func TestNoNATSNoCluster(t *testing.T) {
	a, err := app.New(context.Background(), testConfig(t), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Cluster != nil {
		t.Fatal("a cluster without a NATS URL")
	}
}

// One conversation runs one turn across the cluster: while A runs a turn,
// a message sent to the same conversation on B is refused (ErrBusy, the
// API's 409) and nothing of it is stored; B says the turn is running; once
// A's turn ends, B takes the next one at once.
func TestClusterOneTurnPerConversation(t *testing.T) {
	ctx := context.Background()
	natsURL := natstest.Start(t, true)
	model := llmtest.NewServer(t)
	model.Route(func(r llmtest.Request) bool { return strings.Contains(r.System, "deciding what to remember") },
		func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{`{"operations":[]}`}} })
	model.Route(func(r llmtest.Request) bool { return strings.HasPrefix(r.System, "You write short titles") },
		func(llmtest.Request) llmtest.Reply { return llmtest.Reply{} })
	a, b, user, conv := twoNodes(t, natsURL, model)
	gate := llmtest.NewGate()
	t.Cleanup(gate.Release)
	model.Enqueue(llmtest.Reply{Chunks: []string{"Once ", "upon a time."}, Hold: gate, HoldAfter: 1})
	turn, err := a.Companion.Send(ctx, user, conv.ID, "Tell me a story.")
	if err != nil {
		t.Fatal(err)
	}
	<-gate.Reached()
	if !b.Companion.RunningAnywhere(ctx, user, conv.ID) || b.Companion.Running(conv.ID) {
		t.Fatal("B does not see A's running turn (or claims to run it itself)")
	}
	if _, err := b.Companion.Send(ctx, user, conv.ID, "And another one?"); !errors.Is(err, companion.ErrBusy) {
		t.Fatalf("a second turn on B while A runs one: %v, want ErrBusy", err)
	}
	gate.Release()
	for range turn {
	}
	msgs, err := a.DB.Messages(ctx, user, conv.ID)
	if err != nil || len(msgs) != 2 || msgs[1].Content != "Once upon a time." {
		t.Fatalf("after A's turn: %+v, %v; the refused message must not be stored", msgs, err)
	}
	if b.Companion.RunningAnywhere(ctx, user, conv.ID) {
		t.Fatal("A's finished turn still shows as running on B")
	}
	model.Enqueue(llmtest.Reply{Chunks: []string{"The end."}})
	next, err := b.Companion.Send(ctx, user, conv.ID, "And another one?")
	if err != nil {
		t.Fatalf("B's turn after A's ended: %v", err)
	}
	for range next {
	}
	if msgs, _ := b.DB.Messages(ctx, user, conv.ID); len(msgs) != 4 || msgs[3].Content != "The end." {
		t.Fatalf("after B's turn: %+v", msgs)
	}

	// A reply a dead node left streaming (its claim gone, the sweep not
	// there yet) is marked interrupted by the next turn in the
	// conversation, before that turn's own reply.
	now := time.Now()
	for i, m := range []store.Message{
		{ID: "msg_dead1", Role: store.RoleUser, Content: "Are you there?", Status: store.StatusComplete},
		{ID: "msg_dead2", Role: store.RoleAssistant, Content: "Let me", Status: store.StatusStreaming},
	} {
		m.ConversationID, m.UserID, m.CreatedAt, m.UpdatedAt = conv.ID, user, now.Add(time.Duration(i)), now.Add(time.Duration(i))
		if err := a.DB.AppendMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	model.Enqueue(llmtest.Reply{Chunks: []string{"Yes, here."}})
	again, err := a.Companion.Send(ctx, user, conv.ID, "Hello again?")
	if err != nil {
		t.Fatalf("a turn after a dead node's reply: %v", err)
	}
	for range again {
	}
	msgs, err = a.DB.Messages(ctx, user, conv.ID)
	if err != nil || len(msgs) != 8 || msgs[5].ID != "msg_dead2" || msgs[5].Status != store.StatusInterrupted || msgs[5].Content != "Let me" ||
		msgs[7].Status != store.StatusComplete || msgs[7].Content != "Yes, here." {
		t.Fatalf("after a dead node's reply and a new turn: %+v, %v", msgs, err)
	}
}

// Disabling a member on node A ends the member's socket on node B at once:
// A broadcasts the revocation and B ends its connections of that user.
func TestClusterDisableEndsSocketsOnEveryNode(t *testing.T) {
	ctx := context.Background()
	natsURL := natstest.Start(t, true)
	model := llmtest.NewServer(t)
	a, b, owner, _ := twoNodes(t, natsURL, model)
	const mia = "usr_mia"
	must(t, a.DB.CreateUser(ctx, store.User{ID: mia, Username: "mia", DisplayName: "Mia", Role: store.RoleMember, PasswordHash: "x", CreatedAt: time.Now()}))
	token := func(user, tok string) string {
		must(t, a.DB.CreateAPIToken(ctx, store.APIToken{ID: "tok_" + user, UserID: user, Name: "test", TokenHash: auth.HashToken(tok), CreatedAt: time.Now()}))
		return tok
	}
	ownerTok, miaTok := token(owner, "os1_ownertoken0123456789abcdef"), token(mia, "os1_miatoken0123456789abcdefgh")
	httpA, httpB := httptest.NewServer(a.Server.Handler()), httptest.NewServer(b.Server.Handler())
	defer httpA.Close()
	defer httpB.Close()

	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(httpB.URL, "http")+"/api/ws",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + miaTok}, "Origin": {httpB.URL}}})
	if err != nil {
		t.Fatalf("dial node B: %v (%v)", err, resp)
	}
	defer ws.CloseNow()

	req, _ := http.NewRequestWithContext(dctx, http.MethodPost, httpA.URL+"/api/users/"+mia+"/disable", nil)
	req.Header.Set("Authorization", "Bearer "+ownerTok)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("disable on node A: %v %v", res, err)
	}
	res.Body.Close()
	for {
		_, _, err := ws.Read(dctx)
		if err == nil {
			continue
		}
		if got := websocket.CloseStatus(err); got != server.StatusSignedOut {
			t.Fatalf("Mia's socket on node B ended with %v (status %d), want %d at once", err, got, server.StatusSignedOut)
		}
		break
	}
}
