// Package speech declares os1's speech engines: a Transcriber turns speech
// into text, a Synthesizer turns text into speech. Backends live in the
// subpackages (openai, wyoming, sphinx, festival) and each passes the contract
// suites in speechtest.
//
// Engines take and return audio.PCM; they never see the voice protocol, the
// companion or the store, and must never log what was said.
package speech

import (
	"context"
	"errors"
	"unicode"

	"github.com/os1ai/os1/internal/audio"
)

// Errors every engine reports the same way, tested with errors.Is.
var (
	// ErrNoAudio: the audio given to Transcribe was empty or too short to hold a word.
	ErrNoAudio = errors.New("no audio to transcribe")
	// ErrEmptyText: Synthesize was given nothing speakable.
	ErrEmptyText = errors.New("no text to speak")
	// ErrUnavailable: the engine is not installed or its server cannot be reached.
	ErrUnavailable = errors.New("speech engine unavailable")
)

// Transcriber is speech to text.
type Transcriber interface {
	// Name identifies the engine in `os1 doctor`, logs and metrics ("pocketsphinx", "wyoming tcp://host:10300").
	Name() string
	// Transcribe returns what was said in pcm (any rate; engines resample as
	// they need). Silence gives "" and no error. It stops promptly when ctx ends.
	Transcribe(ctx context.Context, pcm audio.PCM) (string, error)
}

// Synthesizer is text to speech.
type Synthesizer interface {
	Name() string
	// Synthesize speaks text (one sentence or a few) and returns the audio at
	// the engine's own rate. It stops promptly when ctx ends.
	Synthesize(ctx context.Context, text string) (audio.PCM, error)
}

// SilenceRMS is the level (0..1) under which audio holds no speech. Every
// Transcriber returns "" for silent audio without running the engine.
const SilenceRMS = 0.003

// Silent reports whether pcm holds nothing worth transcribing.
func Silent(pcm audio.PCM) bool { return audio.RMS(pcm.Samples) < SilenceRMS }

// Speakable reports whether text holds a letter or digit to say. Every
// Synthesizer returns ErrEmptyText for text that is not speakable.
func Speakable(text string) bool {
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
