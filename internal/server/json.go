package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Details is the technical text behind Message, when there is any
	// (a model's own error): clients show it behind a disclosure.
	Details string `json:"details,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]apiError{"error": {Code: code, Message: companion.Sentence(msg)}})
}

// errBadRequest is a request problem already written as an HTTP answer.
var errAnswered = errors.New("answered")

// readJSON decodes a request body strictly: size-limited, valid UTF-8, one
// JSON value with only known fields. On failure it answers and returns an error.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			msg := fmt.Sprintf("request body is larger than the limit of %s; a message may be at most %s", human(MaxBodyBytes), human(MaxMessageBytes))
			if tooBig.Limit < MaxBodyBytes { // a tighter cap set by route (edge.go)
				msg = fmt.Sprintf("request body is larger than the limit of %s for this endpoint", human(int(tooBig.Limit)))
			}
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large", msg)
			return errAnswered
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			writeError(w, http.StatusRequestTimeout, "timeout", "the request body arrived too slowly")
			return errAnswered
		}
		writeError(w, http.StatusBadRequest, "bad_request", "could not read the request body: "+err.Error())
		return errAnswered
	}
	if !utf8.Valid(body) {
		writeError(w, http.StatusBadRequest, "invalid_utf8", "request body is not valid UTF-8 text")
		return errAnswered
	}
	if textsafe.JSONHasNUL(body) {
		writeError(w, http.StatusBadRequest, "bad_request", "request body contains a NUL character (\\u0000); text fields may not")
		return errAnswered
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "request body is not the expected JSON: "+strings.TrimPrefix(err.Error(), "json: "))
		return errAnswered
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "bad_request", "request body has data after the JSON object")
		return errAnswered
	}
	return nil
}

func human(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkMessage validates chat text for the API, answering on failure.
func checkMessage(w http.ResponseWriter, text string) bool {
	if len(text) > MaxMessageBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
			fmt.Sprintf("message is %s; the limit is %s", human(len(text)), human(MaxMessageBytes)))
		return false
	}
	switch err := companion.ValidateText(text); {
	case errors.Is(err, companion.ErrInvalidUTF8):
		writeError(w, http.StatusBadRequest, "invalid_utf8", "message is not valid UTF-8 text")
		return false
	case errors.Is(err, companion.ErrEmptyMessage):
		writeError(w, http.StatusBadRequest, "bad_request", "message is empty: write something first")
		return false
	case errors.Is(err, companion.ErrNUL):
		writeError(w, http.StatusBadRequest, "bad_request", "message contains a NUL character")
		return false
	}
	return true
}

type userJSON struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        string    `json:"role"`
	CreatedAt   time.Time `json:"created_at"`
}

func userOut(u store.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: string(u.Role), CreatedAt: u.CreatedAt}
}

type conversationJSON struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	TitleSource string    `json:"title_source"` // "" (the first message), "model" or "user"
	Pinned      bool      `json:"pinned"`
	Archived    bool      `json:"archived"`
	Model       string    `json:"model"` // the owner's pick for this conversation; "" = the server's
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func conversationOut(c store.Conversation) conversationJSON {
	return conversationJSON{ID: c.ID, Title: c.Title, TitleSource: c.TitleSource, Pinned: !c.PinnedAt.IsZero(),
		Archived: !c.ArchivedAt.IsZero(), Model: c.Model, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

type messageJSON struct {
	ID             string           `json:"id"`
	ConversationID string           `json:"conversation_id"`
	Role           string           `json:"role"`
	Content        string           `json:"content"`
	ToolCalls      []store.ToolCall `json:"tool_calls"`
	ToolCallID     string           `json:"tool_call_id"`
	Status         string           `json:"status"`
	Error          string           `json:"error"`
	ErrorDetails   string           `json:"error_details,omitempty"` // behind a disclosure under Error
	Reason         string           `json:"reason,omitempty"`
	Branch         *branchJSON      `json:"branch,omitempty"`      // other versions (branches.go); GET conversation only
	Attachments    []attachmentJSON `json:"attachments,omitempty"` // files of a user message (attachments.go)
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`

	// Reasoning is what the model thought before answering (shown
	// collapsed, never spoken); ThoughtForMS how long, in milliseconds.
	Reasoning    string `json:"reasoning,omitempty"`
	ThoughtForMS int64  `json:"thought_for_ms,omitempty"`
	// Finish is "length" when the token limit cut the reply off.
	Finish string `json:"finish,omitempty"`
}

