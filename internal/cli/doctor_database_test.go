package cli

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	sqlitedriver "github.com/ncruces/go-sqlite3/driver"
	"github.com/ncruces/go-sqlite3/ext/fts5"
	"github.com/pressly/goose/v3"

	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// wantLines fails t for each line of doctor's output that is missing: each
// want is a prefix ("[ok  ] schema") and a part that line must hold.
func wantLines(t *testing.T, out string, wants ...[2]string) {
	t.Helper()
	for _, w := range wants {
		found := false
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, w[0]) && strings.Contains(l, w[1]) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("doctor has no line %q … %q:\n%s", w[0], w[1], out)
		}
	}
}

// gooseVersion is the schema version recorded in db (goose's table).
func gooseVersion(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	var v int64
	if err := db.QueryRow(`SELECT max(version_id) FROM goose_db_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// latest is the newest version of a migration set.
func latest(t *testing.T, migrations fs.FS) int64 {
	t.Helper()
	names, err := fs.Glob(migrations, "*.sql")
	if err != nil || len(names) == 0 {
		t.Fatalf("migrations: %v", err)
	}
	var v int64
	for _, n := range names {
		n, err := goose.NumericComponent(n)
		if err != nil {
			t.Fatal(err)
		}
		v = max(v, n)
	}
	return v
}

// On SQLite doctor names the file, its size and SQLite's version, says the
// schema is current, and that there is no cluster. A file an older os1
// wrote is reported with its pending migrations and left as it was.
func TestDoctorSQLiteDatabase(t *testing.T) {
	env := freshInstall(t)
	if code, out, errOut := runWith(env, "correct horse\n", "user", "add", "theo", "--owner", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s%s", code, out, errOut)
	}
	path := filepath.Join(env["OS1_DATA_DIR"], "os1.db")
	_, out, _ := runWith(env, "", "doctor")
	t.Logf("doctor:\n%s", out)
	target := latest(t, sqlite.Migrations())
	wantLines(t, out,
		[2]string{"[ok  ] database", "SQLite " + path + " ("},
		[2]string{"[ok  ] database", " KB, SQLite 3."},
		[2]string{"[ok  ] database", "1 user(s)"},
		[2]string{"[ok  ] schema", "version " + itoa(target) + ", current for every store"},
		[2]string{"[ok  ] cluster", "off (one process)"},
		[2]string{"[ok  ] memory", "no quarantined records"})
	if strings.Contains(out, "[FAIL] database") || strings.Contains(out, "nats") {
		t.Errorf("doctor on a good SQLite file:\n%s", out)
	}

	// A database one migration behind: reported, not migrated.
	env = freshInstall(t)
	if err := os.MkdirAll(env["OS1_DATA_DIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(env["OS1_DATA_DIR"], "os1.db")
	old, err := sqlitedriver.Open("file:"+path, fts5.Register)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	p, err := goose.NewProvider(goose.DialectSQLite3, old, sqlite.Migrations(), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), target-1); err != nil {
		t.Fatal(err)
	}
	_, out, _ = runWith(env, "", "doctor")
	t.Logf("doctor:\n%s", out)
	wantLines(t, out,
		[2]string{"[ok  ] database", "SQLite " + path},
		[2]string{"[warn] schema", "version " + itoa(target-1) + " of " + itoa(target) + ": 1 migration(s) pending"},
		[2]string{"       fix:", "`os1 serve` brings it up to date"},
		[2]string{"[ok  ] cluster", "off (one process)"},
		[2]string{"[warn] skipped", "model and server were not checked"})
	if strings.Contains(out, "All checks passed") || !strings.Contains(out, "No check failed; 2 warning(s) above.") {
		t.Errorf("doctor's last line claims more than it checked:\n%s", out)
	}
	if got := gooseVersion(t, old); got != target-1 {
		t.Fatalf("doctor migrated the file to %d", got)
	}
	if strings.Contains(out, "[ok  ] memory") {
		t.Errorf("doctor read the stores of an old schema:\n%s", out)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

const doctorPassword = "Sw0rdfish-doctor"

// On PostgreSQL doctor names the server (without the password) and its
// version; an empty database is reported and left empty; a migrated one is
// current; a table missing is what os1 serve would refuse; a database
// missing and nothing listening each get their own fix.
func TestDoctorPostgres(t *testing.T) {
	env := freshInstall(t)
	if err := os.MkdirAll(env["OS1_DATA_DIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	url := strings.Replace(pgtest.New(t), "postgres://os1@", "postgres://os1:"+doctorPassword+"@", 1)
	env["OS1_DATABASE_URL"] = url
	redacted := "PostgreSQL postgres://os1:xxxxx@127.0.0.1:"

	// Empty: said, and nothing made.
	code, out, errOut := runWith(env, "", "doctor")
	t.Logf("doctor:\n%s", out)
	wantLines(t, out,
		[2]string{"[ok  ] database", redacted},
		[2]string{"[ok  ] database", "(server 15."},
		[2]string{"[warn] schema", "no os1 tables yet"},
		[2]string{"[ok  ] cluster", "off (one process)"})
	if strings.Contains(out+errOut, doctorPassword) {
		t.Fatal("doctor printed the password")
	}
	raw, err := sqldb.OpenPostgres(url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var tables int
	if err := raw.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("doctor made %d table(s) in an empty database (%v); exit %d", tables, err, code)
	}

	// Migrated (as os1 serve does): current, with its users.
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	target := latest(t, postgres.Migrations())
	_, out, _ = runWith(env, "", "doctor")
	t.Logf("doctor:\n%s", out)
	wantLines(t, out,
		[2]string{"[ok  ] database", redacted},
		[2]string{"[ok  ] database", "schema up to date; 0 user(s)"},
		[2]string{"[ok  ] schema", "version " + itoa(target) + ", current for every store"},
		[2]string{"[ok  ] memory", "no quarantined records"})

	// A store's table gone: what os1 serve refuses, named.
	if _, err := raw.Exec(`DROP TABLE book_files CASCADE`); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runWith(env, "", "doctor")
	t.Logf("doctor:\n%s", out)
	wantLines(t, out, [2]string{"[FAIL] schema", "os1 serve refuses to run on PostgreSQL"}, [2]string{"[FAIL] schema", "book_files"})
	if code != 1 {
		t.Errorf("doctor with a table missing: exit %d", code)
	}

	// No such database.
	env["OS1_DATABASE_URL"] = url[:strings.LastIndex(url, "/")] + "/os1_not_there?sslmode=disable"
	code, out, _ = runWith(env, "", "doctor")
	t.Logf("doctor:\n%s", out)
	wantLines(t, out, [2]string{"[FAIL] database", "has no such database"}, [2]string{"       fix:", "createdb"})
	if code != 1 || strings.Contains(out, doctorPassword) {
		t.Errorf("doctor on a missing database: exit %d\n%s", code, out)
	}

	// Nothing listening.
	env["OS1_DATABASE_URL"] = "postgres://os1:" + doctorPassword + "@127.0.0.1:1/os1?sslmode=disable"
	code, out, _ = runWith(env, "", "doctor")
	t.Logf("doctor:\n%s", out)
	wantLines(t, out, [2]string{"[FAIL] database", "PostgreSQL postgres://os1:xxxxx@127.0.0.1:1/os1"},
		[2]string{"[FAIL] database", "refuses connections"}, [2]string{"       fix:", "start PostgreSQL"})
	if code != 1 || strings.Contains(out, doctorPassword) {
		t.Errorf("doctor with nothing listening: exit %d\n%s", code, out)
	}
}

// A wrong password is told apart from a server that is down: on a server
// of its own that asks for passwords (the shared one trusts every login).
func TestDoctorPostgresWrongPassword(t *testing.T) {
	pgtest.Require(t)
	srv, err := pgtest.StartServer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	hba := filepath.Join(srv.Data, "pg_hba.conf")
	if err := os.WriteFile(hba, []byte("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(srv.Pid, syscall.SIGHUP); err != nil { // reload pg_hba.conf
		t.Fatal(err)
	}
	env := freshInstall(t)
	if err := os.MkdirAll(env["OS1_DATA_DIR"], 0o700); err != nil {
		t.Fatal(err)
	}
	env["OS1_DATABASE_URL"] = strings.Replace(srv.URL, "postgres://os1@", "postgres://os1:"+doctorPassword+"@", 1)
	// The reload is the server's to do; wait for it (a login is refused).
	var code int
	var out string
	for deadline := time.Now().Add(20 * time.Second); ; {
		code, out, _ = runWith(env, "", "doctor")
		t.Logf("doctor:\n%s", out)
		if strings.Contains(out, "refuses the login") || time.Now().After(deadline) {
			break
		}
	}
	wantLines(t, out, [2]string{"[FAIL] database", "PostgreSQL postgres://os1:xxxxx@127.0.0.1:"},
		[2]string{"[FAIL] database", "refuses the login"}, [2]string{"       fix:", "password in the URL is wrong"})
	if code != 1 || strings.Contains(out, doctorPassword) {
		t.Errorf("doctor with a wrong password: exit %d\n%s", code, out)
	}
}
