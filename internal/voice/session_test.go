package voice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/speechtest"
	"github.com/os1ai/os1/internal/store"
)

var start16k = map[string]any{"type": "start", "sample_rate": 16000, "output_rate": 24000}

// convOf is the conversation a call's first turn ran in.
func (c *call) conv() string {
	c.h.t.Helper()
	return c.sink.wait(c.h.t, string(companion.EvConversation), 1, nil).Event.ConversationID
}

// speakAndWait says something and waits for the speculative transcript, so
// that the fake clock decides the end of the turn alone.
func (c *call) speakAndWait(d time.Duration) {
	c.h.t.Helper()
	n := len(c.sink.of("transcript", isPartial))
	c.say(d)
	c.sink.wait(c.h.t, "transcript", n+1, isPartial)
}

func TestCallServerVAD(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Hello", " to you. ", "How are you", " today?"}})
	c := h.call(start16k)
	ready := c.sink.wait(t, "ready", 1, nil)
	if ready.num("input_rate") != 16000 || ready.num("output_rate") != 24000 || ready.str("stt") != "fixed" || ready.str("tts") != "tone" || ready.str("vad") != "server" {
		t.Fatalf("ready %+v", ready.JSON)
	}
	c.feed(noise(16000, 300*time.Millisecond, 1))
	c.speakAndWait(500 * time.Millisecond)
	c.feedUntil(2*time.Second, func() bool { return len(c.sink.of("transcript", isFinal)) > 0 })
	if tr := c.sink.wait(t, "transcript", 1, isFinal); tr.str("text") != "Hello there." {
		t.Fatalf("final transcript %+v", tr.JSON)
	}
	tl := c.sink.wait(t, "timeline", 1, nil)
	conv := c.conv()

	// Every sentence came as an audio frame and its PCM, in order, then audio_done.
	frames := c.sink.all()
	var order []string
	var texts []string
	for i, f := range frames {
		switch f.Type {
		case "audio":
			if frames[i+1].Type != "binary" {
				t.Fatalf("audio frame not followed by its PCM: %s", c.sink.types())
			}
			words := len(strings.Fields(f.str("text")))
			wantSamples := words * 24000 / 4 // the tone speaks 250 ms a word
			if f.num("samples") != int64(wantSamples) || len(frames[i+1].PCM) != 2*wantSamples || f.num("sample_rate") != 24000 {
				t.Errorf("audio %q: %d samples, %d bytes at %d Hz; want %d samples", f.str("text"), f.num("samples"), len(frames[i+1].PCM), f.num("sample_rate"), wantSamples)
			}
			texts = append(texts, f.str("text"))
			order = append(order, fmt.Sprint(f.num("seq"), "@", f.num("offset_ms")))
		case "audio_done", "transcript", "user_message":
			order = append(order, f.Type)
		}
	}
	if got := strings.Join(texts, "|"); got != "Hello to you.|How are you today?" {
		t.Fatalf("spoken sentences %q", got)
	}
	if got := strings.Join(order, " "); got != "transcript transcript user_message 0@0 1@750 audio_done" {
		t.Fatalf("frames %s", got)
	}
	if tl.num("end_of_turn_ms") != 600 || tl.num("transcript_ms") != 600 || tl.JSON["speech_end_ms"] != 0.0 || tl.JSON["first_audio_ms"] == nil || tl.JSON["first_token_ms"] == nil {
		t.Fatalf("timeline %+v", tl.JSON)
	}
	msgs := h.messages(conv)
	if len(msgs) != 2 || msgs[0].Content != "Hello there." || msgs[0].Role != store.RoleUser ||
		msgs[1].Content != "Hello to you. How are you today?" || msgs[1].Status != store.StatusComplete {
		t.Fatalf("stored %+v", msgs)
	}
	if tl.str("message_id") != msgs[1].ID {
		t.Fatalf("timeline for %q, reply is %q", tl.str("message_id"), msgs[1].ID)
	}
	if n := len(h.obs.stages[StageFirstAudio]); n != 1 {
		t.Fatalf("first_audio observed %d times", n)
	}
	if errs := c.sink.errors(); len(errs) > 0 {
		t.Fatalf("errors %v", errs)
	}
}

