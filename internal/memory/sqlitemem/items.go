package sqlitemem

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/memory"
)

// Memory items. An item's text lives in memory_docs (so the full-text and
// vector indexes see it); memory_items holds the rest, memory_item_sources
// its provenance and memory_item_entities the people it is about.

const itemCols = `i.id, i.user_id, i.kind, d.text, i.confidence, i.importance, i.event_time,
	i.valid_from, i.valid_to, i.superseded_by, i.created_at, i.updated_at,
	(SELECT json_group_array(message_id) FROM
		(SELECT message_id FROM memory_item_sources WHERE item_id = i.id ORDER BY ord) AS src),
	(SELECT json_group_array(entity_id) FROM
		(SELECT entity_id FROM memory_item_entities WHERE item_id = i.id ORDER BY ord) AS ent),
	i.seq`

const itemFrom = ` FROM memory_items i JOIN memory_docs d ON d.seq = i.seq `

type rowScanner interface{ Scan(dest ...any) error }

func scanItem(r rowScanner) (memory.Item, int64, error) {
	var it memory.Item
	var kind string
	var seq int64
	err := r.Scan(&it.ID, &it.UserID, &kind, &it.Text, &it.Confidence, &it.Importance,
		scanTime(&it.EventTime), scanTime(&it.ValidFrom), scanTime(&it.ValidTo), &it.SupersededBy,
		scanTime(&it.CreatedAt), scanTime(&it.UpdatedAt), scanJSON{&it.Sources}, scanJSON{&it.EntityIDs}, &seq)
	it.Kind = memory.Kind(kind)
	if len(it.EntityIDs) == 0 {
		it.EntityIDs = nil
	}
	return it, seq, err
}

func validKind(k memory.Kind) bool {
	switch k {
	case memory.KindFact, memory.KindEvent, memory.KindPreference, memory.KindReflection, memory.KindPerson:
		return true
	}
	return false
}

// checkItem validates an item before it is stored and fills default times.
func (s *Store) checkItem(it *memory.Item) error {
	it.Sources = cleanList(it.Sources)
	it.EntityIDs = cleanList(it.EntityIDs)
	switch {
	case it.ID == "" || it.UserID == "":
		return errors.New("an item needs an ID and a user ID")
	case len(it.Sources) == 0:
		return memory.ErrNoSource
	case strings.TrimSpace(it.Text) == "":
		return errors.New("an item needs text")
	case !validKind(it.Kind):
		return fmt.Errorf("unknown item kind %q", it.Kind)
	case !unit(it.Confidence) || !unit(it.Importance):
		return fmt.Errorf("confidence %v and importance %v must lie in 0..1", it.Confidence, it.Importance)
	}
	if it.CreatedAt.IsZero() {
		it.CreatedAt = s.clock.Now()
	}
	if it.UpdatedAt.IsZero() {
		it.UpdatedAt = it.CreatedAt
	}
	if it.ValidFrom.IsZero() {
		it.ValidFrom = it.CreatedAt
	}
	return nil
}

func unit(x float64) bool { return !math.IsNaN(x) && x >= 0 && x <= 1 }

// AddItem stores a new item; ErrNoSource without sources, ErrDuplicate when
// the ID is taken, ErrNotFound when an entity ID is not one of the user's.
func (s *Store) AddItem(ctx context.Context, it memory.Item, vec []float32) (err error) {
	defer survive(&err, "add a memory item")
	what := fmt.Sprintf("add memory item %s", it.ID)
	if err := s.checkItem(&it); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if vec != nil {
		if err := s.checkVector(ctx, vec, true); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	var seq int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		seq, err = s.insertItem(ctx, tx, it, vec)
		return err
	}, it.UserID)
	if err != nil {
		return mapErr(err, what)
	}
	s.indexAdd(it.UserID, seq, "item", it.ValidFrom, it.EventTime, it.Current(), vec)
	return nil
}

func (s *Store) insertItem(ctx context.Context, tx *sql.Tx, it memory.Item, vec []float32) (int64, error) {
	if err := checkEntities(ctx, tx, it.UserID, it.EntityIDs); err != nil {
		return 0, err
	}
	seq, err := s.insertDoc(ctx, tx, doc{user: it.UserID, kind: "item", id: it.ID, text: it.Text,
		time: it.ValidFrom, eventTime: it.EventTime, current: it.Current()}, vec)
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO memory_items (id, user_id, seq, kind, confidence, importance,
		event_time, valid_from, valid_to, superseded_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		it.ID, it.UserID, seq, string(it.Kind), it.Confidence, it.Importance, dbTime(it.EventTime),
		dbTime(it.ValidFrom), dbTime(it.ValidTo), it.SupersededBy, dbTime(it.CreatedAt), dbTime(it.UpdatedAt))
	if err != nil {
		return 0, err
	}
	for i, src := range it.Sources {
		if _, err := tx.ExecContext(ctx, `INSERT INTO memory_item_sources (item_id, message_id, ord) VALUES (?, ?, ?)`,
			it.ID, src, i); err != nil {
			return 0, err
		}
	}
	return seq, setItemEntities(ctx, tx, it.ID, it.EntityIDs)
}

