package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Server is a PostgreSQL of its own for a program that is not a test
// (bench/load runs os1 nodes on one): started like the tests' shared server
// (initdb in a fresh temp dir, loopback only, durability off, as the
// postgres user when run as root) with one empty database, "os1". It is
// killed if the program dies first.
type Server struct {
	URL  string // postgres://os1@127.0.0.1:PORT/os1?sslmode=disable
	Pid  int    // the postmaster's process id (its backends are its children)
	Data string // the data directory, kept by StopKeepingData
	s    *server
	once sync.Once
}

// StartServer starts a Server. It needs Debian's PostgreSQL 15 programs
// (BinDir, or OS1_PG_BIN); the error says so when they are missing.
func StartServer(ctx context.Context) (*Server, error) {
	bin := binDir()
	for _, p := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, p)); err != nil {
			return nil, fmt.Errorf("PostgreSQL 15 is needed (apt-get install postgresql; or OS1_PG_BIN): %w", err)
		}
	}
	s, err := start(bin)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := s.admin.ExecContext(cctx, `CREATE DATABASE os1`); err != nil {
		s.stop()
		return nil, fmt.Errorf("create database os1: %w\n%s", err, s.out.String())
	}
	return &Server{URL: s.url("os1"), Pid: s.cmd.Process.Pid, Data: filepath.Join(s.dir, "data"), s: s}, nil
}

// Stop shuts the server down and removes its directory.
func (p *Server) Stop() { p.once.Do(p.s.stop) }

// StopKeepingData shuts the server down and leaves its directory (Data)
// in place, for a look afterwards (postgres -D DATA).
func (p *Server) StopKeepingData() { p.once.Do(p.s.halt) }
