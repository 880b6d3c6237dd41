package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strconv"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
)

// PCMRate is the rate of raw "pcm" answers: OpenAI documents them as 24 kHz
// signed 16-bit little-endian mono without a header.
const PCMRate = 24000

// Synthesizer is a speech.Synthesizer backed by POST /v1/audio/speech.
type Synthesizer struct{ c *client }

var _ speech.Synthesizer = (*Synthesizer)(nil)

// NewSynthesizer checks cfg and returns the synthesizer; it does not connect.
func NewSynthesizer(cfg Config) (*Synthesizer, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Synthesizer{c: c}, nil
}

// Name is "openai <base URL> (<model>, <voice>)".
func (s *Synthesizer) Name() string {
	return fmt.Sprintf("openai %s (%s, %s)", s.c.base, s.c.cfg.TTSModel, s.c.cfg.Voice)
}

// Synthesize asks for WAV and decodes it at the server's rate.
//
// Some servers ignore response_format and send raw samples. A body without
// a RIFF header typed audio/pcm, application/octet-stream or not typed at
// all is read as OpenAI's "pcm" format: 16-bit little-endian mono at the
// rate parameter of its content type, else PCMRate. Any other type (MP3,
// Opus, JSON) is an error that names it.
func (s *Synthesizer) Synthesize(ctx context.Context, text string) (audio.PCM, error) {
	if !speech.Speakable(text) {
		return audio.PCM{}, speech.ErrEmptyText
	}
	if err := ctx.Err(); err != nil {
		return audio.PCM{}, fmt.Errorf("openai speech %s: %w", s.c.base, err)
	}
	body, err := json.Marshal(map[string]string{
		"model": s.c.cfg.TTSModel, "input": text, "voice": s.c.cfg.Voice, "response_format": "wav",
	})
	if err != nil {
		return audio.PCM{}, fmt.Errorf("openai speech: encoding the request: %w", err)
	}
	const path = "/v1/audio/speech"
	a, err := s.c.post(ctx, path, "application/json", body, MaxAudioBytes)
	if err != nil {
		return audio.PCM{}, err
	}
	pcm, err := decodeSpeech(a)
	if err != nil {
		return audio.PCM{}, fmt.Errorf("openai speech %s%s: %w", s.c.base, path, err)
	}
	return pcm, nil
}

func decodeSpeech(a answer) (audio.PCM, error) {
	mt, params, _ := mime.ParseMediaType(a.contentType)
	var pcm audio.PCM
	switch {
	case bytes.HasPrefix(a.body, []byte("RIFF")), mt == "audio/wav", mt == "audio/x-wav", mt == "audio/wave", mt == "audio/vnd.wave":
		var err error
		if pcm, err = audio.DecodeWAV(bytes.NewReader(a.body)); err != nil {
			return audio.PCM{}, fmt.Errorf("the WAV answer cannot be read: %w", err)
		}
	case mt == "audio/pcm", mt == "application/octet-stream", mt == "":
		pcm.Rate = PCMRate
		if r, err := strconv.Atoi(params["rate"]); err == nil && r >= 1000 && r <= 384000 {
			pcm.Rate = r
		}
		pcm.Samples = audio.Samples(a.body)
	default:
		return audio.PCM{}, fmt.Errorf("the answer is %s, not WAV or raw PCM audio (does the server support response_format wav?)", mt)
	}
	if len(pcm.Samples) == 0 {
		return audio.PCM{}, errors.New("the answer holds no audio")
	}
	return pcm, nil
}
