package sqlitemail

import (
	"context"
	"fmt"
	"strings"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/store/sqltime"
)

// IDPrefix starts the os1 id PutMessages gives a new message.
const IDPrefix = "mm_"

// msgCols are the columns a Message is read from, in scanMessage's order.
const msgCols = `m.id, m.user_id, m.account_id, m.folder, m.uid_validity, coalesce(m.uid, 0), m.message_id,
	m.in_reply_to, m.refs, m.thread_id, m.from_name, m.from_email, m.to_addrs, m.cc_addrs, m.reply_to,
	m.subject, m.date, m.text, m.parts, m.flags, m.size, m.list_id, m.list_unsubscribe,
	m.list_unsubscribe_post, m.auth_results, m.precedence, m.category, m.importance, m.reason, m.summary, m.triage_by,
	m.triaged_at, m.archive`

func (s *Store) scanMessage(r scanner) (mail.Message, error) {
	var m mail.Message
	t := &m.Triage
	err := r.Scan(&m.ID, &m.UserID, &m.AccountID, &m.Folder, &m.UIDValidity, &m.UID, &m.MessageID,
		&m.InReplyTo, jsonCol{&m.References}, &m.ThreadID, &m.From.Name, &m.From.Email, jsonCol{&m.To},
		jsonCol{&m.Cc}, jsonCol{&m.ReplyTo}, &m.Subject, scanTime(&m.Date), &m.Text, jsonCol{&m.Parts},
		jsonCol{&m.Flags}, &m.Size, &m.ListID, &m.ListUnsubscribe, &m.ListUnsubscribePost, &m.AuthResults,
		&m.Precedence, &t.Category, &t.Importance, &t.Reason, &t.Summary, &t.By, scanTime(&t.At), &t.Archive)
	s.txt.get(&m.MessageID, &m.InReplyTo, &m.From.Name, &m.From.Email, &m.Subject, &m.Text, &m.ListID,
		&m.ListUnsubscribe, &m.ListUnsubscribePost, &m.AuthResults, &m.Precedence, &t.Reason, &t.Summary, &t.By)
	return m, err
}

// uidValue stores UID 0 (not known yet: a move the server did not report
// the new UID of) as NULL, so such messages never collide on the unique key.
func uidValue(uid uint32) any {
	if uid == 0 {
		return nil
	}
	return int64(uid)
}

