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
