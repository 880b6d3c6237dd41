package wyoming

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
)

// Audio sent for transcription: 16 kHz mono 16-bit, as whisper wants it, in
// chunks of 100 ms.
const (
	asrRate       = 16000
	asrChunkSamps = asrRate / 10
)

// Transcriber is a speech.Transcriber backed by a Wyoming speech recognition
// server (wyoming-faster-whisper, wyoming-whisper-cpp, wyoming-vosk).
type Transcriber struct{ ep endpoint }

var _ speech.Transcriber = (*Transcriber)(nil)

// NewTranscriber checks cfg and returns the transcriber; it does not connect.
func NewTranscriber(cfg Config) (*Transcriber, error) {
	ep, err := newEndpoint(cfg)
	if err != nil {
		return nil, err
	}
	return &Transcriber{ep: ep}, nil
}

// Name is "wyoming tcp://host:port".
func (t *Transcriber) Name() string { return "wyoming " + t.ep.url }

// Transcribe sends pcm (resampled to 16 kHz) as transcribe, audio-start,
// audio-chunk… and audio-stop events and returns the text of the transcript
// event. Events it does not know (streaming transcript-chunk, voice-started)
// are skipped.
func (t *Transcriber) Transcribe(ctx context.Context, pcm audio.PCM) (string, error) {
	if len(pcm.Samples) == 0 {
		return "", speech.ErrNoAudio
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("wyoming %s transcribe: %w", t.ep.url, err)
	}
	if speech.Silent(pcm) {
		return "", nil
	}
	pcm = audio.Resample(pcm, asrRate)
	return exchange(ctx, &t.ep, "transcribe", func(s *session) (string, error) {
		// Write and read at once: a server may answer (or fail) before it has
		// read all the audio, and its answer says more than a broken pipe.
		sent := make(chan error, 1)
		go func() { sent <- t.send(s.conn, pcm) }()
		text, err := readTranscript(s.r)
		if err != nil {
			s.conn.Close() // unblocks the writer
			if werr := <-sent; werr != nil && errors.Is(err, io.ErrUnexpectedEOF) {
				return "", fmt.Errorf("%w (while sending audio: %w)", err, werr)
			}
			return "", err
		}
		// The answer is in; a server that stopped reading audio must not
		// hold the writer (and so this call) until the timeout.
		s.conn.Close()
		<-sent
		return strings.TrimSpace(text), nil
	})
}

func (t *Transcriber) send(w io.Writer, pcm audio.PCM) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	req := map[string]any{}
	if t.ep.cfg.Model != "" {
		req["name"] = t.ep.cfg.Model
	}
	if t.ep.cfg.Language != "" {
		req["language"] = t.ep.cfg.Language
	}
	format := map[string]any{"rate": asrRate, "width": 2, "channels": 1}
	if err := WriteEvent(bw, Event{Type: "transcribe", Data: req}); err != nil {
		return err
	}
	if err := WriteEvent(bw, Event{Type: "audio-start", Data: format}); err != nil {
		return err
	}
	for i := 0; i < len(pcm.Samples); i += asrChunkSamps {
		chunk := pcm.Samples[i:min(i+asrChunkSamps, len(pcm.Samples))]
		if err := WriteEvent(bw, Event{Type: "audio-chunk", Data: format, Payload: audio.Bytes(chunk)}); err != nil {
			return err
		}
	}
	if err := WriteEvent(bw, Event{Type: "audio-stop"}); err != nil {
		return err
	}
	return bw.Flush()
}

func readTranscript(r *bufio.Reader) (string, error) {
	for {
		e, err := ReadEvent(r)
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("the server closed the connection before the transcript: %w", io.ErrUnexpectedEOF)
		}
		if err != nil {
			return "", err
		}
		switch e.Type {
		case "transcript":
			var d struct {
				Text string `json:"text"`
			}
			if err := e.DecodeData(&d); err != nil {
				return "", err
			}
			return d.Text, nil
		case "error":
			return "", serverError(e)
		}
	}
}