func TestGraceGrowsMidSentence(t *testing.T) {
	for _, tc := range []struct {
		said string
		want int64
	}{
		{"Hello there.", 600},
		{"I was thinking that", 1500},
		{"So, um", 1500},
	} {
		t.Run(tc.said, func(t *testing.T) {
			h := newHarness(t, harnessOpts{stt: &speechtest.Fixed{Text: tc.said}})
			h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Go on."}})
			c := h.call(start16k)
			c.speakAndWait(400 * time.Millisecond)
			c.feedUntil(3*time.Second, func() bool { return len(c.sink.of("transcript", isFinal)) > 0 })
			tl := c.sink.wait(t, "timeline", 1, nil)
			if got := tl.num("end_of_turn_ms"); got != tc.want {
				t.Fatalf("the turn ended %d ms after the speech, want %d", got, tc.want)
			}
		})
	}
}

func TestSpeechResumingContinuesTheUtterance(t *testing.T) {
	// The transcript tells how much audio was transcribed.
	stt := &speechtest.Fixed{Func: func(p audio.PCM) string {
		return fmt.Sprintf("%d tenths.", p.Duration()/(100*time.Millisecond))
	}}
	h := newHarness(t, harnessOpts{stt: stt})
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Yes."}})
	c := h.call(start16k)
	c.speakAndWait(500 * time.Millisecond)
	c.feed(audio.Silence(16000, 100*time.Millisecond)) // within the grace
	c.say(500 * time.Millisecond)
	c.feedUntil(3*time.Second, func() bool { return len(c.sink.of("transcript", isFinal)) > 0 })
	final := c.sink.wait(t, "transcript", 1, isFinal)
	// Alone, each part is 0.3 s of pre-roll, 0.5 s of speech and 0.2 s of hangover.
	var tenths int
	if _, err := fmt.Sscanf(final.str("text"), "%d tenths.", &tenths); err != nil || tenths < 15 {
		t.Fatalf("final transcript %q: both parts should be one utterance", final.str("text"))
	}
	c.sink.wait(t, "turn_done", 1, nil)
	if n := len(h.messages(c.conv())); n != 2 {
		t.Fatalf("%d messages stored, want one turn", n)
	}
}

// startReply says something and waits until the reply's first sentences
// are out, with the model held after holdAfter chunks.
func (c *call) startHeldReply(chunks []string, holdAfter int, wantAudio int) *llmtest.Gate {
	c.h.t.Helper()
	gate := llmtest.NewGate()
	c.h.t.Cleanup(gate.Release)
	c.h.llm.Enqueue(llmtest.Reply{Chunks: chunks, Hold: gate, HoldAfter: holdAfter})
	c.speakAndWait(400 * time.Millisecond)
	c.feedUntil(2*time.Second, func() bool { return len(c.sink.of("transcript", isFinal)) > 0 })
	<-gate.Reached()
	c.sink.wait(c.h.t, "binary", wantAudio, nil)
	c.audioSent()
	return gate
}

// audioSent waits until the session has noted the sending of all the
// speech queued so far.
func (c *call) audioSent() {
	c.h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c.s.mu.Lock()
		unsent := c.s.reply != nil && c.s.reply.unsent > 0
		c.s.mu.Unlock()
		if !unsent {
			return
		}
		time.Sleep(time.Millisecond)
	}
	c.h.t.Fatal("speech still queued")
}

var counting = []string{"One two three four. ", "Five six seven eight. ", "Nine ten eleven twelve."}

