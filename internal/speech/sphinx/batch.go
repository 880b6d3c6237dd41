package sphinx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech/proc"
)

// errNotWarm means the warm engine could not take a call, which then runs an
// engine of its own.
var errNotWarm = fmt.Errorf("pocketsphinx: %w", proc.ErrNotWarm)

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
	r        *proc.Resident
}

func newDecoder(bin, dir string, modelArgs []string) *decoder {
	args := append([]string{
		"-ctl", "/dev/stdin", "-hyp", "/dev/stdout",
		"-adcin", "yes", "-cepdir", dir, "-cepext", ".raw",
		// Each utterance's cepstral mean is its own, so a transcript does
		// not depend on what the process heard before.
		"-cmn", "batch",
	}, modelArgs...)
	return &decoder{bin: bin, dir: dir, args: args, r: proc.New(proc.Config{
		Name:    "pocketsphinx",
		NotWarm: errNotWarm,
		Command: func() *exec.Cmd { return exec.Command(bin, args...) },
	})}
}

// transcribe decodes pcm (at Rate) on the warm process. errNotWarm means the
// process could not take it and the caller should run an engine of its own.
func (d *decoder) transcribe(ctx context.Context, pcm audio.PCM) (string, error) {
	return proc.Do(ctx, d.r, func(p *proc.Process) (string, error) { return d.decode(ctx, p, pcm) })
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
func (d *decoder) decode(ctx context.Context, p *proc.Process, pcm audio.PCM) (string, error) {
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
	id := fmt.Sprintf("os1-%d", d.r.Next())
	// The temporary name is a fixed prefix and digits, so the control line
	// always splits into these four fields.
	name := strings.TrimSuffix(filepath.Base(f.Name()), ".raw")
	if err := p.Send(name + " 0 -1 " + id + "\n"); err != nil {
		return "", err
	}

	limit := 10*time.Second + 2*pcm.Duration()
	line, err := p.Wait(ctx, func(line string) bool { _, mine := parseHyp(line, id); return mine }, limit)
	if errors.Is(err, proc.ErrStuck) {
		return "", fmt.Errorf("pocketsphinx %s gave no transcript of %v of audio in time; restarting it", d.bin, pcm.Duration().Round(time.Millisecond))
	}
	if err != nil {
		return "", err
	}
	text, _ := parseHyp(line, id)
	return text, nil
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
func (d *decoder) close() { d.r.Close() }
