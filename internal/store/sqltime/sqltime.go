// Package sqltime is how os1's SQLite tables store times: fixed-width UTC
// text, so text order is time order, and NULL for the zero time. Every
// SQLite-backed store uses it, so times written by one read back in another.
//
// It must never lose precision: a time round-trips to the nanosecond.
package sqltime

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Layout is the stored form.
const Layout = "2006-01-02T15:04:05.000000000Z"

// Value stores a time.Time as UTC text, and the zero time as NULL.
type Value time.Time

// Value implements driver.Valuer.
func (t Value) Value() (driver.Value, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return nil, nil
	}
	tt = tt.UTC()
	if y := tt.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("time %s is outside the years 0000-9999", tt)
	}
	return tt.Format(Layout), nil
}

// Scanner reads what Value wrote into T; NULL becomes the zero time.
type Scanner struct{ T *time.Time }

// Scan implements sql.Scanner.
func (s Scanner) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*s.T = time.Time{}
		return nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("stored time %q: %w", v, err)
		}
		*s.T = t
		return nil
	default:
		return fmt.Errorf("stored time has type %T, want text", v)
	}
}
