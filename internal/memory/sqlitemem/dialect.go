package sqlitemem

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/store/sqldb"
)

// The store runs on SQLite (the default) and on PostgreSQL (docs/scale.md)
// with the same code: queries are written for SQLite with '?' placeholders,
// which the PostgreSQL pool numbers (sqldb.OpenPostgres). Where the two
// differ:
//
//   - full text is FTS5 on SQLite and a tsvector column on PostgreSQL: the
//     search code branches on s.pg (fulltext.go);
//   - SQLite-only spellings of things PostgreSQL has too are rewritten by
//     Store.sql (pgRewrites below: planner hints, JSON lists);
//   - SQLite serialises writers and PostgreSQL does not: a write
//     transaction takes PostgreSQL advisory locks on the users it writes
//     (lockKeys), so that read-modify-write (superseding, replacing a
//     journal or a re-indexed message) happens one at a time per user, as
//     on SQLite.

// NewFor returns a Store over the database h (a core store: *sqlite.DB or
// *postgres.DB), in h's dialect.
func NewFor(h sqldb.Handle, opts Options) *Store {
	opts.Dialect = h.Dialect()
	return New(h.SQL(), opts)
}

// NewProgressFor returns the progress kept in the database h.
func NewProgressFor(h sqldb.Handle) *Progress {
	return &Progress{db: h.SQL(), pg: h.Dialect() == sqldb.Postgres, local: &memory.LocalLocks{}}
}

// pgRewrites turn the SQLite spellings the store's queries use into
// PostgreSQL's. Each old text appears in queries only in the meaning given.
var pgRewrites = strings.NewReplacer(
	// Planner hints: SQLite's, meaningless to PostgreSQL (CROSS JOIN … ON is
	// an inner join that SQLite does not reorder).
	" NOT INDEXED", "",
	"CROSS JOIN", "JOIN",
	// A JSON array of seqs (seqList) as a set.
	"(SELECT value FROM json_each(?))", "(SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS JSON)) AS j(value))",
	// A JSON array of IDs as a table h(value) (neighbours.go).
	"json_each(?2) h", "json_array_elements_text(CAST(?2 AS JSON)) AS h(value)",
	// A column's values as a JSON array (items' sources and people).
	"json_group_array(", "json_agg(",
	// ASCII case-insensitive order.
	"name COLLATE NOCASE", "lower(name)",
)

// sql returns q in the store's dialect. Rewriting costs about a
// microsecond; the prepared searches (Store.stmt) are rewritten once.
func (s *Store) sql(q string) string {
	if s.pg {
		return pgRewrites.Replace(q)
	}
	return q
}

// lockKeys takes, on PostgreSQL, a transaction-scoped advisory lock on each
// key (a user ID, or a name), in sorted order so two transactions never
// wait on each other. SQLite needs none: it runs one writer at a time.
func lockKeys(ctx context.Context, tx *sql.Tx, pg bool, keys ...string) error {
	if !pg {
		return nil
	}
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, "os1.memory:"+k); err != nil {
			return err
		}
	}
	return nil
}

// b01 is a boolean as the 0/1 the tables keep (PostgreSQL does not turn a
// boolean parameter into a BIGINT).
func b01(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
