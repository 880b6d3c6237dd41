package sqlitemem

import (
	"context"
	"fmt"
	"time"
)

// On PostgreSQL several os1 processes (a cluster's nodes) share the
// database, and each keeps its own in-memory vector index per user, patched
// only by its own writes. So before a vector search a loaded index reads
// the user's vectors with a seq above the highest it holds: documents
// another node added since, in one indexed range read (none, almost always).
// A user's writes take turns on the user's advisory lock (dialect.go), so
// their seqs commit in order and none is skipped. Documents deleted
// elsewhere leave the index when a search meets them (dropVanished), and
// currency and time are checked against the database for every hit
// (passing); a vector replaced at an existing seq (an item edited with a
// new one, a reindex) on another node reaches this index when it is
// loaded again (IndexIdle).
func (s *Store) catchUp(ctx context.Context, u *userVecs) error {
	u.mu.RLock()
	top, loaded := u.top, u.loaded
	u.mu.RUnlock()
	if !loaded {
		return nil
	}
	rows, err := s.query(ctx, `
		SELECT v.seq, v.code, d.doc_kind, d.time, d.event_time, d.current
		FROM memory_vectors v JOIN memory_docs d ON d.seq = v.seq
		WHERE v.user_id = ? AND v.model = ? AND v.seq > ?`, u.user, s.model.Load(), top)
	if err != nil {
		return fmt.Errorf("update the vector index: %w", err)
	}
	defer rows.Close()
	var news []entry
	for rows.Next() {
		var e entry
		var kind string
		var t, ev time.Time
		var current bool
		if err := rows.Scan(&e.seq, &e.code, &kind, scanTime(&t), scanTime(&ev), &current); err != nil {
			return fmt.Errorf("update the vector index: %w", err)
		}
		e.time, e.eventTime, e.flags = unixOrMin(t), unixOrMin(ev), kindFlag(kind)
		if current {
			e.flags |= flagCurrent
		}
		news = append(news, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("update the vector index: %w", err)
	}
	if len(news) == 0 {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.loaded {
		for _, e := range news {
			u.add(e) // this node may have added it meanwhile: replace, never duplicate
		}
		u.size.Store(u.bytes())
	}
	return nil
}
