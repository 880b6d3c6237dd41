package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/store"
)

// Per-message actions (docs/api.md, "Branches and reading aloud"): edit a
// message of the user's, regenerate one of her replies, switch between the
// versions, and read a reply aloud. Every one is scoped to the signed-in
// user: another user's conversation or message answers 404.
func (s *Server) branchRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/conversations/{id}/messages/{mid}/edit", s.user(s.editMessage))
	m.HandleFunc("POST /api/conversations/{id}/messages/{mid}/regenerate", s.user(s.regenerate))
	m.HandleFunc("POST /api/conversations/{id}/messages/{mid}/show", s.user(s.showBranch))
	m.HandleFunc("POST /api/conversations/{id}/messages/{mid}/speak", s.user(s.speak))
}

// branchJSON is a message's place among its versions, in the transcript.
type branchJSON struct {
	Index  int    `json:"index"`
	Count  int    `json:"count"`
	PrevID string `json:"prev_id,omitempty"`
	NextID string `json:"next_id,omitempty"`
}

// withBranches marks the messages that have other versions.
func (s *Server) withBranches(ctx context.Context, userID, convID string, msgs []messageJSON) error {
	bs, err := s.Companion.Branches(ctx, userID, convID)
	if err != nil {
		return err
	}
	for i := range msgs {
		if b, ok := bs[msgs[i].ID]; ok {
			msgs[i].Branch = &branchJSON{Index: b.Index, Count: b.Count, PrevID: b.PrevID, NextID: b.NextID}
		}
	}
	return nil
}

// branchError answers the errors only branch operations have; it reports
// whether it answered.
func branchError(w http.ResponseWriter, err error) bool {
	if errors.Is(err, companion.ErrNotUserMessage) || errors.Is(err, companion.ErrNotAssistantMessage) {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return true
	}
	return false
}

func (s *Server) editMessage(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Text string `json:"text"`
	}
	if readJSON(w, r, &in) != nil || !checkMessage(w, in.Text) {
		return
	}
	events, err := s.Companion.Edit(r.Context(), u.ID, r.PathValue("id"), r.PathValue("mid"), in.Text)
	if branchError(w, err) {
		return
	}
	s.streamTurn(w, r, events, err)
}

func (s *Server) regenerate(w http.ResponseWriter, r *http.Request, u store.User) {
	events, err := s.Companion.Regenerate(r.Context(), u.ID, r.PathValue("id"), r.PathValue("mid"))
	if branchError(w, err) {
		return
	}
	s.streamTurn(w, r, events, err)
}

// showBranch switches to the version through {mid} and answers the
// conversation as GET does.
func (s *Server) showBranch(w http.ResponseWriter, r *http.Request, u store.User) {
	err := s.Companion.Show(r.Context(), u.ID, r.PathValue("id"), r.PathValue("mid"))
	switch {
	case errors.Is(err, companion.ErrBusy):
		writeError(w, http.StatusConflict, "conflict", "a reply is being written in this conversation; switch versions when it is done")
	case err != nil:
		s.storeError(w, "show branch", err)
	default:
		s.getConversation(w, r, u)
	}
}

// speak answers a stored message read aloud, as audio/wav.
func (s *Server) speak(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	if _, err := s.Store.Conversation(ctx, u.ID, r.PathValue("id")); err != nil {
		s.storeError(w, "read aloud", err)
		return
	}
	m, err := s.Store.Message(ctx, u.ID, r.PathValue("mid"))
	if err == nil && m.ConversationID != r.PathValue("id") {
		err = store.ErrNotFound
	}
	if err != nil {
		s.storeError(w, "read aloud", err)
		return
	}
	if s.Voice == nil {
		writeError(w, http.StatusServiceUnavailable, "voice_unavailable",
			"Reading aloud needs a text-to-speech engine, and this server has none. `os1 doctor` shows what to set up.")
		return
	}
	pcm, err := s.Voice.Speak(ctx, m.Content)
	switch {
	case errors.Is(err, speech.ErrEmptyText):
		writeError(w, http.StatusBadRequest, "bad_request", "There is nothing in this message to read aloud.")
		return
	case err != nil:
		if ctx.Err() == nil {
			s.Log.Warn("read aloud", "message", m.ID, "err", err)
		}
		writeError(w, http.StatusBadGateway, "speech_error", "The voice could not read this aloud. Try again in a moment.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = audio.EncodeWAV(w, pcm)
}
