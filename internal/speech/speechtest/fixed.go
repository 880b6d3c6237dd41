package speechtest

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
)

// Fixed is a Transcriber of fixed latency for orchestration tests and
// benchmarks: after Delay it returns Text (or Func's answer when set).
type Fixed struct {
	Text  string
	Func  func(audio.PCM) string
	Delay time.Duration
}

var _ speech.Transcriber = (*Fixed)(nil)

// Name implements speech.Transcriber.
func (f *Fixed) Name() string { return "fixed" }

// Transcribe implements speech.Transcriber.
func (f *Fixed) Transcribe(ctx context.Context, pcm audio.PCM) (string, error) {
	if len(pcm.Samples) == 0 {
		return "", speech.ErrNoAudio
	}
	if err := wait(ctx, f.Delay); err != nil {
		return "", err
	}
	if speech.Silent(pcm) {
		return "", nil
	}
	if f.Func != nil {
		return f.Func(pcm), nil
	}
	return f.Text, nil
}

// Tone is a Synthesizer of fixed latency: after Delay it returns a 16 kHz
// 220 Hz tone of PerWord per word (default 250 ms).
type Tone struct {
	Delay   time.Duration
	PerWord time.Duration
}

var _ speech.Synthesizer = (*Tone)(nil)

// Name implements speech.Synthesizer.
func (t *Tone) Name() string { return "tone" }

// Synthesize implements speech.Synthesizer.
func (t *Tone) Synthesize(ctx context.Context, text string) (audio.PCM, error) {
	if !speech.Speakable(text) {
		return audio.PCM{}, speech.ErrEmptyText
	}
	if err := wait(ctx, t.Delay); err != nil {
		return audio.PCM{}, err
	}
	per := t.PerWord
	if per == 0 {
		per = 250 * time.Millisecond
	}
	return ToneOf(16000, 220, time.Duration(len(strings.Fields(text)))*per), nil
}

// ToneOf is a sine tone at half of full scale.
func ToneOf(rate int, hz float64, d time.Duration) audio.PCM {
	n := int(int64(d) * int64(rate) / int64(time.Second))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(16384 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate)))
	}
	return audio.PCM{Rate: rate, Samples: s}
}

func wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