func messageOut(m store.Message) messageJSON {
	tc := m.ToolCalls
	if tc == nil {
		tc = []store.ToolCall{}
	}
	errText, errDetails := companion.SplitFailure(m.Error)
	return messageJSON{ErrorDetails: errDetails, ID: m.ID, ConversationID: m.ConversationID, Role: string(m.Role), Content: m.Content,
		ToolCalls: tc, ToolCallID: m.ToolCallID, Status: string(m.Status), Error: errText, Reason: m.Reason,
		Reasoning: m.Reasoning, ThoughtForMS: m.ThoughtFor.Milliseconds(), Finish: m.Finish, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

type actionJSON struct {
	ID             string          `json:"id"`
	ConversationID string          `json:"conversation_id"`
	Tool           string          `json:"tool"`
	Arguments      json.RawMessage `json:"arguments"`
	Summary        string          `json:"summary"`
	Status         string          `json:"status"`
	Result         string          `json:"result"`
}

func (s *Server) actionOut(a store.Action) actionJSON {
	args := a.Arguments
	if len(args) == 0 {
		args = json.RawMessage(`{}`)
	}
	return actionJSON{ID: a.ID, ConversationID: a.ConversationID, Tool: a.Tool, Arguments: args,
		Summary: s.Companion.Tools().Summarize(a.Tool, a.Arguments), Status: string(a.Status), Result: a.Result}
}

type personaJSON struct {
	Name  string `json:"name"`
	Voice string `json:"voice"`
	Style string `json:"style"`
	Named bool   `json:"named"`
}

func personaOut(p store.Persona) personaJSON {
	return personaJSON{Name: p.Name, Voice: p.Voice, Style: p.Style, Named: p.Name != ""}
}

type profileJSON struct {
	Answers   map[string]string `json:"answers"`
	Timezone  string            `json:"timezone"`
	Onboarded bool              `json:"onboarded"`
}

func profileOut(p store.Profile) profileJSON {
	a := p.Answers
	if a == nil {
		a = map[string]string{}
	}
	return profileJSON{Answers: a, Timezone: p.Timezone, Onboarded: !p.OnboardedAt.IsZero()}
}

// wireEvent is a turn event on the wire (SSE data line or WebSocket frame).
type wireEvent struct {
	Type           string            `json:"type"`
	Conversation   *conversationJSON `json:"conversation,omitempty"`
	Message        *messageJSON      `json:"message,omitempty"`
	MessageID      string            `json:"message_id,omitempty"`
	Text           string            `json:"text,omitempty"`
	Action         *actionJSON       `json:"action,omitempty"`
	Error          *apiError         `json:"error,omitempty"`
	ConversationID string            `json:"conversation_id,omitempty"`
	ItemIDs        []string          `json:"item_ids,omitempty"`
}

func (s *Server) eventOut(ev companion.Event) wireEvent {
	out := wireEvent{Type: string(ev.Type), MessageID: ev.MessageID, Text: ev.Text, ConversationID: ev.ConversationID, ItemIDs: ev.ItemIDs}
	if ev.Conversation != nil {
		c := conversationOut(*ev.Conversation)
		out.Conversation = &c
	}
	if ev.Message != nil {
		m := messageOut(*ev.Message)
		m.Attachments = attachmentsOut(ev.Attachments)
		out.Message = &m
	}
	if ev.Action != nil {
		a := s.actionOut(ev.Action.Action)
		a.Summary = ev.Action.Summary
		out.Action = &a
	}
	if ev.Err != nil {
		out.Error = &apiError{Code: ev.Err.Code, Message: companion.Sentence(ev.Err.Message), Details: ev.Err.Details}
	}
	return out
}
