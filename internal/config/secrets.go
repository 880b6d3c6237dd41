package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Secrets says where the key that seals secrets at rest is kept
// (internal/secret). Every node of a cluster needs the same key: a shared
// file (key_file) or a copy of secret.key in each data dir (docs/scale.md).
type Secrets struct {
	// KeyFile is the key's file; empty: secret.key in the data dir.
	// OS1_SECRET_KEY_FILE overrides it. A relative path is taken from the
	// working directory, like data_dir and database.url_file.
	KeyFile string `toml:"key_file"`
}

// applySecretsEnv reads the secrets' environment (which wins over the file).
func applySecretsEnv(c *Config, env func(string) string) {
	setIf(&c.Secrets.KeyFile, env("OS1_SECRET_KEY_FILE"))
}

// validateSecrets checks the key file's setting; whether the file exists
// is for the commands to judge (os1 serve creates it only for a database
// that has no key yet).
func (c Config) validateSecrets() []error {
	f := c.Secrets.KeyFile
	if f == "" {
		return nil
	}
	if strings.TrimSpace(f) != f || strings.ContainsAny(f, "\n\r\x00") {
		return []error{errors.New("secrets.key_file has spaces or line breaks around the path: set OS1_SECRET_KEY_FILE to the key file's path")}
	}
	if strings.HasSuffix(f, "/") || strings.HasSuffix(f, string(filepath.Separator)) {
		return []error{fmt.Errorf("secrets.key_file %q names a directory: name the key file itself (for example /etc/os1/secret.key): set OS1_SECRET_KEY_FILE", f)}
	}
	if fi, err := os.Stat(f); err == nil && fi.IsDir() {
		return []error{fmt.Errorf("secrets.key_file %q is a directory: name the key file itself (for example %s): set OS1_SECRET_KEY_FILE", f, filepath.Join(f, "secret.key"))}
	}
	if filepath.Clean(f) == filepath.Clean(c.DBPath()) {
		return []error{fmt.Errorf("secrets.key_file %q is the database file: keep the key in its own file", f)}
	}
	return nil
}
