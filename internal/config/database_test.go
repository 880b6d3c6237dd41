package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secretPass = "s3cr3t-Pa55"

func TestDatabaseUnsetIsSQLiteInTheDataDir(t *testing.T) {
	c, err := Load(envOf(map[string]string{"HOME": "/home/theo", "XDG_CONFIG_HOME": t.TempDir()}), Flags{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Postgres() || c.DatabaseName() != "/home/theo/.local/share/os1/os1.db" {
		t.Fatalf("unset database: postgres %v, name %q", c.Postgres(), c.DatabaseName())
	}
}

func TestDatabaseURLFromFileEnvAndURLFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(file, []byte("[database]\nurl = \"postgres://os1:"+secretPass+"@db.lan:5432/os1\"\n"), 0o600))
	base := map[string]string{"HOME": dir, "XDG_CONFIG_HOME": dir}

	c, err := Load(envOf(base), Flags{ConfigFile: file})
	must(err)
	if !c.Postgres() || c.Database.URL != "postgres://os1:"+secretPass+"@db.lan:5432/os1" {
		t.Fatalf("file's url: %+v", c.Database)
	}
	if got := c.DatabaseName(); got != "postgres://os1:xxxxx@db.lan:5432/os1" {
		t.Fatalf("DatabaseName = %q", got)
	}
	if s := c.String(); strings.Contains(s, secretPass) || !strings.Contains(s, "db.lan") {
		t.Fatalf("String leaks the password or drops the URL:\n%s", s)
	}

	// The environment wins over the file.
	env := map[string]string{"OS1_DATABASE_URL": "postgres://me@other:5433/x"}
	for k, v := range base {
		env[k] = v
	}
	c, err = Load(envOf(env), Flags{ConfigFile: file})
	must(err)
	if c.Database.URL != "postgres://me@other:5433/x" {
		t.Fatalf("env did not win: %q", c.Database.URL)
	}

	// A URL file: its one line becomes the URL, and wins over the file's url.
	urlFile := filepath.Join(dir, "db-url")
	must(os.WriteFile(urlFile, []byte("postgresql://os1:"+secretPass+"@10.0.0.5/os1?sslmode=require\n"), 0o600))
	delete(env, "OS1_DATABASE_URL")
	env["OS1_DATABASE_URL_FILE"] = urlFile
	c, err = Load(envOf(env), Flags{ConfigFile: file})
	must(err)
	if c.Database.URL != "postgresql://os1:"+secretPass+"@10.0.0.5/os1?sslmode=require" || c.Database.URLFile != urlFile {
		t.Fatalf("url file: %+v", c.Database)
	}
	if s := c.String(); strings.Contains(s, secretPass) {
		t.Fatalf("String leaks the password read from the file:\n%s", s)
	}

	// url_file in the config file.
	must(os.WriteFile(file, []byte("[database]\nurl_file = \""+urlFile+"\"\n"), 0o600))
	c, err = Load(envOf(base), Flags{ConfigFile: file})
	must(err)
	if !strings.HasPrefix(c.Database.URL, "postgresql://os1:") {
		t.Fatalf("config's url_file not read: %+v", c.Database)
	}
}

func TestDatabaseErrorsNeverQuoteThePassword(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(file, []byte("[database]\nurl = \"postgres://a:b@h/d\"\nurl_file = \"/x\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		file string
		want string
	}{
		{"not a URL", map[string]string{"OS1_DATABASE_URL": "host=db password=" + secretPass}, "", "not a PostgreSQL URL"},
		{"wrong scheme", map[string]string{"OS1_DATABASE_URL": "mysql://u:" + secretPass + "@h/d"}, "", "not a PostgreSQL URL"},
		{"both in env", map[string]string{"OS1_DATABASE_URL": "postgres://u:" + secretPass + "@h/d", "OS1_DATABASE_URL_FILE": empty}, "", "both set"},
		{"both in file", nil, file, "both set"},
		{"missing url file", map[string]string{"OS1_DATABASE_URL_FILE": filepath.Join(dir, "nope")}, "", "database.url_file"},
		{"empty url file", map[string]string{"OS1_DATABASE_URL_FILE": empty}, "", "must hold one line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"HOME": dir, "XDG_CONFIG_HOME": filepath.Join(dir, "none")}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := Load(envOf(env), Flags{ConfigFile: tc.file})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secretPass) {
				t.Fatalf("the error quotes the password: %v", err)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://os1:" + secretPass + "@h:5432/db":              "postgres://os1:xxxxx@h:5432/db",
		"postgres://os1@h/db":                                      "postgres://os1@h/db",
		"postgres://h/db?user=os1&password=" + secretPass:          "postgres://h/db?password=xxxxx&user=os1",
		"postgres://u:" + secretPass + "@h/db?sslmode=verify-full": "postgres://u:xxxxx@h/db?sslmode=verify-full",
		"host=h password=" + secretPass:                            "(a database URL that does not parse)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
