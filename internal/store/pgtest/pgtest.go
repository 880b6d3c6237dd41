// Package pgtest runs a real PostgreSQL 15 (Debian's postgresql package)
// for tests: one server per test binary, started on first use with initdb
// in a fresh temp dir, listening on a free loopback port and on a unix
// socket in that dir, and stopped (and its dir removed) when the binary's
// tests end. Each test gets a database of its own (New), dropped when the
// test ends. Tests only (and StartServer, a server of its own for the load
// harness bench/load); it never touches the system's PostgreSQL cluster.
//
// initdb and postgres refuse to run as root. When the tests run as root
// (containers, CI), both run as the system user "postgres" that Debian's
// package creates (else "nobody"), through exec's Credential, in a temp dir
// chowned to that user; otherwise they run as the current user.
//
// Without the binaries a test that calls New is skipped with the reason;
// OS1_E2E_REQUIRE=1 (make test, CI) makes that a failure. OS1_PG_BIN
// points at another PostgreSQL bin directory.
//
// A package that uses New must call Main from its TestMain, which stops the
// server after the tests. The server is also killed (SIGQUIT) if the test
// binary dies first, so no postgres outlives it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/os1ai/os1/internal/daemontest"
)

// BinDir is where Debian's postgresql-15 package puts the server programs.
const BinDir = "/usr/lib/postgresql/15/bin"

// superuser is the role initdb creates; it may log in without a password
// (trust), which is safe only because the server listens on loopback and
// its socket dir is private.
const superuser = "os1"

// server is the test binary's one PostgreSQL.
type server struct {
	dir   string // temp dir: data/ and the socket
	port  int
	cmd   *exec.Cmd
	out   *daemontest.Output
	exit  chan error
	admin *sql.DB // connected to the "postgres" database
}

var (
	mu      sync.Mutex
	shared  *server
	lastErr error
)

func binDir() string {
	if d := os.Getenv("OS1_PG_BIN"); d != "" {
		return d
	}
	return BinDir
}

// Require returns the PostgreSQL bin directory, or skips the test with the
// reason (fails it with OS1_E2E_REQUIRE=1).
func Require(t testing.TB) string {
	t.Helper()
	dir := binDir()
	for _, p := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			msg := "PostgreSQL test needs Debian's postgresql 15 (apt-get install postgresql; scripts/deps.sh test): " + err.Error()
			if os.Getenv("OS1_E2E_REQUIRE") == "1" {
				t.Fatal(msg + " (OS1_E2E_REQUIRE=1 makes this a failure)")
			}
			t.Skip(msg)
		}
	}
	return dir
}

// Main runs the package's tests, then stops the shared server. Call it from
// TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if shared != nil {
		shared.stop()
		shared = nil
	}
	mu.Unlock()
	os.Exit(code)
}

// New creates an empty database on the shared server (starting it on first
// use) and returns its connection URL; the database is dropped when t ends.
func New(t testing.TB) string {
	t.Helper()
	bin := Require(t)
	s, err := get(bin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "os1_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v\n%s", name, err, s.out.String())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a store the test forgot to close must not keep it alive.
		if _, err := s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.url(name)
}

// url is the TCP URL of database name.
func (s *server) url(name string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, s.port, name)
}

// get returns the running shared server, starting it once; a failed start
// is remembered so every later test fails fast with the same reason.
func get(bin string) (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		return shared, nil
	}
	if lastErr != nil {
		return nil, lastErr
	}
	s, err := start(bin)
	if err != nil {
		lastErr = err
		return nil, err
	}
	shared = s
	return s, nil
}

// runAs is the credential for initdb and postgres: nil when not root.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var errs []error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Errorf("user %s: bad uid/gid %s/%s", name, u.Uid, u.Gid))
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, fmt.Errorf("running as root and no unprivileged user to run postgres as: %w", errors.Join(errs...))
}

// reachable reports whether every directory from / down to dir lets any
// user through (the others' search bit), as the postgres user needs.
func reachable(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for d := abs; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

func command(cred *syscall.Credential, dir, prog string, args ...string) *exec.Cmd {
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	// No inherited PG* variables (PGDATA, PGPORT…) may steer the server.
	env := []string{"HOME=" + dir, "LC_ALL=C", "TZ=UTC"}
	if p := os.Getenv("PATH"); p != "" {
		env = append(env, "PATH="+p)
	}
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

func start(bin string) (*server, error) {
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	// A short path: the socket's full name must fit in 107 bytes. The
	// postgres user must reach it: a private TMPDIR (root's 0700) will not do.
	parent := os.TempDir()
	if cred != nil && !reachable(parent) {
		parent = "/tmp"
	}
	dir, err := os.MkdirTemp(parent, "os1pg")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(fmt.Errorf("chown %s to the postgres user: %w", dir, err))
		}
	}
	data := filepath.Join(dir, "data")
	initdb := command(cred, dir, filepath.Join(bin, "initdb"),
		"-D", data, "-U", superuser, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	port, err := daemontest.FreePort()
	if err != nil {
		return fail(err)
	}
	s := &server{dir: dir, port: port, out: &daemontest.Output{}, exit: make(chan error, 1)}
	// Durability is off (fsync, synchronous_commit): tests and benchmarks
	// measure os1's queries, not this disk. docs/scale.md says so.
	s.cmd = command(cred, dir, filepath.Join(bin, "postgres"), "-D", data,
		"-p", strconv.Itoa(port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "log_min_messages=warning")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("start postgres: %w", err))
	}
	go func() { s.exit <- s.cmd.Wait() }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-s.exit:
			return fail(fmt.Errorf("postgres exited at start: %v\n%s", err, s.out.String()))
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("postgres did not listen on %s within 30 s\n%s", addr, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	admin, err := sql.Open("pgx", s.url("postgres"))
	if err != nil {
		s.stop()
		return nil, err
	}
	s.admin = admin
	// Listening is not accepting: wait out "the database system is starting up".
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := admin.PingContext(ctx)
		cancel()
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("postgres did not answer within 30 s: %v\n%s", err, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the server down (SIGINT: fast shutdown; killed after 10 s)
// and removes its dir.
func (s *server) stop() {
	s.halt()
	_ = os.RemoveAll(s.dir)
}

// halt shuts the server down and keeps its dir.
func (s *server) halt() {
	if s.admin != nil {
		s.admin.Close()
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exit:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
}
