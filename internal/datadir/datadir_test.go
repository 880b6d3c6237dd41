package datadir_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/datadir"
)

func TestSecondHolderIsToldWhoHoldsIt(t *testing.T) {
	dir := t.TempDir() + "/data"
	l, err := datadir.Acquire(dir, "os1 serve")
	if err != nil {
		t.Fatal(err)
	}
	_, err = datadir.Acquire(dir, "os1 memory import")
	var busy *datadir.BusyError
	if !errors.As(err, &busy) || !errors.Is(err, datadir.ErrBusy) || !busy.Serving() || !strings.Contains(err.Error(), "os1 serve (pid ") {
		t.Fatalf("second Acquire: %v, want a BusyError naming os1 serve", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := datadir.Acquire(dir, "os1 memory import")
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	l2.Release()
}

// A holder that dies (kill -9) leaves no stale lock: the kernel releases it.
func TestLockDiesWithItsProcess(t *testing.T) {
	if os.Getenv("OS1_LOCK_CHILD") != "" {
		if _, err := datadir.Acquire(os.Getenv("OS1_LOCK_CHILD"), "os1 serve"); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		select {}
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockDiesWithItsProcess$")
	cmd.Env = append(os.Environ(), "OS1_LOCK_CHILD="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf[:6]) != "locked" {
		t.Fatalf("child did not lock: %q %v", buf, err)
	}
	if _, err := datadir.Acquire(dir, "x"); !errors.Is(err, datadir.ErrBusy) {
		t.Fatalf("while the child holds it: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := datadir.Acquire(dir, "x")
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Release()
}
