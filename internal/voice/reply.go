package voice

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/store"
)

// reply is the companion's answer to one turn of a call, from the moment
// the turn is handed to her until it has been played or cut. Its fields
// are guarded by the session's mutex.
type reply struct {
	n      int
	ctx    context.Context // ends when the reply is cut: stops speech synthesis
	cancel context.CancelFunc
	prev   *reply
	ref    time.Time // the end of the user's speech, or the typed message's arrival
	speech bool
	tl     Timeline

	conv       string
	msgs       []*spokenMsg
	finished   bool      // the turn ended and every sentence was synthesized
	turnOver   bool      // the companion's turn ended
	cancelled  bool      // Cancel was asked of the companion
	lastEnd    time.Time // when the last speech sent is estimated to finish playing
	unsent     int       // sentences queued to send
	done       chan struct{}
	settled    chan struct{} // closed once what was heard of a cut reply is stored
	cut        bool
	played     time.Duration // a cut reply: how much of playedMsg was heard
	playedMsg  string
	playedIn   chan struct{} // closed once played is known
	stopAsking clock.Timer
	guess      func() // settles played from the clock while the client is asked
}

// spokenMsg is one assistant message of a reply and what was spoken of it.
type spokenMsg struct {
	id        string
	text      *chunker
	status    store.MessageStatus
	sentences []*sentence
	audio     time.Duration // speech synthesized so far
	seq       int
	finished  bool // the client said it played all of it
}

// sentence is a piece of a message and where its speech sits.
type sentence struct {
	chunk
	offset, dur time.Duration // in the message's speech
	sent        bool
	start       time.Time // when it is estimated to start playing
}

// busy reports whether the reply is still being written or played, so
// that speech from the user now is a barge-in.
func (r *reply) busy(now time.Time) bool {
	if r.cut {
		return false
	}
	if !r.finished || r.unsent > 0 {
		return true
	}
	all := true
	for _, m := range r.msgs {
		all = all && (m.finished || m.audio == 0)
	}
	return !all && now.Before(r.lastEnd)
}

func (r *reply) msg(id string) *spokenMsg {
	for _, m := range r.msgs {
		if m.id == id {
			return m
		}
	}
	return nil
}

// playing estimates which message is playing at t and how much of it has
// been played, from when its speech was sent.
func (r *reply) playing(t time.Time) (*spokenMsg, time.Duration) {
	var cur *spokenMsg
	var played time.Duration
	for _, m := range r.msgs {
		var p time.Duration
		started := false
		for _, sn := range m.sentences {
			if !sn.sent || t.Before(sn.start) {
				continue
			}
			started = true
			p = sn.offset + min(t.Sub(sn.start), sn.dur)
		}
		if started || cur == nil {
			cur, played = m, p
		}
	}
	return cur, played
}

// heard is the start of the message's text that was heard after played of
// its speech: whole sentences, and the played share of the words of the
// sentence that was cut.
func (m *spokenMsg) heard(played time.Duration) string {
	full := m.text.Full()
	cut := 0
	for _, sn := range m.sentences {
		if played >= sn.offset+sn.dur {
			cut = sn.End
			continue
		}
		if played > sn.offset {
			words := len(strings.Fields(sn.Text))
			k := int(float64(words) * float64(played-sn.offset) / float64(sn.dur))
			cut = sn.Start + wordsPrefix(sn.Text, k)
		}
		break
	}
	return strings.TrimRightFunc(full[:cut], unicode.IsSpace)
}

// wordsPrefix is the length in bytes of the first k words of s.
func wordsPrefix(s string, k int) int {
	if k <= 0 {
		return 0
	}
	inWord := false
	for i, r := range s {
		space := unicode.IsSpace(r)
		if space && inWord {
			if k--; k == 0 {
				return i
			}
		}
		inWord = !space
	}
	return len(s)
}

