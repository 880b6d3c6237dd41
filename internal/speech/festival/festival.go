// Package festival speaks text with the offline synthesizers Debian ships,
// each run as a subprocess: festival's HTS voice (cmu_us_slt_arctic_hts),
// flite and espeak-ng. First picks the first one installed, in that order of
// naturalness.
//
// festival is kept running with its voice loaded, so a sentence costs only
// its synthesis; when that process cannot run, each call starts text2wave.
// flite and espeak-ng start fast enough to run once per call.
//
// Text reaches an engine only on its standard input or in a file, never
// through a shell or festival's Scheme reader, and with control characters
// removed. The package must never link an engine (no cgo), leave temporary
// files behind or log what was said.
package festival

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/proc"
)

// Engine names, as configured with OS1_TTS and reported by Name.
const (
	NameFestival = "festival"
	NameFlite    = "flite"
	NameESpeak   = "espeak-ng"
)

// Order is the order First tries engines in: most natural first.
func Order() []string { return []string{NameFestival, NameFlite, NameESpeak} }

// DefaultFestivalVoiceDir is where Debian's festvox-us-slt-hts puts the voice.
const DefaultFestivalVoiceDir = "/usr/share/festival/voices/us/cmu_us_slt_arctic_hts"

// Config locates the engines; zero values mean Debian's defaults.
type Config struct {
	// LookPath finds an engine's binary (exec.LookPath); tests inject their own.
	LookPath func(string) (string, error)
	// FestivalVoiceDir must exist for the festival engine (DefaultFestivalVoiceDir).
	FestivalVoiceDir string
	// TempDir holds each call's scratch files (os.TempDir()).
	TempDir string
}

func (c Config) withDefaults() Config {
	if c.LookPath == nil {
		c.LookPath = exec.LookPath
	}
	if c.FestivalVoiceDir == "" {
		c.FestivalVoiceDir = DefaultFestivalVoiceDir
	}
	return c
}

// Synthesizer is a speech.Synthesizer that also says which voice and binary
// it runs, and may keep an engine running between calls.
type Synthesizer interface {
	speech.Synthesizer
	// Voice describes the voice ("slt HTS").
	Voice() string
	// Path is the binary that runs.
	Path() string
	// Warm starts an engine kept between calls, if there is one, and waits
	// until it is ready, so the first sentence does not pay for its start.
	Warm(ctx context.Context) error
	// Close stops an engine kept between calls. Calls after Close still
	// work, each starting an engine of its own.
	io.Closer
}

var (
	_ Synthesizer = (*Festival)(nil)
	_ Synthesizer = (*Flite)(nil)
	_ Synthesizer = (*ESpeak)(nil)
)

// New returns the engine called name (NameFestival, NameFlite or NameESpeak).
// An engine that is not installed gives an error wrapping speech.ErrUnavailable
// that names the Debian packages to install.
func New(name string, c Config) (Synthesizer, error) {
	switch name {
	case NameFestival:
		return NewFestival(c)
	case NameFlite:
		return NewFlite(c)
	case NameESpeak:
		return NewESpeak(c)
	}
	return nil, fmt.Errorf("speech synthesizer %q is unknown: use %s", name, strings.Join(Order(), ", "))
}

// First returns the first installed engine of names (Order when none are
// given). When none is installed the error wraps speech.ErrUnavailable and
// says what to install for each.
func First(c Config, names ...string) (Synthesizer, error) {
	if len(names) == 0 {
		names = Order()
	}
	var errs []error
	for _, n := range names {
		s, err := New(n, c)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("no speech synthesizer installed: %w", errors.Join(errs...))
}

// Packages is what `apt-get install` needs for each engine.
func Packages(name string) string {
	switch name {
	case NameFestival:
		return "festival festvox-us-slt-hts"
	case NameFlite:
		return "flite"
	case NameESpeak:
		return "espeak-ng"
	}
	return ""
}

func find(c Config, name, binary string) (string, error) {
	path, err := c.LookPath(binary)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %s not found; install it with `apt-get install %s`", speech.ErrUnavailable, name, binary, Packages(name))
	}
	return path, nil
}