// checkEntities answers ErrNotFound unless every ID is one of the user's people.
func checkEntities(ctx context.Context, tx *sql.Tx, user string, ids []string) error {
	for _, id := range ids {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM memory_entities WHERE id = ? AND user_id = ?`, id, user).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("person %s: %w", id, memory.ErrNotFound)
		}
	}
	return nil
}

func setItemEntities(ctx context.Context, tx *sql.Tx, itemID string, ids []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM memory_item_entities WHERE item_id = ?`, itemID); err != nil {
		return err
	}
	for i, e := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO memory_item_entities (item_id, entity_id, ord) VALUES (?, ?, ?)`,
			itemID, e, i); err != nil {
			return err
		}
	}
	return nil
}

// Item returns one of the user's items, current or not.
func (s *Store) Item(ctx context.Context, userID, id string) (_ memory.Item, err error) {
	defer survive(&err, "read a memory item")
	it, _, err := scanItem(s.db.QueryRowContext(ctx, s.sql(`SELECT `+itemCols+itemFrom+`WHERE i.id = ? AND i.user_id = ?`), id, userID))
	return it, mapErr(err, fmt.Sprintf("memory item %s", id))
}

// ListItems returns the user's items, newest ValidFrom first; only current
// ones unless f.History.
func (s *Store) ListItems(ctx context.Context, userID string, f memory.ItemFilter) (_ []memory.Item, err error) {
	defer survive(&err, "list memory items")
	var where []string
	args := []any{userID}
	where = append(where, `i.user_id = ?`)
	if len(f.Kinds) > 0 {
		where = append(where, `i.kind IN (`+placeholders(len(f.Kinds))+`)`)
		for _, k := range f.Kinds {
			args = append(args, string(k))
		}
	}
	if f.EntityID != "" {
		where = append(where, `EXISTS (SELECT 1 FROM memory_item_entities e WHERE e.item_id = i.id AND e.entity_id = ?)`)
		args = append(args, f.EntityID)
	}
	if !f.History {
		where = append(where, `i.valid_to IS NULL`)
	}
	q := `SELECT ` + itemCols + itemFrom + `WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY i.valid_from DESC, i.seq DESC`
	if f.Limit > 0 || f.Offset > 0 {
		limit := f.Limit
		if limit <= 0 {
			limit = math.MaxInt64 // PostgreSQL takes no LIMIT -1
		}
		q += ` LIMIT ? OFFSET ?`
		args = append(args, limit, max(f.Offset, 0))
	}
	rows, err := s.db.QueryContext(ctx, s.sql(q), args...)
	if err != nil {
		return nil, mapErr(err, "list memory items")
	}
	defer rows.Close()
	var out []memory.Item
	for rows.Next() {
		it, _, err := scanItem(rows)
		if err != nil {
			return nil, mapErr(err, "list memory items")
		}
		out = append(out, it)
	}
	return out, mapErr(rows.Err(), "list memory items")
}

// itemInTx reads an item and its doc seq inside a transaction.
func (s *Store) itemInTx(ctx context.Context, tx *sql.Tx, userID, id string) (memory.Item, int64, error) {
	return scanItem(tx.QueryRowContext(ctx, s.sql(`SELECT `+itemCols+itemFrom+`WHERE i.id = ? AND i.user_id = ?`), id, userID))
}

// UpdateItem edits an item by hand. A vec replaces the item's vector; when
// the text changes without one, the old vector is dropped rather than left
// describing words the item no longer has.
func (s *Store) UpdateItem(ctx context.Context, userID, id string, p memory.ItemPatch, vec []float32, at time.Time) (err error) {
	defer survive(&err, "update a memory item")
	what := fmt.Sprintf("update memory item %s", id)
	if vec != nil {
		if err := s.checkVector(ctx, vec, true); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	var it memory.Item
	var seq int64
	dropVec := false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		it, seq, err = s.itemInTx(ctx, tx, userID, id)
		if err != nil {
			return err
		}
		if p.Text != nil {
			if strings.TrimSpace(*p.Text) == "" {
				return errors.New("an item needs text")
			}
			dropVec = *p.Text != it.Text && vec == nil
			it.Text = *p.Text
		}
		if p.Kind != nil {
			if !validKind(*p.Kind) {
				return fmt.Errorf("unknown item kind %q", *p.Kind)
			}
			it.Kind = *p.Kind
		}
		if p.Importance != nil {
			if !unit(*p.Importance) {
				return fmt.Errorf("importance %v must lie in 0..1", *p.Importance)
			}
			it.Importance = *p.Importance
		}
		if p.EventTime != nil {
			it.EventTime = *p.EventTime
		}
		if p.EntityIDs != nil {
			ids := cleanList(p.EntityIDs)
			if err := checkEntities(ctx, tx, userID, ids); err != nil {
				return err
			}
			if err := setItemEntities(ctx, tx, id, ids); err != nil {
				return err
			}
		}
		it.UpdatedAt = at
		if _, err := tx.ExecContext(ctx, `UPDATE memory_docs SET text = ?, event_time = ? WHERE seq = ?`,
			it.Text, dbTime(it.EventTime), seq); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE memory_items SET kind = ?, importance = ?, event_time = ?, updated_at = ? WHERE id = ?`,
			string(it.Kind), it.Importance, dbTime(it.EventTime), dbTime(at), id); err != nil {
			return err
		}
		switch {
		case vec != nil:
			return s.putVector(ctx, tx, seq, userID, vec)
		case dropVec:
			_, err := tx.ExecContext(ctx, `DELETE FROM memory_vectors WHERE seq = ?`, seq)
			return err
		}
		return nil
	}, userID)
	if err != nil {
		return mapErr(err, what)
	}
	switch {
	case dropVec:
		s.indexRemove(userID, seq)
	case vec != nil || p.EventTime != nil:
		s.indexReload(ctx, userID, seq) // an existing seq: replace its entry
	}
	return nil
}

