package cli

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/speech/engines"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/voice"
)

// voiceWiring is the speech side of a wired os1: the pipeline when both
// engines are there, and what to say when they are not.
type voiceWiring struct {
	pipeline *voice.Pipeline // nil: voice is off or an engine is missing
	err      error           // why pipeline is nil, for the user
	engines  []any           // the selected engines, for warming and closing
}

// warm starts the engines' resident processes, so the first turn of the
// first call does not pay for loading them (about a second for PocketSphinx
// and festival together). Engines without one need nothing.
func (v *voiceWiring) warm(ctx context.Context, log *slog.Logger) {
	if v.pipeline == nil {
		return
	}
	for _, e := range v.engines {
		if w, ok := e.(interface{ Warm(context.Context) error }); ok {
			if err := w.Warm(ctx); err != nil && ctx.Err() == nil {
				log.Warn("a voice engine could not start its resident process; it runs once per request instead", "error", err)
			}
		}
	}
}

func (v *voiceWiring) close() {
	for _, e := range v.engines {
		if c, ok := e.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

// wireVoice selects the engines cfg names and builds the call pipeline.
// Voice is optional: missing engines leave the rest of os1 working.
func wireVoice(cfg config.Voice, comp *companion.Companion, convs store.Conversations, obs voice.Observer, log *slog.Logger) *voiceWiring {
	stt, tts, rep, err := engines.Select(cfg, nil)
	w := &voiceWiring{}
	for _, e := range []any{stt, tts} {
		if e != nil {
			w.engines = append(w.engines, e)
		}
	}
	switch {
	case err != nil:
		w.err = err
	case stt == nil || tts == nil:
		w.err = errors.New("voice calls are off: " + strings.Join(rep.Lines(), "; "))
	}
	if w.err != nil {
		return w
	}
	w.pipeline = voice.New(voice.Deps{Companion: comp, Conversations: convs, STT: stt, TTS: tts,
		Observer: obs, Log: log.With("component", "voice")}, voice.Options{
		Grace:            cfg.EndSilence.Duration,
		MidSentenceGrace: cfg.MidSentenceGrace.Duration,
		OutputRate:       cfg.OutputRate,
	})
	return w
}