// startReply hands text to the companion and speaks her answer.
func (s *Session) startReply(text string, ref time.Time, tl Timeline, speech bool) {
	s.replies++
	ctx, cancel := context.WithCancel(s.ctx)
	r := &reply{n: s.replies, ctx: ctx, cancel: cancel, prev: s.reply, ref: ref, speech: speech, tl: tl,
		done: make(chan struct{}), settled: make(chan struct{}), playedIn: make(chan struct{})}
	s.reply = r
	s.wg.Add(1)
	go s.runReply(r, text)
}

func (s *Session) runReply(r *reply, text string) {
	defer s.wg.Done()
	if p := r.prev; p != nil {
		// The companion takes one turn at a time per conversation, and what
		// was heard of a cut reply is stored before the next turn. (Only the
		// latest reply can be cut, so p's state is final here.)
		<-p.done
		s.mu.Lock()
		cut := p.cut
		s.mu.Unlock()
		if cut {
			<-p.settled
		}
	}
	sp := s.speak(r)
	defer func() {
		close(sp.in)
		<-sp.done
		s.mu.Lock()
		r.finished, r.turnOver = true, true
		cut := r.cut
		s.mu.Unlock()
		close(r.done)
		if !cut {
			s.sendTimeline(r)
		}
	}()
	s.mu.Lock()
	conv := s.conv
	s.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	s.gate.Lock()
	release := sync.OnceFunc(s.gate.Unlock)
	defer release()
	events, err := s.p.d.Companion.Send(s.ctx, s.user, conv, text, onCall)
	if err != nil {
		release()
		s.sendErr(err)
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-r.ctx.Done():
			s.cancelTurn(r)
		case <-r.done:
		}
	}()
	for ev := range events {
		if ev.Type == companion.EvUserMessage && ev.Message != nil {
			s.ownTurn(ev.Message.ID) // the follower drops the subscription's copy of this turn
			release()
		}
		s.out.event(ev) // the caption goes before the speech of its words
		s.onEvent(r, ev, sp)
	}
}

// cancelTurn stops the companion's turn of a cut reply, once its
// conversation is known.
func (s *Session) cancelTurn(r *reply) {
	s.mu.Lock()
	conv, skip := r.conv, r.conv == "" || r.turnOver || r.cancelled
	r.cancelled = r.cancelled || !skip
	s.mu.Unlock()
	if skip {
		return
	}
	if _, err := s.p.d.Companion.Cancel(s.ctx, s.user, conv); err != nil && !errors.Is(err, context.Canceled) {
		s.p.d.Log.Warn("voice: cancel turn", "err", err)
	}
}

func (s *Session) onEvent(r *reply, ev companion.Event, sp *speaker) {
	var say []sayItem
	s.mu.Lock()
	switch ev.Type {
	case companion.EvConversation:
		r.conv, s.conv = ev.ConversationID, ev.ConversationID
		if r.cut {
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.cancelTurn(r) }()
		}
	case companion.EvAssistantStart:
		r.msgs = append(r.msgs, &spokenMsg{id: ev.Message.ID, text: newChunker(s.p.o.Chunker), status: store.StatusStreaming})
	case companion.EvDelta:
		if m := r.msg(ev.MessageID); m != nil {
			s.markStage(&r.tl, StageFirstToken, s.now().Sub(r.ref))
			for _, c := range m.text.push(ev.Text) {
				say = append(say, sayItem{m: m, c: c})
			}
		}
	case companion.EvAssistantDone:
		if m := r.msg(ev.Message.ID); m != nil {
			m.status = ev.Message.Status
			for _, c := range m.text.flush() {
				say = append(say, sayItem{m: m, c: c})
			}
			say = append(say, sayItem{m: m, end: true})
		}
	}
	s.mu.Unlock()
	for _, it := range say {
		sp.in <- it // a full queue holds up the companion's stream, never loses it
	}
}

// speaker synthesizes a reply's sentences one after the other, so the next
// is synthesized while the one before is sent and played.
type speaker struct {
	in   chan sayItem
	done chan struct{}
}

