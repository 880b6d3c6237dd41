// Package sqlerr turns SQLite and PostgreSQL driver errors into a store's
// sentinel errors, for every SQL-backed store (the core store, memory, mail…).
//
// It only classifies errors; it must never hide one (every error that is not
// classified comes back wrapped, with the operation named).
package sqlerr

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"
)

// PostgreSQL error codes (SQLSTATE) mapped to the sentinels.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// pgCode is err's SQLSTATE when PostgreSQL reported it, else "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// Sentinels are a store's own errors for the failures the database reports.
type Sentinels struct {
	NotFound error // no row (sql.ErrNoRows), or an UPDATE/DELETE that matched none
	Conflict error // a unique or primary key is taken
	// Dangling is what a missing referenced row (a foreign key) is reported
	// as, a phrase put before NotFound: "the user does not exist".
	Dangling string
}

// Map wraps err with what (a description of the operation), as one of s's
// sentinels where it is one of those failures.
func (s Sentinels) Map(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", what, s.NotFound)
	case errors.Is(err, sqlite3.CONSTRAINT_UNIQUE), errors.Is(err, sqlite3.CONSTRAINT_PRIMARYKEY),
		pgCode(err) == pgUniqueViolation:
		return fmt.Errorf("%s: %w", what, s.Conflict)
	case errors.Is(err, sqlite3.CONSTRAINT_FOREIGNKEY), pgCode(err) == pgForeignKeyViolation:
		return fmt.Errorf("%s: %s %w", what, s.Dangling, s.NotFound)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}

// Affected is Map for an UPDATE or DELETE, which is NotFound when it matched no row.
func (s Sentinels) Affected(res sql.Result, err error, what string) error {
	if err != nil {
		return s.Map(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, s.NotFound)
	}
	return nil
}
