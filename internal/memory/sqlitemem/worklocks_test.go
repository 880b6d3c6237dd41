package sqlitemem_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
)

// lockWithin takes the record's lock, waiting at most d.
func lockWithin(p *sqlitemem.Progress, kind, id string, d time.Duration) (func(), error) {
	return p.LockWork(context.Background(), kind, id, d)
}

// A record's lock keeps a second holder out until it is released, on
// either database; other records are not held up.
func TestWorkLocks(t *testing.T) {
	eachDB(t, func(t *testing.T, db coreDB) {
		p := sqlitemem.NewProgressFor(db)
		release, err := p.LockWork(t.Context(), memory.FailedConversation, "cnv_1", 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lockWithin(p, memory.FailedConversation, "cnv_1", 200*time.Millisecond); !errors.Is(err, memory.ErrWorkLocked) {
			t.Fatalf("a held lock was taken again: err = %v", err)
		}
		other, err := lockWithin(p, memory.FailedJournal, "cnv_1", 5*time.Second) // another kind, same ID
		if err != nil {
			t.Fatalf("another record's lock: %v", err)
		}
		other()
		got := make(chan error, 1)
		go func() {
			r, err := lockWithin(p, memory.FailedConversation, "cnv_1", 20*time.Second)
			if err == nil {
				r()
			}
			got <- err
		}()
		deadline := time.Now().Add(20 * time.Second)
		for {
			n, err := p.Waiting(t.Context(), memory.FailedConversation, "cnv_1")
			if err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the second locker is not seen waiting")
			}
			time.Sleep(5 * time.Millisecond)
		}
		release()
		release() // twice: nothing
		if err := <-got; err != nil {
			t.Fatalf("the lock was not handed on after release: %v", err)
		}
	})
}

// A node that dies holding a lock (its connections gone) releases it.
func TestWorkLockDiesWithTheSession(t *testing.T) {
	url := pgtest.New(t)
	open := func() *postgres.DB {
		db, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dying, other := open(), open()
	if _, err := sqlitemem.NewProgressFor(dying).LockWork(t.Context(), memory.FailedJournal, "usr_a", 0); err != nil {
		t.Fatal(err)
	}
	p := sqlitemem.NewProgressFor(other)
	if _, err := lockWithin(p, memory.FailedJournal, "usr_a", 200*time.Millisecond); err == nil {
		t.Fatal("another node took a held lock")
	}
	// Never released: the holder's session ends, as when its process dies
	// (the server drops the connection).
	if _, err := other.SQL().ExecContext(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	release, err := lockWithin(p, memory.FailedJournal, "usr_a", 20*time.Second)
	if err != nil {
		t.Fatalf("the dead node's lock was kept: %v", err)
	}
	release()
}

// On SQLite every Progress of one Store shares the process's locks.
func TestWorkLocksSharedByAStoresProgress(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "os1.db"))
	s := sqlitemem.New(db.SQL(), sqlitemem.Options{})
	release, err := s.Progress().(*sqlitemem.Progress).LockWork(t.Context(), memory.FailedConversation, "cnv_1", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if _, err := lockWithin(s.Progress().(*sqlitemem.Progress), memory.FailedConversation, "cnv_1", 100*time.Millisecond); err == nil {
		t.Fatal("a second Progress of the store took a held lock")
	}
}
