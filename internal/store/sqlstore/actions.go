package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/os1ai/os1/internal/store"
)

// Side-effect tool calls awaiting the user's consent.

const actionCols = `id, user_id, conversation_id, message_id, tool_call_id, tool, arguments, status, result, created_at, decided_at`

func scanAction(r rowScanner) (store.Action, error) {
	var (
		a    store.Action
		args string
	)
	err := r.Scan(&a.ID, &a.UserID, &a.ConversationID, &a.MessageID, &a.ToolCallID, &a.Tool, &args,
		&a.Status, &a.Result, scanTime(&a.CreatedAt), scanTime(&a.DecidedAt))
	if args != "" {
		a.Arguments = json.RawMessage(args)
	}
	return a, err
}

// CreateAction stores an action; ErrNotFound when its conversation does not
// exist or is not a.UserID's.
func (d *Store) CreateAction(ctx context.Context, a store.Action) error {
	what := fmt.Sprintf("create action %s", a.ID)
	if a.ID == "" {
		return fmt.Errorf("%s: id is required", what)
	}
	// INSERT ... SELECT inserts nothing when the conversation is another
	// user's, which the foreign key alone would not catch.
	res, err := d.db.ExecContext(ctx,
		`INSERT INTO actions (`+actionCols+`)
		 SELECT ?, user_id, id, ?, ?, ?, ?, ?, ?, ?, ? FROM conversations WHERE id = ? AND user_id = ?`,
		a.ID, a.MessageID, a.ToolCallID, a.Tool, string(a.Arguments), string(a.Status), a.Result,
		dbTime(a.CreatedAt), dbTime(a.DecidedAt), a.ConversationID, a.UserID)
	return affected(res, err, what)
}

// Action returns one of the user's actions.
func (d *Store) Action(ctx context.Context, userID, id string) (store.Action, error) {
	a, err := scanAction(d.db.QueryRowContext(ctx,
		`SELECT `+actionCols+` FROM actions WHERE id = ? AND user_id = ?`, id, userID))
	return a, mapErr(err, fmt.Sprintf("action %s", id))
}

// PendingActions returns the user's pending actions in a conversation, oldest first.
func (d *Store) PendingActions(ctx context.Context, userID, conversationID string) ([]store.Action, error) {
	what := fmt.Sprintf("pending actions of conversation %s", conversationID)
	return all(ctx, d.db, scanAction, what, `SELECT `+actionCols+` FROM actions
		 WHERE conversation_id = ? AND user_id = ? AND status = ? ORDER BY created_at, `+d.seq,
		conversationID, userID, string(store.ActionPending))
}

// DecideAction moves a pending action to approved or denied in one
// statement, so a double click cannot run it twice.
func (d *Store) DecideAction(ctx context.Context, userID, id string, status store.ActionStatus, at time.Time) error {
	what := fmt.Sprintf("decide action %s", id)
	if status != store.ActionApproved && status != store.ActionDenied {
		return fmt.Errorf("%s: status %q is neither %q nor %q", what, status, store.ActionApproved, store.ActionDenied)
	}
	res, err := d.db.ExecContext(ctx,
		`UPDATE actions SET status = ?, decided_at = ? WHERE id = ? AND user_id = ? AND status = ?`,
		string(status), dbTime(at), id, userID, string(store.ActionPending))
	return affected(res, err, what)
}

// FinishAction records the outcome (done or failed) of one of the user's actions.
func (d *Store) FinishAction(ctx context.Context, userID, id string, status store.ActionStatus, result string) error {
	what := fmt.Sprintf("finish action %s", id)
	if status != store.ActionDone && status != store.ActionFailed {
		return fmt.Errorf("%s: status %q is neither %q nor %q", what, status, store.ActionDone, store.ActionFailed)
	}
	res, err := d.db.ExecContext(ctx,
		`UPDATE actions SET status = ?, result = ? WHERE id = ? AND user_id = ?`,
		string(status), result, id, userID)
	return affected(res, err, what)
}
