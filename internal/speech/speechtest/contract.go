// Package speechtest is the contract every speech engine passes, plus
// in-process engines of fixed latency for pipeline tests and benchmarks.
//
// The fixed-latency engines stand in for speech engines only where a test
// measures os1's own orchestration; engine behaviour is always tested against
// a real engine or a server speaking the engine's real protocol.
package speechtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
)

// TranscriberCase describes one backend under the transcriber contract.
type TranscriberCase struct {
	New    func(t *testing.T) speech.Transcriber
	Speech audio.PCM // audio of someone speaking
	Words  []string  // words (lower case) the transcript must contain
}

// TestTranscriber runs the transcriber contract.
func TestTranscriber(t *testing.T, c TranscriberCase) {
	ctx := context.Background()
	t.Run("Speech", func(t *testing.T) {
		got, err := c.New(t).Transcribe(ctx, c.Speech)
		if err != nil {
			t.Fatalf("Transcribe: %v", err)
		}
		hasWords(t, got, c.Words)
	})
	t.Run("OtherSampleRates", func(t *testing.T) {
		tr := c.New(t)
		for _, rate := range []int{8000, 44100} {
			got, err := tr.Transcribe(ctx, audio.Resample(c.Speech, rate))
			if err != nil {
				t.Fatalf("Transcribe at %d Hz: %v", rate, err)
			}
			hasWords(t, got, c.Words)
		}
	})
	t.Run("EmptyAudio", func(t *testing.T) {
		_, err := c.New(t).Transcribe(ctx, audio.PCM{Rate: 16000})
		if !errors.Is(err, speech.ErrNoAudio) {
			t.Fatalf("empty audio: err = %v, want ErrNoAudio", err)
		}
	})
	t.Run("SilenceIsNoWords", func(t *testing.T) {
		got, err := c.New(t).Transcribe(ctx, audio.Silence(16000, 2*time.Second))
		if err != nil || strings.TrimSpace(got) != "" {
			t.Fatalf("silence: %q, %v; want empty, nil", got, err)
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := c.New(t).Transcribe(ctx, c.Speech)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled: err = %v, want context.Canceled", err)
		}
	})
}

func hasWords(t *testing.T, got string, words []string) {
	t.Helper()
	low := " " + strings.ToLower(strings.Join(strings.FieldsFunc(got, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '\'')
	}), " ")) + " "
	for _, w := range words {
		if !strings.Contains(low, " "+w+" ") {
			t.Errorf("transcript %q lacks %q", got, w)
		}
	}
}

// SynthesizerCase describes one backend under the synthesizer contract.
type SynthesizerCase struct {
	New func(t *testing.T) speech.Synthesizer
}

// TestSynthesizer runs the synthesizer contract.
func TestSynthesizer(t *testing.T, c SynthesizerCase) {
	ctx := context.Background()
	t.Run("Speaks", func(t *testing.T) {
		pcm, err := c.New(t).Synthesize(ctx, "Hello, how are you today?")
		if err != nil {
			t.Fatalf("Synthesize: %v", err)
		}
		if pcm.Rate < 8000 {
			t.Fatalf("rate %d Hz", pcm.Rate)
		}
		if d := pcm.Duration(); d < 500*time.Millisecond || d > 8*time.Second {
			t.Fatalf("six words took %v of audio", d)
		}
		if rms := audio.RMS(pcm.Samples); rms < 0.01 {
			t.Fatalf("audio is near silent (rms %.4f)", rms)
		}
	})
	t.Run("LongerTextLongerAudio", func(t *testing.T) {
		s := c.New(t)
		short, err := s.Synthesize(ctx, "Yes.")
		if err != nil {
			t.Fatal(err)
		}
		long, err := s.Synthesize(ctx, "I was thinking about what you said yesterday, and I think you should call your sister tonight.")
		if err != nil {
			t.Fatal(err)
		}
		if long.Duration() < 2*short.Duration() {
			t.Fatalf("long sentence %v, short %v", long.Duration(), short.Duration())
		}
	})
	t.Run("EmptyText", func(t *testing.T) {
		for _, text := range []string{"", "   \n", "..."} {
			if _, err := c.New(t).Synthesize(ctx, text); !errors.Is(err, speech.ErrEmptyText) {
				t.Fatalf("Synthesize(%q): err = %v, want ErrEmptyText", text, err)
			}
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := c.New(t).Synthesize(ctx, "This should not be spoken.")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("canceled: err = %v, want context.Canceled", err)
		}
	})
}
