package sphinx

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/audio"
)

// errNotWarm means the warm engine could not take a call, which then runs an
// engine of its own.
var errNotWarm = errors.New("pocketsphinx: warm engine not running")

// maxFailures is how many times in a row the warm engine may fail to start
// or die mid-call before the Transcriber stops trying it.
const maxFailures = 3

// decoder keeps one pocketsphinx_batch running. Its control file is its
// standard input, one line per utterance ("file 0 -1 uttid", the file raw
// 16 kHz audio under dir), and its hypotheses go unbuffered to its standard
// output as "words (uttid score)", so each call writes a line and waits for
// the line with its own uttid. Unlike pocketsphinx_continuous, which must be
// fed trailing silence before its voice activity detector ends an utterance
// and may print any number of lines for one, batch mode answers every
// utterance with exactly one line.
type decoder struct {
	bin, dir string
	args     []string

	// turn holds a token while a call uses the process: one utterance at a
	// time, and a caller waiting its turn still sees its ctx end.
	turn chan struct{}

	mu       sync.Mutex // guards the fields below
	p        *batchProc // nil until started, and after it ends
	n        uint64     // utterances sent, for uttids
	failures int        // in a row; at maxFailures the decoder is off
	closed   bool
}

func newDecoder(bin, dir string, modelArgs []string) *decoder {
	args := append([]string{
		"-ctl", "/dev/stdin", "-hyp", "/dev/stdout",
		"-adcin", "yes", "-cepdir", dir, "-cepext", ".raw",
		// Each utterance's cepstral mean is its own, so a transcript does
		// not depend on what the process heard before.
		"-cmn", "batch",
	}, modelArgs...)
	return &decoder{bin: bin, dir: dir, args: args, turn: make(chan struct{}, 1)}
}

// batchProc is one running pocketsphinx_batch.
type batchProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string   // its output, closed when it ends
	done  chan struct{} // closed once it has been waited for
	log   *tail         // its standard error, readable after done
}

func (d *decoder) start() (*batchProc, error) {
	cmd := exec.Command(d.bin, d.args...)
	cmd.WaitDelay = waitDelay
	p := &batchProc{cmd: cmd, lines: make(chan string, 16), done: make(chan struct{}), log: &tail{max: 2048}}
	cmd.Stderr = p.log
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p.stdin = stdin
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case p.lines <- sc.Text():
			default: // nobody is waiting for more than one line; drop strays
			}
		}
		close(p.lines)
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *batchProc) kill() { _ = p.cmd.Process.Kill() }

// acquire waits for the turn and returns the running process, starting one
// if need be. It returns errNotWarm, without the turn, when the decoder is
// closed or has failed too often.
func (d *decoder) acquire(ctx context.Context) (*batchProc, error) {
	select {
	case d.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("pocketsphinx: %w", ctx.Err())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.failures >= maxFailures {
		<-d.turn
		return nil, errNotWarm
	}
	if d.p != nil {
		select {
		case <-d.p.done: // it died while idle
			d.p = nil
		default:
		}
	}
	if d.p == nil {
		p, err := d.start()
		if err != nil {
			d.failures++
			<-d.turn
			return nil, errNotWarm
		}
		d.p = p
	}
	return d.p, nil
}

// release gives the turn back. ok says whether p answered; a process that
// did not is killed and forgotten, failed says whether that counts against
// the decoder (it does not when ctx ended).
func (d *decoder) release(p *batchProc, ok, failed bool) {
	d.mu.Lock()
	if ok {
		d.failures = 0
	} else {
		p.kill()
		if d.p == p {
			d.p = nil
		}
		if failed {
			d.failures++
		}
	}
	d.mu.Unlock()
	<-d.turn
}

// transcribe decodes pcm (at Rate) on the warm process. errNotWarm means the
// process could not take it and the caller should run an engine of its own.
func (d *decoder) transcribe(ctx context.Context, pcm audio.PCM) (string, error) {
	p, err := d.acquire(ctx)
	if err != nil {
		return "", err
	}
	text, err := d.decode(ctx, p, pcm)
	switch {
	case err == nil:
		d.release(p, true, false)
	case ctx.Err() != nil:
		d.release(p, false, false)
		return "", fmt.Errorf("pocketsphinx: %w", ctx.Err())
	default:
		d.release(p, false, true)
	}
	return text, err
}

// warmUp starts the process and waits for it to decode a moment of silence,
// which it can only do once the model is loaded.
func (d *decoder) warmUp(ctx context.Context) error {
	_, err := d.transcribe(ctx, audio.Silence(Rate, 100*time.Millisecond))
	if errors.Is(err, errNotWarm) {
		return fmt.Errorf("%w: %s %s did not start", err, d.bin, strings.Join(d.args, " "))
	}
	return err
}

// decode sends one utterance and waits for its line. A process that ends
// first gives errNotWarm; one that takes far longer than decoding should is
// stuck and gives an error.
func (d *decoder) decode(ctx context.Context, p *batchProc, pcm audio.PCM) (string, error) {
	f, err := os.CreateTemp(d.dir, "os1-sphinx-*.raw")
	if err != nil {
		return "", fmt.Errorf("pocketsphinx: temporary audio file: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(audio.Bytes(pcm.Samples))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("pocketsphinx: write %s: %w", f.Name(), err)
	}
	d.mu.Lock()
	d.n++
	id := fmt.Sprintf("os1-%d", d.n)
	d.mu.Unlock()
	// The temporary name is a fixed prefix and digits, so the control line
	// always splits into these four fields.
	name := strings.TrimSuffix(filepath.Base(f.Name()), ".raw")
	if _, err := io.WriteString(p.stdin, name+" 0 -1 "+id+"\n"); err != nil {
		return "", errNotWarm
	}

	stuck := time.NewTimer(10*time.Second + 2*pcm.Duration())
	defer stuck.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				return "", errNotWarm
			}
			if text, mine := parseHyp(line, id); mine {
				return text, nil
			}
		case <-ctx.Done():
			return "", ctx.Err()
		case <-stuck.C:
			return "", fmt.Errorf("pocketsphinx %s gave no transcript of %v of audio in time; restarting it", d.bin, pcm.Duration().Round(time.Millisecond))
		}
	}
}

// parseHyp reads pocketsphinx_batch's "words (uttid score)" line and reports
// whether it is the answer for id.
func parseHyp(line, id string) (string, bool) {
	i := strings.LastIndex(line, "("+id+" ")
	if i < 0 || !strings.HasSuffix(line, ")") {
		return "", false
	}
	return hypothesis(line[:i]), true
}

// close kills the process and waits for it; later calls run engines of their own.
func (d *decoder) close() {
	d.mu.Lock()
	d.closed = true
	p := d.p
	d.p = nil
	d.mu.Unlock()
	if p != nil {
		p.kill()
		<-p.done
	}
}
