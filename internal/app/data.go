package app

import (
	"context"
	"fmt"
	"os"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
)

// vectorCandidates is how many nearest sign codes the memory store re-ranks
// by cosine (its default is 256). On the memory benchmark (6,000 messages)
// 256 lost a tenth of exact cosine's recall@10 and 512 lost none, for about
// 1 ms more a query.
const vectorCandidates = 512

func newMemStore(db DB, clk clock.Clock) *sqlitemem.Store {
	return sqlitemem.NewFor(db, sqlitemem.Options{Clock: clk, Candidates: vectorCandidates})
}

// Data is a data directory opened for a command that works on it without a
// server (os1 memory, os1 user): the database and the memory store, and no
// model, worker or engine.
type Data struct {
	Config config.Config
	Clock  clock.Clock
	DB     DB
	Memory *sqlitemem.Store
}

// NoDatabaseError means the data dir has no database yet.
type NoDatabaseError struct{ Path string }

func (e *NoDatabaseError) Error() string { return fmt.Sprintf("no os1 database at %s", e.Path) }

// OpenData opens the configured database and memory store. create makes
// the SQLite database when it is missing (a fresh install); without it a
// missing file is an *NoDatabaseError. On PostgreSQL the database must
// exist (its schema is made on open).
func OpenData(ctx context.Context, cfg config.Config, create bool) (*Data, error) {
	if _, err := os.Stat(cfg.DBPath()); err != nil && !create && !cfg.Postgres() {
		return nil, &NoDatabaseError{Path: cfg.DBPath()}
	}
	db, err := OpenDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	clk := clock.System{}
	return &Data{Config: cfg, Clock: clk, DB: db, Memory: newMemStore(db, clk)}, nil
}

// Close closes the database.
func (d *Data) Close() error { return d.DB.Close() }
