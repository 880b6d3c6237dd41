package sqlitemem

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/os1ai/os1/internal/memory"
)

// People: one entity per person, found by name or alias.

const entityCols = `id, user_id, name, aliases, relation, notes, sources, created_at, updated_at`

func scanEntity(r rowScanner) (memory.Entity, error) {
	var e memory.Entity
	err := r.Scan(&e.ID, &e.UserID, &e.Name, scanJSON{&e.Aliases}, &e.Relation, &e.Notes, scanJSON{&e.Sources},
		scanTime(&e.CreatedAt), scanTime(&e.UpdatedAt))
	if len(e.Aliases) == 0 {
		e.Aliases = nil
	}
	if len(e.Sources) == 0 {
		e.Sources = nil
	}
	return e, err
}

// fold is how names are compared: case and spacing do not matter.
func fold(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// SaveEntity creates or replaces a person by ID. CreatedAt is kept from the
// first save; another user's ID answers ErrNotFound.
func (s *Store) SaveEntity(ctx context.Context, e memory.Entity) (err error) {
	defer survive(&err, "save a person")
	what := fmt.Sprintf("save person %s", e.ID)
	if e.ID == "" || e.UserID == "" || fold(e.Name) == "" {
		return fmt.Errorf("%s: a person needs an ID, a user ID and a name", what)
	}
	e.Aliases, e.Sources = cleanList(e.Aliases), cleanList(e.Sources)
	now := s.clock.Now()
	if e.CreatedAt.IsZero() {
		e.CreatedAt = now
	}
	if e.UpdatedAt.IsZero() {
		e.UpdatedAt = now
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO memory_entities (`+entityCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, aliases = excluded.aliases,
				relation = excluded.relation, notes = excluded.notes, sources = excluded.sources,
				updated_at = excluded.updated_at
			WHERE memory_entities.user_id = excluded.user_id`,
			e.ID, e.UserID, e.Name, jsonList(e.Aliases), e.Relation, e.Notes, jsonList(e.Sources),
			dbTime(e.CreatedAt), dbTime(e.UpdatedAt))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, memory.ErrNotFound) // the ID is another user's
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM memory_entity_names WHERE entity_id = ?`, e.ID); err != nil {
			return err
		}
		for i, n := range append([]string{e.Name}, e.Aliases...) {
			if f := fold(n); f != "" {
				if _, err := tx.ExecContext(ctx, `INSERT INTO memory_entity_names (user_id, name_fold, entity_id, is_name)
					VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, e.UserID, f, e.ID, b01(i == 0)); err != nil {
					return err
				}
			}
		}
		return nil
	}, e.UserID)
	return mapErr(err, what)
}

// Entity returns one of the user's people.
func (s *Store) Entity(ctx context.Context, userID, id string) (_ memory.Entity, err error) {
	defer survive(&err, "read a person")
	e, err := scanEntity(s.db.QueryRowContext(ctx, `SELECT `+entityCols+` FROM memory_entities WHERE id = ? AND user_id = ?`, id, userID))
	return e, mapErr(err, fmt.Sprintf("person %s", id))
}

// Entities returns all the user's people, by name.
func (s *Store) Entities(ctx context.Context, userID string) (_ []memory.Entity, err error) {
	defer survive(&err, "list people")
	rows, err := s.query(ctx, `SELECT `+entityCols+` FROM memory_entities WHERE user_id = ?
		ORDER BY name COLLATE NOCASE, id`, userID)
	if err != nil {
		return nil, mapErr(err, "list people")
	}
	defer rows.Close()
	var out []memory.Entity
	for rows.Next() {
		e, err := scanEntity(rows)
		if err != nil {
			return nil, mapErr(err, "list people")
		}
		out = append(out, e)
	}
	return out, mapErr(rows.Err(), "list people")
}

// FindEntity matches a name or alias regardless of case and spacing. When
// several people match, one whose main name it is wins, then the most
// recently updated.
func (s *Store) FindEntity(ctx context.Context, userID, name string) (_ memory.Entity, err error) {
	defer survive(&err, "find a person")
	e, err := scanEntity(s.db.QueryRowContext(ctx, `SELECT `+prefixed("e.", entityCols)+`
		FROM memory_entity_names n JOIN memory_entities e ON e.id = n.entity_id
		WHERE n.user_id = ? AND n.name_fold = ? AND e.user_id = ?
		ORDER BY n.is_name DESC, e.updated_at DESC, e.id LIMIT 1`, userID, fold(name), userID))
	return e, mapErr(err, fmt.Sprintf("person %q", name))
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}

// DeleteEntity deletes a person; items about them lose the link.
func (s *Store) DeleteEntity(ctx context.Context, userID, id string) (err error) {
	defer survive(&err, "delete a person")
	res, err := s.db.ExecContext(ctx, `DELETE FROM memory_entities WHERE id = ? AND user_id = ?`, id, userID)
	return affected(res, err, fmt.Sprintf("delete person %s", id))
}
