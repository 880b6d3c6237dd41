package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/voice"
)

// frame is one frame the session sent, stamped when the sink got it.
type frame struct {
	typ string
	m   map[string]any // JSON frames, decoded as a client would
	at  time.Time
}

func (f frame) str(k string) string { s, _ := f.m[k].(string); return s }

// ms reads a timeline field; ok is false when the stage is absent.
func (f frame) ms(k string) (time.Duration, bool) {
	v, ok := f.m[k].(float64)
	return time.Duration(v) * time.Millisecond, ok
}

// recorder is the client end of a call: a voice.Sink that keeps every
// frame with the wall-clock time it arrived.
type recorder struct {
	mu     sync.Mutex
	frames []frame
}

var _ voice.Sink = (*recorder)(nil)

func (r *recorder) add(f frame) {
	r.mu.Lock()
	r.frames = append(r.frames, f)
	r.mu.Unlock()
}

func (r *recorder) JSON(_ context.Context, v any) error {
	at := time.Now()
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	t, _ := m["type"].(string)
	r.add(frame{typ: t, m: m, at: at})
	return nil
}

func (r *recorder) Event(_ context.Context, ev companion.Event) error {
	r.add(frame{typ: string(ev.Type), at: time.Now()})
	return nil
}

func (r *recorder) Binary(context.Context, []byte) error {
	r.add(frame{typ: "binary", at: time.Now()})
	return nil
}

// since returns the frames from index i on.
func (r *recorder) since(i int) []frame {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]frame(nil), r.frames[min(i, len(r.frames)):]...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames)
}

func (r *recorder) has(from int, typ string) bool {
	for _, f := range r.since(from) {
		if f.typ == typ {
			return true
		}
	}
	return false
}

// call is one voice call: a session and the recorder at its client end.
type call struct {
	s         *voice.Session
	rec       *recorder
	clientVAD bool
}

// startCall opens a call at 16 kHz and waits for `ready`.
func startCall(ctx context.Context, p *voice.Pipeline, userID string, clientVAD bool) (*call, error) {
	c := &call{rec: &recorder{}, clientVAD: clientVAD}
	c.s = p.Call(userID, c.rec)
	vad := "server"
	if clientVAD {
		vad = "client"
	}
	if err := c.send(ctx, map[string]any{"type": "start", "sample_rate": inputRate, "vad": vad}); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(5 * time.Second); !c.rec.has(0, "ready"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			c.s.Close()
			return nil, fmt.Errorf("the call was not ready after 5 s; frames: %s", types(c.rec.since(0)))
		}
	}
	return c, nil
}

func (c *call) send(ctx context.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.s.Text(ctx, b)
}

// heardOut reports whether the reply of the turn whose frames start at mark
// is over and has been played out, echo included: a user waits for her to
// finish before saying the next thing (speaking earlier is a barge-in,
// which is not what this measures).
func (c *call) heardOut(mark int) bool {
	var start time.Time
	var played time.Duration
	timeline := false
	for _, f := range c.rec.since(mark) {
		switch f.typ {
		case "audio":
			rate, _ := f.m["sample_rate"].(float64)
			n, _ := f.m["samples"].(float64)
			if rate > 0 {
				played += time.Duration(n / rate * float64(time.Second))
			}
		case "binary":
			if start.IsZero() {
				start = f.at
			}
		case "timeline":
			timeline = true
		}
	}
	return timeline && time.Now().After(start.Add(played+echoMargin))
}

// echoMargin is how long after the estimated end of playback the server
// may still take the microphone for her echo (voice.EchoOptions.MaxLag,
// 600 ms by default), with room to spare.
const echoMargin = time.Second

// turnResult is one turn, every time measured from the true end of speech.
type turnResult struct {
	firstAudio time.Duration // the first binary frame of the reply reached the client
	ref        time.Duration // the session's own end-of-speech reference (server VAD: the last voiced frame)
	sttStart   time.Duration // server VAD: the `vad` silence frame; client VAD: speech_end sent
	sttDone    time.Duration // the speculative transcript frame
	endOfTurn  time.Duration // the grace ran out (timeline)
	transcript time.Duration // the final transcript was known (timeline)
	firstToken time.Duration // the model's first words arrived (timeline)
	heard      string
	wer        float64 // word error rate of heard against what was said
	sttRuns    int     // speculative transcriptions started: more than one when the VAD heard a pause
}