// PutMessages inserts or updates messages by (account, folder,
// uid_validity, uid) in one transaction: all or none. A message already
// stored keeps its os1 id and its triage; everything else is replaced. A new
// message keeps ms[i].ID when set (else gets a fresh id) and the triage it
// carries. ms[i].ID is set to the id stored. ErrNotFound when an account is
// not userID's.
func (s *Store) PutMessages(ctx context.Context, userID string, ms []mail.Message) (err error) {
	if len(ms) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errs.Map(err, "put mail messages")
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	owned := map[string]bool{}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO mail_messages (id, user_id, account_id, folder,
		uid_validity, uid, message_id, in_reply_to, refs, thread_id, from_name, from_email, to_addrs, cc_addrs,
		reply_to, subject, date, text, parts, flags, seen, size, list_id, list_unsubscribe,
		list_unsubscribe_post, auth_results, precedence, category, importance, reason, summary, triage_by, triaged_at, archive)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, folder, uid_validity, uid) DO UPDATE SET
			message_id = excluded.message_id, in_reply_to = excluded.in_reply_to, refs = excluded.refs,
			thread_id = excluded.thread_id, from_name = excluded.from_name, from_email = excluded.from_email,
			to_addrs = excluded.to_addrs, cc_addrs = excluded.cc_addrs, reply_to = excluded.reply_to,
			subject = excluded.subject, date = excluded.date, text = excluded.text, parts = excluded.parts,
			flags = excluded.flags, seen = excluded.seen, size = excluded.size, list_id = excluded.list_id,
			list_unsubscribe = excluded.list_unsubscribe, list_unsubscribe_post = excluded.list_unsubscribe_post,
			auth_results = excluded.auth_results, precedence = excluded.precedence
		WHERE mail_messages.user_id = excluded.user_id
		RETURNING id`)
	if err != nil {
		return errs.Map(err, "put mail messages")
	}
	defer stmt.Close()
	for i := range ms {
		m := &ms[i]
		what := fmt.Sprintf("put mail message uid %d in %q", m.UID, m.Folder)
		if m.AccountID == "" || m.Folder == "" {
			return fmt.Errorf("%s: account and folder are required", what)
		}
		// The upsert would otherwise update another user's message of
		// the same account id; the foreign key covers only inserts.
		if !owned[m.AccountID] {
			if err := ownAccount(ctx, tx, userID, m.AccountID); err != nil {
				return err
			}
			owned[m.AccountID] = true
		}
		id := m.ID
		if id == "" {
			id = clock.NewID(IDPrefix)
		}
		args, err := s.messageArgs(m)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		t := m.Triage
		args = append([]any{id, userID, m.AccountID, m.Folder, m.UIDValidity, uidValue(m.UID)}, args...)
		args = append(args, string(t.Category), t.Importance, s.txt.put(t.Reason), s.txt.put(t.Summary), s.txt.put(t.By),
			sqltime.Value(t.At), bit(t.Archive))
		var stored string
		if err := stmt.QueryRowContext(ctx, args...).Scan(&stored); err != nil {
			return errs.Map(err, what)
		}
		m.ID, m.UserID = stored, userID
	}
	return errs.Map(tx.Commit(), "put mail messages")
}

// messageArgs are the values of the columns from message_id to precedence.
func (s *Store) messageArgs(m *mail.Message) ([]any, error) {
	var js [6]string
	for i, v := range []any{m.References, m.To, m.Cc, m.ReplyTo, m.Parts, m.Flags} {
		var err error
		if js[i], err = toJSON(v); err != nil {
			return nil, err
		}
	}
	p := s.txt.put
	return []any{p(m.MessageID), p(m.InReplyTo), js[0], m.ThreadID, p(m.From.Name), p(m.From.Email), js[1], js[2], js[3],
		p(m.Subject), sqltime.Value(m.Date), p(m.Text), js[4], js[5], bit(m.HasFlag(mail.FlagSeen)), m.Size, p(m.ListID),
		p(m.ListUnsubscribe), p(m.ListUnsubscribePost), p(m.AuthResults), p(m.Precedence)}, nil
}

// Message returns one of userID's messages.
func (s *Store) Message(ctx context.Context, userID, id string) (mail.Message, error) {
	m, err := s.scanMessage(s.db.QueryRowContext(ctx, `SELECT `+msgCols+` FROM mail_messages m
		WHERE m.id = ? AND m.user_id = ?`, id, userID))
	if err != nil {
		return mail.Message{}, errs.Map(err, "mail message "+id)
	}
	return m, nil
}

// MessageByUID finds a message by where it lives on the server. Should
// the folder hold messages of more than one UIDVALIDITY (a reset not yet
// done), the one of the folder's saved UIDVALIDITY wins.
func (s *Store) MessageByUID(ctx context.Context, userID, accountID, folder string, uid uint32) (mail.Message, error) {
	m, err := s.scanMessage(s.db.QueryRowContext(ctx, `SELECT `+msgCols+` FROM mail_messages m
		LEFT JOIN mail_folders f ON f.account_id = m.account_id AND f.name = m.folder
		WHERE m.user_id = ? AND m.account_id = ? AND m.folder = ? AND m.uid = ?
		ORDER BY m.uid_validity = f.uid_validity DESC, m.uid_validity DESC LIMIT 1`,
		userID, accountID, folder, int64(uid)))
	if err != nil {
		return mail.Message{}, errs.Map(err, fmt.Sprintf("mail message uid %d in %q", uid, folder))
	}
	return m, nil
}

// Messages lists userID's messages matching q, newest first. Another
// user's account or thread matches nothing.
func (s *Store) Messages(ctx context.Context, userID string, q mail.Query) ([]mail.Message, error) {
	where := []string{`m.user_id = ?`}
	args := []any{userID}
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if q.AccountID != "" {
		add(`m.account_id = ?`, q.AccountID)
	}
	if q.Folder != "" {
		add(`m.folder = ?`, q.Folder)
	}
	if q.Category != "" {
		add(`m.category = ?`, string(q.Category))
	}
	if q.Unread {
		where = append(where, `m.seen = 0`)
	}
	if !q.Before.IsZero() {
		add(`m.date < ?`, sqltime.Value(q.Before))
	}
	if q.ThreadID != "" {
		add(`m.thread_id = ?`, q.ThreadID)
	}
	return s.list(ctx, "list mail messages", `SELECT `+msgCols+` FROM mail_messages m
		WHERE `+strings.Join(where, " AND ")+` ORDER BY m.date DESC NULLS LAST, m.seq DESC LIMIT ?`,
		append(args, limitOf(q.Limit))...)
}

// Untriaged lists userID's messages triage has not seen yet, newest first.
func (s *Store) Untriaged(ctx context.Context, userID string, limit int) ([]mail.Message, error) {
	return s.list(ctx, "list untriaged mail", `SELECT `+msgCols+` FROM mail_messages m
		WHERE m.user_id = ? AND m.triaged_at IS NULL ORDER BY m.date DESC NULLS LAST, m.seq DESC LIMIT ?`,
		userID, limitOf(limit))
}

func (s *Store) list(ctx context.Context, what, query string, args ...any) ([]mail.Message, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, errs.Map(err, what)
	}
	defer rows.Close()
	var out []mail.Message
	for rows.Next() {
		m, err := s.scanMessage(rows)
		if err != nil {
			return nil, errs.Map(err, what)
		}
		out = append(out, m)
	}
	return out, errs.Map(rows.Err(), what)
}

// SetFlags replaces a message's flags.
func (s *Store) SetFlags(ctx context.Context, userID, id string, flags []string) error {
	js, err := toJSON(flags)
	if err != nil {
		return fmt.Errorf("set flags of %s: %w", id, err)
	}
	seen := mail.Message{Flags: flags}.HasFlag(mail.FlagSeen)
	res, err := s.db.ExecContext(ctx, `UPDATE mail_messages SET flags = ?, seen = ? WHERE id = ? AND user_id = ?`,
		js, bit(seen), id, userID)
	return errs.Affected(res, err, "set flags of mail message "+id)
}

// MoveMessage records that a message now lives in folder under uid (0 when
// the server did not say), with the UIDVALIDITY saved for that folder
// (the old one when the folder is not saved yet). ErrConflict when another
// message already sits at that UID.
func (s *Store) MoveMessage(ctx context.Context, userID, id, folder string, uid uint32) error {
	res, err := s.db.ExecContext(ctx, `UPDATE mail_messages SET folder = ?1, uid = ?2,
		uid_validity = coalesce((SELECT f.uid_validity FROM mail_folders f
			WHERE f.account_id = mail_messages.account_id AND f.name = ?1), uid_validity)
		WHERE id = ?3 AND user_id = ?4`, folder, uidValue(uid), id, userID)
	return errs.Affected(res, err, fmt.Sprintf("move mail message %s to %q", id, folder))
}

// DeleteMessages removes those of ids that are userID's messages; other
// ids are ignored.
func (s *Store) DeleteMessages(ctx context.Context, userID string, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), 500) // well under SQLite's limit on bound parameters
		args := []any{userID}
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		ids = ids[n:]
		_, err := s.db.ExecContext(ctx, `DELETE FROM mail_messages WHERE user_id = ? AND id IN (?`+
			strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return errs.Map(err, "delete mail messages")
		}
	}
	return nil
}

// SetTriage stores what triage made of a message. A zero t.At clears the
// triage: the message is untriaged again.
func (s *Store) SetTriage(ctx context.Context, userID, id string, t mail.Triage) error {
	res, err := s.db.ExecContext(ctx, `UPDATE mail_messages SET category = ?, importance = ?, reason = ?,
		summary = ?, triage_by = ?, triaged_at = ?, archive = ? WHERE id = ? AND user_id = ?`,
		string(t.Category), t.Importance, s.txt.put(t.Reason), s.txt.put(t.Summary), s.txt.put(t.By),
		sqltime.Value(t.At), bit(t.Archive), id, userID)
	return errs.Affected(res, err, "set triage of mail message "+id)
}
