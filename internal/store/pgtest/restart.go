package pgtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// MainThen is Main with a function run after the tests and before the
// process exits (Main exits, so a TestMain's defers never run): a test
// binary that built a program for its tests removes it there.
func MainThen(m *testing.M, after func()) {
	code := m.Run()
	mu.Lock()
	if shared != nil {
		shared.stop()
		shared = nil
	}
	mu.Unlock()
	if after != nil {
		after()
	}
	os.Exit(code)
}

// Stop shuts the shared server down (a fast shutdown: open connections are
// cut, as when an operator restarts PostgreSQL) and keeps its data; Start
// brings it back on the same port. Every database of the binary's tests
// goes down with it. The test must have called New first.
func Stop(t testing.TB) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared == nil {
		t.Fatal("pgtest.Stop: no server runs (call New first)")
	}
	s := shared
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exit:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
}

// Start starts the shared server again after Stop, on the same port and
// data, and waits until it answers.
func Start(t testing.TB) {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared == nil {
		t.Fatal("pgtest.Start: no server was started (call New first)")
	}
	if err := shared.restart(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
}

// Restart is Stop then Start.
func Restart(t testing.TB) {
	t.Helper()
	Stop(t)
	Start(t)
}

// restart runs the same postgres command again (the old one has exited).
func (s *server) restart() error {
	old := s.cmd
	cmd := exec.Command(old.Path, old.Args[1:]...)
	cmd.Dir, cmd.Env, cmd.SysProcAttr = old.Dir, old.Env, old.SysProcAttr
	cmd.Stdout, cmd.Stderr = s.out, s.out
	s.cmd = cmd
	s.exit = make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("restart postgres: %w", err)
	}
	go func() { s.exit <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-s.exit:
			s.exit <- err // stop() waits on it
			return fmt.Errorf("postgres exited at restart: %v\n%s", err, s.out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.admin.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not answer within 30 s of a restart: %v\n%s", err, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
