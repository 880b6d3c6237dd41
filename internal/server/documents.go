package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// Documents: the writing desk (internal/documents), each user's letters,
// notes and chapters with every save kept as a version. Every query is
// scoped by the signed-in user; another user's ids answer 404.

// MaxDocumentRequestBytes bounds a request carrying a document: a 5 MB
// body, JSON-escaped (a line break or quote takes two bytes), and the rest
// of the object. The document itself is held to documents.MaxBodyBytes.
const MaxDocumentRequestBytes = 2*documents.MaxBodyBytes + 64<<10

func (s *Server) documentRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/documents", s.user(s.documentsList))
	m.HandleFunc("POST /api/documents", s.user(s.documentsCreate))
	m.HandleFunc("GET /api/documents/{id}", s.user(s.documentsGet))
	m.HandleFunc("PUT /api/documents/{id}", s.user(s.documentsSave))
	m.HandleFunc("DELETE /api/documents/{id}", s.user(s.documentsDelete))
	m.HandleFunc("GET /api/documents/{id}/versions", s.user(s.documentsVersions))
	m.HandleFunc("GET /api/documents/{id}/versions/{n}", s.user(s.documentsVersion))
	m.HandleFunc("POST /api/documents/{id}/versions/{n}/restore", s.user(s.documentsRestore))
	m.HandleFunc("GET /api/documents/{id}/diff", s.user(s.documentsDiff))
}

// documentsService returns the writing desk, or answers 503 when there is none.
func (s *Server) documentsService(w http.ResponseWriter) *documents.Service {
	if s.Documents == nil {
		writeError(w, http.StatusServiceUnavailable, "documents_unavailable", "Documents are not enabled on this server.")
	}
	return s.Documents
}

// documentsError maps the writing desk's errors to answers. A conflict
// carries the document as it is now, beside the error.
func (s *Server) documentsError(w http.ResponseWriter, what string, err error) {
	var in *documents.InputError
	var ce *documents.ConflictError
	switch {
	case errors.As(err, &in) && in.TooLarge:
		writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large", in.Msg)
	case errors.As(err, &in):
		writeError(w, http.StatusBadRequest, "bad_request", in.Msg)
	case errors.As(err, &ce):
		writeJSON(w, http.StatusConflict, map[string]any{
			"error":   apiError{Code: "conflict", Message: sentence(ce.Error() + "; the current version is included, so nothing is lost")},
			"current": ce.Current,
		})
	case errors.Is(err, documents.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", "The document kept changing; try again.")
	case errors.Is(err, documents.ErrNotFound):
		msg := "No such document."
		if strings.Contains(what, "version") || strings.HasPrefix(what, "diff") {
			msg = "No such document, or it has no such version (see its history)."
		}
		writeError(w, http.StatusNotFound, "not_found", msg)
	default:
		s.internal(w, what, err)
	}
}

// readDocumentJSON is readJSON with room for a 5 MB document.
func readDocumentJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxDocumentRequestBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
				fmt.Sprintf("the request is larger than the limit of %s; a document may be at most %s", human(MaxDocumentRequestBytes), human(documents.MaxBodyBytes)))
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
	if err := dec.Decode(v); err != nil || dec.More() {
		msg := "request body has data after the JSON object"
		if err != nil {
			msg = "request body is not the expected JSON: " + strings.TrimPrefix(err.Error(), "json: ")
		}
		writeError(w, http.StatusBadRequest, "bad_request", msg)
		return errAnswered
	}
	return nil
}