func TestBargeInFromTheClient(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.call(map[string]any{"type": "start", "sample_rate": 16000, "output_rate": 16000, "vad": "client"})
	// Client VAD: the client says when speech starts and ends.
	c.text(map[string]any{"type": "speech_start"})
	c.feed(speechtest.ToneOf(16000, 300, 400*time.Millisecond))
	c.text(map[string]any{"type": "speech_end"})
	gate := llmtest.NewGate()
	defer gate.Release()
	h.llm.Enqueue(llmtest.Reply{Chunks: counting, Hold: gate, HoldAfter: 2})
	c.sink.wait(t, "transcript", 1, isPartial)
	c.h.clock.Advance(600 * time.Millisecond)
	<-gate.Reached()
	audioFrame := c.sink.wait(t, "audio", 2, nil)
	msgID := audioFrame.str("message_id")

	// The user spoke 1.5 s into the reply: half of the second sentence was heard.
	c.text(map[string]any{"type": "barge_in", "message_id": msgID, "played_ms": 1500})
	c.text(map[string]any{"type": "speech_start"})
	intr := c.sink.wait(t, "interrupted", 1, nil)
	if intr.str("message_id") != msgID || intr.str("heard") != "One two three four. Five six" {
		t.Fatalf("interrupted %+v", intr.JSON)
	}
	conv := c.conv()
	msgs := h.messages(conv)
	if msgs[1].Content != "One two three four. Five six" || msgs[1].Status != store.StatusInterrupted {
		t.Fatalf("stored reply %q %s", msgs[1].Content, msgs[1].Status)
	}
	if err := h.llm.WaitIdle(ctxTimeout(t)); err != nil {
		t.Fatalf("the model call was not cancelled: %v", err)
	}
	if h.obs.bargeIns("client") != 1 {
		t.Fatalf("barge-ins %+v", h.obs.barge)
	}

	// The next utterance is a normal turn.
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Sorry, go on."}})
	c.feed(speechtest.ToneOf(16000, 300, 400*time.Millisecond))
	c.text(map[string]any{"type": "speech_end"})
	c.sink.wait(t, "transcript", 2, isPartial)
	c.h.clock.Advance(600 * time.Millisecond)
	c.sink.wait(t, "audio_done", 1, nil)
	c.sink.wait(t, "turn_done", 2, nil)
	msgs = h.messages(conv)
	if len(msgs) != 4 || msgs[3].Content != "Sorry, go on." || msgs[3].Status != store.StatusComplete || msgs[1].Status != store.StatusInterrupted {
		t.Fatalf("stored after the next turn: %+v", msgs)
	}
}

func ctxTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestBargeInAfterTheModelFinished(t *testing.T) {
	// The model is done in a moment; the speech goes on for seconds.
	h := newHarness(t, harnessOpts{})
	h.llm.Enqueue(llmtest.Reply{Chunks: counting})
	c := h.call(start16k)
	c.speakAndWait(400 * time.Millisecond)
	c.feedUntil(2*time.Second, func() bool { return len(c.sink.of("transcript", isFinal)) > 0 })
	done := c.sink.wait(t, "audio_done", 1, nil)
	c.sink.wait(t, "turn_done", 1, nil)
	c.text(map[string]any{"type": "barge_in", "message_id": done.str("message_id"), "played_ms": 250})
	if intr := c.sink.wait(t, "interrupted", 1, nil); intr.str("heard") != "One" {
		t.Fatalf("interrupted %+v", intr.JSON)
	}
	if m := h.messages(c.conv())[1]; m.Content != "One" || m.Status != store.StatusInterrupted {
		t.Fatalf("stored %q %s", m.Content, m.Status)
	}
}

func TestServerBargeInAsksTheClient(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.call(start16k)
	c.startHeldReply(counting, 2, 2)
	// Someone speaks over the reply (no echo here: the client cancels it).
	c.feed(otherVoice(16000, 200*time.Millisecond))
	bi := c.sink.wait(t, "barge_in", 1, nil)
	c.text(map[string]any{"type": "barge_in", "message_id": bi.str("message_id"), "played_ms": 1000})
	if intr := c.sink.wait(t, "interrupted", 1, nil); intr.str("heard") != "One two three four." {
		t.Fatalf("interrupted %+v", intr.JSON)
	}
	if h.obs.bargeIns("server") != 1 {
		t.Fatalf("barge-ins %+v", h.obs.barge)
	}
}

