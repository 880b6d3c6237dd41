package companion

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/os1ai/os1/internal/store"
)

// Branches: a conversation is a tree (store.Message.ParentID). Editing a
// message of the user's starts a sibling of it, regenerating one of her
// replies starts a sibling of that reply; the old ones stay stored and
// reachable with Show. Each of these takes the conversation's turn lock, so
// the head never moves under a running turn.

// Errors of the branch operations (the server maps them to 400).
var (
	ErrNotUserMessage      = errors.New("only your own messages can be edited")
	ErrNotAssistantMessage = errors.New("only her replies can be regenerated")
)

// Branch is a message's place among its siblings: the messages with the
// same parent and the same role (the versions of one edit or one reply).
// Index counts from 1 in the order they were written.
type Branch struct {
	Index  int
	Count  int
	PrevID string // "" for the first
	NextID string // "" for the last
}

// Edit answers newText in place of the user's message messageID: the new
// message is a sibling of the old one (same parent), the old message and
// everything after it stay stored as another branch, and a turn answers the
// new message. Errors and the stream are those of Send.
func (c *Companion) Edit(ctx context.Context, userID, conversationID, messageID, newText string) (iter.Seq[Event], error) {
	if err := ValidateText(newText); err != nil {
		return nil, err
	}
	conv, old, err := c.branchTarget(ctx, userID, conversationID, messageID)
	if err != nil {
		return nil, err
	}
	if old.Role != store.RoleUser {
		return nil, ErrNotUserMessage
	}
	t, err := c.begin(conv)
	if err != nil {
		return nil, err
	}
	c.supersedePending(ctx, userID, conv.ID)
	parent := old.ParentID
	if parent == "" {
		parent = store.BranchAtRoot
	}
	now := c.clock.Now()
	msg := store.Message{ID: c.ids.NewID("msg_"), ConversationID: conv.ID, UserID: userID, Role: store.RoleUser,
		Content: newText, Status: store.StatusComplete, ParentID: parent, CreatedAt: now, UpdatedAt: now}
	if err := c.store.AppendMessage(ctx, msg); err != nil {
		t.abandon()
		return nil, fmt.Errorf("store edited message: %w", err)
	}
	if msg.ParentID == store.BranchAtRoot {
		msg.ParentID = "" // as the store reads it back
	}
	t.latest = newText
	go t.run(func(ctx context.Context) {
		t.emit(Event{Type: EvConversation, Conversation: &conv})
		t.emit(Event{Type: EvUserMessage, Message: &msg})
		c.respond(ctx, t, userID, conv.ID)
	})
	return t.events(), nil
}

// Regenerate writes a new reply in place of her reply messageID: the new
// reply answers the same user message (its parent is that message), and
// the model sees the history up to that message only, never the old reply.
// The old reply stays stored as another branch. ErrNothingToDo when no
// message of the user's comes before it (a turn os1 began itself).
func (c *Companion) Regenerate(ctx context.Context, userID, conversationID, messageID string) (iter.Seq[Event], error) {
	conv, old, err := c.branchTarget(ctx, userID, conversationID, messageID)
	if err != nil {
		return nil, err
	}
	if old.Role != store.RoleAssistant {
		return nil, ErrNotAssistantMessage
	}
	asked, err := c.askedBy(ctx, userID, conv.ID, old)
	if err != nil {
		return nil, err
	}
	t, err := c.begin(conv)
	if err != nil {
		return nil, err
	}
	c.supersedePending(ctx, userID, conv.ID)
	// The question must be on the current path for the history to be read
	// up to it: show the branch of the reply being replaced.
	if err := c.store.ShowBranch(ctx, userID, conv.ID, old.ID); err != nil {
		t.abandon()
		return nil, fmt.Errorf("regenerate reply %s: %w", old.ID, err)
	}
	t.parent = asked.ID
	t.latest = asked.Content
	go t.run(func(ctx context.Context) {
		t.emit(Event{Type: EvConversation, Conversation: &conv})
		c.respond(ctx, t, userID, conv.ID)
	})
	return t.events(), nil
}

