package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/os1ai/os1/internal/reminders"
	"github.com/os1ai/os1/internal/store"
)

// Reminders: each user's reminders and wake-up calls, and their quiet
// hours (internal/reminders). Every query is scoped by the signed-in user;
// another user's ids answer 404.

func (s *Server) reminderRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/reminders", s.user(s.remindersList))
	m.HandleFunc("POST /api/reminders", s.user(s.remindersAdd))
	m.HandleFunc("GET /api/reminders/quiet-hours", s.user(s.remindersQuiet))
	m.HandleFunc("PUT /api/reminders/quiet-hours", s.user(s.remindersSetQuiet))
	m.HandleFunc("GET /api/reminders/{id}", s.user(s.remindersGet))
	m.HandleFunc("DELETE /api/reminders/{id}", s.user(s.remindersCancel))
	m.HandleFunc("POST /api/reminders/{id}/snooze", s.user(s.remindersSnooze))
	m.HandleFunc("POST /api/reminders/{id}/answer", s.user(s.wakeupAnswer)) // wakeup.go
	m.HandleFunc("GET /api/reminders/email", s.user(s.reminderEmail))       // reminder_email.go
	m.HandleFunc("PUT /api/reminders/email", s.user(s.setReminderEmail))    // reminder_email.go
}

// remindersService returns the reminders, or answers 503 when there are none.
func (s *Server) remindersService(w http.ResponseWriter) *reminders.Service {
	if s.Reminders == nil {
		writeError(w, http.StatusServiceUnavailable, "reminders_unavailable", "Reminders are not enabled on this server.")
	}
	return s.Reminders
}

// remindersError maps the reminders' errors to answers.
func (s *Server) remindersError(w http.ResponseWriter, what string, err error) {
	var in *reminders.InputError
	switch {
	case errors.As(err, &in):
		writeError(w, http.StatusBadRequest, "bad_request", in.Msg)
	case errors.Is(err, reminders.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No such reminder.")
	case errors.Is(err, reminders.ErrNotPending):
		writeError(w, http.StatusConflict, "not_pending", "That reminder has already fired, is firing, or was cancelled.")
	default:
		s.internal(w, what, err)
	}
}

// remindersList answers {"reminders": [...]}: those still to fire, or all
// with ?all=1.
func (s *Server) remindersList(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.remindersService(w)
	if svc == nil {
		return
	}
	rs, err := svc.List(r.Context(), u.ID, r.URL.Query().Get("all") == "1")
	if err != nil {
		s.remindersError(w, "list reminders", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reminders": rs})
}

func (s *Server) remindersAdd(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.remindersService(w)
	if svc == nil {
		return
	}
	var in reminders.Input
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	rem, err := svc.Add(r.Context(), u.ID, in)
	if err != nil {
		s.remindersError(w, "add a reminder", err)
		return
	}
	writeJSON(w, http.StatusCreated, rem)
}

func (s *Server) remindersGet(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.remindersService(w)
	if svc == nil {
		return
	}
	rem, err := svc.Get(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.remindersError(w, "read a reminder", err)
		return
	}
	writeJSON(w, http.StatusOK, rem)
}

func (s *Server) remindersCancel(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.remindersService(w)
	if svc == nil {
		return
	}
	rem, err := svc.Cancel(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.remindersError(w, "cancel a reminder", err)
		return
	}
	writeJSON(w, http.StatusOK, rem)
}

// remindersSnooze moves a reminder {"minutes": n} from now (10 when absent).
func (s *Server) remindersSnooze(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.remindersService(w)
	if svc == nil {
		return
	}
	var in struct {
		Minutes int `json:"minutes"`
	}
	if r.ContentLength != 0 {
		if err := readJSON(w, r, &in); err != nil {
			return
		}
	}
	rem, err := svc.Snooze(r.Context(), u.ID, r.PathValue("id"), time.Duration(in.Minutes)*time.Minute)
	if err != nil {
		s.remindersError(w, "snooze a reminder", err)
		return
	}
	writeJSON(w, http.StatusOK, rem)
}

func (s *Server) remindersQuiet(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.remindersService(w)
	if svc == nil {
		return
	}
	q, err := svc.QuietHours(r.Context(), u.ID)
	if err != nil {
		s.remindersError(w, "read quiet hours", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"quiet_hours": q.String()})
}

// remindersSetQuiet sets {"quiet_hours": "22:00-07:00"} ("off" clears).
func (s *Server) remindersSetQuiet(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.remindersService(w)
	if svc == nil {
		return
	}
	var in struct {
		QuietHours string `json:"quiet_hours"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	q, err := svc.SetQuietHours(r.Context(), u.ID, in.QuietHours)
	if err != nil {
		s.remindersError(w, "set quiet hours", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"quiet_hours": q.String()})
}