type sayItem struct {
	m   *spokenMsg
	c   chunk
	end bool
}

func (s *Session) speak(r *reply) *speaker {
	sp := &speaker{in: make(chan sayItem, 4096), done: make(chan struct{})}
	go func() {
		defer close(sp.done)
		failed := false
		for it := range sp.in {
			if r.ctx.Err() != nil {
				continue
			}
			if it.end {
				s.mu.Lock()
				if !r.cut {
					s.out.json(audioDoneFrame{Type: "audio_done", MessageID: it.m.id})
				}
				s.mu.Unlock()
				continue
			}
			var pcm audio.PCM
			if text := spoken(it.c.Text); !failed && speech.Speakable(text) {
				var err error
				pcm, err = s.p.d.TTS.Synthesize(r.ctx, text)
				if r.ctx.Err() != nil {
					continue
				}
				if err != nil && !errors.Is(err, speech.ErrEmptyText) {
					failed = true
					s.p.d.Observer.Error("tts")
					s.p.d.Log.Warn("voice: speech synthesis failed", "engine", s.p.d.TTS.Name(), "err", err)
					s.out.errorFrame(CodeTTSFailed, "could not speak the reply (the text goes on): "+err.Error())
				}
				if err != nil {
					pcm = audio.PCM{}
				}
			}
			s.emit(r, it.m, it.c, pcm)
		}
	}()
	return sp
}

// emit sends a synthesized sentence.
func (s *Session) emit(r *reply, m *spokenMsg, c chunk, pcm audio.PCM) {
	out := audio.Resample(pcm, s.outRate)
	var ref []int16
	if len(out.Samples) > 0 {
		ref = audio.Resample(pcm, echoRate).Samples
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.cut {
		return
	}
	sn := &sentence{chunk: c, offset: m.audio, dur: out.Duration()}
	m.sentences = append(m.sentences, sn)
	if len(out.Samples) == 0 {
		return
	}
	m.audio += sn.dur
	f := audioFrame{Type: "audio", MessageID: m.id, Seq: m.seq, Text: c.Text, SampleRate: out.Rate, Samples: len(out.Samples), OffsetMS: sn.offset.Milliseconds()}
	m.seq++
	r.unsent++
	s.out.audio(r.n, f, audio.Bytes(out.Samples), func(at time.Time) {
		s.mu.Lock()
		defer s.mu.Unlock()
		r.unsent--
		sn.sent, sn.start = true, at
		if sn.start.Before(r.lastEnd) {
			sn.start = r.lastEnd // the client plays it after the one before
		}
		r.lastEnd = sn.start.Add(sn.dur)
		s.echo.add(sn.start, ref)
		s.markStage(&r.tl, StageFirstAudio, at.Sub(r.ref))
	})
}

// bargeIn cuts a reply: the model and speech synthesis stop at once and
// queued speech is dropped. What was heard is then stored (settle) once
// the client says how much it played (played, or its answer to a
// `barge_in` frame when ask) or, failing that, from the clock.
func (s *Session) bargeIn(r *reply, now time.Time, by, msgID string, played *time.Duration, ask bool) {
	if r.cut {
		return
	}
	r.cut = true
	r.cancel()
	s.out.dropAudio(r.n)
	s.p.d.Observer.VoiceBargeIn(by)
	est, estPlayed := r.playing(now)
	switch {
	case played != nil:
		s.setPlayed(r, msgID, *played)
	case ask && est != nil && !r.lastEnd.IsZero():
		s.out.json(bargeInFrame{Type: "barge_in", MessageID: est.id})
		r.guess = func() { s.setPlayed(r, est.id, estPlayed) }
		r.stopAsking = s.p.d.Clock.AfterFunc(s.p.o.BargeInWait, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			r.guess()
		})
	case est != nil:
		s.setPlayed(r, est.id, estPlayed)
	default:
		s.setPlayed(r, "", 0)
	}
	s.wg.Add(1)
	go s.settle(r)
}

