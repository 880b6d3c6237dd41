package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/store"
)

// Proactive messages: the settings of what os1 may start on her own
// (daily budget, meeting lead, check-ins, muted triggers, quiet hours
// shared with reminders) and the log of what she sent and held back
// (internal/proactive). Every query is the signed-in user's own.

func (s *Server) proactiveRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/proactive/settings", s.user(s.proactiveSettings))
	m.HandleFunc("PUT /api/proactive/settings", s.user(s.proactivePut))
	m.HandleFunc("GET /api/proactive/log", s.user(s.proactiveLog))
}

// proactiveService returns the service, or answers 503 when there is none.
func (s *Server) proactiveService(w http.ResponseWriter) *proactive.Service {
	if s.Proactive == nil {
		writeError(w, http.StatusServiceUnavailable, "proactive_unavailable", "Messages os1 starts herself are not enabled on this server.")
	}
	return s.Proactive
}

func (s *Server) proactiveSettings(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.proactiveService(w)
	if svc == nil {
		return
	}
	v, err := svc.Get(r.Context(), u.ID)
	if err != nil {
		s.internal(w, "read proactive settings", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// proactivePut changes the fields given (proactive.Input); the others stay.
func (s *Server) proactivePut(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.proactiveService(w)
	if svc == nil {
		return
	}
	var in proactive.Input
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	v, err := svc.Update(r.Context(), u.ID, in)
	var bad *proactive.InputError
	if errors.As(err, &bad) {
		writeError(w, http.StatusBadRequest, "bad_request", bad.Msg)
		return
	}
	if err != nil {
		s.internal(w, "save proactive settings", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// proactiveLog answers {"log": [...]}, newest first (?limit=, at most 500).
func (s *Server) proactiveLog(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.proactiveService(w)
	if svc == nil {
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	l, err := svc.Log(r.Context(), u.ID, limit)
	if err != nil {
		s.internal(w, "read the proactive log", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"log": l})
}
