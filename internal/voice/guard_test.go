package voice

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/audio"
)

type panicEngine struct{}

func (panicEngine) Name() string { return "broken" }
func (panicEngine) Transcribe(context.Context, audio.PCM) (string, error) {
	panic("nil map")
}
func (panicEngine) Synthesize(context.Context, string) (audio.PCM, error) {
	panic("index out of range")
}

// A panicking engine fails its one call; before, the call's goroutine took
// the whole server down.
func TestEnginePanicsBecomeErrors(t *testing.T) {
	p := New(Deps{STT: panicEngine{}, TTS: panicEngine{}, Log: slog.New(slog.DiscardHandler)}, Options{})
	if _, err := p.d.STT.Transcribe(t.Context(), audio.PCM{Rate: 16000}); err == nil || !strings.Contains(err.Error(), "broken failed unexpectedly") {
		t.Fatalf("Transcribe: %v", err)
	}
	if _, err := p.d.TTS.Synthesize(t.Context(), "Hello."); err == nil || !strings.Contains(err.Error(), "broken failed unexpectedly") {
		t.Fatalf("Synthesize: %v", err)
	}
	if stt, tts := p.Engines(); stt != "broken" || tts != "broken" {
		t.Fatalf("engine names behind the guard: %s %s", stt, tts)
	}
}