// Show makes the branch through messageID the conversation's current path
// (the newest message below it becomes the head). ErrBusy while a turn
// runs: its reply must land on the branch it started on.
func (c *Companion) Show(ctx context.Context, userID, conversationID, messageID string) error {
	conv, _, err := c.branchTarget(ctx, userID, conversationID, messageID)
	if err != nil {
		return err
	}
	t, err := c.begin(conv) // the turn lock, held only while the head moves
	if err != nil {
		return err
	}
	defer t.abandon()
	return c.store.ShowBranch(ctx, userID, conv.ID, messageID)
}

// Branches tells, for every message that has siblings, its place among
// them; messages without siblings are left out.
func (c *Companion) Branches(ctx context.Context, userID, conversationID string) (map[string]Branch, error) {
	nodes, err := c.store.MessageTree(ctx, userID, conversationID)
	if err != nil {
		return nil, err
	}
	type key struct {
		parent string
		role   store.MessageRole
	}
	groups := map[key][]string{}
	for _, n := range nodes { // in the order appended
		k := key{n.ParentID, n.Role}
		groups[k] = append(groups[k], n.ID)
	}
	out := map[string]Branch{}
	for _, ids := range groups {
		if len(ids) < 2 {
			continue
		}
		for i, id := range ids {
			b := Branch{Index: i + 1, Count: len(ids)}
			if i > 0 {
				b.PrevID = ids[i-1]
			}
			if i+1 < len(ids) {
				b.NextID = ids[i+1]
			}
			out[id] = b
		}
	}
	return out, nil
}

// branchTarget reads the conversation and one of its messages, both the
// user's; ErrNotFound otherwise.
func (c *Companion) branchTarget(ctx context.Context, userID, conversationID, messageID string) (store.Conversation, store.Message, error) {
	conv, err := c.store.Conversation(ctx, userID, conversationID)
	if err != nil {
		return store.Conversation{}, store.Message{}, err
	}
	m, err := c.store.Message(ctx, userID, messageID)
	if err != nil {
		return store.Conversation{}, store.Message{}, err
	}
	if m.ConversationID != conv.ID {
		return store.Conversation{}, store.Message{}, fmt.Errorf("message %s in conversation %s: %w", messageID, conv.ID, store.ErrNotFound)
	}
	return conv, m, nil
}

// askedBy finds the user's message that reply answers: the nearest user
// message above it (tool rounds put her earlier messages and tool results
// in between).
func (c *Companion) askedBy(ctx context.Context, userID, convID string, reply store.Message) (store.Message, error) {
	nodes, err := c.store.MessageTree(ctx, userID, convID)
	if err != nil {
		return store.Message{}, err
	}
	byID := make(map[string]store.MessageNode, len(nodes))
	for _, n := range nodes {
		byID[n.ID] = n
	}
	for id, steps := reply.ParentID, 0; id != "" && steps <= len(nodes); steps++ {
		n, ok := byID[id]
		if !ok {
			break
		}
		if n.Role == store.RoleUser {
			return c.store.Message(ctx, userID, n.ID)
		}
		id = n.ParentID
	}
	return store.Message{}, ErrNothingToDo
}

// history is the stored conversation a prompt is built from: the last
// historyWindow messages of the current path, or, when upTo is set (a
// regenerated reply), of the path up to and including upTo.
func (c *Companion) history(ctx context.Context, userID, convID, upTo string) ([]store.Message, error) {
	msgs, err := c.store.RecentMessages(ctx, userID, convID, historyWindow)
	if err != nil || upTo == "" {
		return msgs, err
	}
	cut := func(msgs []store.Message) ([]store.Message, bool) {
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].ID == upTo {
				return msgs[max(0, i+1-historyWindow) : i+1], true
			}
		}
		return nil, false
	}
	if out, ok := cut(msgs); ok {
		return out, nil
	}
	if msgs, err = c.store.Messages(ctx, userID, convID); err != nil { // far above the head
		return nil, err
	}
	if out, ok := cut(msgs); ok {
		return out, nil
	}
	return nil, fmt.Errorf("message %s is not on the current path of conversation %s: %w", upTo, convID, store.ErrNotFound)
}
