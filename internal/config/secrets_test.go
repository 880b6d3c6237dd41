package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretsKeyFile(t *testing.T) {
	dir := t.TempDir()
	base := map[string]string{"HOME": dir, "XDG_CONFIG_HOME": dir, "OS1_DATA_DIR": filepath.Join(dir, "data")}

	// Unset: secret.key in the data dir, as before.
	c, err := Load(envOf(base), Flags{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.KeyPath(), filepath.Join(dir, "data", "secret.key"); got != want {
		t.Fatalf("KeyPath unset = %q, want %q", got, want)
	}

	// The config file's [secrets] key_file.
	file := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(file, []byte("[secrets]\nkey_file = \"/etc/os1/shared.key\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(envOf(base), Flags{ConfigFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyPath() != "/etc/os1/shared.key" {
		t.Fatalf("file's key_file: KeyPath = %q", c.KeyPath())
	}

	// OS1_SECRET_KEY_FILE wins over the file.
	env := map[string]string{"OS1_SECRET_KEY_FILE": "/run/secrets/os1.key"}
	for k, v := range base {
		env[k] = v
	}
	c, err = Load(envOf(env), Flags{ConfigFile: file})
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyPath() != "/run/secrets/os1.key" {
		t.Fatalf("env's key file: KeyPath = %q", c.KeyPath())
	}

	// A relative path stays relative to the working directory, like data_dir.
	env["OS1_SECRET_KEY_FILE"] = "keys/os1.key"
	if c, err = Load(envOf(env), Flags{ConfigFile: file}); err != nil || c.KeyPath() != "keys/os1.key" {
		t.Fatalf("relative key file: KeyPath = %q, err %v", c.KeyPath(), err)
	}
	if !strings.Contains(c.String(), "key_file = \"keys/os1.key\"") {
		t.Errorf("String does not show the key file:\n%s", c)
	}
}

func TestSecretsKeyFileValidation(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ file, want string }{
		"a directory":      {dir, "is a directory"},
		"a trailing slash": {"/etc/os1/", "names a directory"},
		"spaces":           {" /etc/os1/secret.key", "spaces or line breaks"},
		"the database":     {filepath.Join(dir, "data", "os1.db"), "is the database file"},
	} {
		env := map[string]string{"HOME": dir, "XDG_CONFIG_HOME": dir, "OS1_DATA_DIR": filepath.Join(dir, "data"), "OS1_SECRET_KEY_FILE": tc.file}
		_, err := Load(envOf(env), Flags{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "key_file") {
			t.Errorf("%s: Load error %v, want one saying %q", name, err, tc.want)
		}
	}
	// A key file that does not exist yet is valid: the commands decide.
	env := map[string]string{"HOME": dir, "XDG_CONFIG_HOME": dir, "OS1_SECRET_KEY_FILE": filepath.Join(dir, "new", "secret.key")}
	if _, err := Load(envOf(env), Flags{}); err != nil {
		t.Errorf("a key file yet to be made: %v", err)
	}
}
