package openai_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/openai"
	"github.com/os1ai/os1/internal/speech/speechtest"
)

// audioAPI speaks OpenAI's audio API the way Speaches and OpenAI do. The
// transcript is "hello there" for audio that is not silent; speech is a
// 24 kHz tone lasting 250 ms per word of input.
type audioAPI struct {
	t                        *testing.T
	key                      string // required Bearer key; "" for none
	sttModel, ttsModel       string
	voice                    string
	mu                       sync.Mutex
	language                 string // of the last transcription
	transcriptions, speeches int
}

func (a *audioAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	if a.key != "" && r.Header.Get("Authorization") != "Bearer "+a.key {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
		return
	}
	switch r.URL.Path {
	case "/v1/audio/transcriptions":
		a.transcribe(w, r)
	case "/v1/audio/speech":
		a.speak(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (a *audioAPI) transcribe(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		a.t.Errorf("server: multipart: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if got := r.FormValue("model"); got != a.sttModel {
		a.t.Errorf("server: model %q, want %q", got, a.sttModel)
	}
	if got := r.FormValue("response_format"); got != "json" {
		a.t.Errorf("server: response_format %q, want json", got)
	}
	f, fh, err := r.FormFile("file")
	if err != nil {
		a.t.Errorf("server: file: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer f.Close()
	if ct := fh.Header.Get("Content-Type"); ct != "audio/wav" || !strings.HasSuffix(fh.Filename, ".wav") {
		a.t.Errorf("server: file %q of type %q", fh.Filename, ct)
	}
	raw, _ := io.ReadAll(f)
	pcm, err := audio.DecodeWAV(bytes.NewReader(raw))
	if err != nil {
		a.t.Errorf("server: WAV: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	le := binary.LittleEndian
	if ch, bits := le.Uint16(raw[22:]), le.Uint16(raw[34:]); ch != 1 || bits != 16 || pcm.Rate != 16000 {
		a.t.Errorf("server: WAV of %d channels, %d bits, %d Hz; want 16 kHz mono 16-bit", ch, bits, pcm.Rate)
	}
	a.mu.Lock()
	a.transcriptions++
	a.language = r.FormValue("language")
	a.mu.Unlock()
	text := "hello there"
	if speech.Silent(pcm) {
		text = ""
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"text": text})
}

func (a *audioAPI) speak(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Model, Input, Voice string
		Format              string `json:"response_format"`
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		a.t.Errorf("server: speech request of type %q", ct)
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		a.t.Errorf("server: speech request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if req.Model != a.ttsModel || req.Voice != a.voice || req.Format != "wav" {
		a.t.Errorf("server: model %q voice %q format %q; want %q %q wav", req.Model, req.Voice, req.Format, a.ttsModel, a.voice)
	}
	a.mu.Lock()
	a.speeches++
	a.mu.Unlock()
	words := len(strings.Fields(req.Input))
	w.Header().Set("Content-Type", "audio/wav")
	_, _ = w.Write(audio.WAV(speechtest.ToneOf(24000, 440, time.Duration(words)*250*time.Millisecond)))
}

func newAPI(t *testing.T) (*audioAPI, *httptest.Server) {
	a := &audioAPI{t: t, key: "sk-test", sttModel: "Systran/faster-whisper-small", ttsModel: "kokoro", voice: "af_heart"}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv
}

func config(url string) openai.Config {
	return openai.Config{URL: url, Key: "sk-test", STTModel: "Systran/faster-whisper-small", TTSModel: "kokoro", Voice: "af_heart"}
}

func transcriber(t *testing.T, cfg openai.Config) *openai.Transcriber {
	t.Helper()
	tr, err := openai.NewTranscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func synthesizer(t *testing.T, cfg openai.Config) *openai.Synthesizer {
	t.Helper()
	s, err := openai.NewSynthesizer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var speechPCM = speechtest.ToneOf(16000, 300, time.Second)

func TestTranscriberContract(t *testing.T) {
	speechtest.TestTranscriber(t, speechtest.TranscriberCase{
		New: func(t *testing.T) speech.Transcriber {
			_, srv := newAPI(t)
			return transcriber(t, config(srv.URL))
		},
		Speech: speechPCM,
		Words:  []string{"hello", "there"},
	})
}

func TestSynthesizerContract(t *testing.T) {
	speechtest.TestSynthesizer(t, speechtest.SynthesizerCase{
		New: func(t *testing.T) speech.Synthesizer {
			_, srv := newAPI(t)
			return synthesizer(t, config(srv.URL+"/v1/"))
		},
	})
}

func TestRequests(t *testing.T) {
	api, srv := newAPI(t)
	cfg := config(srv.URL + "/v1")
	cfg.Language = "en"
	tr := transcriber(t, cfg)
	if want := "openai " + srv.URL + " (Systran/faster-whisper-small)"; tr.Name() != want {
		t.Fatalf("Name() = %q, want %q", tr.Name(), want)
	}
	text, err := tr.Transcribe(context.Background(), speechtest.ToneOf(48000, 300, time.Second))
	if err != nil || text != "hello there" {
		t.Fatalf("Transcribe: %q, %v", text, err)
	}
	// Silence never reaches the server.
	if text, err := tr.Transcribe(context.Background(), audio.Silence(16000, time.Second)); text != "" || err != nil {
		t.Fatalf("silence: %q, %v", text, err)
	}
	api.mu.Lock()
	if api.transcriptions != 1 || api.language != "en" {
		t.Fatalf("server saw %d transcriptions, language %q", api.transcriptions, api.language)
	}
	api.mu.Unlock()

	s := synthesizer(t, cfg)
	if want := "openai " + srv.URL + " (kokoro, af_heart)"; s.Name() != want {
		t.Fatalf("Name() = %q, want %q", s.Name(), want)
	}
	pcm, err := s.Synthesize(context.Background(), "one two three four")
	if err != nil || pcm.Rate != 24000 || pcm.Duration() != time.Second {
		t.Fatalf("Synthesize: %v at %d Hz, %v", pcm.Duration(), pcm.Rate, err)
	}

	// Defaults: OpenAI's model and voice names.
	d := transcriber(t, openai.Config{URL: "https://api.openai.com/v1/"})
	if d.Name() != "openai https://api.openai.com (whisper-1)" {
		t.Fatalf("default Name() = %q", d.Name())
	}
	if n := synthesizer(t, openai.Config{URL: "https://api.openai.com"}).Name(); n != "openai https://api.openai.com (tts-1, alloy)" {
		t.Fatalf("default Name() = %q", n)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, u := range []string{"", "  ", "127.0.0.1:8000", "ftp://host", "http://"} {
		if _, err := openai.NewTranscriber(openai.Config{URL: u}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
}

// serve starts a server answering every request with h.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func reply(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func TestTranscribeAnswers(t *testing.T) {
	for _, c := range []struct {
		name     string
		h        http.HandlerFunc
		want     string
		err      error
		contains string
	}{
		{"PlainText", reply(200, "text/plain; charset=utf-8", " hello there\n"), "hello there", nil, ""},
		{"JSONWithExtras", reply(200, "application/json", `{"text":" hello there","segments":[],"language":"en"}`), "hello there", nil, ""},
		{"MalformedJSON", reply(200, "application/json", `{"text": "hel`), "", nil, "not a JSON transcript"},
		{"NoTextField", reply(200, "application/json", `{"transcript":"hello"}`), "", nil, "no text field"},
		{"TooLarge", reply(200, "application/json", `{"text":"`+strings.Repeat("a", openai.MaxJSONBytes)+`"}`), "", nil, "over 1048576 bytes"},
		{"ServerError", reply(500, "application/json", `{"error":{"message":"CUDA out of memory","type":"server_error"}}`), "", nil, "answered 500 Internal Server Error: CUDA out of memory"},
		{"FastAPIDetail", reply(422, "application/json", `{"detail":[{"loc":["body","file"],"msg":"field required"}]}`), "", nil, "field required"},
		{"PlainError", reply(400, "text/plain", "bad\n  audio"), "", nil, "400 Bad Request: bad audio"},
		{"NotFound", reply(404, "application/json", `{"detail":"Not Found"}`), "", nil, "is the URL right"},
		{"BadGateway", reply(502, "text/html", "<html>bad gateway</html>"), "", speech.ErrUnavailable, "502"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := serve(t, c.h)
			got, err := transcriber(t, openai.Config{URL: srv.URL}).Transcribe(context.Background(), speechPCM)
			if c.contains == "" && c.err == nil {
				if err != nil || got != c.want {
					t.Fatalf("got %q, %v; want %q", got, err, c.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.contains) || !strings.Contains(err.Error(), srv.URL) {
				t.Fatalf("err = %v; want it to name %s and say %q", err, srv.URL, c.contains)
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
		})
	}
}

func TestSynthesizeAnswers(t *testing.T) {
	tone := speechtest.ToneOf(22050, 440, time.Second)
	wav := audio.WAV(tone)
	raw := audio.Bytes(speechtest.ToneOf(24000, 440, time.Second).Samples)
	for _, c := range []struct {
		name     string
		h        http.HandlerFunc
		rate     int
		err      error
		contains string
	}{
		{"WAV", reply(200, "audio/wav", string(wav)), 22050, nil, ""},
		{"WAVAsOctetStream", reply(200, "application/octet-stream", string(wav)), 22050, nil, ""},
		{"StreamedWAV", reply(200, "audio/wav", string(streamedWAV(wav))), 22050, nil, ""},
		{"PCM", reply(200, "audio/pcm", string(raw)), 24000, nil, ""},
		{"PCMWithRate", reply(200, "audio/pcm; rate=16000", string(raw)), 16000, nil, ""},
		{"PCMOctetStream", reply(200, "application/octet-stream", string(raw)), 24000, nil, ""},
		{"TruncatedWAV", reply(200, "audio/wav", string(wav[:44+1001])), 0, audio.ErrTruncated, "WAV answer cannot be read"},
		{"HeaderOnly", reply(200, "audio/wav", string(wav[:20])), 0, audio.ErrTruncated, "WAV answer cannot be read"},
		{"MP3", reply(200, "audio/mpeg", "ID3\x04\x00"), 0, nil, "audio/mpeg, not WAV"},
		{"JSON", reply(200, "application/json", `{"audio":"..."}`), 0, nil, "application/json, not WAV"},
		{"Empty", reply(200, "audio/pcm", ""), 0, nil, "no audio"},
		{"ServerError", reply(500, "application/json", `{"error":{"message":"voice af_nope not found"}}`), 0, nil, "500 Internal Server Error: voice af_nope not found"},
		{"OldStyleError", reply(400, "application/json", `{"error":"input too long"}`), 0, nil, "input too long"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := serve(t, c.h)
			pcm, err := synthesizer(t, openai.Config{URL: srv.URL}).Synthesize(context.Background(), "hello there")
			if c.contains == "" {
				if err != nil || pcm.Rate != c.rate || pcm.Duration() < 900*time.Millisecond {
					t.Fatalf("got %v at %d Hz, %v; want about 1s at %d Hz", pcm.Duration(), pcm.Rate, err, c.rate)
				}
				if rms := audio.RMS(pcm.Samples); rms < 0.3 {
					t.Fatalf("rms %.3f: samples decoded wrongly", rms)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.contains) || !strings.Contains(err.Error(), srv.URL) {
				t.Fatalf("err = %v; want it to name %s and say %q", err, srv.URL, c.contains)
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
		})
	}
}

// streamedWAV marks the sizes unknown, as servers streaming WAV do.
func streamedWAV(wav []byte) []byte {
	b := bytes.Clone(wav)
	binary.LittleEndian.PutUint32(b[4:], 0xFFFFFFFF)
	binary.LittleEndian.PutUint32(b[40:], 0xFFFFFFFF)
	return b
}

func TestKey(t *testing.T) {
	_, srv := newAPI(t)
	cfg := config(srv.URL)
	cfg.Key = ""
	_, err := transcriber(t, cfg).Transcribe(context.Background(), speechPCM)
	var serr *openai.StatusError
	if !errors.As(err, &serr) || serr.Status != 401 || !strings.Contains(err.Error(), "wants an API key and none is set") ||
		!strings.Contains(err.Error(), "Incorrect API key provided") {
		t.Fatalf("no key: err = %v", err)
	}
	cfg.Key = "sk-wrong"
	_, err = synthesizer(t, cfg).Synthesize(context.Background(), "hello")
	if !errors.As(err, &serr) || serr.Status != 401 || !strings.Contains(err.Error(), "refused the API key") {
		t.Fatalf("wrong key: err = %v", err)
	}
	if strings.Contains(err.Error(), "sk-wrong") {
		t.Fatalf("the error shows the key: %v", err)
	}
}

// retrying answers with the given statuses first, then like audioAPI.
type retrying struct {
	api        http.Handler
	mu         sync.Mutex
	statuses   []int
	retryAfter string
	requests   int
}

func (r *retrying) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests++
	var status int
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	r.mu.Unlock()
	if status == 0 {
		r.api.ServeHTTP(w, req)
		return
	}
	_, _ = io.Copy(io.Discard, req.Body)
	if r.retryAfter != "" {
		w.Header().Set("Retry-After", r.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"message":"slow down (%d)"}}`, status)
}

func TestRetry(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name       string
		statuses   []int
		retryAfter string
		waits      []time.Duration
		requests   int
		ok         bool
		contains   string
	}{
		{"429ThenSuccess", []int{429}, "1", []time.Duration{time.Second}, 2, true, ""},
		{"503ThenSuccessDate", []int{503}, now.Add(2 * time.Second).Format(http.TimeFormat), []time.Duration{2 * time.Second}, 2, true, ""},
		{"NoRetryAfter", []int{429}, "", []time.Duration{500 * time.Millisecond}, 2, true, ""},
		{"OnlyOnce", []int{503, 503}, "0", []time.Duration{0}, 2, false, "503 Service Unavailable: slow down (503)"},
		{"WaitTooLong", []int{429}, "30", nil, 1, false, "retry after 30s"},
		{"NotOn500", []int{500}, "1", nil, 1, false, "500"},
	} {
		t.Run(c.name, func(t *testing.T) {
			api, _ := newAPI(t)
			r := &retrying{api: api, statuses: c.statuses, retryAfter: c.retryAfter}
			srv := httptest.NewServer(r)
			t.Cleanup(srv.Close)
			var waits []time.Duration
			cfg := config(srv.URL)
			cfg.Clock = clock.NewFake(now)
			cfg.Sleep = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			_, err := synthesizer(t, cfg).Synthesize(context.Background(), "hello there")
			if c.ok != (err == nil) || (!c.ok && !strings.Contains(err.Error(), c.contains)) {
				t.Fatalf("err = %v; want ok %v or %q", err, c.ok, c.contains)
			}
			r.mu.Lock()
			requests := r.requests
			r.mu.Unlock()
			if fmt.Sprint(waits) != fmt.Sprint(c.waits) || requests != c.requests {
				t.Fatalf("waited %v over %d requests; want %v over %d", waits, requests, c.waits, c.requests)
			}
		})
	}
	t.Run("CanceledWhileWaiting", func(t *testing.T) {
		api, _ := newAPI(t)
		srv := httptest.NewServer(&retrying{api: api, statuses: []int{429}, retryAfter: "1"})
		t.Cleanup(srv.Close)
		ctx, cancel := context.WithCancel(context.Background())
		cfg := config(srv.URL)
		cfg.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); <-ctx.Done(); return ctx.Err() }
		_, err := transcriber(t, cfg).Transcribe(ctx, speechPCM)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want Canceled", err)
		}
	})
}

func TestServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	_, err = transcriber(t, openai.Config{URL: url}).Transcribe(context.Background(), speechPCM)
	if !errors.Is(err, speech.ErrUnavailable) || !strings.Contains(err.Error(), url) {
		t.Fatalf("err = %v, want ErrUnavailable naming %s", err, url)
	}
	_, err = synthesizer(t, openai.Config{URL: url}).Synthesize(context.Background(), "hello")
	if !errors.Is(err, speech.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestNoAnswer(t *testing.T) {
	// The server notices a client hanging up only once it has read the body.
	hang := serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	})
	t.Run("CallerDeadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := transcriber(t, openai.Config{URL: hang.URL}).Transcribe(ctx, speechPCM)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
	})
	t.Run("CallerCancels", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := synthesizer(t, openai.Config{URL: hang.URL}).Synthesize(ctx, "hello")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want Canceled", err)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		_, err := synthesizer(t, openai.Config{URL: hang.URL, Timeout: 50 * time.Millisecond}).Synthesize(context.Background(), "hello")
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 50ms") {
			t.Fatalf("err = %v, want a timeout", err)
		}
	})
	t.Run("StallsMidBody", func(t *testing.T) {
		srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "audio/wav")
			_, _ = w.Write(audio.WAV(speechtest.ToneOf(24000, 440, time.Second))[:1000])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		})
		_, err := synthesizer(t, openai.Config{URL: srv.URL, Timeout: 100 * time.Millisecond}).Synthesize(context.Background(), "hello")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a timeout", err)
		}
	})
}
