package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/os1ai/os1/internal/memory/reindex"
	"github.com/os1ai/os1/internal/store"
)

// Reindexer rebuilds memory's vectors with the configured embedding model
// in the server's process (app.Reindex), and says when they need it.
type Reindexer interface {
	// Notice is the sentence saying what to run after a model change; "" when none.
	Notice(ctx context.Context) (string, error)
	// Start begins reindexing users in the background (reindex.ErrRunning while one runs).
	Start(ctx context.Context, users []reindex.User) error
	State() reindex.State
}

// reindexState is GET /api/memory/reindex's answer.
type reindexState struct {
	reindex.State
	Notice string `json:"notice,omitempty"`
}

func (s *Server) reindexRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/memory/reindex", s.owner(s.getReindex))
	m.HandleFunc("POST /api/memory/reindex", s.owner(s.startReindex))
}

// memoryNotice is the model-change sentence for GET /api/status; "" when none.
func (s *Server) memoryNotice(ctx context.Context) string {
	if s.Memory == nil || s.Memory.Reindex == nil {
		return ""
	}
	n, err := s.Memory.Reindex.Notice(ctx)
	if err != nil {
		s.Log.Warn("read the embedding models", "err", err)
	}
	return n
}

func (s *Server) getReindex(w http.ResponseWriter, r *http.Request, _ store.User) {
	if s.Memory == nil || s.Memory.Reindex == nil {
		writeError(w, http.StatusServiceUnavailable, "memory_unavailable", "long-term memory is not enabled on this server")
		return
	}
	writeJSON(w, http.StatusOK, reindexState{State: s.Memory.Reindex.State(), Notice: s.memoryNotice(r.Context())})
}

// startReindex starts rebuilding the vectors of one user ({"user": NAME})
// or of all ({"all": true}); the owner only, since it costs the server's CPU.
func (s *Server) startReindex(w http.ResponseWriter, r *http.Request, _ store.User) {
	if s.Memory == nil || s.Memory.Reindex == nil {
		writeError(w, http.StatusServiceUnavailable, "memory_unavailable", "long-term memory is not enabled on this server")
		return
	}
	var in struct {
		User string `json:"user"`
		All  bool   `json:"all"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	if in.All == (in.User != "") {
		writeError(w, http.StatusBadRequest, "bad_request", `Say whose memory to reindex: {"user": "NAME"} or {"all": true}.`)
		return
	}
	all, err := s.Store.ListUsers(r.Context())
	if err != nil {
		s.internal(w, "list users", err)
		return
	}
	var users []reindex.User
	for _, u := range all {
		if in.All || strings.EqualFold(u.Username, in.User) {
			users = append(users, reindex.User{ID: u.ID, Username: u.Username})
		}
	}
	if len(users) == 0 {
		writeError(w, http.StatusNotFound, "not_found", "There is no user "+in.User+" on this server.")
		return
	}
	switch err := s.Memory.Reindex.Start(r.Context(), users); {
	case errors.Is(err, reindex.ErrRunning):
		writeError(w, http.StatusConflict, "reindex_running", "A reindex is already running; follow it with GET /api/memory/reindex.")
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "embedder_unavailable", "The embedding model cannot be used: "+err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, reindexState{State: s.Memory.Reindex.State()})
}
