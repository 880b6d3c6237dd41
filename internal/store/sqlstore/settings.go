package sqlstore

import (
	"context"
	"fmt"
)

// Setting returns the value of a server-wide setting; ErrNotFound when unset.
func (d *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := d.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	return v, mapErr(err, fmt.Sprintf("setting %q", key))
}

// SetSetting creates or replaces a setting.
func (d *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := d.db.ExecContext(ctx,
		`INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		key, value)
	return mapErr(err, fmt.Sprintf("set setting %q", key))
}

// DeleteSetting removes a setting. Removing an unset one is not an error.
func (d *Store) DeleteSetting(ctx context.Context, key string) error {
	_, err := d.db.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, key)
	return mapErr(err, fmt.Sprintf("delete setting %q", key))
}
