package voice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/store"
)

// ErrHangUp is returned by Session.Text when the client sent `stop`: the
// transport should Close the session and then the connection.
var ErrHangUp = errors.New("the client hung up")

// Session is one call. The transport hands it the client's frames (Text and
// Binary, from one goroutine) and it answers through its Sink. Close ends
// the call: a reply in progress is cut as by a barge-in and Close returns
// once every stored message is final.
type Session struct {
	p      *Pipeline
	user   string
	out    *outbox
	ctx    context.Context // ends after Close has settled every reply
	cancel context.CancelFunc
	wg     sync.WaitGroup // transcriptions, replies, settlements

	// gate is held from Send until the call's turn has shown its user
	// message, so the follower can tell the call's turns from others
	// (follow.go).
	gate     sync.Mutex
	followed chan struct{} // closed when the follower has stopped; nil before start

	mu        sync.Mutex
	started   bool
	closed    bool
	conv      string
	rate      int // of the microphone audio
	outRate   int
	clientVAD bool
	frameLen  int     // samples in FrameDuration at rate
	pending   []int16 // samples short of a whole frame
	preroll   []int16 // the last PreRoll of audio
	vad       *vad
	echo      *echoRef
	utt       *utterance
	reply     *reply // the latest reply
	replies   int
	own       map[string]struct{} // user messages of turns this call started, until the follower sees them
}

// utterance is what the user is saying, from the start of their speech to
// the end of their turn; speech that resumes within the grace continues it.
type utterance struct {
	pcm      []int16
	speaking bool
	end      time.Time // when the speech last stopped
	gen      int       // bumps when speech resumes: older transcripts and timers are stale
	stopSTT  context.CancelFunc
	stopWait clock.Timer
	spec     bool // the speculative transcript of pcm up to end is in
	text     string
	err      error
	due      bool      // the grace ran out
	dueAt    time.Time // when it did
	extended bool      // the grace was extended for a sentence left hanging
}

func (u *utterance) stop() {
	if u.stopSTT != nil {
		u.stopSTT()
	}
	if u.stopWait != nil {
		u.stopWait.Stop()
	}
}

// Call starts a call for a user; frames for the client go to sink.
func (p *Pipeline) Call(userID string, sink Sink) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	return &Session{p: p, user: userID, out: newOutbox(sink, p.d.Clock), ctx: ctx, cancel: cancel, own: map[string]struct{}{}}
}

func (s *Session) now() time.Time { return s.p.d.Clock.Now() }

// Text handles a JSON text frame from the client. Problems with the frame
// are answered with an `error` frame; the only error returned is ErrHangUp.
func (s *Session) Text(ctx context.Context, data []byte) error {
	if !utf8.Valid(data) {
		s.out.errorFrame(CodeBadRequest, "frame is not valid UTF-8 text")
		return nil
	}
	var f clientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		s.out.errorFrame(CodeBadRequest, "frame is not the expected JSON: "+err.Error())
		return nil
	}
	if f.Type == "start" {
		s.start(ctx, f)
		return nil
	}
	if f.Type == "stop" {
		return ErrHangUp
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if !s.started {
		s.out.errorFrame(CodeBadRequest, fmt.Sprintf("send start before %q", f.Type))
		return nil
	}
	now := s.now()
	switch f.Type {
	case "speech_start", "speech_end":
		if !s.clientVAD {
			s.out.errorFrame(CodeBadRequest, f.Type+` is for calls that detect speech in the client; this call started with vad "server"`)
			return nil
		}
		if f.Type == "speech_start" {
			s.speechStart(now, "client")
		} else {
			s.speechEnd(now, now)
		}
	case "barge_in":
		s.clientBargeIn(now, f)
	case "playback":
		s.playback(now, f)
	case "text":
		if err := companion.ValidateText(f.Text); err != nil {
			s.out.errorFrame(CodeBadRequest, "text: "+err.Error())
			return nil
		}
		if r := s.reply; r != nil && r.busy(now) {
			s.bargeIn(r, now, "text", "", nil, false)
		}
		s.startReply(f.Text, now, Timeline{}, false)
	default:
		s.out.errorFrame(CodeBadRequest, fmt.Sprintf("unknown frame type %q; see docs/voice-protocol.md", f.Type))
	}
	return nil
}

