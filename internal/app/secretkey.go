package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"regexp"

	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/secret"
	"github.com/os1ai/os1/internal/store/sqldb"
)

// keyVerifierSetting is the server-wide setting holding the verifier of
// the key the database's secrets are sealed with (secret.Box.Verifier):
// every node, and every later start, compares its own key with it.
const keyVerifierSetting = "secret.key_verifier"

// SecretKeyError refuses a node whose secret key is not the database's:
// sealing with it would make secrets the other nodes cannot open.
type SecretKeyError struct {
	Path     string // the node's key file
	Database string // the database, without a password
	Missing  bool   // the key file does not exist
	Why      string // what was found
}

func (e *SecretKeyError) Error() string {
	fix := "copy secret.key from a node that works to " + e.Path + " (mode 0600), or set [secrets] key_file / OS1_SECRET_KEY_FILE to the shared file"
	if e.Missing {
		return fmt.Sprintf("there is no secret key at %s, but %s: %s; os1 makes no new key for a database that already has one", e.Path, e.Why, fix)
	}
	return fmt.Sprintf("this node's secret key (%s) is not the one the database %s was sealed with (%s): %s", e.Path, e.Database, e.Why, fix)
}

// OpenSecrets loads the key that seals secrets at rest (cfg.KeyPath()) and
// checks it against the verifier stored in db, which every node shares:
//
//   - a verifier is stored: the key must match it; a missing key file is
//     refused and none is made;
//   - none is stored (a new database, or one from before verifiers): the
//     key (made if its file is missing) must open one of the secrets the
//     database already holds sealed, if it holds any; then its verifier is
//     stored. Two nodes storing at once: the first wins, the other is
//     refused.
func OpenSecrets(ctx context.Context, cfg config.Config, db sqldb.Handle) (*secret.Box, error) {
	path := cfg.KeyPath()
	refuse := func(missing bool, why string) error {
		return &SecretKeyError{Path: path, Database: cfg.DatabaseName(), Missing: missing, Why: why}
	}
	stored, err := keyVerifier(ctx, db.SQL())
	if err != nil {
		return nil, err
	}
	box, err := secret.LoadKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		if stored != "" {
			return nil, refuse(true, "the database "+cfg.DatabaseName()+" has secrets sealed with a key")
		}
		sealed, serr := sealedSamples(ctx, db.SQL())
		if serr != nil {
			return nil, serr
		}
		if len(sealed) > 0 {
			return nil, refuse(true, fmt.Sprintf("the database %s holds secrets sealed with a key (%d found)", cfg.DatabaseName(), len(sealed)))
		}
		box, err = secret.LoadOrCreateKey(path) // another process may have just made it
	}
	if err != nil {
		return nil, err
	}
	if stored == "" {
		sealed, err := sealedSamples(ctx, db.SQL())
		if err != nil {
			return nil, err
		}
		if len(sealed) > 0 && !opensAny(box, sealed) {
			return nil, refuse(false, fmt.Sprintf("it opens none of the %d secrets the database holds sealed", len(sealed)))
		}
		if stored, err = storeKeyVerifier(ctx, db.SQL(), box.Verifier()); err != nil {
			return nil, err
		}
	}
	if !box.Verifies(stored) {
		return nil, refuse(false, "its verifier differs from the one stored there")
	}
	return box, nil
}

func keyVerifier(ctx context.Context, db *sql.DB) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, keyVerifierSetting).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the secret key's verifier: %w", err)
	}
	return v, nil
}

// storeKeyVerifier stores v unless a verifier is there already, and
// returns the one stored: on a race the first node's.
func storeKeyVerifier(ctx context.Context, db *sql.DB, v string) (string, error) {
	if _, err := db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
		keyVerifierSetting, v); err != nil {
		return "", fmt.Errorf("store the secret key's verifier: %w", err)
	}
	return keyVerifier(ctx, db)
}

// sealedText finds sealed text (secret.Box's v1 format) inside a value,
// such as the model connection's JSON.
var sealedText = regexp.MustCompile(`v1:[A-Za-z0-9_-]{20,}`)

// sealedSamples returns some of the secrets the database holds sealed:
// mail and calendar accounts' credentials, the VAPID key, sealed values in
// settings (the model connection's API key).
func sealedSamples(ctx context.Context, db *sql.DB) ([]string, error) {
	var out []string
	for _, q := range []string{
		`SELECT value FROM settings WHERE value LIKE '%v1:%' ORDER BY key LIMIT 20`,
		`SELECT secret FROM mail_accounts WHERE secret LIKE 'v1:%' ORDER BY id LIMIT 20`,
		`SELECT secret FROM cal_accounts WHERE secret LIKE 'v1:%' ORDER BY id LIMIT 20`,
		`SELECT private_key FROM webpush_vapid WHERE private_key LIKE 'v1:%' LIMIT 1`,
	} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("look for sealed secrets: %w", err)
		}
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("look for sealed secrets: %w", err)
			}
			out = append(out, sealedText.FindAllString(v, 4)...)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("look for sealed secrets: %w", err)
		}
	}
	return out, nil
}

// opensAny reports whether box opens one of sealed: AES-GCM opens only
// what its own key sealed.
func opensAny(box *secret.Box, sealed []string) bool {
	for _, s := range sealed {
		if _, err := box.Open(s); err == nil {
			return true
		}
	}
	return false
}
