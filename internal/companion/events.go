package companion

import "github.com/os1ai/os1/internal/store"

// EventType names a turn event; the values are the wire names in docs/api.md.
type EventType string

const (
	EvConversation   EventType = "conversation"
	EvUserMessage    EventType = "user_message"
	EvAssistantStart EventType = "assistant_start"
	EvDelta          EventType = "delta"
	EvToolResult     EventType = "tool_result"
	EvActionRequired EventType = "action_required"
	EvAssistantDone  EventType = "assistant_done"
	EvError          EventType = "error"
	EvTurnDone       EventType = "turn_done"
)

// Event is one step of a turn as the client sees it.
//
// Delivery: a subscriber that stops reading loses the rest of the events,
// but never the turn: the turn keeps running and everything is stored, so a
// client that reconnects reads the outcome from the conversation.
type Event struct {
	Type           EventType
	Conversation   *store.Conversation
	Message        *store.Message
	MessageID      string
	Text           string
	Action         *ActionView
	Err            *TurnError
	ConversationID string
}

// ActionView is an action waiting for consent, with a human summary.
type ActionView struct {
	store.Action
	Summary string
}

// TurnError is a failure reported to the user. Code is one of the API error codes.
type TurnError struct {
	Code    string // "no_model", "model_error", "tool_error", "interrupted"
	Message string
}
