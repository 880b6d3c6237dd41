package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqldb"
)

// Conversations and their messages: the episodic log.

const convCols = `id, user_id, title, created_at, updated_at, title_source, pinned_at, archived_at, model`

func scanConversation(r rowScanner) (store.Conversation, error) {
	var c store.Conversation
	err := r.Scan(&c.ID, &c.UserID, &c.Title, scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt),
		&c.TitleSource, scanTime(&c.PinnedAt), scanTime(&c.ArchivedAt), &c.Model)
	return c, err
}

// CreateConversation stores a new conversation; ErrNotFound when its user
// does not exist, ErrConflict when the ID is taken.
func (d *Store) CreateConversation(ctx context.Context, c store.Conversation) error {
	if c.ID == "" {
		return fmt.Errorf("create conversation for user %s: id is required", c.UserID)
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO conversations (`+convCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.UserID, c.Title, dbTime(c.CreatedAt), dbTime(c.UpdatedAt),
		c.TitleSource, dbTime(c.PinnedAt), dbTime(c.ArchivedAt), c.Model)
	return mapErr(err, fmt.Sprintf("create conversation %s", c.ID))
}

// Conversation returns one of the user's conversations.
func (d *Store) Conversation(ctx context.Context, userID, id string) (store.Conversation, error) {
	c, err := scanConversation(d.hot().QueryRowContext(ctx,
		`SELECT `+convCols+` FROM conversations WHERE id = ? AND user_id = ?`, id, userID))
	return c, mapErr(err, fmt.Sprintf("conversation %s", id))
}

// ListConversations returns the user's conversations, most recently updated first.
func (d *Store) ListConversations(ctx context.Context, userID string) ([]store.Conversation, error) {
	what := fmt.Sprintf("list conversations of user %s", userID)
	return all(ctx, d.db, scanConversation, what, `SELECT `+convCols+` FROM conversations WHERE user_id = ? ORDER BY updated_at DESC, `+d.seq+` DESC`, userID)
}

// SearchConversations finds the user's conversations whose title or
// messages contain every word of q (instr on lower-cased text: ASCII case is
// ignored, and LIKE's wildcards mean nothing here).
func (d *Store) SearchConversations(ctx context.Context, userID, q string, limit int) ([]store.Conversation, error) {
	what := fmt.Sprintf("search conversations of user %s", userID)
	words := strings.Fields(q)
	if len(words) == 0 || limit <= 0 {
		return nil, nil
	}
	if len(words) > maxSearchWords {
		words = words[:maxSearchWords]
	}
	// SQLite's instr(haystack, needle) is PostgreSQL's strpos.
	instr := "instr"
	if d.dialect == sqldb.Postgres {
		instr = "strpos"
	}
	var where strings.Builder
	args := []any{userID}
	for _, w := range words {
		where.WriteString(` AND (` + instr + `(lower(c.title), lower(?)) > 0 OR EXISTS (SELECT 1 FROM messages m
			WHERE m.conversation_id = c.id AND m.user_id = c.user_id AND m.role IN ('user', 'assistant')
			AND ` + instr + `(lower(m.content), lower(?)) > 0))`)
		args = append(args, w, w)
	}
	args = append(args, limit)
	return all(ctx, d.db, scanConversation, what, `SELECT `+prefixed("c.", convCols)+` FROM conversations c
		WHERE c.user_id = ?`+where.String()+` ORDER BY c.updated_at DESC, c.`+d.seq+` DESC LIMIT ?`, args...)
}

// maxSearchWords bounds one search's query (each word is a scan).
const maxSearchWords = 8

// prefixed qualifies each of a comma-separated column list with p.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i, c := range parts {
		parts[i] = p + c
	}
	return strings.Join(parts, ", ")
}

// RenameConversation sets the title and UpdatedAt of one of the user's conversations.
func (d *Store) RenameConversation(ctx context.Context, userID, id, title string, at time.Time) error {
	res, err := d.db.ExecContext(ctx,
		`UPDATE conversations SET title = ?, updated_at = ? WHERE id = ? AND user_id = ?`,
		title, dbTime(at), id, userID)
	return affected(res, err, fmt.Sprintf("rename conversation %s", id))
}

// UpdateConversation applies p to one of the user's conversations without
// moving it in the list.
func (d *Store) UpdateConversation(ctx context.Context, userID, id string, p store.ConversationPatch, at time.Time) error {
	what := fmt.Sprintf("update conversation %s", id)
	var sets []string
	var args []any
	if p.Title != nil {
		sets = append(sets, "title = ?")
		args = append(args, *p.Title)
	}
	if p.TitleSource != nil {
		sets = append(sets, "title_source = ?")
		args = append(args, *p.TitleSource)
	}
	flag := func(col string, on *bool) {
		if on == nil {
			return
		}
		sets = append(sets, col+" = ?")
		if *on {
			args = append(args, dbTime(at))
		} else {
			args = append(args, nil)
		}
	}
	flag("pinned_at", p.Pinned)
	flag("archived_at", p.Archived)
	if p.Model != nil {
		sets = append(sets, "model = ?")
		args = append(args, *p.Model)
	}
	if len(sets) == 0 {
		_, err := d.Conversation(ctx, userID, id)
		return err
	}
	args = append(args, id, userID)
	res, err := d.db.ExecContext(ctx,
		`UPDATE conversations SET `+strings.Join(sets, ", ")+` WHERE id = ? AND user_id = ?`, args...)
	return affected(res, err, what)
}

// DeleteConversation removes one of the user's conversations; its messages
// and actions go with it (ON DELETE CASCADE).
func (d *Store) DeleteConversation(ctx context.Context, userID, id string) error {
	res, err := d.db.ExecContext(ctx, `DELETE FROM conversations WHERE id = ? AND user_id = ?`, id, userID)
	return affected(res, err, fmt.Sprintf("delete conversation %s", id))
}

const msgCols = `id, conversation_id, user_id, role, content, tool_calls, tool_call_id, status, error, created_at, updated_at, reason, parent_id, reasoning, thought_ms, finish, channel`

func scanMessage(r rowScanner) (store.Message, error) {
	var (
		m       store.Message
		calls   string
		thought int64
	)
	err := r.Scan(&m.ID, &m.ConversationID, &m.UserID, &m.Role, &m.Content, &calls, &m.ToolCallID,
		&m.Status, &m.Error, scanTime(&m.CreatedAt), scanTime(&m.UpdatedAt), &m.Reason,
		&m.ParentID, &m.Reasoning, &thought, &m.Finish, &m.Channel)
	if err != nil {
		return m, err
	}
	m.ThoughtFor = time.Duration(thought) * time.Millisecond
	m.ToolCalls, err = decodeToolCalls(calls)
	return m, err
}

// storedCall keeps Arguments as a string so the model's bytes survive
// exactly, even when they are not valid JSON (a truncated stream).
type storedCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

func encodeToolCalls(calls []store.ToolCall) (string, error) {
	if len(calls) == 0 {
		return "", nil
	}
	sc := make([]storedCall, len(calls))
	for i, c := range calls {
		sc[i] = storedCall{ID: c.ID, Name: c.Name, Arguments: string(c.Arguments)}
	}
	b, err := json.Marshal(sc)
	if err != nil {
		return "", fmt.Errorf("encode tool calls: %w", err)
	}
	return string(b), nil
}

func decodeToolCalls(s string) ([]store.ToolCall, error) {
	if s == "" {
		return nil, nil
	}
	var sc []storedCall
	if err := json.Unmarshal([]byte(s), &sc); err != nil {
		return nil, fmt.Errorf("decode stored tool calls: %w", err)
	}
	calls := make([]store.ToolCall, len(sc))
	for i, c := range sc {
		calls[i] = store.ToolCall{ID: c.ID, Name: c.Name}
		if c.Arguments != "" {
			calls[i].Arguments = json.RawMessage(c.Arguments)
		}
	}
	return calls, nil
}

// AppendMessage stores m at the end of its conversation and bumps the
// conversation's UpdatedAt to m.CreatedAt (never backwards). ErrNotFound when
// the conversation is not m.UserID's.
func (d *Store) AppendMessage(ctx context.Context, m store.Message) error {
	return d.AppendMessageWith(ctx, m, nil)
}

// AppendMessageWith is AppendMessage that also runs with, when not nil, in
// the same transaction (a message's attachments): both are stored, or neither.
func (d *Store) AppendMessageWith(ctx context.Context, m store.Message, with func(context.Context, *sql.Tx) error) error {
	what := fmt.Sprintf("append message %s to conversation %s", m.ID, m.ConversationID)
	if m.ID == "" {
		return fmt.Errorf("%s: id is required", what)
	}
	calls, err := encodeToolCalls(m.ToolCalls)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if d.dialect == sqldb.Postgres && with == nil {
		return d.appendLocked(ctx, d.hot(), m, calls, what)
	}
	hot := []string{appendLockedQuery}
	if d.dialect == sqldb.SQLite {
		hot = []string{appendHeadQuery, appendMoveHeadQuery, appendInsertQuery}
	}
	tx, ptx, err := d.stmts.begin(ctx, nil, hot...)
	if err != nil {
		return mapErr(err, what)
	}
	defer tx.Rollback()
	if d.dialect == sqldb.Postgres {
		err = d.appendLocked(ctx, ptx, m, calls, what)
	} else {
		err = d.appendInTx(ctx, ptx, m, calls, what)
	}
	if err != nil {
		return err
	}
	if with != nil {
		if err := with(ctx, tx); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return mapErr(tx.Commit(), what)
}

// appendInTx is the append on SQLite: the transaction holds the one write
// lock from its start (_txlock=immediate), so reading the head and moving
// it cannot race another append.
func (d *Store) appendInTx(ctx context.Context, tx preparedTx, m store.Message, calls, what string) error {
	var head string
	err := tx.QueryRowContext(ctx, appendHeadQuery, m.ConversationID, m.UserID).Scan(&head)
	if err != nil {
		return mapErr(err, what)
	}
	parent := m.ParentID
	switch parent {
	case "":
		parent = head
	case store.BranchAtRoot:
		parent = ""
	default:
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE id = ? AND conversation_id = ? AND user_id = ?`,
			parent, m.ConversationID, m.UserID).Scan(&one)
		if err != nil {
			return mapErr(err, fmt.Sprintf("%s after message %s", what, parent))
		}
	}
	res, err := tx.ExecContext(ctx, appendMoveHeadQuery, dbTime(m.CreatedAt), m.ConversationID, m.UserID, m.ID)
	if err := affected(res, err, what); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, appendInsertQuery,
		m.ID, m.ConversationID, m.UserID, string(m.Role), m.Content, calls, m.ToolCallID,
		string(m.Status), m.Error, dbTime(m.CreatedAt), dbTime(m.UpdatedAt), m.Reason,
		parent, m.Reasoning, m.ThoughtFor.Milliseconds(), m.Finish, m.Channel)
	return mapErr(err, what)
}