func TestEchoIsNotABargeIn(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.llm.Enqueue(llmtest.Reply{Chunks: counting})
	c := h.call(start16k)
	c.speakAndWait(400 * time.Millisecond)
	c.feedUntil(2*time.Second, func() bool { return len(c.sink.of("transcript", isFinal)) > 0 })
	c.sink.wait(t, "audio_done", 1, nil)
	c.audioSent()
	// The clock has not moved since the speech was sent: it started playing now.
	var played audio.PCM
	for _, f := range c.sink.of("binary", nil) {
		played.Samples = append(played.Samples, audio.Samples(f.PCM)...)
	}
	played.Rate = 24000
	transcripts := len(c.sink.of("transcript", nil))

	// The microphone hears the reply 120 ms later at 0.3, with a little noise.
	mic := mix(noise(16000, played.Duration()+time.Second, 7), played, 0.3, 120*time.Millisecond)
	// 1.5 s in, someone else speaks over it.
	userAt := 1500 * time.Millisecond
	c.feed(mic.Slice(0, userAt))
	if n := len(c.sink.of("barge_in", nil)) + len(c.sink.of("vad", func(f rec) bool { return f.str("state") == "speech" })); n > 1 {
		t.Fatalf("the echo of the reply was taken for speech: %s", c.sink.types())
	}
	if h.obs.bargeIns("server") != 0 {
		t.Fatal("echo barged in")
	}
	withUser := mix(mic.Slice(userAt, mic.Duration()), otherVoice(16000, time.Second), 1, 0)
	c.feed(withUser.Slice(0, 200*time.Millisecond))
	bi := c.sink.wait(t, "barge_in", 1, nil)
	// No answer from the client: after BargeInWait the clock decides: 1.6 s
	// were played, 0.6 s into the second sentence.
	c.feed(withUser.Slice(200*time.Millisecond, 700*time.Millisecond))
	intr := c.sink.wait(t, "interrupted", 1, nil)
	if intr.str("message_id") != bi.str("message_id") || intr.str("heard") != "One two three four. Five six" {
		t.Fatalf("interrupted %+v", intr.JSON)
	}
	if got := len(c.sink.of("transcript", nil)); got != transcripts {
		t.Fatalf("the echo was transcribed: %s", c.sink.types())
	}
}

func TestHangUpMidTurn(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.call(start16k)
	c.startHeldReply(counting, 1, 1)
	conv := c.conv()
	if err := c.text(map[string]any{"type": "stop"}); !errors.Is(err, ErrHangUp) {
		t.Fatalf("stop: %v", err)
	}
	c.s.Close()
	msgs := h.messages(conv)
	if len(msgs) != 2 || msgs[1].Status != store.StatusInterrupted || msgs[1].Content != "" {
		t.Fatalf("after hanging up: %+v", msgs)
	}
	if err := h.llm.WaitIdle(ctxTimeout(t)); err != nil {
		t.Fatal(err)
	}
	if h.obs.bargeIns("hangup") != 1 {
		t.Fatalf("barge-ins %+v", h.obs.barge)
	}
}

func TestDisconnectMidSentence(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.call(start16k)
	c.startHeldReply(counting, 2, 2)
	conv := c.conv()
	c.h.clock.Advance(1250 * time.Millisecond) // a quarter of the second sentence was played
	c.s.Close()
	if m := h.messages(conv)[1]; m.Status != store.StatusInterrupted || m.Content != "One two three four. Five" {
		t.Fatalf("after the client left: %q %s", m.Content, m.Status)
	}
}

func TestTypedTextInACall(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Typed back."}})
	c := h.call(start16k)
	c.text(map[string]any{"type": "text", "text": "hi in writing"})
	c.sink.wait(t, "audio_done", 1, nil)
	tl := c.sink.wait(t, "timeline", 1, nil)
	if tl.JSON["speech_end_ms"] != nil || tl.JSON["transcript_ms"] != nil || tl.JSON["first_audio_ms"] == nil {
		t.Fatalf("timeline of a typed turn %+v", tl.JSON)
	}
	if msgs := h.messages(c.conv()); msgs[0].Content != "hi in writing" || msgs[1].Content != "Typed back." {
		t.Fatalf("stored %+v", msgs)
	}
}