// Supersede closes old (ValidTo=at, SupersededBy=next.ID) and adds next, in
// one transaction. Only a current item can be superseded.
func (s *Store) Supersede(ctx context.Context, userID, oldID string, next memory.Item, vec []float32, at time.Time) (err error) {
	defer survive(&err, "supersede a memory item")
	what := fmt.Sprintf("supersede memory item %s with %s", oldID, next.ID)
	if next.UserID == "" {
		next.UserID = userID
	}
	if next.UserID != userID {
		return fmt.Errorf("%s: the new item belongs to user %s, not %s", what, next.UserID, userID)
	}
	if next.CreatedAt.IsZero() {
		next.CreatedAt = at
	}
	if next.ValidFrom.IsZero() {
		next.ValidFrom = at
	}
	next.ValidTo, next.SupersededBy = time.Time{}, ""
	if err := s.checkItem(&next); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if vec != nil {
		if err := s.checkVector(ctx, vec, true); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	var oldSeq, newSeq int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		old, seq, err := s.itemInTx(ctx, tx, userID, oldID)
		if err != nil {
			return err
		}
		if !old.Current() {
			return fmt.Errorf("it was already closed at %s", old.ValidTo.Format(time.RFC3339))
		}
		oldSeq = seq
		if newSeq, err = s.insertItem(ctx, tx, next, vec); err != nil {
			return err
		}
		return closeItem(ctx, tx, oldID, seq, next.ID, at)
	}, userID)
	if err != nil {
		return mapErr(err, what)
	}
	s.indexSetCurrent(userID, oldSeq, false)
	s.indexAdd(userID, newSeq, "item", next.ValidFrom, next.EventTime, true, vec)
	return nil
}

// closeItem closes a current item; one closed meanwhile (by a writer this
// transaction raced) is an error, so an item is superseded once.
func closeItem(ctx context.Context, tx *sql.Tx, id string, seq int64, by string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE memory_items SET valid_to = ?, superseded_by = ?, updated_at = ? WHERE id = ? AND valid_to IS NULL`,
		dbTime(at), by, dbTime(at), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return cmp.Or(err, errors.New("it was closed meanwhile"))
	}
	_, err = tx.ExecContext(ctx, `UPDATE memory_docs SET current = 0 WHERE seq = ?`, seq)
	return err
}

// Invalidate closes an item without a successor. Closing an item that is
// already closed changes nothing.
func (s *Store) Invalidate(ctx context.Context, userID, id string, at time.Time) (err error) {
	defer survive(&err, "invalidate a memory item")
	var seq int64
	changed := false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		it, sq, err := s.itemInTx(ctx, tx, userID, id)
		if err != nil || !it.Current() {
			return err
		}
		seq, changed = sq, true
		return closeItem(ctx, tx, id, sq, "", at)
	}, userID)
	if err != nil {
		return mapErr(err, fmt.Sprintf("invalidate memory item %s", id))
	}
	if changed {
		s.indexSetCurrent(userID, seq, false)
	}
	return nil
}

// Forget deletes an item from every table and index: its document (and so
// its full-text entry, through the trigger), vector, sources and people.
func (s *Store) Forget(ctx context.Context, userID, id string) (err error) {
	defer survive(&err, "forget a memory item")
	return s.forgetDoc(ctx, userID, "item", id, fmt.Sprintf("forget memory item %s", id))
}

// forgetDoc deletes a document; ON DELETE CASCADE removes the kind's own row
// and the vector, the trigger the full-text entry.
func (s *Store) forgetDoc(ctx context.Context, userID, kind, id, what string) error {
	var seq int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM memory_docs WHERE doc_kind = ? AND doc_id = ? AND user_id = ? RETURNING seq`,
		kind, id, userID).Scan(&seq)
	if err != nil {
		return mapErr(err, what)
	}
	s.indexRemove(userID, seq)
	return nil
}
