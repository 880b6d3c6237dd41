package cluster_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/cluster"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/events"
	"github.com/os1ai/os1/internal/store"
)

// TestCompanionEventsCrossNodes: the companion's own bus on two nodes; a
// turn's events published on A arrive on B whole (the JSON round trip keeps
// conversations, messages, errors and memory item IDs).
func TestCompanionEventsCrossNodes(t *testing.T) {
	s := natsServer(t, 0, t.TempDir())
	defer s.Shutdown()
	var bridges []*cluster.Bridge[companion.Event]
	for _, name := range []string{"a", "b"} {
		var bus events.Bus[companion.Event] = companion.NewBus(events.Limits{})
		b := cluster.NewBridge(connect(t, s.ClientURL(), name), bus, companion.Classify, cluster.BridgeOptions{Node: name})
		t.Cleanup(b.Close)
		bridges = append(bridges, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := bridges[1].Subscribe(ctx, "u1")

	when := time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)
	sent := []companion.Event{
		{Type: companion.EvConversation, Conversation: &store.Conversation{ID: "c1", UserID: "u1", Title: "Hi", CreatedAt: when, UpdatedAt: when}},
		{Type: companion.EvDelta, ConversationID: "c1", MessageID: "m2", Text: "Hel"},
		{Type: companion.EvError, ConversationID: "c1", Err: &companion.TurnError{Code: companion.CodeModelError, Message: "down"}},
		{Type: companion.EvMemoryChanged, ItemIDs: []string{"i1", "i2"}},
		{Type: companion.EvTurnDone, ConversationID: "c1"},
	}
	go func() {
		for _, e := range sent {
			bridges[0].Publish(ctx, "u1", e)
		}
	}()
	var got []companion.Event
	for e := range sub {
		got = append(got, e)
		if e.Type == companion.EvTurnDone {
			break
		}
	}
	if !reflect.DeepEqual(got, sent) {
		t.Fatalf("B got\n%+v\nwant\n%+v", got, sent)
	}
}
