package voice

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/speechtest"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// rec is one frame the client received.
type rec struct {
	Type  string
	JSON  map[string]any
	Event companion.Event
	PCM   []byte
	At    time.Time // wall clock, for benchmarks
}

func (r rec) str(k string) string { s, _ := r.JSON[k].(string); return s }
func (r rec) num(k string) int64  { f, _ := r.JSON[k].(float64); return int64(f) }

// recSink records what a session sends.
type recSink struct {
	mu     sync.Mutex
	frames []rec
	wake   chan struct{}
}

func newRecSink() *recSink { return &recSink{wake: make(chan struct{}, 1)} }

func (r *recSink) add(f rec) {
	f.At = time.Now()
	r.mu.Lock()
	r.frames = append(r.frames, f)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recSink) JSON(_ context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	r.add(rec{Type: m["type"].(string), JSON: m})
	return nil
}

func (r *recSink) Event(_ context.Context, ev companion.Event) error {
	r.add(rec{Type: string(ev.Type), Event: ev})
	return nil
}

func (r *recSink) Binary(_ context.Context, b []byte) error {
	r.add(rec{Type: "binary", PCM: slices.Clone(b)})
	return nil
}

func (r *recSink) all() []rec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.frames)
}

// of returns the frames of a type (and, when match is set, that match).
func (r *recSink) of(typ string, match func(rec) bool) []rec {
	var out []rec
	for _, f := range r.all() {
		if f.Type == typ && (match == nil || match(f)) {
			out = append(out, f)
		}
	}
	return out
}

// wait waits until the n-th frame of a type (matching match) has arrived.
func (r *recSink) wait(t testing.TB, typ string, n int, match func(rec) bool) rec {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if got := r.of(typ, match); len(got) >= n {
			return got[n-1]
		}
		select {
		case <-r.wake:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %d× %q frame; got %s", n, typ, r.types())
		}
	}
}

func (r *recSink) types() string {
	var s []string
	for _, f := range r.all() {
		s = append(s, f.Type)
	}
	return strings.Join(s, " ")
}

func (r *recSink) errors() []string {
	var out []string
	for _, f := range r.of("error", nil) {
		if f.JSON != nil {
			e := f.JSON["error"].(map[string]any)
			out = append(out, e["code"].(string))
		}
	}
	return out
}

func isFinal(f rec) bool   { b, _ := f.JSON["final"].(bool); return b }
func isPartial(f rec) bool { return !isFinal(f) }

// fixedModel hands out one provider.
type fixedModel struct{ p llm.Provider }

func (f fixedModel) Provider(context.Context) (llm.Provider, error) { return f.p, nil }

// harness is a pipeline wired to a real companion (SQLite in a temp dir,
// the scripted model server behind the real OpenAI-compatible client) with
// engines of fixed latency and a fake clock.
type harness struct {
	t     testing.TB
	db    *sqlite.DB
	llm   *llmtest.Server
	comp  *companion.Companion
	clock *clock.Fake
	p     *Pipeline
	user  store.User
	obs   *countObserver
}

type countObserver struct {
	mu     sync.Mutex
	stages map[string][]time.Duration
	barge  map[string]int
	errs   map[string]int
}

func (o *countObserver) VoiceStage(s string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stages[s] = append(o.stages[s], d)
}

func (o *countObserver) VoiceBargeIn(by string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.barge[by]++
}

func (o *countObserver) Error(kind string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs[kind]++
}

func (o *countObserver) bargeIns(by string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.barge[by]
}

type harnessOpts struct {
	stt       speech.Transcriber
	tts       speech.Synthesizer
	o         Options
	realClock bool
}

func newHarness(t testing.TB, ho harnessOpts) *harness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir()+"/os1.db")
	if err != nil {
		t.Fatal(err)
	}
	srv := llmtest.NewServer(t)
	h := &harness{t: t, db: db, llm: srv, clock: clock.NewFake(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)),
		obs: &countObserver{stages: map[string][]time.Duration{}, barge: map[string]int{}, errs: map[string]int{}}}
	var clk clock.Clock = h.clock
	if ho.realClock {
		clk = clock.System{}
	}
	prov := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "m", Transport: llm.Transport{MaxRetries: -1, IdleTimeout: 5 * time.Second}})
	h.comp = companion.New(companion.Deps{Store: db, Models: fixedModel{prov}, Clock: clk}, companion.Options{FlushEvery: 10 * time.Millisecond})
	t.Cleanup(func() {
		h.comp.Close()
		db.Close()
	})
	h.user = store.User{ID: "usr_theo", Username: "theo", DisplayName: "Theodore", Role: store.RoleOwner, PasswordHash: "x", CreatedAt: time.Now()}
	if err := db.CreateUser(ctx, h.user); err != nil {
		t.Fatal(err)
	}
	if ho.stt == nil {
		ho.stt = &speechtest.Fixed{Text: "Hello there."}
	}
	if ho.tts == nil {
		ho.tts = &speechtest.Tone{}
	}
	h.p = New(Deps{Companion: h.comp, Conversations: db, STT: ho.stt, TTS: ho.tts, Clock: clk, Observer: h.obs}, ho.o)
	return h
}