// The statements of an append on SQLite (appendInTx): read the head, move
// it, insert.
const (
	appendHeadQuery     = `SELECT head_id FROM conversations WHERE id = ? AND user_id = ?`
	appendMoveHeadQuery = `UPDATE conversations
		 SET updated_at = CASE WHEN updated_at IS NULL OR updated_at < ?1 THEN ?1 ELSE updated_at END,
		     head_id = ?4
		 WHERE id = ?2 AND user_id = ?3`
	appendInsertQuery = `INSERT INTO messages (` + msgCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// execer is a pool or a transaction.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// appendLocked is the append on PostgreSQL, where writers do not take
// turns by themselves. One statement, one round trip: lock the
// conversation (FOR UPDATE: two appends to one conversation take turns, so
// each sees the head the other left, as SQLite's write lock does there),
// pick the parent (the head, none for BranchAtRoot, or the given message
// if it is in this conversation), move the head and bump UpdatedAt,
// insert. A missing conversation or parent inserts nothing.
func (d *Store) appendLocked(ctx context.Context, db execer, m store.Message, calls, what string) error {
	res, err := db.ExecContext(ctx, appendLockedQuery,
		m.ID, m.ConversationID, m.UserID, string(m.Role), m.Content, calls, m.ToolCallID,
		string(m.Status), m.Error, dbTime(m.CreatedAt), dbTime(m.UpdatedAt), m.Reason,
		m.ParentID, m.Reasoning, m.ThoughtFor.Milliseconds(), m.Finish, m.Channel)
	if err != nil {
		return mapErr(err, what)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return mapErr(err, what)
	}
	// Nothing inserted: say which was missing.
	if _, err := d.Conversation(ctx, m.UserID, m.ConversationID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s after message %s: %w", what, m.ParentID, store.ErrNotFound)
}

// appendLockedQuery is appendLocked's one statement.
const appendLockedQuery = `WITH conv AS (
		SELECT id, head_id FROM conversations WHERE id = ?2 AND user_id = ?3 FOR UPDATE
	), par AS (
		SELECT CASE
			WHEN CAST(?13 AS TEXT) = '' THEN conv.head_id
			WHEN CAST(?13 AS TEXT) = '` + store.BranchAtRoot + `' THEN ''
			ELSE (SELECT id FROM messages WHERE id = CAST(?13 AS TEXT) AND conversation_id = ?2 AND user_id = ?3)
		END AS parent_id FROM conv
	), upd AS (
		UPDATE conversations c
		SET updated_at = CASE WHEN c.updated_at IS NULL OR c.updated_at < CAST(?10 AS TEXT) THEN CAST(?10 AS TEXT) ELSE c.updated_at END,
		    head_id = ?1
		FROM par WHERE c.id = ?2 AND c.user_id = ?3 AND par.parent_id IS NOT NULL
	)
	INSERT INTO messages (` + msgCols + `)
	SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, CAST(?10 AS TEXT), CAST(?11 AS TEXT), ?12, par.parent_id, ?14, CAST(?15 AS BIGINT), ?16, ?17
	FROM par WHERE par.parent_id IS NOT NULL`

// UpdateMessage applies p to one of the user's messages and sets its UpdatedAt.
func (d *Store) UpdateMessage(ctx context.Context, userID, id string, p store.MessagePatch, at time.Time) error {
	what := fmt.Sprintf("update message %s", id)
	sets := []string{"updated_at = ?"}
	args := []any{dbTime(at)}
	if p.Content != nil {
		sets = append(sets, "content = ?")
		args = append(args, *p.Content)
	}
	if p.Status != nil {
		sets = append(sets, "status = ?")
		args = append(args, string(*p.Status))
	}
	if p.Error != nil {
		sets = append(sets, "error = ?")
		args = append(args, *p.Error)
	}
	if p.ToolCalls != nil {
		calls, err := encodeToolCalls(p.ToolCalls)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		sets = append(sets, "tool_calls = ?")
		args = append(args, calls)
	}
	if p.Reasoning != nil {
		sets = append(sets, "reasoning = ?")
		args = append(args, *p.Reasoning)
	}
	if p.ThoughtFor != nil {
		sets = append(sets, "thought_ms = ?")
		args = append(args, p.ThoughtFor.Milliseconds())
	}
	if p.Finish != nil {
		sets = append(sets, "finish = ?")
		args = append(args, *p.Finish)
	}
	args = append(args, id, userID)
	res, err := d.hot().ExecContext(ctx,
		`UPDATE messages SET `+strings.Join(sets, ", ")+` WHERE id = ? AND user_id = ?`, args...)
	return affected(res, err, what)
}

// Message returns one of the user's messages.
func (d *Store) Message(ctx context.Context, userID, id string) (store.Message, error) {
	m, err := scanMessage(d.hot().QueryRowContext(ctx,
		`SELECT `+msgCols+` FROM messages WHERE id = ? AND user_id = ?`, id, userID))
	return m, mapErr(err, fmt.Sprintf("message %s", id))
}

// Messages returns a conversation's messages in the order they were
// appended. ErrNotFound when the conversation is not the user's.
func (d *Store) Messages(ctx context.Context, userID, conversationID string) ([]store.Message, error) {
	return d.messages(ctx, userID, conversationID, 0)
}

// RecentMessages returns the conversation's last limit messages, in order.
func (d *Store) RecentMessages(ctx context.Context, userID, conversationID string, limit int) ([]store.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	return d.messages(ctx, userID, conversationID, limit)
}

// readConversation begins a read transaction on a conversation that is
// the user's (ErrNotFound otherwise): one transaction, so that the
// existence check and the rows read next agree. The caller rolls it back.
func (d *Store) readConversation(ctx context.Context, userID, conversationID, what string) (*sql.Tx, preparedTx, error) {
	tx, ptx, err := d.stmts.begin(ctx, &sql.TxOptions{ReadOnly: true}, ownsConversationQuery)
	if err != nil {
		return nil, ptx, mapErr(err, what)
	}
	var one int
	err = ptx.QueryRowContext(ctx, ownsConversationQuery, conversationID, userID).Scan(&one)
	if err != nil {
		tx.Rollback()
		return nil, ptx, mapErr(err, what)
	}
	return tx, ptx, nil
}

const ownsConversationQuery = `SELECT 1 FROM conversations WHERE id = ? AND user_id = ?`

func (d *Store) messages(ctx context.Context, userID, conversationID string, limit int) ([]store.Message, error) {
	what := fmt.Sprintf("messages of conversation %s", conversationID)
	// One statement, no transaction: it reads one snapshot, and rows
	// come back only when the conversation is the user's. (A read-only
	// transaction here cost two statements more on PostgreSQL, and on
	// SQLite its PRAGMA query_only expired every prepared statement of
	// the connection.)
	msgs, err := all(ctx, d.hot(), scanMessage, what, pathQuery, conversationID, userID, limit)
	if err != nil || len(msgs) > 0 {
		return msgs, err
	}
	// No rows: an empty conversation, or none of the user's. Conversations
	// are created empty, so "empty" was true at some instant in between.
	var one int
	if err := d.hot().QueryRowContext(ctx, ownsConversationQuery, conversationID, userID).Scan(&one); err != nil {
		return nil, mapErr(err, what)
	}
	return nil, nil
}

// pathQuery reads the current path of a conversation: from the head up
// through the parents, ?3 steps at most (0: all the way), in the order
// appended.
const pathQuery = `WITH RECURSIVE path(id, parent_id, depth) AS (
		SELECT m.id, m.parent_id, 1 FROM messages m JOIN conversations c ON c.head_id = m.id
		WHERE c.id = ?1 AND c.user_id = ?2 AND m.conversation_id = ?1
		UNION ALL
		SELECT m.id, m.parent_id, p.depth + 1 FROM messages m JOIN path p ON m.id = p.parent_id
		WHERE m.conversation_id = ?1 AND (?3 = 0 OR p.depth < ?3)
	)
	SELECT ` + msgCols + ` FROM messages WHERE id IN (SELECT id FROM path) AND user_id = ?2 ORDER BY seq`

// MessageTree returns every message of the conversation, on every branch.
func (d *Store) MessageTree(ctx context.Context, userID, conversationID string) ([]store.MessageNode, error) {
	what := fmt.Sprintf("message tree of conversation %s", conversationID)
	tx, _, err := d.readConversation(ctx, userID, conversationID, what)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx,
		`SELECT id, parent_id, role FROM messages WHERE conversation_id = ? AND user_id = ? ORDER BY seq`,
		conversationID, userID)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []store.MessageNode
	for rows.Next() {
		var n store.MessageNode
		if err := rows.Scan(&n.ID, &n.ParentID, &n.Role); err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, n)
	}
	return out, mapErr(rows.Err(), what)
}

