package server

import (
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/proofread"
	"github.com/os1ai/os1/internal/store"
)

// Proofreading and spelling for the writing desk (internal/proofread).
// Proofreading reads one of the user's own documents and asks the chat
// model for edits; it never saves anything: the page applies the edits the
// user accepts and saves them with PUT /api/documents/{id}. Spelling needs
// no model and no document: it checks the text it is sent.

func (s *Server) proofreadRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/documents/{id}/proofread", s.user(s.proofreadDocument))
	m.HandleFunc("POST /api/spelling", s.user(s.spelling))
}

// proofreadDocument answers {"suggestions": [...], "version": N,
// "dropped": K} for version N of the document (0 or absent: the current).
func (s *Server) proofreadDocument(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.documentsService(w)
	if svc == nil {
		return
	}
	var in struct {
		Version int `json:"version"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	if in.Version < 0 {
		writeError(w, http.StatusBadRequest, "bad_request", "version must be a version number of the document (or 0 for the current one)")
		return
	}
	doc, err := svc.Get(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.documentsError(w, "read the document to proofread", err)
		return
	}
	text, version := doc.Body, doc.Version
	if in.Version != 0 && in.Version != doc.Version {
		v, err := svc.Version(r.Context(), u.ID, doc.ID, in.Version)
		if err != nil {
			s.documentsError(w, "read the version to proofread", err)
			return
		}
		text, version = v.Body, v.N
	}
	if s.Proofreader == nil {
		writeError(w, http.StatusServiceUnavailable, "proofreading_unavailable", "Proofreading is not enabled on this server.")
		return
	}
	res, err := s.Proofreader.Proofread(r.Context(), text)
	switch {
	case err == nil:
	case errors.Is(err, llm.ErrNoProvider):
		writeError(w, http.StatusServiceUnavailable, "no_model",
			"Proofreading needs a language model and none is connected; connect one in Settings → Model. Spelling is still checked without one.")
		return
	case errors.Is(err, proofread.ErrTooLong):
		writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large", err.Error())
		return
	case errors.Is(err, proofread.ErrBadAnswer):
		writeError(w, http.StatusBadGateway, "model_error", "The model's answer was not a list of edits; try again, or try another model.")
		return
	case llm.KindOf(err) != "":
		writeModelError(w, err)
		return
	default:
		s.internal(w, "proofread", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"suggestions": res.Suggestions, "version": version, "dropped": res.Dropped})
}

// spelling answers {"misspelled": [...]} for {"text": ...}, offsets in
// UTF-16 code units.
func (s *Server) spelling(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Text string `json:"text"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	if !utf8.ValidString(in.Text) {
		writeError(w, http.StatusBadRequest, "invalid_utf8", "text is not valid UTF-8")
		return
	}
	if s.Speller == nil {
		writeError(w, http.StatusServiceUnavailable, "spelling_unavailable", "Spell checking is not enabled on this server.")
		return
	}
	got, err := s.Speller.Check(in.Text)
	if errors.Is(err, proofread.ErrNoDictionary) {
		writeError(w, http.StatusServiceUnavailable, "spelling_unavailable", "Spell checking needs a dictionary this server does not have: "+err.Error())
		return
	}
	if err != nil {
		s.internal(w, "check spelling", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"misspelled": got})
}