// call is a session with a recording sink.
type call struct {
	h    *harness
	s    *Session
	sink *recSink
	rate int
}

func (h *harness) call(start map[string]any) *call {
	h.t.Helper()
	sink := newRecSink()
	c := &call{h: h, s: h.p.Call(h.user.ID, sink), sink: sink, rate: 16000}
	h.t.Cleanup(c.s.Close)
	if start != nil {
		if r, ok := start["sample_rate"].(int); ok {
			c.rate = r
		}
		c.text(start)
		if _, ok := start["sample_rate"]; ok {
			c.sink.wait(h.t, "ready", 1, nil)
		}
	}
	return c
}

func (c *call) text(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		c.h.t.Fatal(err)
	}
	return c.s.Text(context.Background(), b)
}

// feed sends pcm in 20 ms frames, moving the fake clock 20 ms before each.
func (c *call) feed(pcm audio.PCM) {
	pcm = audio.Resample(pcm, c.rate)
	n := int(int64(c.rate) * int64(FrameDuration) / int64(time.Second))
	for i := 0; i+n <= len(pcm.Samples); i += n {
		c.h.clock.Advance(FrameDuration)
		c.s.Binary(audio.Bytes(pcm.Samples[i : i+n]))
	}
}

// feedUntil feeds silence frame by frame until cond holds, for at most d.
func (c *call) feedUntil(d time.Duration, cond func() bool) bool {
	for t := time.Duration(0); t < d; t += FrameDuration {
		if cond() {
			return true
		}
		c.feed(audio.Silence(c.rate, FrameDuration))
	}
	return cond()
}

// say feeds a tone "utterance" and then silence until the server VAD
// hears it stop and the speculative transcript is in.
func (c *call) say(d time.Duration) {
	c.h.t.Helper()
	c.feed(speechtest.ToneOf(c.rate, 300, d))
	speaking := func() bool {
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		return c.s.vad.speaking
	}
	if !speaking() {
		c.h.t.Fatalf("the VAD did not hear the speech: %s", c.sink.types())
	}
	if !c.feedUntil(time.Second, func() bool { return !speaking() }) {
		c.h.t.Fatalf("the VAD did not hear the speech end: %s", c.sink.types())
	}
}

// messages returns the conversation's stored messages.
func (h *harness) messages(conv string) []store.Message {
	h.t.Helper()
	ms, err := h.db.Messages(context.Background(), h.user.ID, conv)
	if err != nil {
		h.t.Fatal(err)
	}
	return ms
}

// noise is deterministic low noise (about -60 dBFS).
func noise(rate int, d time.Duration, seed uint64) audio.PCM {
	r := rand.New(rand.NewPCG(seed, 1))
	s := make([]int16, int(int64(rate)*int64(d)/int64(time.Second)))
	for i := range s {
		s[i] = int16(r.IntN(81) - 40)
	}
	return audio.PCM{Rate: rate, Samples: s}
}

// voice is a signal unlike the synthesizer's tone: two tones, 440 and
// 660 Hz, swelling four times a second.
func otherVoice(rate int, d time.Duration) audio.PCM {
	s := make([]int16, int(int64(rate)*int64(d)/int64(time.Second)))
	for i := range s {
		t := float64(i) / float64(rate)
		env := 0.6 + 0.4*math.Sin(2*math.Pi*4*t)
		s[i] = int16(8000 * env * (math.Sin(2*math.Pi*440*t) + math.Sin(2*math.Pi*660*t)))
	}
	return audio.PCM{Rate: rate, Samples: s}
}

// mix adds b (scaled) to a, starting at offset.
func mix(a audio.PCM, b audio.PCM, scale float64, offset time.Duration) audio.PCM {
	out := audio.PCM{Rate: a.Rate, Samples: slices.Clone(a.Samples)}
	b = audio.Resample(b, a.Rate)
	off := int(int64(a.Rate) * int64(offset) / int64(time.Second))
	for i, v := range b.Samples {
		if j := off + i; j >= 0 && j < len(out.Samples) {
			out.Samples[j] = int16(max(-32768, min(32767, float64(out.Samples[j])+scale*float64(v))))
		}
	}
	return out
}

// percentiles reports p50 and p95 of ds in milliseconds.
func percentiles(ds []time.Duration) (p50, p95 float64) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return float64(s[max(0, i)].Microseconds()) / 1000
	}
	return at(0.5), at(0.95)
}
