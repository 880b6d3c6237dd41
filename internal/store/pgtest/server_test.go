package pgtest_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/os1ai/os1/internal/store/pgtest"
)

// StartServer is a server of its own, apart from the tests' shared one:
// its database takes writes, Stop ends the postmaster and removes its
// directory, StopKeepingData leaves the data behind.
func TestStartServer(t *testing.T) {
	pgtest.Require(t)
	for _, keep := range []bool{false, true} {
		srv, err := pgtest.StartServer(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		db, err := sql.Open("pgx", srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(t.Context(), `CREATE TABLE t (x int); INSERT INTO t VALUES (1)`); err != nil {
			t.Fatalf("%s: %v", srv.URL, err)
		}
		var version string
		if err := db.QueryRowContext(t.Context(), `SHOW server_version`).Scan(&version); err != nil || version[:3] != "15." {
			t.Errorf("server_version %q %v, want 15.x", version, err)
		}
		db.Close()
		if srv.Pid <= 0 || syscall.Kill(srv.Pid, 0) != nil {
			t.Errorf("pid %d is not a running postmaster", srv.Pid)
		}
		if keep {
			srv.StopKeepingData()
		} else {
			srv.Stop()
		}
		srv.Stop() // a second stop does nothing
		if syscall.Kill(srv.Pid, 0) == nil {
			t.Errorf("postmaster %d still runs after Stop", srv.Pid)
		}
		_, err = os.Stat(filepath.Join(srv.Data, "PG_VERSION"))
		if keep && err != nil {
			t.Errorf("StopKeepingData removed the data: %v", err)
		}
		if !keep && err == nil {
			t.Errorf("Stop left %s behind", srv.Data)
		}
		if keep {
			os.RemoveAll(filepath.Dir(srv.Data))
		}
	}
}
