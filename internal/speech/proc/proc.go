// Package proc runs the speech engines os1 drives as subprocesses: once per
// call (Run), or one process kept resident between calls (Resident) that
// callers take turns on, restarted when it dies or sticks and given up on
// after repeated failures, so that callers fall back to a run per call.
//
// It knows nothing of what an engine reads or answers: requests and answers
// are the engine packages' business. It must never run a command through a
// shell, log what an engine reads or writes, or leave a resident process
// running after Close.
package proc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// WaitDelay bounds how long a killed engine may hold its output pipes open.
const WaitDelay = 2 * time.Second

// MaxFailures is how many times in a row a resident process may fail to
// start or die mid-call before its Resident stops trying it.
const MaxFailures = 3

// logMax is how much of an engine's standard error is kept for messages.
const logMax = 2048

var (
	// ErrNotWarm means the resident process could not take a call, which
	// should then run an engine of its own. Config.NotWarm wraps it.
	ErrNotWarm = errors.New("warm engine not running")
	// ErrStuck means a resident process gave no answer within the limit
	// given to Process.Wait; it is killed and restarted on the next call.
	ErrStuck = errors.New("engine did not answer in time")
)

// Run runs cmd to its end and returns its standard output and the end of
// its standard error. When ctx (the one cmd was made with) has ended, the
// error is ctx's.
func Run(ctx context.Context, cmd *exec.Cmd) (stdout []byte, stderr string, err error) {
	cmd.WaitDelay = WaitDelay
	var out bytes.Buffer
	log := &tail{max: logMax}
	cmd.Stdout, cmd.Stderr = &out, log
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, log.String(), ctx.Err()
		}
		return nil, log.String(), err
	}
	return out.Bytes(), log.String(), nil
}

// Missing reports whether err from Run means the binary is not installed.
func Missing(err error) bool {
	return errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist)
}

// Config says how to start a resident process and read its answers.
type Config struct {
	// Name begins error messages ("festival").
	Name string
	// NotWarm is what a call gets when the process cannot take it; it wraps
	// ErrNotWarm and is compared with errors.Is by the engine.
	NotWarm error
	// Command returns a new, unstarted process.
	Command func() *exec.Cmd
	// AnswersOnStderr says the process answers on its standard error, whose
	// other lines are its log; otherwise it answers on its standard output
	// and its standard error is its log.
	AnswersOnStderr bool
	// Answer says which lines are answers; nil means all. Others go to the log.
	Answer func(line string) bool
	// Prelude is written to a new process's standard input first.
	Prelude string
}

// Resident keeps one process running between calls, which take turns on it
// (Do). It is safe for concurrent use.
type Resident struct {
	c Config

	// turn holds a token while a call uses the process: one request at a
	// time, and a caller waiting its turn still sees its ctx end.
	turn chan struct{}

	mu       sync.Mutex // guards the fields below
	p        *Process   // nil until started, and after it ends
	n        uint64     // requests numbered, for Next
	failures int        // in a row; at MaxFailures the Resident is off
	closed   bool
}

// New returns a Resident that starts its process on the first call.
func New(c Config) *Resident {
	return &Resident{c: c, turn: make(chan struct{}, 1)}
}

// Process is one running resident process.
type Process struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	answers chan string   // closed when it ends
	done    chan struct{} // closed once it has been waited for
	log     *tail
	notWarm error

	// Ready is the engine's to set once the process has said it is ready;
	// it is guarded by the turn.
	Ready bool
}

func (r *Resident) start() (*Process, error) {
	cmd := r.c.Command()
	cmd.WaitDelay = WaitDelay
	p := &Process{cmd: cmd, answers: make(chan string, 16), done: make(chan struct{}), log: &tail{max: logMax}, notWarm: r.c.NotWarm}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	var out io.ReadCloser
	if r.c.AnswersOnStderr {
		out, err = cmd.StderrPipe()
	} else {
		cmd.Stderr = p.log
		out, err = cmd.StdoutPipe()
	}
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p.stdin = stdin
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if r.c.Answer != nil && !r.c.Answer(line) {
				fmt.Fprintln(p.log, line)
				continue
			}
			select {
			case p.answers <- line:
			default: // nobody waits for more than one answer; drop strays
			}
		}
		close(p.answers)
		_ = cmd.Wait()
		close(p.done)
	}()
	if r.c.Prelude != "" {
		if _, err := io.WriteString(stdin, r.c.Prelude); err != nil {
			p.kill()
			return nil, err
		}
	}
	return p, nil
}

