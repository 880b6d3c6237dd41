package voice

import "time"

// The frames of docs/voice-protocol.md. Sinks encode them as JSON text frames.

// clientFrame is any JSON frame from the client.
type clientFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	SampleRate     int    `json:"sample_rate"`
	OutputRate     int    `json:"output_rate"`
	VAD            string `json:"vad"`
	MessageID      string `json:"message_id"`
	PlayedMS       *int64 `json:"played_ms"`
	State          string `json:"state"`
	Text           string `json:"text"`
}

// Rates a call may use.
const (
	MinRate = 8000
	MaxRate = 48000
)

type readyFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	InputRate      int    `json:"input_rate"`
	OutputRate     int    `json:"output_rate"`
	STT            string `json:"stt"`
	TTS            string `json:"tts"`
	VAD            string `json:"vad"`
}

type vadFrame struct {
	Type  string `json:"type"`
	State string `json:"state"`
}

type bargeInFrame struct {
	Type      string `json:"type"`
	MessageID string `json:"message_id"`
}

type transcriptFrame struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Final bool   `json:"final"`
}

type audioFrame struct {
	Type       string `json:"type"`
	MessageID  string `json:"message_id"`
	Seq        int    `json:"seq"`
	Text       string `json:"text"`
	SampleRate int    `json:"sample_rate"`
	Samples    int    `json:"samples"`
	OffsetMS   int64  `json:"offset_ms"`
}

type audioDoneFrame struct {
	Type      string `json:"type"`
	MessageID string `json:"message_id"`
}

type interruptedFrame struct {
	Type      string `json:"type"`
	MessageID string `json:"message_id"`
	Heard     string `json:"heard"`
}

type timelineFrame struct {
	Type            string `json:"type"`
	MessageID       string `json:"message_id,omitempty"`
	SpeechEndMS     *int64 `json:"speech_end_ms,omitempty"`
	EndOfTurnMS     *int64 `json:"end_of_turn_ms,omitempty"`
	TranscriptMS    *int64 `json:"transcript_ms,omitempty"`
	FirstTokenMS    *int64 `json:"first_token_ms,omitempty"`
	FirstAudioMS    *int64 `json:"first_audio_ms,omitempty"`
	PlaybackStartMS *int64 `json:"playback_start_ms,omitempty"`
}

// ErrorBody is the body of an `error` frame, as in the HTTP API.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type errorFrame struct {
	Type  string    `json:"type"`
	Error ErrorBody `json:"error"`
}

// Error codes of the voice protocol (besides the turn error codes).
const (
	CodeBadRequest = "bad_request"
	CodeBadAudio   = "bad_audio"
	CodeSTTFailed  = "stt_failed"
	CodeTTSFailed  = "tts_failed"
	CodeNotFound   = "not_found"
	CodeConflict   = "conflict"
	CodeInternal   = "internal"
)

// Timeline is when the stages of one turn were reached, measured from the
// end of the user's speech (for a typed message, from its arrival). A stage
// not reached is absent.
type Timeline struct {
	EndOfTurn     time.Duration // the grace ran out: the turn is the user's no more
	Transcript    time.Duration // the final transcript was known
	FirstToken    time.Duration // the model's first words arrived
	FirstAudio    time.Duration // the first speech was sent
	PlaybackStart time.Duration // the client started playing it
	has           uint8
}

// Timeline stages, also the Observer's stage names.
const (
	StageEndOfTurn     = "end_of_turn"
	StageTranscript    = "transcript"
	StageFirstToken    = "first_token"
	StageFirstAudio    = "first_audio"
	StagePlaybackStart = "playback_start"
)

var stages = [...]string{StageEndOfTurn, StageTranscript, StageFirstToken, StageFirstAudio, StagePlaybackStart}

func (t *Timeline) field(stage string) (*time.Duration, uint8) {
	switch stage {
	case StageEndOfTurn:
		return &t.EndOfTurn, 1
	case StageTranscript:
		return &t.Transcript, 2
	case StageFirstToken:
		return &t.FirstToken, 4
	case StageFirstAudio:
		return &t.FirstAudio, 8
	case StagePlaybackStart:
		return &t.PlaybackStart, 16
	}
	panic("voice: unknown stage " + stage)
}

// Has reports whether a stage was reached.
func (t Timeline) Has(stage string) bool { _, bit := t.field(stage); return t.has&bit != 0 }

// mark records a stage once; it reports whether this was the first time.
func (t *Timeline) mark(stage string, d time.Duration) bool {
	f, bit := t.field(stage)
	if t.has&bit != 0 {
		return false
	}
	*f, t.has = d, t.has|bit
	return true
}

func (t Timeline) frame(messageID string, speech bool) timelineFrame {
	ms := func(stage string) *int64 {
		if !t.Has(stage) {
			return nil
		}
		f, _ := t.field(stage)
		v := f.Milliseconds()
		return &v
	}
	out := timelineFrame{Type: "timeline", MessageID: messageID, EndOfTurnMS: ms(StageEndOfTurn), TranscriptMS: ms(StageTranscript),
		FirstTokenMS: ms(StageFirstToken), FirstAudioMS: ms(StageFirstAudio), PlaybackStartMS: ms(StagePlaybackStart)}
	if speech {
		zero := int64(0)
		out.SpeechEndMS = &zero
	}
	return out
}
