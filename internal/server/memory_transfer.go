package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/memory/transfer"
	"github.com/os1ai/os1/internal/store"
)

// Export and import of the signed-in user's memory (docs/memory.md).

func (s *Server) transfer() *transfer.Transfer {
	return &transfer.Transfer{Core: s.Store, Memory: s.Memory.Store, Embedder: s.Memory.Embedder, Clock: s.Clock,
		Watermarks: s.memProgress()}
}

func (s *Server) exportMemory(w http.ResponseWriter, r *http.Request, u store.User) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "markdown" {
		writeError(w, http.StatusBadRequest, "bad_request", "format must be json or markdown")
		return
	}
	ex, err := s.transfer().Export(r.Context(), u)
	if err != nil {
		s.internal(w, "export memories", err)
		return
	}
	var buf bytes.Buffer
	name := fmt.Sprintf("os1-memory-%s-%s", u.Username, s.Clock.Now().In(s.userLocation(r.Context(), u.ID)).Format(time.DateOnly))
	ctype := "application/json; charset=utf-8"
	if format == "json" {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		err = enc.Encode(ex)
		name += ".json"
	} else {
		err = transfer.WriteMarkdown(&buf, ex, s.userLocation(r.Context(), u.ID))
		name += ".md"
		ctype = "text/markdown; charset=utf-8"
	}
	if err != nil {
		s.internal(w, "export memories", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) importMemory(w http.ResponseWriter, r *http.Request, u store.User) {
	dry := false
	if v := r.URL.Query().Get("dry_run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "dry_run must be true or false")
			return
		}
		dry = b
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxImportBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
				fmt.Sprintf("the import is larger than %s; import it with `os1 memory import` on the server instead", human(MaxImportBytes)))
			return
		}
		writeError(w, http.StatusBadRequest, "bad_request", "could not read the request body: "+err.Error())
		return
	}
	ex, err := transfer.ParseExport(body)
	if err != nil {
		code := "bad_request"
		if !utf8.Valid(body) {
			code = "invalid_utf8"
		}
		writeError(w, http.StatusBadRequest, code, err.Error())
		return
	}
	rep, err := s.transfer().Import(r.Context(), u, ex, dry)
	switch {
	case errors.Is(err, transfer.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, transfer.ErrInvalidImport):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	case err != nil:
		s.internal(w, "import memories", err)
	case dry:
		writeJSON(w, http.StatusOK, rep)
	default:
		writeJSON(w, http.StatusCreated, rep)
	}
}
