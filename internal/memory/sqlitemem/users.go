package sqlitemem

import (
	"context"
	"fmt"
)

// DeleteUser removes everything the user's memory holds: recall documents
// (with their full-text entries and vectors), indexed messages, items,
// people and journals, and drops the user's in-memory vector index. The
// core store's DeleteUser cascades to the same rows; this is for callers
// that delete a user and must not leave the index holding their vectors.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	what := fmt.Sprintf("delete memory of user %s", userID)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(err, what)
	}
	defer tx.Rollback()
	if err := lockKeys(ctx, tx, s.pg, "user:"+userID); err != nil {
		return mapErr(err, what)
	}
	// Children first: memory_docs' delete trigger keeps memory_fts in step,
	// and its cascade removes vectors, messages, items and journals.
	for _, q := range []string{
		`DELETE FROM memory_entity_names WHERE user_id = ?`,
		`DELETE FROM memory_entities WHERE user_id = ?`,
		`DELETE FROM memory_items WHERE user_id = ?`,
		`DELETE FROM memory_journals WHERE user_id = ?`,
		`DELETE FROM memory_messages WHERE user_id = ?`,
		`DELETE FROM memory_vectors WHERE user_id = ?`,
		`DELETE FROM memory_docs WHERE user_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, userID); err != nil {
			return mapErr(err, what)
		}
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err, what)
	}
	s.vecs.drop(userID)
	return nil
}

// drop forgets a user's index; a later search rebuilds it from SQLite.
func (x *vecIndex) drop(user string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if u := x.users[user]; u != nil {
		x.lru.Remove(u.elem)
		delete(x.users, user)
	}
}
