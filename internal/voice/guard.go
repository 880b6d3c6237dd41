package voice

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
)

// Speech engines run in the call's goroutines. A panic in one (a client
// meeting a reply it did not expect) must end that one transcription or
// sentence as an error, never the server: guardedSTT and guardedTTS turn
// a panic into an error and log it with its stack.

type guardedSTT struct {
	speech.Transcriber
	log *slog.Logger
}

func (g guardedSTT) Transcribe(ctx context.Context, pcm audio.PCM) (text string, err error) {
	defer func() {
		if v := recover(); v != nil {
			g.log.Error("voice: speech-to-text engine panicked; recovered", "engine", g.Name(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			text, err = "", fmt.Errorf("%s failed unexpectedly (the server log has details)", g.Name())
		}
	}()
	return g.Transcriber.Transcribe(ctx, pcm)
}

type guardedTTS struct {
	speech.Synthesizer
	log *slog.Logger
}

func (g guardedTTS) Synthesize(ctx context.Context, text string) (pcm audio.PCM, err error) {
	defer func() {
		if v := recover(); v != nil {
			g.log.Error("voice: text-to-speech engine panicked; recovered", "engine", g.Name(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			pcm, err = audio.PCM{}, fmt.Errorf("%s failed unexpectedly (the server log has details)", g.Name())
		}
	}()
	return g.Synthesizer.Synthesize(ctx, text)
}
