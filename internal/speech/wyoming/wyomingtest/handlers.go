package wyomingtest

import (
	"errors"
	"io"
	"math"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/wyoming"
)

// Heard is the transcript the ASR handler gives for audio that is not silent.
const Heard = "hello there"

// Transcribe is what the ASR handler received for one request.
type Transcribe struct {
	Model, Language string
	Audio           audio.PCM
}

// ASR behaves like wyoming-faster-whisper: it answers describe with info,
// and transcribe, audio-start, audio-chunk… audio-stop with a transcript of
// Heard for audio that is not silent and "" for silence. It reports through
// t any audio that is not 16 kHz, 16-bit mono, and events out of order.
// Each finished request is sent on got when got is not nil.
func ASR(t testing.TB, got chan<- Transcribe) Handler {
	return func(c *Conn) {
		var (
			req     Transcribe
			started bool
			samples []int16
		)
		for {
			e, err := c.ReadEvent()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isClosed(err) {
					t.Errorf("wyomingtest ASR: %v", err)
				}
				return
			}
			switch e.Type {
			case "describe":
				_ = c.WriteEvent(info("asr", "faster-whisper", "models"))
			case "transcribe":
				req.Model, _ = e.Data["name"].(string)
				req.Language, _ = e.Data["language"].(string)
			case "audio-start", "audio-chunk":
				if e.Type == "audio-start" {
					started = true
				} else if !started {
					t.Errorf("wyomingtest ASR: audio-chunk before audio-start")
				}
				if r, w, ch := num(e, "rate"), num(e, "width"), num(e, "channels"); r != 16000 || w != 2 || ch != 1 {
					t.Errorf("wyomingtest ASR: %s of rate %v width %v channels %v, want 16000, 2, 1", e.Type, r, w, ch)
				}
				if len(e.Payload)%2 != 0 {
					t.Errorf("wyomingtest ASR: audio-chunk of %d bytes (odd)", len(e.Payload))
				}
				samples = append(samples, audio.Samples(e.Payload)...)
			case "audio-stop":
				if !started {
					t.Errorf("wyomingtest ASR: audio-stop before audio-start")
				}
				req.Audio = audio.PCM{Rate: 16000, Samples: samples}
				text := Heard
				if speech.Silent(req.Audio) {
					text = ""
				}
				if got != nil {
					got <- req
				}
				_ = c.WriteEvent(wyoming.Event{Type: "transcript", Data: map[string]any{"text": text}})
				return
			}
		}
	}
}

// Tone shapes the TTS handler's answer.
type Tone struct {
	Rate     int           // samples per second; zero: 22050 (piper's usual rate)
	Channels int           // zero: 1
	PerWord  time.Duration // audio per word of text; zero: 250 ms
	Chunk    int           // frames per audio-chunk; zero: 1024
}

// Synthesize is what the TTS handler received for one request.
type Synthesize struct {
	Text, Voice string
}

// TTS behaves like wyoming-piper: it answers describe with info, and
// synthesize with audio-start, several audio-chunk events of a 440 Hz tone
// lasting tone.PerWord for each word, and audio-stop. Each request is sent
// on got when got is not nil.
func TTS(t testing.TB, tone Tone, got chan<- Synthesize) Handler {
	if tone.Rate == 0 {
		tone.Rate = 22050
	}
	if tone.Channels == 0 {
		tone.Channels = 1
	}
	if tone.PerWord == 0 {
		tone.PerWord = 250 * time.Millisecond
	}
	if tone.Chunk == 0 {
		tone.Chunk = 1024
	}
	return func(c *Conn) {
		for {
			e, err := c.ReadEvent()
			if err != nil {
				if !errors.Is(err, io.EOF) && !isClosed(err) {
					t.Errorf("wyomingtest TTS: %v", err)
				}
				return
			}
			switch e.Type {
			case "describe":
				_ = c.WriteEvent(info("tts", "piper", "voices"))
			case "synthesize":
				var req Synthesize
				req.Text, _ = e.Data["text"].(string)
				if v, ok := e.Data["voice"].(map[string]any); ok {
					req.Voice, _ = v["name"].(string)
				}
				if got != nil {
					got <- req
				}
				words := len(strings.Fields(req.Text))
				_ = StreamTone(c, tone, time.Duration(words)*tone.PerWord)
				return
			}
		}
	}
}

// StreamTone sends audio-start, a 440 Hz tone of length d in chunks, and
// audio-stop.
func StreamTone(c *Conn, tone Tone, d time.Duration) error {
	format := map[string]any{"rate": tone.Rate, "width": 2, "channels": tone.Channels}
	if err := c.WriteEvent(wyoming.Event{Type: "audio-start", Data: format}); err != nil {
		return err
	}
	frames := int(int64(d) * int64(tone.Rate) / int64(time.Second))
	for i := 0; i < frames; i += tone.Chunk {
		var s []int16
		for j := i; j < min(i+tone.Chunk, frames); j++ {
			v := int16(16384 * math.Sin(2*math.Pi*440*float64(j)/float64(tone.Rate)))
			for range tone.Channels {
				s = append(s, v)
			}
		}
		if err := c.WriteEvent(wyoming.Event{Type: "audio-chunk", Data: format, Payload: audio.Bytes(s)}); err != nil {
			return err
		}
	}
	return c.WriteEvent(wyoming.Event{Type: "audio-stop"})
}

func info(service, program, list string) wyoming.Event {
	attribution := map[string]any{"name": "os1 tests", "url": "https://example.invalid"}
	model := map[string]any{
		"name": program + "-test", "description": "test model", "languages": []string{"en"},
		"installed": true, "attribution": attribution,
	}
	return wyoming.Event{Type: "info", Data: map[string]any{
		service: []any{map[string]any{
			"name": program, "description": "wyomingtest " + service, "installed": true,
			"version": "0.0.0", "attribution": attribution, list: []any{model},
		}},
	}}
}

func num(e wyoming.Event, key string) float64 {
	v, _ := e.Data[key].(float64)
	return v
}

// isClosed is a connection the client or the test's cleanup has ended.
func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET)
}