// timeout bounds a turn after the end of speech.
const timeout = 30 * time.Second

// turn feeds one utterance in 20 ms frames at real-time pace, as a
// microphone would, and keeps the microphone live (low noise) until the
// reply's timeline has come. Client VAD sends speech_start just before
// the first frame of the utterance and speech_end just after its last.
func (c *call) turn(ctx context.Context, u utterance) (turnResult, error) {
	var res turnResult
	mark := c.rec.len()
	n := frameSamples
	first := u.start / n    // the frame that holds the first sample of speech
	last := (u.end - 1) / n // the frame that holds the last
	total := len(u.fed) / n // whole frames of the padded utterance
	var eos, sttStart time.Time
	t0 := time.Now()
	for k := 0; ; k++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		// Frame k is whole, and so sent, once its 20 ms have passed.
		time.Sleep(time.Until(t0.Add(time.Duration(k+1) * voice.FrameDuration)))
		if c.clientVAD && k == first {
			if err := c.send(ctx, map[string]any{"type": "speech_start"}); err != nil {
				return res, err
			}
		}
		var pcm []int16
		if k < total {
			pcm = u.fed[k*n : (k+1)*n]
		} else {
			pcm = noise(n, uint64(k))
		}
		if k == last {
			eos = time.Now()
		}
		c.s.Binary(audio.Bytes(pcm))
		if k == last && c.clientVAD {
			sttStart = time.Now()
			if err := c.send(ctx, map[string]any{"type": "speech_end"}); err != nil {
				return res, err
			}
		}
		if k >= total-1 && c.heardOut(mark) {
			break
		}
		if k > last && time.Since(eos) > timeout {
			return res, fmt.Errorf("no reply %v after the end of speech; frames: %s", timeout, types(c.rec.since(mark)))
		}
	}

	frames := c.rec.since(mark)
	var (
		finalAt, partialAt, audioAt time.Time
		tl                          *frame
		errs                        []string
		done                        []string
	)
	for i, f := range frames {
		switch f.typ {
		case "vad":
			if !c.clientVAD && f.str("state") == "silence" && finalAt.IsZero() {
				sttStart = f.at
				res.sttRuns++
			}
		case "transcript":
			if final, _ := f.m["final"].(bool); final {
				finalAt, res.heard = f.at, f.str("text")
			} else if finalAt.IsZero() {
				partialAt = f.at
			}
		case "binary":
			if audioAt.IsZero() {
				audioAt = f.at
			}
		case "audio_done":
			done = append(done, f.str("message_id"))
		case "timeline":
			tl = &frames[i]
		case "error":
			e, _ := f.m["error"].(map[string]any)
			errs = append(errs, fmt.Sprint(e["code"], ": ", e["message"]))
		}
	}
	// The next utterance is a new turn, not a barge-in: the client played it all.
	for _, id := range done {
		if err := c.send(ctx, map[string]any{"type": "playback", "message_id": id, "state": "finished"}); err != nil {
			return res, err
		}
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("the call answered with errors: %s", strings.Join(errs, "; "))
	}
	if audioAt.IsZero() || tl == nil {
		return res, errors.New("the reply had no audio; frames: " + types(frames))
	}
	if c.clientVAD {
		res.sttRuns = 1
	}
	res.wer = wordErrors(u.text, res.heard)
	res.firstAudio = audioAt.Sub(eos)
	res.sttStart = sttStart.Sub(eos)
	res.sttDone = partialAt.Sub(eos)
	// The timeline counts from the session's end of speech; the first audio
	// frame is the same moment on both clocks, which places that reference.
	fa, ok := tl.ms("first_audio_ms")
	if !ok {
		return res, errors.New("the timeline has no first_audio_ms")
	}
	res.ref = res.firstAudio - fa
	for k, d := range map[string]*time.Duration{"end_of_turn_ms": &res.endOfTurn, "transcript_ms": &res.transcript, "first_token_ms": &res.firstToken} {
		v, ok := tl.ms(k)
		if !ok {
			return res, fmt.Errorf("the timeline has no %s", k)
		}
		*d = res.ref + v
	}
	return res, nil
}

func types(fs []frame) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.typ)
	}
	return strings.Join(s, " ")
}
