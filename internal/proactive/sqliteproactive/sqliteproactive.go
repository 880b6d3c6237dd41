// Package sqliteproactive keeps proactive settings and the log of what os1
// sent and held back in os1's SQL database: SQLite (migration
// 00015_proactive.sql) or PostgreSQL (00008_proactive.sql), with the same
// code. Every query is scoped by user ID.
//
// The log's partial unique index on (user, key) of sent messages is what
// makes a message go out once: Claim inserts the entry, and a second claim
// of the same key, after a restart or by another scheduler or node, fails.
// Claim's count of the day's messages and its insert are one step per
// user: SQLite runs one writer at a time; on PostgreSQL the transaction
// first takes an advisory lock on the user.
package sqliteproactive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
)

var errs = sqlerr.Sentinels{NotFound: proactive.ErrNotFound, Conflict: proactive.ErrAlreadySent, Dangling: "the user does not exist:"}

// Store is the SQL proactive store.
type Store struct {
	db *sql.DB
	pg bool // PostgreSQL: claims lock their user; text is cleaned (text)
}

var _ proactive.Store = (*Store)(nil)

// New returns the proactive store of db.
func New(db sqldb.Handle) *Store { return &Store{db: db.SQL(), pg: db.Dialect() == sqldb.Postgres} }

