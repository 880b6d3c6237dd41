package sqlitemem

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/memory"
)

// IndexMessage makes a message recallable; indexing the same ID again
// replaces the earlier copy (text, vector and all). vec may be nil.
func (s *Store) IndexMessage(ctx context.Context, m memory.MessageDoc, vec []float32) error {
	return s.IndexMessages(ctx, []memory.MessageDoc{m}, [][]float32{vec})
}

// IndexMessages indexes many messages in one transaction (an import, a
// rebuild): all or none. vecs is nil or holds one vector (or nil) per message.
func (s *Store) IndexMessages(ctx context.Context, ms []memory.MessageDoc, vecs [][]float32) (err error) {
	defer survive(&err, "index messages")
	if vecs != nil && len(vecs) != len(ms) {
		return fmt.Errorf("index %d messages: got %d vectors", len(ms), len(vecs))
	}
	vecOf := func(i int) []float32 {
		if vecs == nil {
			return nil
		}
		return vecs[i]
	}
	for i, m := range ms {
		switch {
		case m.ID == "" || m.UserID == "":
			return fmt.Errorf("index message %q: a message needs an ID and a user ID", m.ID)
		case m.Time.IsZero():
			return fmt.Errorf("index message %s: a message needs a time", m.ID)
		}
		if v := vecOf(i); v != nil {
			if err := s.checkVector(ctx, v, true); err != nil {
				return fmt.Errorf("index message %s: %w", m.ID, err)
			}
		}
	}
	oldSeqs := make([]int64, len(ms))
	seqs := make([]int64, len(ms))
	var failed string
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for i, m := range ms {
			failed = m.ID
			var owner string
			err := tx.QueryRowContext(ctx, `SELECT seq, user_id FROM memory_docs WHERE doc_kind = 'message' AND doc_id = ?`,
				m.ID).Scan(&oldSeqs[i], &owner)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			case owner != m.UserID:
				return fmt.Errorf("the ID is taken: %w", memory.ErrDuplicate)
			default:
				if _, err := tx.ExecContext(ctx, `DELETE FROM memory_docs WHERE seq = ?`, oldSeqs[i]); err != nil {
					return err
				}
			}
			seqs[i], err = s.insertDoc(ctx, tx, doc{user: m.UserID, kind: "message", id: m.ID, text: m.Text, speaker: strings.TrimSpace(m.Speaker), time: m.Time, current: true}, vecOf(i))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO memory_messages (id, user_id, seq, conversation_id, speaker, role, time)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, m.ID, m.UserID, seqs[i], m.ConversationID, m.Speaker, m.Role, dbTime(m.Time)); err != nil {
				return err
			}
		}
		return nil
	}, users(ms)...)
	if err != nil {
		return mapErr(err, fmt.Sprintf("index message %s", failed))
	}
	for i, m := range ms {
		if oldSeqs[i] != 0 {
			s.indexRemove(m.UserID, oldSeqs[i])
		}
		s.indexAdd(m.UserID, seqs[i], "message", m.Time, time.Time{}, true, vecOf(i))
	}
	return nil
}

// users lists the users of ms, whose transaction locks them (lockKeys).
func users(ms []memory.MessageDoc) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.UserID
	}
	return out
}

// ForgetMessage removes a message from the recall index. The conversation
// log keeps it; items derived from it keep its ID as their source.
func (s *Store) ForgetMessage(ctx context.Context, userID, messageID string) (err error) {
	defer survive(&err, "forget a message")
	return s.forgetDoc(ctx, userID, "message", messageID, fmt.Sprintf("forget message %s", messageID))
}

// Keeping a loaded vector index in step with committed writes. Each is a
// no-op while the user's index is not loaded: the next load reads SQLite.

// indexAdd adds the vector of a document just inserted: its seq is new, so
// there is nothing to replace.
func (s *Store) indexAdd(user string, seq int64, kind string, t, event time.Time, current bool, vec []float32) {
	if vec == nil {
		return
	}
	s.patch(user, func(u *userVecs) {
		e := entry{seq: seq, code: signCode(vec), time: unixOrMin(t), eventTime: unixOrMin(event), flags: kindFlag(kind)}
		if current {
			e.flags |= flagCurrent
		}
		u.appendLoaded(e)
	})
}

func (s *Store) indexRemove(user string, seq int64) {
	s.patch(user, func(u *userVecs) { u.remove(seq) })
}

func (s *Store) indexSetCurrent(user string, seq int64, current bool) {
	s.patch(user, func(u *userVecs) { u.setCurrent(seq, current) })
}

// indexReload re-reads one document's entry from SQLite.
func (s *Store) indexReload(ctx context.Context, user string, seq int64) {
	s.patch(user, func(u *userVecs) {
		var e entry
		var kind string
		var t, ev time.Time
		var current bool
		err := s.db.QueryRowContext(context.WithoutCancel(ctx), `
			SELECT v.code, d.doc_kind, d.time, d.event_time, d.current
			FROM memory_vectors v JOIN memory_docs d ON d.seq = v.seq WHERE v.seq = ? AND v.model = ?`, seq, s.model.Load()).
			Scan(&e.code, &kind, scanTime(&t), scanTime(&ev), &current)
		if err != nil {
			// Gone, or unreadable: either way the index must not keep a
			// stale entry, and the next full load will be right.
			u.remove(seq)
			if !errors.Is(err, sql.ErrNoRows) {
				u.loaded = false
			}
			return
		}
		e.seq, e.time, e.eventTime, e.flags = seq, unixOrMin(t), unixOrMin(ev), kindFlag(kind)
		if current {
			e.flags |= flagCurrent
		}
		u.add(e)
	})
}

// patch applies f to the user's index if it is loaded, under its lock.
func (s *Store) patch(user string, f func(*userVecs)) {
	u := s.vecs.peek(user)
	if u == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.loaded {
		f(u)
	}
}
