package sqlitemem

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/os1ai/os1/internal/memory"
)

// The memory worker's locks (memory.WorkLocks). On SQLite one process owns
// the database, so a lock within the process is enough (memory.LocalLocks).
//
// On PostgreSQL a record's lock is a session-level advisory lock,
// pg_advisory_lock(hashtextextended('os1.memory.work:<kind>:<id>', 0)),
// where kind is "conversation" (id: the conversation's) or "journal" (id:
// the user's). The "os1.memory.work:" prefix keeps these keys apart from the
// store's transaction locks ("os1.memory:<user>", "os1.memory:failures"),
// the proactive store's ("os1.proactive:<user>") and the migrations' (the
// integer 0x6f7331); all hash into one 64-bit space, where a collision
// would only make two unrelated records take turns.
//
// The lock is held on a connection of its own, taken from the pool for the
// job's duration, model calls included (up to minutes): a node's worker
// does one job at a time, so that is one connection per node, and a lock
// row with an expiry would need a guess at how long a model call may take.
// A worker waits for a held lock at most its LockWait (the server's
// lock_timeout, see advisoryLock), then retries the record later.
// When the node dies its session ends and PostgreSQL releases the lock:
// at once when the process dies, and, when the machine is gone, once the
// server's TCP keepalives (set short on this connection) find the peer dead.

// Keepalives on the lock's connection: a peer that stopped answering is
// found dead after about idle + interval × count = 90 s (ignored on a unix
// socket, where a dead process closes the socket anyway).
const lockKeepalives = `SELECT set_config('tcp_keepalives_idle', '60', false),
	set_config('tcp_keepalives_interval', '10', false), set_config('tcp_keepalives_count', '3', false)`

// workLockKey is the text hashed into the advisory lock's key.
func workLockKey(kind, id string) string { return "os1.memory.work:" + kind + ":" + id }

var _ memory.WorkLocks = (*Progress)(nil)

// LockWork takes the record's lock (see above), waiting until it is free,
// at most wait (0: no bound), or until ctx ends.
func (p *Progress) LockWork(ctx context.Context, kind, id string, wait time.Duration) (release func(), err error) {
	if !p.pg {
		return p.locks().LockWork(ctx, kind, id, wait)
	}
	key := workLockKey(kind, id)
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock memory work on %s %s: %w", kind, id, err)
	}
	if _, err := conn.ExecContext(ctx, lockKeepalives); err != nil {
		discardConn(conn)
		return nil, fmt.Errorf("lock memory work on %s %s: %w", kind, id, err)
	}
	if busy, err := advisoryLock(ctx, conn, key, wait); err != nil || busy {
		if busy {
			conn.Close() // the session holds nothing: back to the pool
			return nil, fmt.Errorf("lock memory work on %s %s: %w", kind, id, memory.ErrWorkLocked)
		}
		// Cancelled while waiting, or the database went away: the session
		// may or may not have got the lock, so it ends with the connection.
		discardConn(conn)
		return nil, fmt.Errorf("lock memory work on %s %s: %w", kind, id, err)
	}
	return sync.OnceFunc(func() {
		// A bound on a database call, not behaviour: an unlock that cannot
		// be done ends the session instead, which releases the lock too.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var ok bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(hashtextextended(?, 0))`, key).Scan(&ok); err != nil || !ok {
			discardConn(conn)
			return
		}
		conn.Close()
	}), nil
}

// advisoryLock takes the session-level lock on key, waiting at most wait
// (0: no bound). The bound is the server's lock_timeout, set for one
// transaction only, so a wait that runs out leaves the session clean and
// holding nothing (busy true); cancelling ctx instead could leave the server
// still waiting for, and then taking, a lock nobody would release. A
// session-level advisory lock outlives the transaction it was taken in.
func advisoryLock(ctx context.Context, conn *sql.Conn, key string, wait time.Duration) (busy bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit: nothing
	if wait > 0 {
		ms := max(wait.Milliseconds(), 1)
		if _, err := tx.ExecContext(ctx, `SELECT set_config('lock_timeout', ?, true)`, fmt.Sprintf("%dms", ms)); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_lock(hashtextextended(?, 0))`, key); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "55P03" { // lock_not_available: lock_timeout ran out
			return true, tx.Rollback()
		}
		return false, err
	}
	return false, tx.Commit()
}

// Waiting reports how many workers wait for the record's lock: on
// PostgreSQL, sessions of any node (pg_locks); on SQLite, this process's.
func (p *Progress) Waiting(ctx context.Context, kind, id string) (int, error) {
	if !p.pg {
		return p.locks().Waiting(kind, id), nil
	}
	// A bigint advisory key is kept as classid (high 32 bits) and objid
	// (low 32 bits), objsubid 1.
	var n int
	err := p.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND ((CAST(CAST(classid AS TEXT) AS BIGINT) << 32) | CAST(CAST(objid AS TEXT) AS BIGINT)) = hashtextextended(?, 0)`,
		workLockKey(kind, id)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count waiters on memory work %s %s: %w", kind, id, err)
	}
	return n, nil
}

// locks are the in-process locks of a SQLite Progress. Every constructor
// sets them; a zero Progress locks nothing.
func (p *Progress) locks() *memory.LocalLocks {
	if p.local == nil {
		return &memory.LocalLocks{}
	}
	return p.local
}

// discardConn closes conn's session instead of returning it to the pool.
func discardConn(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}