// Settings returns the user's settings, the defaults when never saved.
func (st *Store) Settings(ctx context.Context, userID string) (proactive.Settings, error) {
	s := proactive.Defaults()
	var muted string
	err := st.db.QueryRowContext(ctx, `SELECT daily_count, daily_tokens, meeting_lead, check_in, silence_days, muted, updated_at
		FROM proactive_settings WHERE user_id = ?`, userID).
		Scan(&s.DailyCount, &s.DailyTokens, &s.MeetingLead, &s.CheckIn, &s.SilenceDays, &muted, sqltime.Scanner{T: &s.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, errs.Map(err, "read proactive settings")
	}
	for _, t := range strings.Split(muted, ",") {
		if t != "" {
			s.Muted = append(s.Muted, proactive.Trigger(t))
		}
	}
	return s, nil
}

// SaveSettings replaces the user's settings.
func (st *Store) SaveSettings(ctx context.Context, userID string, s proactive.Settings) error {
	muted := make([]string, len(s.Muted))
	for i, t := range s.Muted {
		muted[i] = string(t)
	}
	_, err := st.db.ExecContext(ctx, `INSERT INTO proactive_settings
		(user_id, daily_count, daily_tokens, meeting_lead, check_in, silence_days, muted, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET daily_count = excluded.daily_count, daily_tokens = excluded.daily_tokens,
			meeting_lead = excluded.meeting_lead, check_in = excluded.check_in, silence_days = excluded.silence_days,
			muted = excluded.muted, updated_at = excluded.updated_at`,
		userID, s.DailyCount, s.DailyTokens, s.MeetingLead, bit(s.CheckIn), s.SilenceDays, strings.Join(muted, ","), sqltime.Value(s.UpdatedAt))
	return errs.Map(err, "save proactive settings")
}

const cols = `id, user_id, kind, dedupe_key, reason, outcome, hold, note, counted, tokens, conversation_id, at`

func (st *Store) args(e proactive.Entry) []any {
	return []any{e.ID, e.UserID, string(e.Trigger), st.text(e.Key), st.text(e.Reason), string(e.Outcome), st.text(e.Hold),
		st.text(e.Note), bit(e.Counted), e.Tokens, e.ConversationID, sqltime.Value(e.At)}
}

// text is s as the database can hold it. PostgreSQL's text refuses a NUL
// and bytes that are not UTF-8, which a note can hold (a model's error):
// there each becomes U+FFFD, so the entry is still logged. SQLite keeps s.
func (st *Store) text(s string) string {
	if !st.pg {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// bit is a flag as the 0/1 integer both dialects store (PostgreSQL's
// driver does not write a bool into a BIGINT column).
func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Claim adds a message about to be sent, unless its key was sent or the
// day's count is reached, in one transaction.
func (st *Store) Claim(ctx context.Context, e proactive.Entry, since time.Time, maxCount int) error {
	what := fmt.Sprintf("claim proactive message %s", e.Key)
	if e.Outcome != proactive.Sent {
		return fmt.Errorf("%s: a claim is of a message to send", what)
	}
	tx, err := st.db.BeginTx(ctx, nil)
	if err != nil {
		return errs.Map(err, what)
	}
	defer tx.Rollback()
	if st.pg {
		// Two claims of one user (schedulers on two nodes) take turns, as
		// SQLite's write lock makes them: else both could count the day's
		// messages below the budget and both send. Held to the commit.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, "os1.proactive:"+e.UserID); err != nil {
			return errs.Map(err, what)
		}
	}
	if e.Counted {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM proactive_log
			WHERE user_id = ? AND outcome = 'sent' AND counted = 1 AND at >= ?`, e.UserID, sqltime.Value(since)).Scan(&n); err != nil {
			return errs.Map(err, what)
		}
		if n >= maxCount {
			return fmt.Errorf("%s: %d sent: %w", what, n, proactive.ErrOverCount)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO proactive_log (`+cols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, st.args(e)...); err != nil {
		return errs.Map(err, what)
	}
	return errs.Map(tx.Commit(), what)
}

// Add adds an entry as it is.
func (st *Store) Add(ctx context.Context, e proactive.Entry) error {
	_, err := st.db.ExecContext(ctx, `INSERT INTO proactive_log (`+cols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, st.args(e)...)
	return errs.Map(err, "log a proactive message")
}

// Finish records how a claimed message ended.
func (st *Store) Finish(ctx context.Context, userID, id string, o proactive.Outcome, note string, tokens int, conversationID string) error {
	res, err := st.db.ExecContext(ctx, `UPDATE proactive_log SET outcome = ?, note = ?, tokens = ?, conversation_id = ?
		WHERE id = ? AND user_id = ?`, string(o), st.text(note), tokens, conversationID, id, userID)
	return errs.Affected(res, err, "finish proactive message "+id)
}

// Log lists the user's newest entries first.
func (st *Store) Log(ctx context.Context, userID string, limit int) ([]proactive.Entry, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT `+cols+` FROM proactive_log WHERE user_id = ?
		ORDER BY at DESC, seq DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, errs.Map(err, "list the proactive log")
	}
	defer rows.Close()
	out := []proactive.Entry{}
	for rows.Next() {
		var e proactive.Entry
		var trig, outcome string
		if err := rows.Scan(&e.ID, &e.UserID, &trig, &e.Key, &e.Reason, &outcome, &e.Hold, &e.Note, &e.Counted, &e.Tokens,
			&e.ConversationID, sqltime.Scanner{T: &e.At}); err != nil {
			return nil, errs.Map(err, "list the proactive log")
		}
		e.Trigger, e.Outcome = proactive.Trigger(trig), proactive.Outcome(outcome)
		out = append(out, e)
	}
	return out, errs.Map(rows.Err(), "list the proactive log")
}

// Usage is the user's counted messages sent at or after since, and the
// tokens of all sent then.
func (st *Store) Usage(ctx context.Context, userID string, since time.Time) (int, int, error) {
	var n, tokens int
	err := st.db.QueryRowContext(ctx, `SELECT coalesce(sum(counted), 0), coalesce(sum(tokens), 0) FROM proactive_log
		WHERE user_id = ? AND outcome = 'sent' AND at >= ?`, userID, sqltime.Value(since)).Scan(&n, &tokens)
	return n, tokens, errs.Map(err, "read today's proactive usage")
}

// LastUserMessage is when the user last wrote a message. It reads the
// messages table, once per check-in watch (days apart), not per turn.
func (st *Store) LastUserMessage(ctx context.Context, userID string) (time.Time, error) {
	var t time.Time
	err := st.db.QueryRowContext(ctx, `SELECT max(created_at) FROM messages WHERE user_id = ? AND role = 'user'`, userID).
		Scan(sqltime.Scanner{T: &t})
	return t, errs.Map(err, "read when the user last wrote")
}
