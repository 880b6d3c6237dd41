package server

import (
	"context"
	"net/http"

	"github.com/os1ai/os1/internal/store"
)

// ReminderEmail is a user's "also email me reminders" setting.
type ReminderEmail struct {
	On bool `json:"on"`
	// Address is where reminders are mailed: the user's own address on
	// their mail account; "" when none is connected (then none is sent).
	Address string `json:"address"`
}

// ReminderEmailer keeps the setting per user (the app: docs/reminders.md).
type ReminderEmailer interface {
	EmailReminders(ctx context.Context, userID string) (ReminderEmail, error)
	SetEmailReminders(ctx context.Context, userID string, on bool) (ReminderEmail, error)
}

func (s *Server) reminderEmailer(w http.ResponseWriter) ReminderEmailer {
	if s.ReminderEmail == nil {
		writeError(w, http.StatusServiceUnavailable, "reminders_unavailable", "Reminders by email are not enabled on this server.")
	}
	return s.ReminderEmail
}

// reminderEmail answers {"on","address"}.
func (s *Server) reminderEmail(w http.ResponseWriter, r *http.Request, u store.User) {
	e := s.reminderEmailer(w)
	if e == nil {
		return
	}
	set, err := e.EmailReminders(r.Context(), u.ID)
	if err != nil {
		s.internal(w, "read the reminders-by-email setting", err)
		return
	}
	writeJSON(w, http.StatusOK, set)
}

// setReminderEmail sets {"on": true|false}.
func (s *Server) setReminderEmail(w http.ResponseWriter, r *http.Request, u store.User) {
	e := s.reminderEmailer(w)
	if e == nil {
		return
	}
	var in struct {
		On *bool `json:"on"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	if in.On == nil {
		writeError(w, http.StatusBadRequest, "bad_request", `Say {"on": true} or {"on": false}.`)
		return
	}
	set, err := e.SetEmailReminders(r.Context(), u.ID, *in.On)
	if err != nil {
		s.internal(w, "save the reminders-by-email setting", err)
		return
	}
	writeJSON(w, http.StatusOK, set)
}
