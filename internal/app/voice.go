package app

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/speech/engines"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/voice"
)

// Voice is the speech side of a wired os1: the pipeline when both engines
// are there, and what to say when they are not.
type Voice struct {
	Pipeline *voice.Pipeline // nil: voice is off or an engine is missing
	Err      error           // why Pipeline is nil, for the user
	warmers  []Warmer        // the selected engines with a resident process (only when Pipeline is set)
	closers  []Closer        // the selected engines that hold one
}

// newVoice selects the engines cfg names and builds the call pipeline.
// Voice is optional: missing engines leave the rest of os1 working.
func newVoice(cfg config.Voice, comp *companion.Companion, convs store.Conversations, obs voice.Observer, log *slog.Logger) *Voice {
	stt, tts, rep, err := engines.Select(cfg, nil)
	v := &Voice{}
	for _, e := range []any{stt, tts} {
		if c, ok := e.(Closer); ok {
			v.closers = append(v.closers, c)
		}
	}
	switch {
	case err != nil:
		v.Err = err
	case stt == nil || tts == nil:
		v.Err = errors.New("voice calls are off: " + strings.Join(rep.Lines(), "; "))
	}
	if v.Err != nil {
		return v
	}
	v.Pipeline = voice.New(voice.Deps{Companion: comp, Conversations: convs, STT: stt, TTS: tts,
		Observer: obs, Log: log.With("component", "voice")}, voice.Options{
		Grace:            cfg.EndSilence.Duration,
		MidSentenceGrace: cfg.MidSentenceGrace.Duration,
		OutputRate:       cfg.OutputRate,
	})
	for _, e := range []any{stt, tts} {
		if w, ok := e.(Warmer); ok {
			v.warmers = append(v.warmers, w)
		}
	}
	return v
}
