// Package sqldb is what os1's SQL stores share across the two databases
// they run on: SQLite (one file, the default) and PostgreSQL (a cluster,
// docs/scale.md).
//
// A store keeps one implementation written with '?' placeholders and the
// SQL both databases accept (INSERT … ON CONFLICT, COALESCE, RETURNING).
// On PostgreSQL the connection pool comes from OpenPostgres, whose driver
// numbers the placeholders ($1, $2, …) as PostgreSQL wants, so the same
// query text runs on both. The few places the two differ (full-text
// search, case-insensitive matching) ask the Handle for its Dialect.
//
// It must never change a query's meaning: only '?' outside string
// literals, quoted identifiers and comments is rewritten.
package sqldb

import (
	"database/sql"
	"strconv"
	"strings"
)

// Dialect names the database a Handle talks to.
type Dialect string

// The dialects os1 runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Handle is a database os1's stores keep their tables in: the core store's
// connection pool, shared so that every store is in the same database (and,
// where they need it, the same transactions).
type Handle interface {
	// SQL is the connection pool. Callers scope every query by user ID.
	SQL() *sql.DB
	// Dialect is which database the pool talks to.
	Dialect() Dialect
}

// Rebind numbers the '?' placeholders of q as $1, $2, … in order (a
// numbered ?3 becomes $3), leaving
// alone any '?' inside a string literal ('…'), a quoted identifier ("…"),
// a line comment (-- …) or a block comment (/* … */). A query that has
// no '?' comes back unchanged, so one already written with $n is safe.
func Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			// A doubled quote inside ('it''s') ends and reopens the literal,
			// which this loop handles without knowing it.
			j := strings.IndexByte(q[i+1:], c)
			if j < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+j+2])
			i += j + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+j+1])
			i += j
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+j+4])
			i += j + 3
		case c == '?':
			// SQLite's numbered form, ?3, names its argument already.
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
				i = j - 1
				continue
			}
			n++
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
