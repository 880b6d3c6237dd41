package cli

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/app"
	"github.com/os1ai/os1/internal/datadir"
	"github.com/os1ai/os1/internal/store/pgtest"
)

// The package's PostgreSQL tests share one server, stopped after the tests.
func TestMain(m *testing.M) { pgtest.Main(m) }

const migratePassword = "Sw0rdfish-not-shown"

// os1 migrate copies a data dir made on the command line into PostgreSQL
// and says so, table by table, without showing the password; os1 then
// runs on PostgreSQL (os1 user list, os1 doctor) with the same users.
func TestMigrateCommandCopiesTheDataDirIntoPostgres(t *testing.T) {
	env := freshInstall(t)
	if code, out, errOut := runWith(env, "correct horse\n", "user", "add", "theo", "--owner", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s%s", code, out, errOut)
	}
	if code, out, errOut := runWith(env, "a member pw!\n", "user", "add", "amy", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s%s", code, out, errOut)
	}
	url := strings.Replace(pgtest.New(t), "postgres://os1@", "postgres://os1:"+migratePassword+"@", 1)

	code, out, errOut := runWith(env, "", "migrate")
	if code != 2 || !strings.Contains(errOut, "--to postgres://") {
		t.Fatalf("migrate without a target: %d %q", code, errOut)
	}
	code, out, errOut = runWith(env, "", "migrate", "--to", url)
	if code != 0 {
		t.Fatalf("migrate: %d\n%s%s", code, out, errOut)
	}
	t.Logf("os1 migrate:\n%s", out)
	for _, want := range []string{
		"Copying " + env["OS1_DATA_DIR"] + "/os1.db into postgres://os1:xxxxx@127.0.0.1:",
		"copied users ", "verifying row counts and checksums", "every table's row count and checksum match",
		"not copied (SQLite's full-text indexes", "secret.key",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate's output lacks %q", want)
		}
	}
	if strings.Contains(out+errOut, migratePassword) {
		t.Fatal("migrate printed the password")
	}
	if strings.Contains(out, "\r") {
		t.Fatal("a progress bar drawn into a pipe (want plain lines when not a terminal)")
	}
	// users: 2 rows on each side.
	if !lineHas(out, "users", "2", "2", "ok") {
		t.Errorf("no line saying users were copied 2 for 2:\n%s", out)
	}

	// A second run finds the database full and refuses.
	code, _, errOut = runWith(env, "", "migrate", "--to", url)
	if code == 0 || !strings.Contains(errOut, "is not empty") || strings.Contains(errOut, migratePassword) {
		t.Fatalf("migrate into the filled database: %d %q", code, errOut)
	}

	// os1 on the PostgreSQL URL has the same users.
	env["OS1_DATABASE_URL"] = url
	code, out, errOut = runWith(env, "", "user", "list")
	if code != 0 || !strings.Contains(out, "theo") || !strings.Contains(out, "amy") {
		t.Fatalf("user list on PostgreSQL: %d %s%s", code, out, errOut)
	}
	_, out, errOut = runWith(env, "", "doctor")
	if !strings.Contains(out, "PostgreSQL postgres://os1:xxxxx@127.0.0.1:") || !strings.Contains(out, "2 user(s)") {
		t.Errorf("doctor on PostgreSQL:\n%s%s", out, errOut)
	}
	if strings.Contains(out+errOut, migratePassword) {
		t.Fatal("doctor printed the password")
	}
}

// While a server holds the data dir, migrate does not copy it.
func TestMigrateWaitsForTheServerToStop(t *testing.T) {
	env := freshInstall(t)
	if code, out, errOut := runWith(env, "correct horse\n", "user", "add", "theo", "--owner", "--password-stdin"); code != 0 {
		t.Fatalf("user add: %d %s%s", code, out, errOut)
	}
	lock, err := datadir.Acquire(env["OS1_DATA_DIR"], "os1 serve")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	code, _, errOut := runWith(env, "", "migrate", "--to", "postgres://os1@127.0.0.1:1/x")
	if code == 0 || !strings.Contains(errOut, "in use by os1 serve") || !strings.Contains(errOut, "stop it") {
		t.Fatalf("migrate beside a server: %d %q", code, errOut)
	}
}

// lineHas reports whether a line of out holds all the words in order.
func lineHas(out string, words ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		i := 0
		for _, w := range f {
			if i < len(words) && w == words[i] {
				i++
			}
		}
		if i == len(words) && len(f) > 0 && f[0] == words[0] {
			return true
		}
	}
	return false
}

// On a terminal the progress is one bar redrawn in place, ended by a newline.
func TestMigrateBarOnATerminal(t *testing.T) {
	var b strings.Builder
	bar := newMigrateBar(&b, true)
	bar.update(app.MigrateProgress{Table: "users", Of: 4, All: 8, TablesOf: 2})
	bar.update(app.MigrateProgress{Table: "users", Rows: 4, Of: 4, Done: 4, All: 8, TablesOf: 2})
	bar.update(app.MigrateProgress{Table: "users", Rows: 4, Of: 4, Done: 4, All: 8, TablesOf: 2}) // the same: not redrawn
	bar.update(app.MigrateProgress{Verifying: true, Done: 8, All: 8, Tables: 2, TablesOf: 2})
	bar.end()
	got := b.String()
	if strings.Count(got, "\r") != 3 || !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 ||
		!strings.Contains(got, "[###############...............]   50%  4/8 rows  users") ||
		!strings.Contains(got, "[##############################]  100%  8/8 rows  verifying") {
		t.Fatalf("bar drawn as %q", got)
	}
}