func (s *Session) start(ctx context.Context, f clientFrame) {
	s.mu.Lock()
	started := s.started || s.closed
	s.mu.Unlock()
	if started {
		s.out.errorFrame(CodeBadRequest, "the call has started already; open a new connection for another call")
		return
	}
	if f.SampleRate == 0 {
		s.out.errorFrame(CodeBadRequest, "start needs sample_rate: the rate of the audio you will send (16000 recommended)")
		return
	}
	outRate := f.OutputRate
	if outRate == 0 {
		outRate = s.p.o.OutputRate
	}
	for _, r := range []int{f.SampleRate, outRate} {
		if r < MinRate || r > MaxRate {
			s.out.errorFrame(CodeBadAudio, fmt.Sprintf("sample rate %d Hz is not supported; use %d to %d Hz", r, MinRate, MaxRate))
			return
		}
	}
	clientVAD := false
	switch f.VAD {
	case "", "server":
	case "client":
		clientVAD = true
	default:
		s.out.errorFrame(CodeBadRequest, fmt.Sprintf(`vad %q: use "client" or "server"`, f.VAD))
		return
	}
	if f.ConversationID != "" {
		if _, err := s.p.d.Conversations.Conversation(ctx, s.user, f.ConversationID); err != nil {
			s.sendErr(err)
			return
		}
	}
	// Follow the user from before `ready`, so that nothing published after
	// it is missed.
	events := s.p.d.Companion.Subscribe(s.ctx, s.user)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started, s.conv, s.rate, s.outRate, s.clientVAD = true, f.ConversationID, f.SampleRate, outRate, clientVAD
	s.followed = make(chan struct{})
	go s.follow(events)
	s.frameLen = int(int64(f.SampleRate) * int64(FrameDuration) / int64(time.Second))
	s.vad = newVAD(s.p.o.VAD)
	s.echo = newEchoRef(s.p.o.Echo)
	vadName := "server"
	if clientVAD {
		vadName = "client"
	}
	stt, tts := s.p.Engines()
	s.out.json(readyFrame{Type: "ready", ConversationID: s.conv, InputRate: s.rate, OutputRate: s.outRate, STT: stt, TTS: tts, VAD: vadName})
}

// Binary handles a binary frame: microphone audio.
func (s *Session) Binary(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if !s.started {
		s.out.errorFrame(CodeBadRequest, "send start before audio")
		return
	}
	if len(data)%2 != 0 {
		s.out.errorFrame(CodeBadAudio, fmt.Sprintf("audio frame of %d bytes: 16-bit samples need an even number of bytes", len(data)))
		return
	}
	now := s.now()
	s.pending = append(s.pending, audio.Samples(data)...)
	n := len(s.pending) / s.frameLen
	for k := range n {
		// Frames that arrive together were captured one after the other.
		at := now.Add(-time.Duration(n-1-k) * FrameDuration)
		s.frame(s.pending[k*s.frameLen:(k+1)*s.frameLen], at, now)
	}
	s.pending = append(s.pending[:0], s.pending[n*s.frameLen:]...)
}

// frame analyses one FrameDuration of microphone audio that ended at `at`.
func (s *Session) frame(f []int16, at, now time.Time) {
	if s.utt != nil {
		s.utt.pcm = append(s.utt.pcm, f...)
	}
	s.preroll = append(s.preroll, f...)
	if keep := int(int64(s.rate) * int64(s.p.o.PreRoll) / int64(time.Second)); len(s.preroll) > keep {
		s.preroll = append(s.preroll[:0], s.preroll[len(s.preroll)-keep:]...)
	}
	echoing := s.echo.active(at)
	if echoing {
		s.echo.hear(audio.Resample(audio.PCM{Rate: s.rate, Samples: f}, echoRate).Samples)
	} else {
		s.echo.mic = s.echo.mic[:0]
		s.echo.forget(at)
	}
	if !s.clientVAD {
		level := audio.DBFS(audio.RMS(f))
		voiced := s.vad.loud(level)
		echo := voiced && echoing && s.echo.echoes(at)
		switch s.vad.push(level, voiced && !echo, echo, at) {
		case vadStart:
			s.speechStart(now, "server")
		case vadEnd:
			s.speechEnd(s.vad.lastLoud, now)
		}
	}
	if u := s.utt; u != nil && !u.due && time.Duration(len(u.pcm))*time.Second/time.Duration(s.rate) >= s.p.o.MaxUtterance {
		s.cutUtterance(now)
	}
}

// speechStart: the user started speaking (or resumed within the grace).
func (s *Session) speechStart(now time.Time, by string) {
	if r := s.reply; r != nil && r.busy(now) {
		s.bargeIn(r, now, by, "", nil, true)
	}
	if u := s.utt; u != nil {
		u.stop()
		u.gen++
		u.spec, u.text, u.err, u.due, u.extended = false, "", nil, false, false
	} else {
		s.utt = &utterance{pcm: slices.Clone(s.preroll)}
	}
	s.utt.speaking = true
	if !s.clientVAD {
		s.out.json(vadFrame{Type: "vad", State: "speech"})
	}
}

