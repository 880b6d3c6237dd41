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

// Journals: the companion's entry for each day, one per (user, day).

// journalTime is where a journal sits on the time line: noon UTC of its
// day, which any day range of a zone within ±12 h of UTC contains.
func journalTime(day string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return time.Time{}, fmt.Errorf("day %q is not YYYY-MM-DD", day)
	}
	return d.Add(12 * time.Hour), nil
}

// SaveJournal stores the entry for (user, day), replacing any earlier one
// for that day whole (ID, text, sources, vector). ErrNoSource without sources.
func (s *Store) SaveJournal(ctx context.Context, j memory.Journal, vec []float32) (err error) {
	defer survive(&err, "save a journal entry")
	what := fmt.Sprintf("save journal %s for %s", j.ID, j.Day)
	j.Sources = cleanList(j.Sources)
	t, err := journalTime(j.Day)
	switch {
	case j.ID == "" || j.UserID == "":
		return fmt.Errorf("%s: a journal needs an ID and a user ID", what)
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	case len(j.Sources) == 0:
		return fmt.Errorf("%s: %w", what, memory.ErrNoSource)
	case strings.TrimSpace(j.Text) == "":
		return fmt.Errorf("%s: a journal needs text", what)
	}
	if vec != nil {
		if err := s.checkVector(ctx, vec, true); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.clock.Now()
	}
	var oldSeq, seq int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM memory_docs WHERE seq =
			(SELECT seq FROM memory_journals WHERE user_id = ? AND day = ?) RETURNING seq`, j.UserID, j.Day).Scan(&oldSeq)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		seq, err = s.insertDoc(ctx, tx, doc{user: j.UserID, kind: "journal", id: j.ID, text: j.Text, time: t, current: true}, vec)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO memory_journals (id, user_id, day, seq, sources, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, j.ID, j.UserID, j.Day, seq, jsonList(j.Sources), dbTime(j.CreatedAt))
		return err
	}, j.UserID)
	if err != nil {
		return mapErr(err, what)
	}
	if oldSeq != 0 {
		s.indexRemove(j.UserID, oldSeq)
	}
	s.indexAdd(j.UserID, seq, "journal", t, time.Time{}, true, vec)
	return nil
}

const journalCols = `j.id, j.user_id, j.day, d.text, j.sources, j.created_at`

func scanJournal(r rowScanner) (memory.Journal, error) {
	var j memory.Journal
	err := r.Scan(&j.ID, &j.UserID, &j.Day, &j.Text, scanJSON{&j.Sources}, scanTime(&j.CreatedAt))
	return j, err
}

// Journals returns the user's entries from fromDay to toDay inclusive
// (either may be "" for unbounded), oldest first.
func (s *Store) Journals(ctx context.Context, userID string, fromDay, toDay string) (_ []memory.Journal, err error) {
	defer survive(&err, "list journal entries")
	what := fmt.Sprintf("list journals %s..%s", fromDay, toDay)
	for _, d := range []string{fromDay, toDay} {
		if d != "" {
			if _, err := journalTime(d); err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
		}
	}
	q := `SELECT ` + journalCols + ` FROM memory_journals j JOIN memory_docs d ON d.seq = j.seq WHERE j.user_id = ?`
	args := []any{userID}
	if fromDay != "" {
		q += ` AND j.day >= ?`
		args = append(args, fromDay)
	}
	if toDay != "" {
		q += ` AND j.day <= ?`
		args = append(args, toDay)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY j.day`, args...)
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	var out []memory.Journal
	for rows.Next() {
		j, err := scanJournal(rows)
		if err != nil {
			return nil, mapErr(err, what)
		}
		out = append(out, j)
	}
	return out, mapErr(rows.Err(), what)
}
