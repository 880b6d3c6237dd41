package server

import (
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
)

func (s *Server) createConversation(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Title string `json:"title"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	c, err := s.Companion.CreateConversation(r.Context(), u.ID, in.Title)
	switch {
	case errors.Is(err, companion.ErrTitleTooLong):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	case err != nil:
		s.internal(w, "create conversation", err)
	default:
		writeJSON(w, http.StatusCreated, conversationOut(c))
	}
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	id := r.PathValue("id")
	c, err := s.Store.Conversation(ctx, u.ID, id)
	if err != nil {
		s.storeError(w, "read conversation", err)
		return
	}
	msgs, err := s.Store.Messages(ctx, u.ID, id)
	if err != nil {
		s.storeError(w, "read messages", err)
		return
	}
	acts, err := s.Store.PendingActions(ctx, u.ID, id)
	if err != nil {
		s.storeError(w, "read actions", err)
		return
	}
	mo := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		mo[i] = messageOut(m)
	}
	if err := s.withBranches(ctx, u.ID, id, mo); err != nil {
		s.storeError(w, "read branches", err)
		return
	}
	if err := s.withAttachments(ctx, u.ID, mo); err != nil {
		s.storeError(w, "read attachments", err)
		return
	}
	ao := make([]actionJSON, len(acts))
	for i, a := range acts {
		ao[i] = s.actionOut(a)
		ao[i].Summary = s.Companion.DescribeAction(ctx, a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversation": conversationOut(c), "messages": mo, "pending_actions": ao,
		"running": s.Companion.RunningAnywhere(ctx, u.ID, id)})
}

func (s *Server) deleteConversation(w http.ResponseWriter, r *http.Request, u store.User) {
	id := r.PathValue("id")
	if _, err := s.Companion.Cancel(r.Context(), u.ID, id); err != nil {
		s.storeError(w, "delete conversation", err)
		return
	}
	if err := s.Store.DeleteConversation(r.Context(), u.ID, id); err != nil {
		s.storeError(w, "delete conversation", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request, u store.User) {
	if isMultipart(r) {
		s.postMessageWithFiles(w, r, u) // attachments.go
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	if readJSON(w, r, &in) != nil || !checkMessage(w, in.Text) {
		return
	}
	events, err := s.Companion.Send(r.Context(), u.ID, r.PathValue("id"), in.Text)
	s.streamTurn(w, r, events, err)
}

func (s *Server) retry(w http.ResponseWriter, r *http.Request, u store.User) {
	events, err := s.Companion.Retry(r.Context(), u.ID, r.PathValue("id"))
	s.streamTurn(w, r, events, err)
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request, u store.User) {
	if _, err := s.Companion.Cancel(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.storeError(w, "cancel", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Approve *bool `json:"approve"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	if in.Approve == nil {
		writeError(w, http.StatusBadRequest, "bad_request", `say {"approve": true} or {"approve": false}`)
		return
	}
	events, err := s.Companion.Decide(r.Context(), u.ID, r.PathValue("id"), *in.Approve)
	s.streamTurn(w, r, events, err)
}

// turnError maps an error from starting a turn to an HTTP answer.
func (s *Server) turnError(w http.ResponseWriter, err error) {
	if status, code, ok := attachmentStatus(err); ok {
		writeError(w, status, code, attachmentMessage(err))
		return
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, companion.ErrBusy):
		writeError(w, http.StatusConflict, "conflict", err.Error()+"; wait for it or cancel it")
	case errors.Is(err, companion.ErrNothingToDo):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, companion.ErrInvalidUTF8):
		writeError(w, http.StatusBadRequest, "invalid_utf8", "message is not valid UTF-8 text")
	case errors.Is(err, companion.ErrEmptyMessage), errors.Is(err, companion.ErrNUL):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	case errors.Is(err, companion.ErrShuttingDown):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "shutting_down", err.Error())
	default:
		s.internal(w, "start turn", err)
	}
}

// streamTurn writes a turn as server-sent events.
func (s *Server) streamTurn(w http.ResponseWriter, r *http.Request, events iter.Seq[companion.Event], err error) {
	if err != nil {
		s.turnError(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	for ev := range events {
		b, err := json.Marshal(s.eventOut(ev))
		if err != nil {
			s.Log.Error("encode event", "err", err)
			continue
		}
		// A client that stops reading its socket is dropped after the
		// write timeout; the turn never waits for it (it reads on from its
		// own queue) and goes on to be stored.
		_ = rc.SetWriteDeadline(time.Now().Add(s.streamTimeout)) // the network's clock, not the injected one
		if _, err := w.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
			return // client left; the turn goes on and is stored
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
