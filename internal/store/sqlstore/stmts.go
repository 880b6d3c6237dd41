package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// The statements of a conversation turn (the token and session look-ups,
// the ownership check, appending a message, saving a streaming reply,
// reading the recent messages) run thousands of times a minute with the
// same text. Run through the pool as text, each call is parsed again: on
// SQLite the driver prepares, steps and finalizes the statement every
// time (about a tenth of os1's CPU under load). These are prepared once
// per pool instead and kept: database/sql prepares a statement on each
// connection the first time it runs there (and again on a connection that
// replaced a closed one), and inside a transaction the connection's copy
// is reused (Tx.StmtContext).
//
// On SQLite only. On PostgreSQL pgx prepares and caches every statement
// per connection by itself (QueryExecModeCacheStatement), so the server
// parses each text once per connection already; preparing through
// database/sql on top measured no gain (BenchmarkTurnWrites, docs/
// benchmarks.md), and there the statements run as text.
//
// Only the hot methods use it (through prepared and preparedTx); the rest
// run their text as before.
//
// A read-only transaction on SQLite (BeginTx with ReadOnly) sets PRAGMA
// query_only, which expires every prepared statement of its connection:
// each is prepared again on its next run there. The hot path uses none
// (messages reads in one statement); other stores' rare ones only cost
// that re-prepare.

// maxStmts bounds the cache: statements are kept by their text, and
// UpdateMessage's text depends on which fields a patch sets (a few dozen
// combinations in use at most). Past the bound, a new text runs unprepared.
const maxStmts = 128

// stmts is a pool's prepared statements, by query text.
type stmts struct {
	db  *sql.DB
	off bool // PostgreSQL: run every statement as text

	mu     sync.Mutex
	m      map[string]*sql.Stmt
	closed bool
}

// get returns q prepared on the pool, preparing it the first time; false
// when it cannot (the cache is full or closed, or preparing failed: the
// caller runs the text as it is, which reports any error the statement has).
func (c *stmts) get(ctx context.Context, q string) (*sql.Stmt, bool) {
	if c.off {
		return nil, false
	}
	c.mu.Lock()
	st, ok := c.m[q]
	full := c.closed || len(c.m) >= maxStmts
	c.mu.Unlock()
	if ok || full {
		return st, ok
	}
	// Prepared outside the lock: preparing may wait for a connection.
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		st.Close()
		return nil, false
	}
	if old, ok := c.m[q]; ok { // another call prepared it first
		st.Close()
		return old, true
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[q] = st
	return st, true
}

// close closes every statement; later calls run their text unprepared
// (and fail as the closed pool makes them).
func (c *stmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var first error
	for q, st := range c.m {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.m, q)
	}
	return first
}

// prepared runs statements on the pool, prepared.
type prepared struct{ s *stmts }

func (p prepared) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st, ok := p.s.get(ctx, q); ok {
		return st.ExecContext(ctx, args...)
	}
	return p.s.db.ExecContext(ctx, q, args...)
}

func (p prepared) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st, ok := p.s.get(ctx, q); ok {
		return st.QueryContext(ctx, args...)
	}
	return p.s.db.QueryContext(ctx, q, args...)
}

func (p prepared) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st, ok := p.s.get(ctx, q); ok {
		return st.QueryRowContext(ctx, args...)
	}
	return p.s.db.QueryRowContext(ctx, q, args...)
}

// peek returns q if it is prepared already. A transaction asks this, not
// get: preparing takes a connection of the pool while the transaction
// holds one, and with every connection in a transaction that would wait
// forever. Callers prepare a transaction's statements before they begin
// it (begin).
func (c *stmts) peek(q string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.m[q]
	return st, ok
}

// begin prepares qs (the statements the transaction will run, as far as
// they are known) and then begins a transaction.
func (c *stmts) begin(ctx context.Context, opts *sql.TxOptions, qs ...string) (*sql.Tx, preparedTx, error) {
	for _, q := range qs {
		c.get(ctx, q)
	}
	tx, err := c.db.BeginTx(ctx, opts)
	return tx, preparedTx{c, tx}, err
}

// preparedTx runs statements in tx, with the pool's prepared statement
// when begin prepared it (the copy on tx's connection, prepared there the
// first time; the transaction closes its handle on Commit or Rollback),
// as text otherwise.
type preparedTx struct {
	s  *stmts
	tx *sql.Tx
}

func (p preparedTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st, ok := p.s.peek(q); ok {
		return p.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return p.tx.ExecContext(ctx, q, args...)
}

func (p preparedTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st, ok := p.s.peek(q); ok {
		return p.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return p.tx.QueryContext(ctx, q, args...)
}

func (p preparedTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st, ok := p.s.peek(q); ok {
		return p.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return p.tx.QueryRowContext(ctx, q, args...)
}
