package wyoming

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
)

// MaxSpeechBytes bounds the audio of one synthesize answer (about 25 minutes
// of 22 kHz 16-bit mono), so a server that never sends audio-stop cannot
// fill memory before the timeout.
const MaxSpeechBytes = 64 << 20

// Synthesizer is a speech.Synthesizer backed by a Wyoming text to speech
// server (wyoming-piper, wyoming-kokoro).
type Synthesizer struct{ ep endpoint }

var _ speech.Synthesizer = (*Synthesizer)(nil)

// NewSynthesizer checks cfg and returns the synthesizer; it does not connect.
func NewSynthesizer(cfg Config) (*Synthesizer, error) {
	ep, err := newEndpoint(cfg)
	if err != nil {
		return nil, err
	}
	return &Synthesizer{ep: ep}, nil
}

// Name is "wyoming tcp://host:port".
func (s *Synthesizer) Name() string { return "wyoming " + s.ep.url }

// Synthesize sends a synthesize event and collects the audio-chunk events
// between audio-start and audio-stop as mono 16-bit PCM at the server's rate.
func (s *Synthesizer) Synthesize(ctx context.Context, text string) (audio.PCM, error) {
	if !speech.Speakable(text) {
		return audio.PCM{}, speech.ErrEmptyText
	}
	return exchange(ctx, &s.ep, "synthesize", func(ss *session) (audio.PCM, error) {
		req := map[string]any{"text": text}
		if s.ep.cfg.Voice != "" {
			req["voice"] = map[string]any{"name": s.ep.cfg.Voice}
		}
		if err := WriteEvent(ss.conn, Event{Type: "synthesize", Data: req}); err != nil {
			return audio.PCM{}, err
		}
		return readSpeech(ss)
	})
}

// format is the rate, width and channels of audio-start and audio-chunk.
type format struct {
	Rate     int `json:"rate"`
	Width    int `json:"width"`
	Channels int `json:"channels"`
}

func (f format) check(event string) error {
	switch {
	case f.Rate < 1000 || f.Rate > 384000:
		return fmt.Errorf("%w: %s at a rate of %d Hz", ErrProtocol, event, f.Rate)
	case f.Width != 2:
		return fmt.Errorf("%w: %s with samples of %d bytes (only 16-bit audio is supported)", ErrProtocol, event, f.Width)
	case f.Channels < 1 || f.Channels > 16:
		return fmt.Errorf("%w: %s with %d channels", ErrProtocol, event, f.Channels)
	}
	return nil
}

func readSpeech(s *session) (audio.PCM, error) {
	var (
		start   *format
		out     audio.PCM
		total   int
		partial []byte // a frame split across chunks
	)
	for {
		e, err := s.read()
		if errors.Is(err, io.EOF) {
			return audio.PCM{}, fmt.Errorf("the server closed the connection before audio-stop: %w", io.ErrUnexpectedEOF)
		}
		if err != nil {
			return audio.PCM{}, err
		}
		switch e.Type {
		case "error":
			return audio.PCM{}, serverError(e)
		case "audio-start":
			var f format
			if err := e.DecodeData(&f); err != nil {
				return audio.PCM{}, err
			}
			if err := f.check(e.Type); err != nil {
				return audio.PCM{}, err
			}
			start, out.Rate = &f, f.Rate
		case "audio-chunk":
			if start == nil {
				return audio.PCM{}, fmt.Errorf("%w: audio-chunk before audio-start", ErrProtocol)
			}
			f := *start
			if err := e.DecodeData(&f); err != nil { // a chunk may restate its format
				return audio.PCM{}, err
			}
			if f != *start {
				return audio.PCM{}, fmt.Errorf("%w: audio-chunk of %d Hz × %d bytes × %d channels in a stream that started as %d Hz × %d × %d",
					ErrProtocol, f.Rate, f.Width, f.Channels, start.Rate, start.Width, start.Channels)
			}
			if total += len(e.Payload); total > MaxSpeechBytes {
				return audio.PCM{}, fmt.Errorf("%w: more than %d bytes of audio", ErrProtocol, MaxSpeechBytes)
			}
			buf := append(partial, e.Payload...)
			frame := f.Width * f.Channels
			n := len(buf) / frame * frame
			out.Samples = appendMono(out.Samples, buf[:n], f.Channels)
			partial = append([]byte(nil), buf[n:]...)
		case "audio-stop":
			if start == nil {
				return audio.PCM{}, fmt.Errorf("%w: audio-stop before audio-start", ErrProtocol)
			}
			if len(out.Samples) == 0 {
				return audio.PCM{}, errors.New("the server sent no audio")
			}
			return out, nil
		}
	}
}

// appendMono appends 16-bit little-endian frames of channels samples each,
// averaged to one.
func appendMono(dst []int16, b []byte, channels int) []int16 {
	if channels == 1 {
		return append(dst, audio.Samples(b)...)
	}
	for i := 0; i+2*channels <= len(b); i += 2 * channels {
		var sum int
		for c := range channels {
			sum += int(int16(binary.LittleEndian.Uint16(b[i+2*c:])))
		}
		dst = append(dst, int16(sum/channels))
	}
	return dst
}
