// Package sphinx transcribes speech with CMU PocketSphinx, run as a
// subprocess (Debian's pocketsphinx and pocketsphinx-en-us packages), so
// os1's default build stays pure Go and needs no service.
//
// A Transcriber keeps one pocketsphinx_batch process warm and hands it each
// utterance in turn, so a call costs only the decoding, not the engine's
// start and the 27 MB language model's load. When that process cannot run,
// each call starts pocketsphinx_continuous instead.
//
// It must never link the engine (no cgo), never pass audio or text through a
// shell, never leave its temporary files behind and never log what was said.
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
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/proc"
)

// Defaults for Debian's pocketsphinx and pocketsphinx-en-us packages.
const (
	DefaultBinary      = "pocketsphinx_continuous"
	DefaultBatchBinary = "pocketsphinx_batch"
	DefaultModelDir    = "/usr/share/pocketsphinx/model/en-us"
	// Rate is the sample rate of the en-us acoustic model; audio is resampled to it.
	Rate = 16000
	// Packages is what `apt-get install` needs for this engine.
	Packages = "pocketsphinx pocketsphinx-en-us"
)

// searchArgs trades a little of the decoder's search for speed. With the
// defaults (30000 active HMMs a frame) a 3.3 s utterance takes about 0.8 s
// to decode on two cores; capping the active HMMs cuts that to about half.
// Scoring Gaussians only every other frame (-ds 2) was faster still, but
// mangled the first words whenever room noise came before the speech
// (bench/voice: word error rate 0.53 with it, 0.14 without), so it is not used.
// See BenchmarkTranscribe and TestAccuracy.
func searchArgs() []string { return []string{"-maxhmmpf", "2000"} }

// Config locates the engine; zero values mean the Debian defaults.
type Config struct {
	Binary string // command run once per call when the warm engine cannot run (DefaultBinary)
	// BatchBinary is the command kept running between calls
	// (DefaultBatchBinary); when it is not found every call runs Binary.
	BatchBinary string
	ModelDir    string // holds en-us/, en-us.lm.bin and cmudict-en-us.dict (DefaultModelDir)
	// LookPath finds Binary and BatchBinary (exec.LookPath); tests inject their own.
	LookPath func(string) (string, error)
	// TempDir holds the audio handed to the engine (os.TempDir()).
	TempDir string
}

// Transcriber turns speech into text with PocketSphinx. It is safe for
// concurrent use: calls take turns on the warm engine. Close stops the engine.
type Transcriber struct {
	bin, hmm, lm, dict, tmp string
	warm                    *decoder // nil when pocketsphinx_batch is not installed
}

var _ speech.Transcriber = (*Transcriber)(nil)

// New finds the engine and its model. When either is missing the error wraps
// speech.ErrUnavailable and names the Debian packages to install. New starts
// nothing: the warm engine starts on the first call, or on Warm.
func New(c Config) (*Transcriber, error) {
	if c.Binary == "" {
		c.Binary = DefaultBinary
	}
	if c.BatchBinary == "" {
		c.BatchBinary = DefaultBatchBinary
	}
	if c.ModelDir == "" {
		c.ModelDir = DefaultModelDir
	}
	if c.LookPath == nil {
		c.LookPath = exec.LookPath
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
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
	if batch, err := c.LookPath(c.BatchBinary); err == nil {
		t.warm = newDecoder(batch, t.tmp, t.modelArgs())
	}
	return t, nil
}

// Name implements speech.Transcriber.
func (t *Transcriber) Name() string { return "pocketsphinx" }

// Path is the engine binary that runs: the warm one when it is installed.
func (t *Transcriber) Path() string {
	if t.warm != nil {
		return t.warm.bin
	}
	return t.bin
}

// Warm starts the warm engine and waits until it has loaded its model, so
// the first utterance does not pay for it. Without a warm engine it does
// nothing.
func (t *Transcriber) Warm(ctx context.Context) error {
	if t.warm == nil {
		return nil
	}
	return t.warm.warmUp(ctx)
}

// Close stops the warm engine. Calls after Close still work, each starting
// an engine of its own.
func (t *Transcriber) Close() error {
	if t.warm != nil {
		t.warm.close()
	}
	return nil
}

func (t *Transcriber) modelArgs() []string {
	return append([]string{"-hmm", t.hmm, "-lm", t.lm, "-dict", t.dict, "-logfn", os.DevNull}, searchArgs()...)
}

// Transcribe implements speech.Transcriber. pcm is resampled to 16 kHz and
// written to a temporary file the engine reads; its hypothesis for the
// utterance comes back as one line. When ctx ends the engine is killed (the
// warm one restarts on the next call).
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
	pcm = audio.Resample(pcm, Rate)
	if t.warm != nil {
		text, err := t.warm.transcribe(ctx, pcm)
		if !errors.Is(err, errNotWarm) {
			return text, err
		}
	}
	return t.once(ctx, pcm)
}

// once runs pocketsphinx_continuous on a WAV of pcm (at Rate). The engine's
// hypothesis for each utterance it finds is joined with spaces.
func (t *Transcriber) once(ctx context.Context, pcm audio.PCM) (string, error) {
	f, err := os.CreateTemp(t.tmp, "os1-sphinx-*.wav")
	if err != nil {
		return "", fmt.Errorf("pocketsphinx: temporary audio file: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(audio.WAV(pcm))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("pocketsphinx: write %s: %w", f.Name(), err)
	}

	cmd := exec.CommandContext(ctx, t.bin, append([]string{"-infile", f.Name()}, t.modelArgs()...)...)
	stdout, log, err := proc.Run(ctx, cmd)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("pocketsphinx: %w", ctx.Err())
		}
		if proc.Missing(err) {
			return "", fmt.Errorf("%w: pocketsphinx: %s: %v; install it with `apt-get install %s`", speech.ErrUnavailable, t.bin, err, Packages)
		}
		return "", fmt.Errorf("pocketsphinx %s on %v of audio: %w: %s", t.bin, pcm.Duration().Round(time.Millisecond), err, log)
	}
	return hypothesis(string(stdout)), nil
}

// hypothesis joins the engine's output, one line per utterance segment.
func hypothesis(out string) string {
	var words []string
	for line := range strings.Lines(out) {
		words = append(words, strings.Fields(line)...)
	}
	return strings.Join(words, " ")
}
