// Package datadir guards an os1 data directory against two programs
// changing it at once: `os1 serve` holds an exclusive lock for its whole
// run, and a command that changes data behind a server's back (an import,
// forgetting a memory, a voice turn from a file) takes the same lock or
// says who holds it. Commands that only read do not lock: SQLite's WAL
// lets them read beside a running server.
//
// The lock is an advisory flock(2) on <dir>/os1.lock, released by the
// kernel when the process exits, so a crash never leaves a stale lock. The
// file's text says who holds it, for the message the next one prints. It
// must never be used to guard data between users; that is the store's job.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// FileName is the lock file inside the data dir.
const FileName = "os1.lock"

// ErrBusy is wrapped by BusyError; test with errors.Is.
var ErrBusy = errors.New("the data dir is in use")

// BusyError says which program holds the data dir.
type BusyError struct {
	Dir    string
	Holder string // e.g. "os1 serve (pid 4242, since 2026-12-05 09:00:00)"
}

func (e *BusyError) Error() string {
	h := e.Holder
	if h == "" {
		h = "another os1 program"
	}
	return fmt.Sprintf("%s is in use by %s", e.Dir, h)
}

func (e *BusyError) Unwrap() error { return ErrBusy }

// Serving reports whether the holder is a running server.
func (e *BusyError) Serving() bool { return strings.HasPrefix(e.Holder, "os1 serve") }

// Lock is a held data-dir lock.
type Lock struct {
	f *os.File
}

// Acquire locks dir for what (e.g. "os1 serve"), creating dir if needed,
// without waiting: when another program holds it, the error is a
// *BusyError naming that program.
func Acquire(dir, what string) (*Lock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !held {
		b := make([]byte, 512)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		return nil, &BusyError{Dir: dir, Holder: strings.TrimSpace(string(b[:n]))}
	}
	holder := fmt.Sprintf("%s (pid %d, since %s)", what, os.Getpid(), time.Now().Format(time.DateTime))
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(holder+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release unlocks; the lock file stays, empty.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