// documentsList answers {"documents": [...]}, without bodies, most
// recently updated first.
func (s *Server) documentsList(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.documentsService(w)
	if svc == nil {
		return
	}
	ds, err := svc.List(r.Context(), u.ID)
	if err != nil {
		s.documentsError(w, "list documents", err)
		return
	}
	if ds == nil {
		ds = []documents.Document{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": ds})
}

func (s *Server) documentsCreate(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.documentsService(w)
	if svc == nil {
		return
	}
	var in struct {
		Title  string `json:"title"`
		Kind   string `json:"kind"`
		Body   string `json:"body"`
		Source string `json:"source"`
	}
	if err := readDocumentJSON(w, r, &in); err != nil {
		return
	}
	d, err := svc.Create(r.Context(), u.ID, documents.NewDocument{Title: in.Title, Kind: in.Kind, Body: in.Body, Source: in.Source})
	if err != nil {
		s.documentsError(w, "create a document", err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (s *Server) documentsGet(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.documentsService(w)
	if svc == nil {
		return
	}
	d, err := svc.Get(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.documentsError(w, "read a document", err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// documentsSave saves a new version made on base_version; 409 with the
// current document when another save came first.
func (s *Server) documentsSave(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.documentsService(w)
	if svc == nil {
		return
	}
	var in struct {
		Title       string `json:"title"`
		Body        string `json:"body"`
		BaseVersion *int   `json:"base_version"`
		Source      string `json:"source"`
	}
	if err := readDocumentJSON(w, r, &in); err != nil {
		return
	}
	if in.BaseVersion == nil {
		writeError(w, http.StatusBadRequest, "bad_request", "base_version is required: the version this edit was made on")
		return
	}
	d, err := svc.Save(r.Context(), u.ID, r.PathValue("id"), documents.Edit{Title: in.Title, Body: in.Body, BaseVersion: *in.BaseVersion, Source: in.Source})
	if err != nil {
		s.documentsError(w, "save a document", err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) documentsDelete(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.documentsService(w)
	if svc == nil {
		return
	}
	if err := svc.Delete(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.documentsError(w, "delete a document", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// documentsVersions answers {"versions": [...]}, without bodies, newest first.
func (s *Server) documentsVersions(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.documentsService(w)
	if svc == nil {
		return
	}
	vs, err := svc.Versions(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.documentsError(w, "list a document's versions", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

// versionParam reads a version number from the path or query, answering
// 400 when it is not one.
func versionParam(w http.ResponseWriter, name, v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%s must be a version number (1, 2, …), not %q", name, v))
		return 0, false
	}
	return n, true
}

func (s *Server) documentsVersion(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.documentsService(w)
	if svc == nil {
		return
	}
	n, ok := versionParam(w, "the version", r.PathValue("n"))
	if !ok {
		return
	}
	v, err := svc.Version(r.Context(), u.ID, r.PathValue("id"), n)
	if err != nil {
		s.documentsError(w, "read a document's version", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) documentsRestore(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.documentsService(w)
	if svc == nil {
		return
	}
	n, ok := versionParam(w, "the version", r.PathValue("n"))
	if !ok {
		return
	}
	d, err := svc.Restore(r.Context(), u.ID, r.PathValue("id"), n)
	if err != nil {
		s.documentsError(w, "restore a document's version", err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// documentsDiff answers {"from": N, "to": M, "lines": [{"op", "text"}]},
// the line diff from version N to version M (M defaults to the current one).
func (s *Server) documentsDiff(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.documentsService(w)
	if svc == nil {
		return
	}
	id, q := r.PathValue("id"), r.URL.Query()
	from, ok := versionParam(w, "from", q.Get("from"))
	if !ok {
		return
	}
	var to int
	if q.Get("to") == "" {
		d, err := svc.Get(r.Context(), u.ID, id)
		if err != nil {
			s.documentsError(w, "diff a document", err)
			return
		}
		to = d.Version
	} else if to, ok = versionParam(w, "to", q.Get("to")); !ok {
		return
	}
	a, err := svc.Version(r.Context(), u.ID, id, from)
	if err != nil {
		s.documentsError(w, "diff a document", err)
		return
	}
	b, err := svc.Version(r.Context(), u.ID, id, to)
	if err != nil {
		s.documentsError(w, "diff a document", err)
		return
	}
	lines := documents.Diff(a.Body, b.Body)
	if lines == nil {
		lines = []documents.DiffLine{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "from_title": a.Title, "to_title": b.Title, "lines": lines})
}

// Documents in memory search: the memory page's search also finds the
// user's documents, as their own kind of hit: the title and the passage
// that matched, with a link to the document.

const kindDocument = "document"

// docRef is which document a hit is.
type docRef struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Kind    string `json:"kind"` // letter | note | chapter
	Version int    `json:"version"`
	URL     string `json:"url"` // the document in the web UI
}

// documentHits searches the user's documents for a memory search; nil when
// documents are off or the search fails (memory's own hits still answer).
func (s *Server) documentHits(ctx context.Context, userID, text string, limit int) []hitJSON {
	if s.Documents == nil {
		return nil
	}
	ds, err := s.Documents.Search(ctx, userID, text, limit)
	if err != nil {
		s.Log.Warn("search documents for a memory search", "err", err)
		return nil
	}
	out := make([]hitJSON, 0, len(ds))
	for _, d := range ds {
		t := d.Title
		if p := documents.Passage(d.Body, text, 300); p != "" {
			t += " — " + p
		}
		out = append(out, hitJSON{Kind: kindDocument, ID: d.ID, Text: t, Time: d.UpdatedAt, Sources: []string{}, Marks: [][2]int{},
			Document: &docRef{ID: d.ID, Title: d.Title, Kind: d.Kind, Version: d.Version, URL: "/#/desk/" + url.PathEscape(d.ID)}})
	}
	return out
}
