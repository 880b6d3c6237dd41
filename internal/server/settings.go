package server

import (
	"errors"
	"net/http"
	"strings"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/models"
	"github.com/os1ai/os1/internal/store"
)

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request, u store.User) {
	p, err := s.Store.Profile(r.Context(), u.ID)
	if errors.Is(err, store.ErrNotFound) {
		p, err = store.Profile{UserID: u.ID}, nil
	}
	if err != nil {
		s.internal(w, "read profile", err)
		return
	}
	writeJSON(w, http.StatusOK, profileOut(p))
}

func (s *Server) putProfile(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Answers  map[string]string `json:"answers"`
		Timezone string            `json:"timezone"`
		Finish   bool              `json:"finish"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	if len(in.Answers) > 32 {
		writeError(w, http.StatusBadRequest, "bad_request", "at most 32 answers")
		return
	}
	p, err := s.Companion.SaveMeeting(r.Context(), u.ID, in.Answers, in.Timezone, in.Finish)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, profileOut(p))
}

func (s *Server) getPersona(w http.ResponseWriter, r *http.Request, u store.User) {
	p, err := s.Store.Persona(r.Context(), u.ID)
	if err != nil {
		s.storeError(w, "read persona", err)
		return
	}
	writeJSON(w, http.StatusOK, personaOut(p))
}

func (s *Server) putPersona(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Name  *string `json:"name"`
		Voice *string `json:"voice"`
		Style *string `json:"style"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	ctx := r.Context()
	p, err := s.Store.Persona(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		p, err = store.Persona{UserID: u.ID}, nil
	}
	if err != nil {
		s.internal(w, "read persona", err)
		return
	}
	now := s.Clock.Now()
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len([]rune(n)) > 32 {
			writeError(w, http.StatusBadRequest, "bad_request", "name must be 1 to 32 characters")
			return
		}
		p.Name, p.NamedAt = n, now
	}
	for _, f := range []struct {
		in  *string
		out *string
	}{{in.Voice, &p.Voice}, {in.Style, &p.Style}} {
		if f.in != nil {
			if len(*f.in) > companion.MaxAnswerLen {
				writeError(w, http.StatusBadRequest, "bad_request", "voice and style must be at most 4000 bytes")
				return
			}
			*f.out = strings.TrimSpace(*f.in)
		}
	}
	p.UpdatedAt = now
	if err := s.Store.SavePersona(ctx, p); err != nil {
		s.internal(w, "save persona", err)
		return
	}
	writeJSON(w, http.StatusOK, personaOut(p))
}

func (s *Server) namePersona(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Again bool `json:"again"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	p, err := s.Companion.ChooseName(r.Context(), u.ID, in.Again)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, personaOut(p))
	case errors.Is(err, companion.ErrNotOnboarded):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, llm.ErrNoProvider):
		writeError(w, http.StatusServiceUnavailable, "no_model", err.Error())
	case errors.Is(err, companion.ErrBadName):
		writeError(w, http.StatusBadGateway, "model_error", err.Error())
	case llm.KindOf(err) != "":
		writeModelError(w, err)
	default:
		s.internal(w, "choose a name", err)
	}
}

// getModel reports the model status as the last real call or check left it;
// with ?check=1 ("Check again"), or while none is connected, it looks again
// and checks live that the model answers.
func (s *Server) getModel(w http.ResponseWriter, r *http.Request, u store.User) {
	st := s.Models.Status()
	if !st.Connected || r.URL.Query().Get("check") == "1" {
		st = s.Models.Refresh(r.Context())
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) putModel(w http.ResponseWriter, r *http.Request, u store.User) {
	var in models.Settings
	if readJSON(w, r, &in) != nil {
		return
	}
	st, err := s.Models.Configure(r.Context(), in)
	if err != nil {
		code, status := "bad_request", http.StatusBadRequest
		if llm.KindOf(err) != "" {
			code, status = "model_error", http.StatusBadGateway
		}
		writeError(w, status, code, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request, u store.User) {
	names, err := s.Models.List(r.Context())
	if err != nil {
		if errors.Is(err, llm.ErrNoProvider) {
			writeError(w, http.StatusServiceUnavailable, "no_model", err.Error())
			return
		}
		writeModelError(w, err)
		return
	}
	if names == nil {
		names = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": names})
}
