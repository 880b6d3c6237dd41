package companion

import (
	"strings"

	"github.com/os1ai/os1/internal/attach"
	"github.com/os1ai/os1/internal/events"
	"github.com/os1ai/os1/internal/store"
)

// EventType names an event; the values are the wire names in docs/api.md.
type EventType string

const (
	EvConversation   EventType = "conversation"
	EvUserMessage    EventType = "user_message"
	EvAssistantStart EventType = "assistant_start"
	EvDelta          EventType = "delta"
	// EvReasoning is a delta of the model's thinking (Text) for the reply
	// MessageID: shown collapsed, never spoken. Lossy like EvDelta.
	EvReasoning      EventType = "reasoning"
	EvToolResult     EventType = "tool_result"
	EvActionRequired EventType = "action_required"
	EvActionDecided  EventType = "action_decided"
	EvAssistantDone  EventType = "assistant_done"
	EvError          EventType = "error"
	EvTurnDone       EventType = "turn_done"
	// EvLagged replaces deltas a reader was too slow for: re-read the
	// conversation (the message MessageID) and follow on from there.
	EvLagged EventType = "lagged"
	// EvMemoryChanged says the user's memory items changed (ItemIDs).
	EvMemoryChanged EventType = "memory_changed"
	// EvMailChanged says the user's mail changed (new mail synced, triage).
	EvMailChanged EventType = "mail_changed"
)

// Event is one step of a turn, or another change for the user, as clients
// see it.
//
// Delivery follows internal/events: a reader that falls behind loses deltas
// (it gets one EvLagged instead) and never holds up the turn; every other
// event reaches a reader that keeps up, and one that stalls is cut off after
// a bounded wait. The turn always runs to its end and is stored, so a client
// that lagged or reconnects reads the outcome from the conversation.
type Event struct {
	Type           EventType
	Conversation   *store.Conversation
	Message        *store.Message
	MessageID      string
	Text           string
	Action         *ActionView
	Err            *TurnError
	ConversationID string
	ItemIDs        []string // EvMemoryChanged
	// Attachments describe (without data) the files of EvUserMessage's message.
	Attachments []attach.Attachment
}

// classify is the delivery rule of companion events: deltas are lossy, and
// a reader that misses one gets a lagged marker for that message.
func classify(ev Event) (bool, Event) {
	return ev.Type == EvDelta || ev.Type == EvReasoning, Event{Type: EvLagged, ConversationID: ev.ConversationID, MessageID: ev.MessageID}
}

// Classify is the delivery rule of companion events (the function a bus
// of them is built with): a cluster's bridge between nodes uses it too.
func Classify(ev Event) (bool, Event) { return classify(ev) }

// NewBus returns the in-process bus of companion events, for a single
// server process. A subscriber that fell behind takes the deltas that
// piled up as one (MergeDeltas).
func NewBus(l events.Limits) *events.Local[Event] {
	b := events.NewLocal(classify, l)
	b.Coalesce(deltasJoin, joinDeltas)
	return b
}

// deltasJoin reports whether two neighbouring events are text (or
// reasoning) deltas of one message, which a reader that fell behind takes
// as one: one frame and one flush instead of one per token
// (events.Queue.Coalesce, issue 15).
func deltasJoin(a, b Event) bool {
	return a.Type == b.Type && (a.Type == EvDelta || a.Type == EvReasoning) &&
		a.MessageID == b.MessageID && a.ConversationID == b.ConversationID
}

// joinDeltas is one delta with the text of the run.
func joinDeltas(run []Event) Event {
	n := 0
	for _, ev := range run {
		n += len(ev.Text)
	}
	var b strings.Builder
	b.Grow(n)
	for _, ev := range run {
		b.WriteString(ev.Text)
	}
	ev := run[0]
	ev.Text = b.String()
	return ev
}

// ActionView is an action waiting for consent, with a human summary.
type ActionView struct {
	store.Action
	Summary string
}

// Turn error codes: the `error` event's code (docs/api.md, Turn events).
const (
	CodeNoModel     = "no_model"    // no language model is connected
	CodeModelError  = "model_error" // the provider failed
	CodeToolError   = "tool_error"  // too many tool rounds
	CodeInternal    = "internal"    // os1 failed (the log has details)
	CodeStorage     = "storage"     // the reply could not be saved
	CodeInterrupted = "interrupted" // reserved: a turn stopped before it began
)

// TurnError is a failure reported to the user. Code is one of the Code
// constants. Message is a short sentence in plain words; Details, when
// set, is the technical error behind it (shown behind a disclosure).
type TurnError struct {
	Code    string
	Message string
	Details string
}

func (e *TurnError) Error() string { return e.Code + ": " + e.Message }
