// Package voice is os1's call pipeline: it turns a stream of microphone
// audio into turns of the companion and her replies into a stream of speech.
// It finds where the user's turn ends (voice activity, a grace period that
// grows when a sentence is left hanging), transcribes, hands the words to the
// companion as an ordinary message, speaks the reply sentence by sentence,
// lets the user cut in (barge-in) and keeps in the conversation only what was
// heard. docs/voice-protocol.md is the protocol a Session speaks.
//
// It is engine-agnostic: any speech.Transcriber and speech.Synthesizer will
// do. It must never store words the user did not say or the companion did not
// write, never leave a reply marked as streaming when a call ends, and never
// log what was said.
package voice

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/store"
)

// Companion is the part of the companion a call talks to
// (*companion.Companion).
type Companion interface {
	// Send stores the user's words in the conversation (a new one when
	// empty) and streams the turn. A call always sends Channel voice, so
	// the reply is written to be heard.
	Send(ctx context.Context, userID, conversationID, text string, opts ...companion.SendOptions) (iter.Seq[companion.Event], error)
	// Cancel stops the running turn of a conversation.
	Cancel(ctx context.Context, userID, conversationID string) (bool, error)
	// KeepHeard cuts a finished reply back to what the user heard of it.
	KeepHeard(ctx context.Context, userID, messageID, heard string) error
	// Subscribe follows the user's events, wherever their turns started
	// (delivery: lossy deltas with a lagged marker, bounded final events;
	// see companion.Event).
	Subscribe(ctx context.Context, userID string) iter.Seq[companion.Event]
}

var _ Companion = (*companion.Companion)(nil)

// onCall is what every turn of a call (and of os1 talk) sends: the words
// are heard, so the model is asked to write for the ear.
var onCall = companion.SendOptions{Channel: store.ChannelVoice}

// Conversations looks up a user's conversation, so a call cannot join
// another user's (a store.Store does).
type Conversations interface {
	Conversation(ctx context.Context, userID, id string) (store.Conversation, error)
}

// Observer receives a call's measurements (implemented by internal/metrics).
type Observer interface {
	// VoiceStage records when a stage of a turn was reached, measured from
	// the end of the user's speech: "end_of_turn", "transcript",
	// "first_token", "first_audio", "playback_start".
	VoiceStage(stage string, d time.Duration)
	// VoiceBargeIn counts a reply cut off by the user; by is "client",
	// "server" (server VAD), "text" or "hangup".
	VoiceBargeIn(by string)
	// Error counts a failure by kind ("stt", "tts").
	Error(kind string)
}

// Errors of the one-shot Turn.
var (
	// ErrNoSpeech: the audio holds nothing that was transcribed to words.
	ErrNoSpeech = errors.New("no speech in the audio")
	// ErrReply: the companion could not answer; the error says why.
	ErrReply = errors.New("the companion could not answer")
)

// Options tune the pipeline. Zero values take the defaults in brackets.
type Options struct {
	// Grace is how long the user may pause before the turn ends, counted
	// from the end of their speech [600ms].
	Grace time.Duration
	// MidSentenceGrace replaces Grace when the transcript so far ends
	// mid-sentence ("and", "the", "um"…) [1500ms].
	MidSentenceGrace time.Duration
	// MaxUtterance cuts a turn that goes on this long and transcribes it [60s].
	MaxUtterance time.Duration
	// OutputRate is the sample rate of the speech sent to clients that do
	// not ask for one [24000].
	OutputRate int
	// BargeInWait is how long the server waits for the client to say how
	// much of a reply it played, after telling it to stop; then it estimates
	// from the clock [400ms].
	BargeInWait time.Duration
	// PreRoll is the audio kept from before speech was detected [300ms].
	PreRoll time.Duration
	// VAD tunes the server-side voice activity detection.
	VAD VADOptions
	// Echo tunes echo rejection.
	Echo EchoOptions
	// Chunker tunes how replies are cut into sentences for speech.
	Chunker ChunkerOptions
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Grace, 600*time.Millisecond)
	def(&o.MidSentenceGrace, 1500*time.Millisecond)
	def(&o.MaxUtterance, 60*time.Second)
	def(&o.BargeInWait, 400*time.Millisecond)
	def(&o.PreRoll, 300*time.Millisecond)
	if o.MidSentenceGrace < o.Grace {
		o.MidSentenceGrace = o.Grace
	}
	if o.OutputRate == 0 {
		o.OutputRate = 24000
	}
	o.VAD = o.VAD.withDefaults()
	o.Echo = o.Echo.withDefaults()
	o.Chunker = o.Chunker.withDefaults()
	return o
}

// Deps are the pipeline's collaborators.
type Deps struct {
	Companion     Companion
	Conversations Conversations
	STT           speech.Transcriber
	TTS           speech.Synthesizer
	Clock         clock.Clock // nil: clock.System; with clock.Fake, timers fire as tests move time
	Observer      Observer    // nil: no metrics
	Log           *slog.Logger
}

// Pipeline holds the engines and settings shared by every call.
type Pipeline struct {
	d Deps
	o Options
}

// New returns a pipeline. Companion, Conversations, STT and TTS are required.
func New(d Deps, o Options) *Pipeline {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Observer == nil {
		d.Observer = nopObserver{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.STT != nil {
		d.STT = guardedSTT{d.STT, d.Log}
	}
	if d.TTS != nil {
		d.TTS = guardedTTS{d.TTS, d.Log}
	}
	return &Pipeline{d: d, o: o.withDefaults()}
}

// Engines names the speech engines, for `ready` and `os1 doctor`.
func (p *Pipeline) Engines() (stt, tts string) { return p.d.STT.Name(), p.d.TTS.Name() }

type nopObserver struct{}

func (nopObserver) VoiceStage(string, time.Duration) {}
func (nopObserver) VoiceBargeIn(string)              {}
func (nopObserver) Error(string)                     {}
