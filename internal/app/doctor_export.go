package app

import (
	"context"
	"database/sql"
)

// CheckPostgresSchema is the check os1 serve makes before it runs on
// PostgreSQL (OpenDB): every table and column this build's stores use is
// there, else a *MissingError naming what is not. It reads and changes
// nothing else, so os1 doctor can say what serve would refuse.
func CheckPostgresSchema(ctx context.Context, pg *sql.DB) error {
	return checkPostgresSchema(ctx, pg)
}

// KeyMatchesDatabase says whether box is the key the database's secrets
// are sealed with, by the verifier os1 serve stores (OpenSecrets): known is
// false while none is stored yet (serve stores it on its next start). It
// changes nothing.
func KeyMatchesDatabase(ctx context.Context, db *sql.DB, box interface{ Verifies(string) bool }) (known, matches bool, err error) {
	stored, err := keyVerifier(ctx, db)
	if err != nil || stored == "" {
		return false, false, err
	}
	return true, box.Verifies(stored), nil
}