// ShowBranch moves the head to the newest message in messageID's subtree.
func (d *Store) ShowBranch(ctx context.Context, userID, conversationID, messageID string) error {
	what := fmt.Sprintf("show branch %s of conversation %s", messageID, conversationID)
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, what)
	}
	defer tx.Rollback()
	var leaf string
	err = tx.QueryRowContext(ctx, `WITH RECURSIVE below(id) AS (
		SELECT id FROM messages WHERE id = ?1 AND conversation_id = ?2 AND user_id = ?3
		UNION ALL
		SELECT m.id FROM messages m JOIN below b ON m.parent_id = b.id WHERE m.conversation_id = ?2
	)
	SELECT m.id FROM messages m WHERE m.id IN (SELECT id FROM below) ORDER BY m.seq DESC LIMIT 1`,
		messageID, conversationID, userID).Scan(&leaf)
	if err != nil {
		return mapErr(err, what)
	}
	res, err := tx.ExecContext(ctx, `UPDATE conversations SET head_id = ? WHERE id = ? AND user_id = ?`,
		leaf, conversationID, userID)
	if err := affected(res, err, what); err != nil {
		return err
	}
	return mapErr(tx.Commit(), what)
}

// MarkInterrupted turns every streaming message into interrupted.
func (d *Store) MarkInterrupted(ctx context.Context, at time.Time) (int, error) {
	res, err := d.db.ExecContext(ctx,
		`UPDATE messages SET status = ?, updated_at = ? WHERE status = ?`,
		string(store.StatusInterrupted), dbTime(at), string(store.StatusStreaming))
	if err != nil {
		return 0, mapErr(err, "mark interrupted messages")
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err, "mark interrupted messages")
}
