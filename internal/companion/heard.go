package companion

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/os1ai/os1/internal/store"
)

// ErrNotHeard: the text given to KeepHeard is not the start of the stored reply.
var ErrNotHeard = errors.New("heard text is not the start of the reply")

// KeepHeard cuts a stored reply back to what the user heard of it before
// interrupting it by voice, and marks it interrupted, so the history holds
// what was said aloud rather than what the model wrote. heard must be the
// start of the reply's content (the companion never invents a word); it may
// be empty.
//
// Call it after the turn that wrote the reply has ended: while the reply is
// still streaming it returns ErrBusy, because the turn's own final write
// would overwrite it. A reply that is not the user's answers store.ErrNotFound.
func (c *Companion) KeepHeard(ctx context.Context, userID, messageID, heard string) error {
	m, err := c.store.Message(ctx, userID, messageID)
	if err != nil {
		return err
	}
	if m.Role != store.RoleAssistant {
		return fmt.Errorf("message %s is a %s message, not a reply: %w", messageID, m.Role, ErrNotHeard)
	}
	if m.Status == store.StatusStreaming {
		return ErrBusy
	}
	if !strings.HasPrefix(m.Content, heard) {
		return fmt.Errorf("message %s: %w", messageID, ErrNotHeard)
	}
	status := store.StatusInterrupted
	if err := c.store.UpdateMessage(ctx, userID, messageID, store.MessagePatch{Content: &heard, Status: &status}, c.clock.Now()); err != nil {
		return fmt.Errorf("keep what was heard of message %s: %w", messageID, err)
	}
	if r, ok := c.listener.(Reviser); ok && heard != m.Content {
		r.MessageRevised(userID, m.ConversationID, messageID)
	}
	return nil
}