func (p *Process) kill() { _ = p.cmd.Process.Kill() }

// Send writes s to the process's standard input; when it cannot, the error
// is Config.NotWarm.
func (p *Process) Send(s string) error {
	if _, err := io.WriteString(p.stdin, s); err != nil {
		return p.notWarm
	}
	return nil
}

// Log is the end of what the process logged.
func (p *Process) Log() string { return p.log.String() }

// Wait returns the next answer that matches. A process that ends first
// gives Config.NotWarm; one that takes longer than limit gives ErrStuck.
func (p *Process) Wait(ctx context.Context, match func(string) bool, limit time.Duration) (string, error) {
	stuck := time.NewTimer(limit)
	defer stuck.Stop()
	for {
		select {
		case line, ok := <-p.answers:
			if !ok {
				return "", p.notWarm
			}
			if match(line) {
				return line, nil
			}
		case <-ctx.Done():
			return "", ctx.Err()
		case <-stuck.C:
			return "", ErrStuck
		}
	}
}

// Next numbers a request, so its answer can be told from strays.
func (r *Resident) Next() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return r.n
}

// acquire waits for the turn and returns the running process, starting one
// if need be. It returns Config.NotWarm, without the turn, when the
// Resident is closed or has failed too often.
func (r *Resident) acquire(ctx context.Context) (*Process, error) {
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", r.c.Name, ctx.Err())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.failures >= MaxFailures {
		<-r.turn
		return nil, r.c.NotWarm
	}
	if r.p != nil {
		select {
		case <-r.p.done: // it died while idle
			r.p = nil
		default:
		}
	}
	if r.p == nil {
		p, err := r.start()
		if err != nil {
			r.failures++
			<-r.turn
			return nil, r.c.NotWarm
		}
		r.p = p
	}
	return r.p, nil
}

// release gives the turn back. ok says whether p answered; a process that
// did not is killed and forgotten, and failed says whether that counts
// against the Resident (it does not when ctx ended).
func (r *Resident) release(p *Process, ok, failed bool) {
	r.mu.Lock()
	if ok {
		r.failures = 0
	} else {
		p.kill()
		if r.p == p {
			r.p = nil
		}
		if failed {
			r.failures++
		}
	}
	r.mu.Unlock()
	<-r.turn
}

// Do waits for the turn and runs req on the process, starting one if need
// be. When req fails the process is killed, to restart on the next call;
// when ctx ended the error is ctx's and the failure does not count.
// Config.NotWarm means the caller should run an engine of its own.
func Do[T any](ctx context.Context, r *Resident, req func(*Process) (T, error)) (T, error) {
	var zero T
	p, err := r.acquire(ctx)
	if err != nil {
		return zero, err
	}
	v, err := req(p)
	switch {
	case err == nil:
		r.release(p, true, false)
	case ctx.Err() != nil:
		r.release(p, false, false)
		return zero, fmt.Errorf("%s: %w", r.c.Name, ctx.Err())
	default:
		r.release(p, false, true)
	}
	return v, err
}

// PID is the process id of the running process; 0 when none runs.
func (r *Resident) PID() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p == nil {
		return 0
	}
	select {
	case <-r.p.done:
		return 0
	default:
		return r.p.cmd.Process.Pid
	}
}

// Close kills the process and waits for it; later calls get Config.NotWarm.
func (r *Resident) Close() {
	r.mu.Lock()
	r.closed = true
	p := r.p
	r.p = nil
	r.mu.Unlock()
	if p != nil {
		p.kill()
		<-p.done
	}
}

// tail keeps the last max bytes written, for error messages. It may be read
// while an engine still writes to it.
type tail struct {
	max int
	mu  sync.Mutex
	b   []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if over := len(w.b) - w.max; over > 0 {
		w.b = w.b[over:]
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.TrimSpace(string(w.b))
}