func TestBadInput(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.call(nil)
	expect := func(code string, do func()) {
		t.Helper()
		n := len(c.sink.of("error", nil))
		do()
		c.sink.wait(t, "error", n+1, nil)
		if errs := c.sink.errors(); errs[len(errs)-1] != code {
			t.Fatalf("errors %v, want %s last", errs, code)
		}
	}
	send := func(v any) func() { return func() { c.text(v) } }
	raw := func(b string) func() { return func() { c.s.Text(context.Background(), []byte(b)) } }
	expect(CodeBadRequest, func() { c.s.Binary([]byte{1, 2, 3, 4}) }) // audio before start
	expect(CodeBadRequest, send(map[string]any{"type": "speech_start"}))
	expect(CodeBadRequest, raw("not json"))
	expect(CodeBadRequest, raw("{\"type\":\"text\",\"text\":\"\xff\"}"))
	expect(CodeBadRequest, send(map[string]any{"type": "start"})) // no sample rate
	expect(CodeBadAudio, send(map[string]any{"type": "start", "sample_rate": 4000}))
	expect(CodeBadAudio, send(map[string]any{"type": "start", "sample_rate": 16000, "output_rate": 96000}))
	expect(CodeBadRequest, send(map[string]any{"type": "start", "sample_rate": 16000, "vad": "psychic"}))
	expect(CodeNotFound, send(map[string]any{"type": "start", "sample_rate": 16000, "conversation_id": "cnv_nope"}))
	c.text(start16k)
	c.sink.wait(t, "ready", 1, nil)
	expect(CodeBadRequest, send(start16k)) // twice
	expect(CodeBadAudio, func() { c.s.Binary([]byte{1, 2, 3}) })
	expect(CodeBadRequest, send(map[string]any{"type": "speech_end"})) // client VAD frames in a server VAD call
	expect(CodeBadRequest, send(map[string]any{"type": "dance"}))
	expect(CodeBadRequest, send(map[string]any{"type": "text", "text": "   "}))
	expect(CodeBadRequest, send(map[string]any{"type": "playback", "state": "paused"}))

	// Silence and noise make no turn.
	c.feed(audio.Silence(16000, 2*time.Second))
	c.feed(noise(16000, 2*time.Second, 3))
	if got := c.sink.of("transcript", nil); len(got) > 0 || len(h.llm.Requests()) > 0 {
		t.Fatalf("silence made a turn: %s", c.sink.types())
	}
}

// failing engines fail once, then work.
type flakySTT struct{ speechtest.Fixed }

func (f *flakySTT) Transcribe(ctx context.Context, p audio.PCM) (string, error) {
	if f.Text == "" {
		f.Text = "Now it works."
		return "", errors.New("engine crashed")
	}
	return f.Fixed.Transcribe(ctx, p)
}

type failingTTS struct{}

func (failingTTS) Name() string { return "broken" }
func (failingTTS) Synthesize(context.Context, string) (audio.PCM, error) {
	return audio.PCM{}, fmt.Errorf("%w: the voice server is down", speech.ErrUnavailable)
}

func TestEngineErrorsKeepTheCallUp(t *testing.T) {
	t.Run("stt", func(t *testing.T) {
		h := newHarness(t, harnessOpts{stt: &flakySTT{}})
		c := h.call(start16k)
		c.say(400 * time.Millisecond)
		c.feedUntil(2*time.Second, func() bool { return len(c.sink.errors()) > 0 })
		// The transcription runs on real time while the fake clock races
		// ahead; wait for its failure in real time.
		c.sink.wait(t, "error", 1, nil)
		if errs := c.sink.errors(); len(errs) != 1 || errs[0] != CodeSTTFailed {
			t.Fatalf("errors %v", errs)
		}
		h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Good."}})
		c.speakAndWait(400 * time.Millisecond)
		c.feedUntil(2*time.Second, func() bool { return len(c.sink.of("transcript", isFinal)) > 0 })
		c.sink.wait(t, "audio_done", 1, nil)
		if h.obs.errs["stt"] != 1 {
			t.Fatalf("errors observed %+v", h.obs.errs)
		}
	})
	t.Run("tts", func(t *testing.T) {
		h := newHarness(t, harnessOpts{tts: failingTTS{}})
		h.llm.Enqueue(llmtest.Reply{Chunks: []string{"First. ", "Second."}})
		c := h.call(start16k)
		c.speakAndWait(400 * time.Millisecond)
		c.feedUntil(2*time.Second, func() bool { return len(c.sink.of("transcript", isFinal)) > 0 })
		c.sink.wait(t, "turn_done", 1, nil)
		c.sink.wait(t, "timeline", 1, nil)
		if errs := c.sink.errors(); len(errs) != 1 || errs[0] != CodeTTSFailed {
			t.Fatalf("errors %v (one per reply)", errs)
		}
		if m := h.messages(c.conv())[1]; m.Content != "First. Second." || m.Status != store.StatusComplete {
			t.Fatalf("stored %q %s", m.Content, m.Status)
		}
	})
}

