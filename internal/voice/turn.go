package voice

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/speech"
)

// TurnResult is one spoken exchange of Pipeline.Turn.
type TurnResult struct {
	ConversationID string
	Transcript     string    // what the user said, as stored
	MessageID      string    // the companion's (last) reply message
	Reply          string    // what she answered
	Audio          audio.PCM // her answer spoken, at Options.OutputRate
	// Timeline is measured from the moment Turn was called (the recording
	// is over by then); EndOfTurn and PlaybackStart are absent.
	Timeline Timeline
}

// Turn answers a whole recording, for `os1 talk`: it trims the silence
// around the speech, transcribes it, sends the words to the companion in
// conversationID (a new conversation when empty) and speaks her reply, each
// sentence synthesized as soon as it is written. A recording without words
// is ErrNoSpeech; a reply the companion could not give is ErrReply, with
// what there was of the result. Ending ctx cancels the companion's turn.
func (p *Pipeline) Turn(ctx context.Context, userID, conversationID string, in audio.PCM) (TurnResult, error) {
	ref := p.d.Clock.Now()
	since := func() time.Duration { return p.d.Clock.Now().Sub(ref) }
	res := TurnResult{ConversationID: conversationID, Audio: audio.PCM{Rate: p.o.OutputRate}}
	pcm, ok := trimSilence(in, p.o.VAD, p.o.PreRoll)
	if !ok {
		return res, ErrNoSpeech
	}
	text, err := p.d.STT.Transcribe(ctx, pcm)
	if errors.Is(err, speech.ErrNoAudio) {
		return res, ErrNoSpeech
	}
	if err != nil {
		p.d.Observer.Error("stt")
		return res, fmt.Errorf("transcribe with %s: %w", p.d.STT.Name(), err)
	}
	if res.Transcript = strings.TrimSpace(text); res.Transcript == "" {
		return res, ErrNoSpeech
	}
	res.Timeline.mark(StageTranscript, since())

	events, err := p.d.Companion.Send(ctx, userID, conversationID, res.Transcript, onCall)
	if err != nil {
		return res, err
	}
	sentences := make(chan string, 4096)
	var firstAudio time.Duration
	said := audio.PCM{Rate: p.o.OutputRate}
	spoke := make(chan error, 1)
	go func() {
		var failed error
		for s := range sentences {
			text := spoken(s)
			if failed != nil || !speech.Speakable(text) {
				continue
			}
			a, err := p.d.TTS.Synthesize(ctx, text)
			if errors.Is(err, speech.ErrEmptyText) {
				continue
			}
			if err != nil {
				failed = fmt.Errorf("speak the reply with %s: %w", p.d.TTS.Name(), err)
				continue
			}
			if len(said.Samples) == 0 {
				firstAudio = since()
			}
			said.Samples = append(said.Samples, audio.Resample(a, p.o.OutputRate).Samples...)
		}
		spoke <- failed
	}()

	turnOver := make(chan struct{})
	convOf := make(chan string, 1)
	go func() {
		var conv string
		select {
		case conv = <-convOf:
		case <-turnOver:
			return
		}
		select {
		case <-ctx.Done():
			_, _ = p.d.Companion.Cancel(context.WithoutCancel(ctx), userID, conv)
		case <-turnOver:
		}
	}()
	var replies []string
	var turnErr *companion.TurnError
	var ch *chunker
	for ev := range events {
		switch ev.Type {
		case companion.EvConversation:
			if res.ConversationID == "" || res.ConversationID == conversationID {
				res.ConversationID = ev.ConversationID
				select {
				case convOf <- ev.ConversationID:
				default:
				}
			}
		case companion.EvAssistantStart:
			ch = newChunker(p.o.Chunker)
			res.MessageID = ev.Message.ID
		case companion.EvDelta:
			res.Timeline.mark(StageFirstToken, since())
			if ch != nil {
				for _, c := range ch.push(ev.Text) {
					sentences <- c.Text
				}
			}
		case companion.EvAssistantDone:
			if ch != nil {
				for _, c := range ch.flush() {
					sentences <- c.Text
				}
			}
			if t := strings.TrimSpace(ev.Message.Content); t != "" {
				replies = append(replies, t)
			}
		case companion.EvError:
			turnErr = ev.Err
		}
	}
	close(turnOver)
	close(sentences)
	ttsErr := <-spoke
	res.Audio = said
	if len(said.Samples) > 0 {
		res.Timeline.mark(StageFirstAudio, firstAudio)
	}
	res.Reply = strings.Join(replies, "\n\n")
	for _, st := range stages {
		if res.Timeline.Has(st) {
			d, _ := res.Timeline.field(st)
			p.d.Observer.VoiceStage(st, *d)
		}
	}
	switch {
	case turnErr != nil:
		return res, fmt.Errorf("%w: %s", ErrReply, turnErr.Message)
	case ctx.Err() != nil:
		return res, ctx.Err()
	case ttsErr != nil:
		p.d.Observer.Error("tts")
		return res, ttsErr
	}
	return res, nil
}

// trimSilence cuts the quiet before and after the speech in pcm, keeping
// preRoll before it and a hangover after; ok is false when nothing in it is
// loud enough to be speech.
func trimSilence(pcm audio.PCM, o VADOptions, preRoll time.Duration) (audio.PCM, bool) {
	o = o.withDefaults()
	n := int(int64(pcm.Rate) * int64(FrameDuration) / int64(time.Second))
	if n == 0 || len(pcm.Samples) < n {
		return pcm, len(pcm.Samples) > 0 && !speech.Silent(pcm)
	}
	levels := make([]float64, len(pcm.Samples)/n)
	floor := 0.0
	for i := range levels {
		levels[i] = audio.DBFS(audio.RMS(pcm.Samples[i*n : (i+1)*n]))
		floor = min(floor, levels[i])
	}
	floor = max(floor, floorMin)
	first, last := -1, -1
	for i, l := range levels {
		if l > max(floor+o.Threshold, o.MinLevel) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return audio.PCM{Rate: pcm.Rate}, false
	}
	from := time.Duration(first)*FrameDuration - preRoll
	to := time.Duration(last+1)*FrameDuration + o.Hangover
	return pcm.Slice(max(0, from), to), true
}
