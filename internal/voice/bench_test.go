package voice

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/speech/speechtest"
)

// Engine latencies of the orchestration benchmarks: what a fast local STT
// and TTS take. The model answers at once (llmtest, no delay).
const (
	benchSTT   = 50 * time.Millisecond
	benchTTS   = 30 * time.Millisecond
	benchGrace = 200 * time.Millisecond
)

func newBenchHarness(b *testing.B) *harness {
	h := newHarness(b, harnessOpts{
		stt:       &speechtest.Fixed{Text: "Tell me something.", Delay: benchSTT},
		tts:       &speechtest.Tone{Delay: benchTTS, PerWord: 20 * time.Millisecond},
		o:         Options{Grace: benchGrace},
		realClock: true,
	})
	return h
}

// waitDone waits until a reply's turn has ended.
func waitReply(b *testing.B, s *Session, n int) *reply {
	b.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		s.mu.Lock()
		r := s.reply
		s.mu.Unlock()
		if r != nil && r.n == n {
			return r
		}
	}
	b.Fatalf("reply %d never started", n)
	return nil
}

// BenchmarkEndOfTurn measures os1's own delay between the end of the
// user's turn and her first sound: from the end of the grace (the client's
// speech_end + Grace) to the first byte of speech sent, less the engines'
// fixed latencies on that path. The transcript is made while the grace
// runs (STT 50 ms < grace 200 ms), so only the TTS's 30 ms is subtracted.
//
//	go test -run '^$' -bench BenchmarkEndOfTurn -benchtime 100x ./internal/voice/
func BenchmarkEndOfTurn(b *testing.B) {
	h := newBenchHarness(b)
	h.llm.Handle(func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{"Sure", ", here", " is one. ", "Octopuses have three hearts."}}
	})
	c := h.call(map[string]any{"type": "start", "sample_rate": 16000, "vad": "client"})
	utterance := audio.Bytes(speechtest.ToneOf(16000, 300, 400*time.Millisecond).Samples)
	var overhead, afterGrace []time.Duration
	for i := 0; b.Loop(); i++ {
		c.text(map[string]any{"type": "speech_start"})
		c.s.Binary(utterance)
		end := time.Now()
		c.text(map[string]any{"type": "speech_end"})
		first := c.sink.wait(b, "binary", len(c.sink.of("binary", nil))+1, nil)
		wait := first.At.Sub(end.Add(benchGrace))
		afterGrace = append(afterGrace, wait)
		overhead = append(overhead, wait-benchTTS)
		r := waitReply(b, c.s, i+1)
		<-r.done
		c.sink.wait(b, "timeline", i+1, nil)
		for _, m := range c.sink.of("audio_done", nil)[i:] {
			c.text(map[string]any{"type": "playback", "message_id": m.str("message_id"), "state": "finished"})
		}
	}
	p50, p95 := percentiles(overhead)
	b.ReportMetric(p50, "overhead-p50-ms")
	b.ReportMetric(p95, "overhead-p95-ms")
	p50, p95 = percentiles(afterGrace)
	b.ReportMetric(p50, "first-audio-after-grace-p50-ms")
	b.ReportMetric(p95, "first-audio-after-grace-p95-ms")
}

// BenchmarkBargeInClient measures a barge-in the client detected: from its
// barge_in frame to the model call cancelled (the companion's turn over,
// the partial reply stored) and to the interrupted frame sent (what was
// heard stored).
//
//	go test -run '^$' -bench BenchmarkBargeInClient -benchtime 100x ./internal/voice/
func BenchmarkBargeInClient(b *testing.B) {
	h := newBenchHarness(b)
	c := h.call(map[string]any{"type": "start", "sample_rate": 16000, "vad": "client"})
	var cancelled, interrupted []time.Duration
	for i := 0; b.Loop(); i++ {
		gate := llmtest.NewGate()
		h.llm.Enqueue(llmtest.Reply{Chunks: counting, Hold: gate, HoldAfter: 2})
		c.text(map[string]any{"type": "text", "text": "Count for me."})
		a := c.sink.wait(b, "audio", 2*i+1, nil)
		<-gate.Reached()
		r := waitReply(b, c.s, i+1)
		t0 := time.Now()
		c.text(map[string]any{"type": "barge_in", "message_id": a.str("message_id"), "played_ms": 600})
		<-r.done
		cancelled = append(cancelled, time.Since(t0))
		in := c.sink.wait(b, "interrupted", i+1, nil)
		interrupted = append(interrupted, in.At.Sub(t0))
		gate.Release()
		c.sink.wait(b, "timeline", i+1, nil)
	}
	p50, p95 := percentiles(cancelled)
	b.ReportMetric(p50, "cancelled-p50-ms")
	b.ReportMetric(p95, "cancelled-p95-ms")
	p50, p95 = percentiles(interrupted)
	b.ReportMetric(p50, "interrupted-p50-ms")
	b.ReportMetric(p95, "interrupted-p95-ms")
}

// BenchmarkBargeInServerVAD measures a barge-in the server detected, with
// the microphone streamed in real time (20 ms frames, 20 ms apart): from
// the first frame of the user's speech to the barge_in frame sent (the
// client stops playback), which includes the VAD's 100 ms onset and the
// echo check of every frame, and to the model call cancelled.
//
//	go test -run '^$' -bench BenchmarkBargeInServerVAD -benchtime 50x ./internal/voice/
func BenchmarkBargeInServerVAD(b *testing.B) {
	h := newBenchHarness(b)
	speech := otherVoice(16000, 600*time.Millisecond)
	frame := 16000 / 50
	var stopped, cancelled []time.Duration
	for i := 0; b.Loop(); i++ {
		c := h.call(map[string]any{"type": "start", "sample_rate": 16000})
		gate := llmtest.NewGate()
		h.llm.Enqueue(llmtest.Reply{Chunks: counting, Hold: gate, HoldAfter: 2})
		c.text(map[string]any{"type": "text", "text": "Count for me."})
		c.sink.wait(b, "audio", 1, nil)
		<-gate.Reached()
		r := waitReply(b, c.s, 1)
		doneAt := make(chan time.Time, 1)
		go func() { <-r.done; doneAt <- time.Now() }()
		t0 := time.Now()
		for k := 0; len(c.sink.of("barge_in", nil)) == 0; k++ {
			if k*frame >= len(speech.Samples) {
				b.Fatal("no barge-in after 600 ms of speech")
			}
			c.s.Binary(audio.Bytes(speech.Samples[k*frame : (k+1)*frame]))
			time.Sleep(time.Until(t0.Add(time.Duration(k+1) * FrameDuration)))
		}
		bi := c.sink.wait(b, "barge_in", 1, nil)
		stopped = append(stopped, bi.At.Sub(t0))
		cancelled = append(cancelled, (<-doneAt).Sub(t0))
		c.text(map[string]any{"type": "barge_in", "message_id": bi.str("message_id"), "played_ms": 300})
		c.sink.wait(b, "interrupted", 1, nil)
		gate.Release()
		c.s.Close()
	}
	p50, p95 := percentiles(stopped)
	b.ReportMetric(p50, "barge_in-sent-p50-ms")
	b.ReportMetric(p95, "barge_in-sent-p95-ms")
	p50, p95 = percentiles(cancelled)
	b.ReportMetric(p50, "cancelled-p50-ms")
	b.ReportMetric(p95, "cancelled-p95-ms")
}
