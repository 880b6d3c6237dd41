package wyoming

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Info is what a server says it offers, from its info event. Only the speech
// services os1 uses are kept.
type Info struct {
	ASR []Program `json:"asr"`
	TTS []Program `json:"tts"`
}

// Program is one service a server runs (faster-whisper, piper).
type Program struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Version     string  `json:"version"`
	Installed   bool    `json:"installed"`
	Models      []Model `json:"models"` // speech recognition models
	Voices      []Model `json:"voices"` // text to speech voices
}

// Model is one model or voice of a program.
type Model struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Languages   []string `json:"languages"`
	Installed   bool     `json:"installed"`
}

// Describe asks the server what it offers (for os1 doctor).
func (t *Transcriber) Describe(ctx context.Context) (Info, error) { return describe(ctx, &t.ep) }

// Describe asks the server what it offers (for os1 doctor).
func (s *Synthesizer) Describe(ctx context.Context) (Info, error) { return describe(ctx, &s.ep) }

func describe(ctx context.Context, ep *endpoint) (Info, error) {
	return exchange(ctx, ep, "describe", func(s *session) (Info, error) {
		if err := WriteEvent(s.conn, Event{Type: "describe"}); err != nil {
			return Info{}, err
		}
		for {
			e, err := s.read()
			if errors.Is(err, io.EOF) {
				return Info{}, fmt.Errorf("the server closed the connection before info: %w", io.ErrUnexpectedEOF)
			}
			if err != nil {
				return Info{}, err
			}
			switch e.Type {
			case "info":
				var info Info
				err := e.DecodeData(&info)
				return info, err
			case "error":
				return Info{}, serverError(e)
			}
		}
	})
}