// Festival speaks with festival's cmu_us_slt_arctic_hts voice (32 kHz). It
// is safe for concurrent use: calls take turns on the warm engine.
type Festival struct {
	bin, tmp string
	warm     *speaker // nil when the festival binary is not installed
}

// NewFestival finds festival (kept running) or text2wave (run per call), and
// the slt HTS voice. It starts nothing: the warm engine starts on the first
// call, or on Warm.
func NewFestival(c Config) (*Festival, error) {
	c = c.withDefaults()
	bin, err := find(c, NameFestival, "text2wave")
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.FestivalVoiceDir); err != nil {
		return nil, fmt.Errorf("%w: festival: voice %s is missing; install it with `apt-get install festvox-us-slt-hts`", speech.ErrUnavailable, c.FestivalVoiceDir)
	}
	f := &Festival{bin: bin, tmp: c.TempDir}
	if warm, err := c.LookPath("festival"); err == nil {
		f.warm = newSpeaker(warm, c.TempDir)
	}
	return f, nil
}

// Name implements speech.Synthesizer.
func (f *Festival) Name() string { return NameFestival }

// Voice implements Synthesizer.
func (f *Festival) Voice() string { return "slt HTS" }

// Path implements Synthesizer: the warm engine when it is installed.
func (f *Festival) Path() string {
	if f.warm != nil {
		return f.warm.bin
	}
	return f.bin
}

// Warm implements Synthesizer.
func (f *Festival) Warm(ctx context.Context) error {
	if f.warm == nil {
		return nil
	}
	return f.warm.warmUp(ctx)
}

// Close implements Synthesizer.
func (f *Festival) Close() error {
	if f.warm != nil {
		f.warm.close()
	}
	return nil
}

// Synthesize implements speech.Synthesizer, on the warm engine when it runs.
// Either way festival reads the text in plain text mode (from a file, or
// text2wave's stdin), so parentheses and quotes are spoken, never evaluated.
func (f *Festival) Synthesize(ctx context.Context, text string) (audio.PCM, error) {
	if f.warm != nil && speech.Speakable(text) && ctx.Err() == nil {
		pcm, err := f.warm.synthesize(ctx, clean(text))
		if !errors.Is(err, errNotWarm) {
			return pcm, err
		}
	}
	return f.once(ctx, text)
}

// once runs text2wave, which reads the text from stdin; the voice is chosen
// by a fixed expression. It writes the WAV to a file because on a pipe it
// cannot go back to fill in the header's length.
func (f *Festival) once(ctx context.Context, text string) (audio.PCM, error) {
	return synthesize(ctx, NameFestival, f.tmp, text, func(dir, text string) (*exec.Cmd, string, error) {
		out := filepath.Join(dir, "speech.wav")
		cmd := exec.CommandContext(ctx, f.bin, "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", out)
		cmd.Stdin = strings.NewReader(text)
		return cmd, out, nil
	})
}

// Flite speaks with flite's built-in slt voice (16 kHz).
type Flite struct {
	bin, tmp string
}

// NewFlite finds flite.
func NewFlite(c Config) (*Flite, error) {
	c = c.withDefaults()
	bin, err := find(c, NameFlite, "flite")
	if err != nil {
		return nil, err
	}
	return &Flite{bin: bin, tmp: c.TempDir}, nil
}

// Name implements speech.Synthesizer.
func (f *Flite) Name() string { return NameFlite }

// Voice implements Synthesizer.
func (f *Flite) Voice() string { return "slt" }

// Path implements Synthesizer.
func (f *Flite) Path() string { return f.bin }

// Warm implements Synthesizer; there is nothing to start.
func (f *Flite) Warm(context.Context) error { return nil }

// Close implements Synthesizer; there is nothing to stop.
func (f *Flite) Close() error { return nil }

// Synthesize implements speech.Synthesizer. The text goes in a file (-f)
// rather than argv, where flite would take text starting with "-" for an option.
func (f *Flite) Synthesize(ctx context.Context, text string) (audio.PCM, error) {
	return synthesize(ctx, NameFlite, f.tmp, text, func(dir, text string) (*exec.Cmd, string, error) {
		in, out := filepath.Join(dir, "text.txt"), filepath.Join(dir, "speech.wav")
		if err := os.WriteFile(in, []byte(text), 0o600); err != nil {
			return nil, "", err
		}
		return exec.CommandContext(ctx, f.bin, "-voice", "slt", "-f", in, "-o", out), out, nil
	})
}

