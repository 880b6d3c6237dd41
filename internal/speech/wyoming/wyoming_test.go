package wyoming_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/speechtest"
	"github.com/os1ai/os1/internal/speech/wyoming"
	"github.com/os1ai/os1/internal/speech/wyoming/wyomingtest"
)

func transcriber(t *testing.T, cfg wyoming.Config) *wyoming.Transcriber {
	t.Helper()
	tr, err := wyoming.NewTranscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func synthesizer(t *testing.T, cfg wyoming.Config) *wyoming.Synthesizer {
	t.Helper()
	s, err := wyoming.NewSynthesizer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var speechPCM = speechtest.ToneOf(16000, 300, time.Second)

func TestTranscriberContract(t *testing.T) {
	speechtest.TestTranscriber(t, speechtest.TranscriberCase{
		New: func(t *testing.T) speech.Transcriber {
			srv := wyomingtest.NewServer(t, wyomingtest.ASR(t, nil))
			return transcriber(t, wyoming.Config{URL: srv.URL})
		},
		Speech: speechPCM,
		Words:  []string{"hello", "there"},
	})
}

func TestSynthesizerContract(t *testing.T) {
	speechtest.TestSynthesizer(t, speechtest.SynthesizerCase{
		New: func(t *testing.T) speech.Synthesizer {
			srv := wyomingtest.NewServer(t, wyomingtest.TTS(t, wyomingtest.Tone{}, nil))
			return synthesizer(t, wyoming.Config{URL: srv.URL})
		},
	})
}

func TestTranscribeSendsRequest(t *testing.T) {
	got := make(chan wyomingtest.Transcribe, 1)
	srv := wyomingtest.NewServer(t, wyomingtest.ASR(t, got))
	tr := transcriber(t, wyoming.Config{URL: strings.TrimPrefix(srv.URL, "tcp://"), Model: "tiny-int8", Language: "de"})
	if want := "wyoming " + srv.URL; tr.Name() != want {
		t.Fatalf("Name() = %q, want %q", tr.Name(), want)
	}
	in := speechtest.ToneOf(44100, 300, 1500*time.Millisecond)
	text, err := tr.Transcribe(context.Background(), in)
	if err != nil || text != wyomingtest.Heard {
		t.Fatalf("Transcribe: %q, %v", text, err)
	}
	req := <-got
	if req.Model != "tiny-int8" || req.Language != "de" {
		t.Fatalf("server got model %q language %q", req.Model, req.Language)
	}
	if d := req.Audio.Duration(); d < 1490*time.Millisecond || d > 1510*time.Millisecond {
		t.Fatalf("server got %v of audio, want 1.5s", d)
	}
	// Silence never reaches the server.
	if text, err := tr.Transcribe(context.Background(), audio.Silence(16000, time.Second)); text != "" || err != nil {
		t.Fatalf("silence: %q, %v", text, err)
	}
	if n := srv.Accepted(); n != 1 {
		t.Fatalf("server accepted %d connections, want 1", n)
	}
}

func TestTranscribeChunks(t *testing.T) {
	chunks := make(chan []int, 1)
	srv := wyomingtest.NewServer(t, func(c *wyomingtest.Conn) {
		var sizes []int
		for {
			e, err := c.ReadEvent()
			if err != nil {
				return
			}
			switch e.Type {
			case "audio-chunk":
				sizes = append(sizes, len(e.Payload))
			case "audio-stop":
				chunks <- sizes
				// Servers stream other events before the transcript; the
				// client skips them.
				_ = c.WriteEvent(wyoming.Event{Type: "transcript-start"})
				_ = c.WriteEvent(wyoming.Event{Type: "transcript-chunk", Data: map[string]any{"text": "hel"}})
				_ = c.WriteEvent(wyoming.Event{Type: "transcript", Data: map[string]any{"text": " hello there \n"}})
				return
			}
		}
	})
	text, err := transcriber(t, wyoming.Config{URL: srv.URL}).Transcribe(context.Background(), speechtest.ToneOf(16000, 300, 250*time.Millisecond))
	if err != nil || text != "hello there" {
		t.Fatalf("Transcribe: %q, %v", text, err)
	}
	sizes := <-chunks
	if want := []int{3200, 3200, 1600}; len(sizes) != 3 || sizes[0] != want[0] || sizes[1] != want[1] || sizes[2] != want[2] {
		t.Fatalf("chunks of %v bytes, want %v", sizes, want)
	}
}

func TestSynthesize(t *testing.T) {
	for _, c := range []struct {
		name string
		tone wyomingtest.Tone
	}{
		{"Piper", wyomingtest.Tone{}},
		{"StereoOddChunks", wyomingtest.Tone{Rate: 16000, Channels: 2, Chunk: 333}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := make(chan wyomingtest.Synthesize, 1)
			srv := wyomingtest.NewServer(t, wyomingtest.TTS(t, c.tone, got))
			s := synthesizer(t, wyoming.Config{URL: srv.URL, Voice: "en_US-lessac-medium"})
			pcm, err := s.Synthesize(context.Background(), "one two three four")
			if err != nil {
				t.Fatal(err)
			}
			rate := c.tone.Rate
			if rate == 0 {
				rate = 22050
			}
			if pcm.Rate != rate || pcm.Duration() != time.Second {
				t.Fatalf("got %v at %d Hz, want 1s at %d Hz", pcm.Duration(), pcm.Rate, rate)
			}
			if rms := audio.RMS(pcm.Samples); rms < 0.3 || rms > 0.4 {
				t.Fatalf("rms %.3f, want a half-scale sine (0.354)", rms)
			}
			if req := <-got; req.Text != "one two three four" || req.Voice != "en_US-lessac-medium" {
				t.Fatalf("server got %+v", req)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	asr := wyomingtest.NewServer(t, wyomingtest.ASR(t, nil))
	info, err := transcriber(t, wyoming.Config{URL: asr.URL}).Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.ASR) != 1 || len(info.ASR[0].Models) != 1 || info.ASR[0].Models[0].Name != "faster-whisper-test" || info.ASR[0].Models[0].Languages[0] != "en" {
		t.Fatalf("asr info %+v", info)
	}
	tts := wyomingtest.NewServer(t, wyomingtest.TTS(t, wyomingtest.Tone{}, nil))
	info, err = synthesizer(t, wyoming.Config{URL: tts.URL}).Describe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.TTS) != 1 || info.TTS[0].Name != "piper" || len(info.TTS[0].Voices) != 1 || !info.TTS[0].Voices[0].Installed {
		t.Fatalf("tts info %+v", info)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []struct{ url, name, err string }{
		{"127.0.0.1:10300", "wyoming tcp://127.0.0.1:10300", ""},
		{" tcp://whisper.lan:10300 ", "wyoming tcp://whisper.lan:10300", ""},
		{"tcp://[::1]:10200", "wyoming tcp://[::1]:10200", ""},
		{"unix:///run/piper.sock", "wyoming unix:///run/piper.sock", ""},
		{"", "", "no server URL"},
		{"tcp://whisper.lan", "", "needs a host and a port"},
		{"http://whisper.lan:10300", "", `scheme "http"`},
		{"unix://", "", "socket path"},
	} {
		tr, err := wyoming.NewTranscriber(wyoming.Config{URL: c.url})
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("URL %q: err = %v, want %q", c.url, err, c.err)
			}
			continue
		}
		if err != nil || tr.Name() != c.name {
			t.Errorf("URL %q: Name %q, err %v; want %q", c.url, tr.Name(), err, c.name)
		}
	}
}

// hang reads and ignores everything until the client hangs up.
func hang(c *wyomingtest.Conn) {
	for {
		if _, err := c.ReadEvent(); err != nil {
			return
		}
	}
}

// answer returns a handler that reads the request up to its last event and
// then runs reply.
func answer(reply func(c *wyomingtest.Conn)) wyomingtest.Handler {
	return func(c *wyomingtest.Conn) {
		for {
			e, err := c.ReadEvent()
			if err != nil {
				return
			}
			if e.Type == "audio-stop" || e.Type == "synthesize" {
				reply(c)
				return
			}
		}
	}
}

func TestErrors(t *testing.T) {
	tone := wyomingtest.Tone{Rate: 16000, Channels: 1, Chunk: 1024}
	cases := []struct {
		name    string
		handler wyomingtest.Handler
		want    error
		msg     string
		speak   bool // Synthesize rather than Transcribe
	}{
		{"ClosesBeforeTranscript", answer(func(*wyomingtest.Conn) {}), io.ErrUnexpectedEOF, "before the transcript", false},
		{"ClosesMidAudio", answer(func(c *wyomingtest.Conn) {
			_ = c.WriteEvent(wyoming.Event{Type: "audio-start", Data: map[string]any{"rate": 16000, "width": 2, "channels": 1}})
			_ = c.WriteEvent(wyoming.Event{Type: "audio-chunk", Data: map[string]any{"rate": 16000, "width": 2, "channels": 1}, Payload: make([]byte, 640)})
		}), io.ErrUnexpectedEOF, "before audio-stop", true},
		{"ClosesInsidePayload", answer(func(c *wyomingtest.Conn) {
			_, _ = io.WriteString(c, `{"type":"transcript","payload_length":100}`+"\nabc")
		}), io.ErrUnexpectedEOF, "payload of a transcript event", false},
		{"MalformedHeader", answer(func(c *wyomingtest.Conn) {
			_, _ = io.WriteString(c, "<html>not wyoming</html>\n")
		}), wyoming.ErrProtocol, "header line is not JSON", false},
		{"OversizedPayload", answer(func(c *wyomingtest.Conn) {
			_, _ = io.WriteString(c, `{"type":"audio-chunk","payload_length":4294967296}`+"\n")
		}), wyoming.ErrProtocol, "payload of 4294967296 bytes", false},
		{"ErrorEvent", answer(func(c *wyomingtest.Conn) {
			_ = c.WriteEvent(wyoming.Event{Type: "error", Data: map[string]any{"text": "model tiny not found", "code": "model-missing"}})
		}), wyoming.ErrServer, "model tiny not found (code model-missing)", false},
		{"ErrorEventAtOnce", func(c *wyomingtest.Conn) {
			// A server that fails before reading the audio: its error, not a
			// broken pipe, is what the user sees.
			_, _ = c.ReadEvent()
			_ = c.WriteEvent(wyoming.Event{Type: "error", Data: map[string]any{"text": "busy"}})
			hang(c) // closing with unread audio would reset the connection
		}, wyoming.ErrServer, "busy", false},
	}
	long := speechtest.ToneOf(16000, 300, 60*time.Second) // more than socket buffers hold
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := wyomingtest.NewServer(t, c.handler)
			cfg := wyoming.Config{URL: srv.URL}
			var err error
			if c.speak {
				_, err = synthesizer(t, cfg).Synthesize(context.Background(), "hello")
			} else {
				_, err = transcriber(t, cfg).Transcribe(context.Background(), long)
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), srv.URL) {
				t.Fatalf("err = %v, want it to name %s and say %q", err, srv.URL, c.msg)
			}
		})
	}
	t.Run("SynthesizeErrorEvent", func(t *testing.T) {
		srv := wyomingtest.NewServer(t, answer(func(c *wyomingtest.Conn) {
			_ = c.WriteEvent(wyoming.Event{Type: "error", Data: map[string]any{"text": "voice xx not found"}})
		}))
		_, err := synthesizer(t, wyoming.Config{URL: srv.URL, Voice: "xx"}).Synthesize(context.Background(), "hello")
		if !errors.Is(err, wyoming.ErrServer) || !strings.Contains(err.Error(), "voice xx not found") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("UnsupportedWidth", func(t *testing.T) {
		srv := wyomingtest.NewServer(t, answer(func(c *wyomingtest.Conn) {
			_ = c.WriteEvent(wyoming.Event{Type: "audio-start", Data: map[string]any{"rate": 16000, "width": 4, "channels": 1}})
		}))
		_, err := synthesizer(t, wyoming.Config{URL: srv.URL}).Synthesize(context.Background(), "hello")
		if !errors.Is(err, wyoming.ErrProtocol) || !strings.Contains(err.Error(), "samples of 4 bytes") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("FormatChangesMidStream", func(t *testing.T) {
		srv := wyomingtest.NewServer(t, answer(func(c *wyomingtest.Conn) {
			_ = wyomingtest.StreamTone(c, tone, 100*time.Millisecond)
		}))
		// StreamTone is well formed; the stream below is not.
		if _, err := synthesizer(t, wyoming.Config{URL: srv.URL}).Synthesize(context.Background(), "hello"); err != nil {
			t.Fatal(err)
		}
		srv = wyomingtest.NewServer(t, answer(func(c *wyomingtest.Conn) {
			_ = c.WriteEvent(wyoming.Event{Type: "audio-start", Data: map[string]any{"rate": 16000, "width": 2, "channels": 1}})
			_ = c.WriteEvent(wyoming.Event{Type: "audio-chunk", Data: map[string]any{"rate": 22050, "width": 2, "channels": 1}, Payload: make([]byte, 64)})
		}))
		if _, err := synthesizer(t, wyoming.Config{URL: srv.URL}).Synthesize(context.Background(), "hello"); !errors.Is(err, wyoming.ErrProtocol) {
			t.Fatalf("err = %v, want ErrProtocol", err)
		}
	})
	t.Run("NoAudio", func(t *testing.T) {
		srv := wyomingtest.NewServer(t, answer(func(c *wyomingtest.Conn) {
			_ = wyomingtest.StreamTone(c, tone, 0)
		}))
		_, err := synthesizer(t, wyoming.Config{URL: srv.URL}).Synthesize(context.Background(), "hello")
		if err == nil || !strings.Contains(err.Error(), "no audio") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = transcriber(t, wyoming.Config{URL: addr}).Transcribe(context.Background(), speechPCM)
	if !errors.Is(err, speech.ErrUnavailable) || !strings.Contains(err.Error(), "tcp://"+addr) {
		t.Fatalf("err = %v, want ErrUnavailable naming tcp://%s", err, addr)
	}
	_, err = synthesizer(t, wyoming.Config{URL: addr}).Synthesize(context.Background(), "hello")
	if !errors.Is(err, speech.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestNoAnswer(t *testing.T) {
	srv := wyomingtest.NewServer(t, hang)
	t.Run("CallerDeadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := transcriber(t, wyoming.Config{URL: srv.URL}).Transcribe(ctx, speechPCM)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
	})
	t.Run("CallerCancels", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := synthesizer(t, wyoming.Config{URL: srv.URL}).Synthesize(ctx, "hello")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want Canceled", err)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		s := synthesizer(t, wyoming.Config{URL: srv.URL, Timeout: 50 * time.Millisecond})
		_, err := s.Synthesize(context.Background(), "hello")
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 50ms") {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if _, err := s.Describe(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Describe: err = %v, want a timeout", err)
		}
	})
}
