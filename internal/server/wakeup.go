package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/os1ai/os1/internal/briefing"
	"github.com/os1ai/os1/internal/store"
)

// WakeupAnswerer answers a wake-up call that rang (briefing.Briefer).
type WakeupAnswerer interface {
	AnswerWakeup(ctx context.Context, userID, reminderID, conversationID string) (briefing.Answered, error)
}

// wakeupAnswer answers the user's wake-up call {id} that rang: os1 starts
// her turn with the morning briefing (docs/reminders.md), in the wake-up's
// conversation {"conversation_id"} when given (a new one when it is busy
// or absent). 202 {"conversation_id","reason"}: the reply arrives on the
// user's event stream like any turn os1 starts.
func (s *Server) wakeupAnswer(w http.ResponseWriter, r *http.Request, u store.User) {
	if s.Wakeups == nil {
		writeError(w, http.StatusServiceUnavailable, "reminders_unavailable", "Wake-up calls are not enabled on this server.")
		return
	}
	var in struct {
		ConversationID string `json:"conversation_id"`
	}
	if r.ContentLength != 0 {
		if err := readJSON(w, r, &in); err != nil {
			return
		}
	}
	ans, err := s.Wakeups.AnswerWakeup(r.Context(), u.ID, r.PathValue("id"), in.ConversationID)
	switch {
	case err == nil:
		writeJSON(w, http.StatusAccepted, ans)
	case errors.Is(err, briefing.ErrNotWakeup):
		writeError(w, http.StatusBadRequest, "not_wakeup", "That reminder is not a wake-up call.")
	case errors.Is(err, briefing.ErrAnswered):
		writeError(w, http.StatusConflict, "already_answered", "That wake-up call was answered already.")
	case errors.Is(err, briefing.ErrNotRung):
		writeError(w, http.StatusConflict, "not_rung", "That wake-up call has not rung, so there is nothing to answer.")
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No such wake-up call or conversation.")
	case errors.Is(err, briefing.ErrUnavailable):
		writeError(w, http.StatusServiceUnavailable, "reminders_unavailable", "Wake-up calls are not enabled on this server.")
	default:
		s.remindersError(w, "answer a wake-up call", err)
	}
}