func TestMaxUtterance(t *testing.T) {
	h := newHarness(t, harnessOpts{o: Options{MaxUtterance: 2 * time.Second}})
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"That was long."}})
	c := h.call(start16k)
	c.feed(speechtest.ToneOf(16000, 300, 2500*time.Millisecond))
	c.sink.wait(t, "transcript", 1, isFinal)
	c.sink.wait(t, "turn_done", 1, nil)
}

func TestTurn(t *testing.T) {
	h := newHarness(t, harnessOpts{stt: &speechtest.Fixed{Text: " What time is it? "}})
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"It is nine. ", "Good morning."}})
	rec := audio.Concat(16000, noise(16000, time.Second, 1), speechtest.ToneOf(16000, 300, time.Second), noise(16000, time.Second, 2))
	res, err := h.p.Turn(context.Background(), h.user.ID, "", rec)
	if err != nil {
		t.Fatal(err)
	}
	if res.Transcript != "What time is it?" || res.Reply != "It is nine. Good morning." || res.ConversationID == "" || res.MessageID == "" {
		t.Fatalf("result %+v", res)
	}
	if want := 5 * 24000 / 4; len(res.Audio.Samples) != want || res.Audio.Rate != 24000 {
		t.Fatalf("audio %d samples at %d Hz, want %d", len(res.Audio.Samples), res.Audio.Rate, want)
	}
	if !res.Timeline.Has(StageTranscript) || !res.Timeline.Has(StageFirstToken) || !res.Timeline.Has(StageFirstAudio) {
		t.Fatalf("timeline %+v", res.Timeline)
	}
	msgs := h.messages(res.ConversationID)
	if len(msgs) != 2 || msgs[0].Content != "What time is it?" {
		t.Fatalf("stored %+v", msgs)
	}
	if _, err := h.p.Turn(context.Background(), h.user.ID, "", noise(16000, time.Second, 3)); !errors.Is(err, ErrNoSpeech) {
		t.Fatalf("noise: %v, want ErrNoSpeech", err)
	}
	if _, err := h.p.Turn(context.Background(), "usr_other", res.ConversationID, rec); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another user's conversation: %v, want ErrNotFound", err)
	}
	h.llm.Enqueue(llmtest.Reply{Status: 500})
	if res, err := h.p.Turn(context.Background(), h.user.ID, res.ConversationID, rec); !errors.Is(err, ErrReply) || res.Transcript == "" {
		t.Fatalf("model down: %v, %+v", err, res)
	}
}

func TestHangUpWhileAskingHowMuchWasPlayed(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.call(start16k)
	c.startHeldReply(counting, 2, 2)
	conv := c.conv()
	c.feed(otherVoice(16000, 200*time.Millisecond)) // 100 ms in, the user barges in
	c.sink.wait(t, "barge_in", 1, nil)
	done := make(chan struct{})
	go func() { c.s.Close(); close(done) }() // the fake clock stands still: only Close can settle it
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for an answer that cannot come")
	}
	if m := h.messages(conv)[1]; m.Status != store.StatusInterrupted || m.Content != "" {
		t.Fatalf("stored %q %s", m.Content, m.Status)
	}
}

// Ten minutes of silence (a phone left on the table) makes no turn, holds
// no more than the pre-roll in memory, and the call still answers speech.
func TestTenMinutesOfSilence(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.call(start16k)
	frame := audio.Silence(16000, time.Second)
	for range 600 {
		c.feed(frame)
	}
	c.s.mu.Lock()
	held, utt := len(c.s.preroll)+len(c.s.pending), c.s.utt
	c.s.mu.Unlock()
	if utt != nil || held > int(h.p.o.PreRoll*16000/time.Second)+320 {
		t.Fatalf("after 10 minutes of silence: utterance %v, %d samples held", utt != nil, held)
	}
	if got := c.sink.of("transcript", nil); len(got) > 0 || len(h.llm.Requests()) > 0 || len(c.sink.errors()) > 0 {
		t.Fatalf("silence made a turn or an error: %s", c.sink.types())
	}
	h.llm.Enqueue(llmtest.Reply{Chunks: []string{"Still here."}})
	c.speakAndWait(400 * time.Millisecond)
	c.feedUntil(2*time.Second, func() bool { return len(c.sink.of("transcript", isFinal)) > 0 })
	c.sink.wait(t, "audio_done", 1, nil)
}
