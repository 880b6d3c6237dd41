// Package sphinx transcribes speech with CMU PocketSphinx, run as a
// subprocess (Debian's pocketsphinx_continuous and the pocketsphinx-en-us
// model), so os1's default build stays pure Go and needs no service.
//
// It must never link the engine (no cgo), never pass audio or text through a
// shell, never leave its temporary files behind and never log what was said.
package sphinx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
)

// Defaults for Debian 12's pocketsphinx and pocketsphinx-en-us packages.
const (
	DefaultBinary   = "pocketsphinx_continuous"
	DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"
	// Rate is the sample rate of the en-us acoustic model; audio is resampled to it.
	Rate = 16000
	// Packages is what `apt-get install` needs for this engine.
	Packages = "pocketsphinx pocketsphinx-en-us"
)

// waitDelay bounds how long a killed engine may hold its output pipes open.
const waitDelay = 2 * time.Second

// Config locates the engine; zero values mean the Debian defaults.
type Config struct {
	Binary   string // command name or path (DefaultBinary)
	ModelDir string // holds en-us/, en-us.lm.bin and cmudict-en-us.dict (DefaultModelDir)
	// LookPath finds Binary (exec.LookPath); tests inject their own.
	LookPath func(string) (string, error)
	// TempDir holds the WAV handed to the engine (os.TempDir()).
	TempDir string
}

// Transcriber runs one pocketsphinx_continuous per utterance. It is safe for
// concurrent use: each call has its own process and temporary file.
type Transcriber struct {
	bin, hmm, lm, dict, tmp string
}

var _ speech.Transcriber = (*Transcriber)(nil)

// New finds the engine and its model. When either is missing the error wraps
// speech.ErrUnavailable and names the Debian packages to install.
func New(c Config) (*Transcriber, error) {
	if c.Binary == "" {
		c.Binary = DefaultBinary
	}
	if c.ModelDir == "" {
		c.ModelDir = DefaultModelDir
	}
	if c.LookPath == nil {
		c.LookPath = exec.LookPath
	}
	bin, err := c.LookPath(c.Binary)
	if err != nil {
		return nil, fmt.Errorf("%w: pocketsphinx: %s not found; install it with `apt-get install %s`", speech.ErrUnavailable, c.Binary, Packages)
	}
	t := &Transcriber{
		bin:  bin,
		hmm:  filepath.Join(c.ModelDir, "en-us"),
		lm:   filepath.Join(c.ModelDir, "en-us.lm.bin"),
		dict: filepath.Join(c.ModelDir, "cmudict-en-us.dict"),
		tmp:  c.TempDir,
	}
	for _, f := range []string{filepath.Join(t.hmm, "mdef"), t.lm, t.dict} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%w: pocketsphinx: model file %s is missing; install it with `apt-get install pocketsphinx-en-us`", speech.ErrUnavailable, f)
		}
	}
	return t, nil
}

// Name implements speech.Transcriber.
func (t *Transcriber) Name() string { return "pocketsphinx" }

// Path is the engine binary that runs.
func (t *Transcriber) Path() string { return t.bin }

// Transcribe implements speech.Transcriber. pcm is resampled to 16 kHz and
// written to a temporary WAV file; the engine's hypothesis for each utterance
// it finds is joined with spaces. The process is killed when ctx ends.
func (t *Transcriber) Transcribe(ctx context.Context, pcm audio.PCM) (string, error) {
	if len(pcm.Samples) == 0 || pcm.Rate <= 0 {
		return "", speech.ErrNoAudio
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("pocketsphinx: %w", err)
	}
	if speech.Silent(pcm) {
		return "", nil
	}
	f, err := os.CreateTemp(t.tmp, "os1-sphinx-*.wav")
	if err != nil {
		return "", fmt.Errorf("pocketsphinx: temporary audio file: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(audio.WAV(audio.Resample(pcm, Rate)))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("pocketsphinx: write %s: %w", f.Name(), err)
	}

	cmd := exec.CommandContext(ctx, t.bin,
		"-infile", f.Name(),
		"-hmm", t.hmm, "-lm", t.lm, "-dict", t.dict,
		"-logfn", os.DevNull)
	cmd.WaitDelay = waitDelay
	var stdout bytes.Buffer
	stderr := &tail{max: 2048}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("pocketsphinx: %w", ctx.Err())
		}
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%w: pocketsphinx: %s: %v; install it with `apt-get install %s`", speech.ErrUnavailable, t.bin, err, Packages)
		}
		return "", fmt.Errorf("pocketsphinx %s on %v of audio: %w: %s", t.bin, pcm.Duration().Round(time.Millisecond), err, stderr.String())
	}
	return hypothesis(stdout.String()), nil
}

// hypothesis joins the engine's output, one line per utterance segment.
func hypothesis(out string) string {
	var words []string
	for line := range strings.Lines(out) {
		words = append(words, strings.Fields(line)...)
	}
	return strings.Join(words, " ")
}

// tail keeps the last max bytes written, for error messages.
type tail struct {
	max int
	b   []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	if over := len(w.b) - w.max; over > 0 {
		w.b = w.b[over:]
	}
	return len(p), nil
}

func (w *tail) String() string { return strings.TrimSpace(string(w.b)) }