// setPlayed records how much of a cut reply was heard (the first answer wins).
func (s *Session) setPlayed(r *reply, msgID string, played time.Duration) {
	select {
	case <-r.playedIn:
		return
	default:
	}
	if r.stopAsking != nil {
		r.stopAsking.Stop()
	}
	if r.msg(msgID) == nil {
		if m, p := r.playing(s.now()); m != nil {
			msgID, played = m.id, p
		}
	}
	r.playedMsg, r.played = msgID, max(0, played)
	close(r.playedIn)
}

// settle stores what was heard of a cut reply once its turn has ended:
// the message that was playing keeps what was heard, later ones nothing.
func (s *Session) settle(r *reply) {
	defer s.wg.Done()
	defer close(r.settled)
	<-r.done
	<-r.playedIn
	type keep struct{ id, heard string }
	var keeps []keep
	s.mu.Lock()
	after := r.playedMsg == "" // cut before any of it was spoken
	for _, m := range r.msgs {
		if m.status == store.StatusFailed {
			continue
		}
		switch {
		case m.id == r.playedMsg:
			after = true
			if h := m.heard(r.played); h != m.text.Full() || m.status != store.StatusComplete {
				keeps = append(keeps, keep{m.id, h})
			}
		case after:
			keeps = append(keeps, keep{m.id, ""})
		}
	}
	s.mu.Unlock()
	ctx := context.WithoutCancel(s.ctx)
	for _, k := range keeps {
		if err := s.p.d.Companion.KeepHeard(ctx, s.user, k.id, k.heard); err != nil {
			s.p.d.Log.Error("voice: keep what was heard", "message", k.id, "err", err)
			continue
		}
		s.out.json(interruptedFrame{Type: "interrupted", MessageID: k.id, Heard: k.heard})
	}
	s.sendTimeline(r)
}

// sendTimeline sends the reply's timeline after the frames queued before
// it, so that it holds the time its speech went out.
func (s *Session) sendTimeline(r *reply) {
	s.out.lazyJSON(func() any {
		s.mu.Lock()
		defer s.mu.Unlock()
		id := ""
		if len(r.msgs) > 0 {
			id = r.msgs[len(r.msgs)-1].id
		}
		return r.tl.frame(id, r.speech)
	})
}

// clientBargeIn: the client stopped playback because the user spoke.
func (s *Session) clientBargeIn(now time.Time, f clientFrame) {
	r := s.reply
	if r == nil || (f.MessageID != "" && r.msg(f.MessageID) == nil) {
		return // not about the latest reply: it is settled already
	}
	var played *time.Duration
	if f.PlayedMS != nil {
		d := time.Duration(*f.PlayedMS) * time.Millisecond
		played = &d
	}
	if r.cut {
		if played != nil {
			s.setPlayed(r, f.MessageID, *played)
		}
		return
	}
	s.bargeIn(r, now, "client", f.MessageID, played, false)
}

// playback: the client reports playback progress.
func (s *Session) playback(now time.Time, f clientFrame) {
	if f.State != "started" && f.State != "finished" {
		s.out.errorFrame(CodeBadRequest, `playback state must be "started" or "finished"`)
		return
	}
	r := s.reply
	if r == nil {
		return
	}
	m := r.msg(f.MessageID)
	if m == nil {
		return
	}
	switch f.State {
	case "started":
		s.markStage(&r.tl, StagePlaybackStart, now.Sub(r.ref))
		// Playback began later than estimated: move the estimate along.
		var first *sentence
		for _, sn := range m.sentences {
			if sn.sent {
				first = sn
				break
			}
		}
		if first == nil || !now.After(first.start) {
			return
		}
		shift := now.Sub(first.start)
		moving := false
		for _, mm := range r.msgs {
			moving = moving || mm == m
			for _, sn := range mm.sentences {
				if moving && sn.sent {
					sn.start = sn.start.Add(shift)
				}
			}
		}
		r.lastEnd = r.lastEnd.Add(shift)
	case "finished":
		m.finished = true
	}
}