// speechEnd: the user stopped speaking at `end`. The grace starts, and the
// words so far are transcribed while it runs.
func (s *Session) speechEnd(end, now time.Time) {
	if !s.clientVAD {
		s.out.json(vadFrame{Type: "vad", State: "silence"})
	}
	u := s.utt
	if u == nil || !u.speaking {
		return
	}
	u.speaking, u.end = false, end
	s.transcribe(u)
	s.wait(u, end.Add(s.p.o.Grace).Sub(now))
}

// cutUtterance ends a turn that went on for MaxUtterance.
func (s *Session) cutUtterance(now time.Time) {
	u := s.utt
	u.stop()
	u.gen++
	u.speaking, u.end, u.extended = false, now, true
	u.spec, u.text, u.err = false, "", nil
	s.transcribe(u)
	u.due, u.dueAt = true, now
}

func (s *Session) transcribe(u *utterance) {
	gen := u.gen
	pcm := audio.PCM{Rate: s.rate, Samples: slices.Clone(u.pcm)}
	ctx, cancel := context.WithCancel(s.ctx)
	u.stopSTT = cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer cancel()
		text, err := s.p.d.STT.Transcribe(ctx, pcm)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || s.utt != u || u.gen != gen {
			return
		}
		u.spec, u.text, u.err = true, strings.TrimSpace(text), err
		if err == nil && u.text != "" {
			s.out.json(transcriptFrame{Type: "transcript", Text: u.text})
		}
		s.decide(u)
	}()
}

// wait ends the grace after d.
func (s *Session) wait(u *utterance, d time.Duration) {
	gen := u.gen
	if u.stopWait != nil {
		u.stopWait.Stop()
	}
	u.stopWait = s.p.d.Clock.AfterFunc(max(d, 0), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || s.utt != u || u.gen != gen || u.due {
			return
		}
		u.due, u.dueAt = true, s.now()
		s.decide(u)
	})
}

// decide ends the turn once the grace is over and the transcript is in,
// unless the transcript ends mid-sentence and the longer grace is not over.
func (s *Session) decide(u *utterance) {
	if !u.due || !u.spec {
		return
	}
	now := s.now()
	if u.err != nil && !errors.Is(u.err, speech.ErrNoAudio) {
		s.utt = nil
		u.stop()
		s.p.d.Observer.Error("stt")
		s.p.d.Log.Warn("voice: transcription failed", "engine", s.p.d.STT.Name(), "err", u.err)
		s.out.errorFrame(CodeSTTFailed, "could not transcribe what you said: "+u.err.Error())
		return
	}
	if !u.extended && midSentence(u.text) {
		if until := u.end.Add(s.p.o.MidSentenceGrace); now.Before(until) {
			u.extended, u.due = true, false
			s.wait(u, until.Sub(now))
			return
		}
	}
	s.utt = nil
	u.stop()
	if u.text == "" {
		return // a cough, a door: no turn
	}
	var tl Timeline
	s.markStage(&tl, StageEndOfTurn, u.dueAt.Sub(u.end))
	s.markStage(&tl, StageTranscript, now.Sub(u.end))
	s.out.json(transcriptFrame{Type: "transcript", Text: u.text, Final: true})
	s.startReply(u.text, u.end, tl, true)
}

func (s *Session) markStage(tl *Timeline, stage string, d time.Duration) {
	if tl.mark(stage, d) {
		s.p.d.Observer.VoiceStage(stage, d)
	}
}

// sendErr answers a failed companion or store call with an error frame.
func (s *Session) sendErr(err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.out.errorFrame(CodeNotFound, "not found")
	case errors.Is(err, companion.ErrBusy):
		s.out.errorFrame(CodeConflict, err.Error())
	case errors.Is(err, companion.ErrEmptyMessage), errors.Is(err, companion.ErrInvalidUTF8), errors.Is(err, companion.ErrNUL):
		s.out.errorFrame(CodeBadRequest, err.Error())
	case errors.Is(err, context.Canceled):
	default:
		s.p.d.Log.Error("voice: turn", "err", err)
		s.out.errorFrame(CodeInternal, err.Error())
	}
}

// Close ends the call. A reply still being written or played is cut as if
// the user had barged in at this moment; Close returns when every message
// is stored in its final state and the frames queued so far are sent.
func (s *Session) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	if u := s.utt; u != nil {
		u.stop()
		s.utt = nil
	}
	if r := s.reply; r != nil && r.busy(s.now()) {
		s.bargeIn(r, s.now(), "hangup", "", nil, false)
	} else if r != nil && r.guess != nil {
		r.guess() // nobody is left to answer the barge_in
	}
	followed := s.followed
	s.mu.Unlock()
	s.wg.Wait()
	s.cancel()
	if followed != nil {
		<-followed
	}
	s.out.close()
}
