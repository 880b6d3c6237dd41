package proc_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/speech/proc"
)

var errNotWarm = fmt.Errorf("cat: %w", proc.ErrNotWarm)

func newCat(t *testing.T, bin string) *proc.Resident {
	t.Helper()
	r := proc.New(proc.Config{Name: "cat", NotWarm: errNotWarm, Command: func() *exec.Cmd { return exec.Command(bin) }})
	t.Cleanup(r.Close)
	return r
}

func echo(ctx context.Context, r *proc.Resident, s string) (string, error) {
	return proc.Do(ctx, r, func(p *proc.Process) (string, error) {
		if err := p.Send(s + "\n"); err != nil {
			return "", err
		}
		return p.Wait(ctx, func(l string) bool { return l == s }, 10*time.Second)
	})
}

// Calls reuse one process, and one whose call was cancelled is replaced.
func TestResident(t *testing.T) {
	if _, err := exec.LookPath("cat"); err != nil {
		t.Skip("cat is not installed")
	}
	r := newCat(t, "cat")
	ctx := context.Background()
	for _, s := range []string{"one", "two"} {
		if got, err := echo(ctx, r, s); err != nil || got != s {
			t.Fatalf("echo %q: %q, %v", s, got, err)
		}
	}
	pid := r.PID()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := proc.Do(short, r, func(p *proc.Process) (string, error) {
		return p.Wait(short, func(string) bool { return false }, 10*time.Second)
	}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call past its deadline: %v", err)
	}
	if got, err := echo(ctx, r, "again"); err != nil || got != "again" {
		t.Fatalf("echo after a cancelled call: %q, %v", got, err)
	}
	if r.PID() == pid {
		t.Fatal("the process of a cancelled call was kept")
	}
	r.Close()
	if _, err := echo(ctx, r, "three"); !errors.Is(err, errNotWarm) {
		t.Fatalf("call after Close: %v", err)
	}
}

// A process that will not start is given up on after MaxFailures tries.
func TestResidentGivesUp(t *testing.T) {
	r := newCat(t, "/nonexistent/os1-proc-test")
	for range proc.MaxFailures + 1 {
		if _, err := echo(context.Background(), r, "x"); !errors.Is(err, errNotWarm) {
			t.Fatalf("got %v, want errNotWarm", err)
		}
	}
}