// ESpeak speaks with espeak-ng's en-us voice (22.05 kHz): robotic but small and fast.
type ESpeak struct {
	bin, tmp string
}

// NewESpeak finds espeak-ng.
func NewESpeak(c Config) (*ESpeak, error) {
	c = c.withDefaults()
	bin, err := find(c, NameESpeak, "espeak-ng")
	if err != nil {
		return nil, err
	}
	return &ESpeak{bin: bin, tmp: c.TempDir}, nil
}

// Name implements speech.Synthesizer.
func (e *ESpeak) Name() string { return NameESpeak }

// Voice implements Synthesizer.
func (e *ESpeak) Voice() string { return "en-us" }

// Path implements Synthesizer.
func (e *ESpeak) Path() string { return e.bin }

// Warm implements Synthesizer; there is nothing to start.
func (e *ESpeak) Warm(context.Context) error { return nil }

// Close implements Synthesizer; there is nothing to stop.
func (e *ESpeak) Close() error { return nil }

// Synthesize implements speech.Synthesizer: UTF-8 text on stdin, WAV on stdout.
func (e *ESpeak) Synthesize(ctx context.Context, text string) (audio.PCM, error) {
	return synthesize(ctx, NameESpeak, e.tmp, text, func(_, text string) (*exec.Cmd, string, error) {
		cmd := exec.CommandContext(ctx, e.bin, "-v", "en-us", "-b", "1", "--stdout")
		cmd.Stdin = strings.NewReader(text)
		return cmd, "", nil
	})
}

// synthesize checks text, runs the command that command builds in a scratch
// folder and decodes the WAV it writes to out (or to stdout when out is "").
func synthesize(ctx context.Context, name, tmp, text string, command func(dir, text string) (*exec.Cmd, string, error)) (audio.PCM, error) {
	if !speech.Speakable(text) {
		return audio.PCM{}, speech.ErrEmptyText
	}
	if err := ctx.Err(); err != nil {
		return audio.PCM{}, fmt.Errorf("%s: %w", name, err)
	}
	dir, err := os.MkdirTemp(tmp, "os1-tts-*")
	if err != nil {
		return audio.PCM{}, fmt.Errorf("%s: scratch folder: %w", name, err)
	}
	defer os.RemoveAll(dir)
	cmd, out, err := command(dir, clean(text))
	if err != nil {
		return audio.PCM{}, fmt.Errorf("%s: %w", name, err)
	}
	stdout, log, err := proc.Run(ctx, cmd)
	if err != nil {
		if ctx.Err() != nil {
			return audio.PCM{}, fmt.Errorf("%s: %w", name, ctx.Err())
		}
		if proc.Missing(err) {
			return audio.PCM{}, fmt.Errorf("%w: %s: %v; install it with `apt-get install %s`", speech.ErrUnavailable, name, err, Packages(name))
		}
		return audio.PCM{}, fmt.Errorf("%s on %d characters of text: %w: %s", name, len(text), err, log)
	}
	wav := stdout
	if out != "" {
		if wav, err = os.ReadFile(out); err != nil {
			return audio.PCM{}, fmt.Errorf("%s wrote no audio: %w: %s", name, err, log)
		}
	}
	return decode(name, wav, text, log)
}

// decode reads the WAV an engine made of text; log is what it said on
// standard error, for the error message.
func decode(name string, wav []byte, text, log string) (audio.PCM, error) {
	pcm, err := audio.DecodeWAV(bytes.NewReader(wav))
	if err != nil {
		return audio.PCM{}, fmt.Errorf("%s audio: %w: %s", name, err, log)
	}
	if len(pcm.Samples) == 0 {
		return audio.PCM{}, fmt.Errorf("%s gave no audio for %d characters of text: %s", name, len(text), log)
	}
	return pcm, nil
}

// clean replaces control and format characters (newlines, escapes, NUL,
// bidi controls) with spaces, so no engine sees anything but words and
// punctuation.
func clean(text string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, text)
}
