package server

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
)

// Books: each user's collections of their letters, built as EPUB and PDF
// in the background and sent to a publisher only with the exact message
// the user approved (docs/book.md). Every query is scoped by the signed-in
// user; another user's ids answer 404.

func (s *Server) bookRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/books", s.user(s.listBooks))
	m.HandleFunc("POST /api/books", s.user(s.createBook))
	m.HandleFunc("GET /api/books/{id}", s.user(s.getBook))
	m.HandleFunc("PATCH /api/books/{id}", s.user(s.editBook))
	m.HandleFunc("DELETE /api/books/{id}", s.user(s.deleteBook))
	m.HandleFunc("POST /api/books/{id}/propose", s.user(s.proposeBook))
	m.HandleFunc("POST /api/books/{id}/foreword", s.user(s.draftForeword))
	m.HandleFunc("POST /api/books/{id}/build", s.user(s.buildBook))
	m.HandleFunc("GET /api/books/{id}/build", s.user(s.buildStatus))
	m.HandleFunc("GET /api/books/{id}/download.epub", s.user(s.downloadBook(books.EPUB)))
	m.HandleFunc("GET /api/books/{id}/download.pdf", s.user(s.downloadBook(books.PDF)))
	m.HandleFunc("GET /api/books/{id}/preview", s.user(s.previewBook))
	m.HandleFunc("POST /api/books/{id}/send/preview", s.user(s.prepareSend))
	m.HandleFunc("POST /api/books/{id}/send", s.user(s.sendBook))
}

func (s *Server) booksService(w http.ResponseWriter) *books.Service {
	if s.Books == nil {
		writeError(w, http.StatusServiceUnavailable, "books_unavailable", "Books are not enabled on this server.")
	}
	return s.Books
}

// booksError maps the books domain's errors to answers.
func (s *Server) booksError(w http.ResponseWriter, what string, err error) {
	var in *books.InputError
	switch {
	case errors.As(err, &in):
		writeError(w, http.StatusBadRequest, "bad_request", sentence(in.Msg))
	case errors.Is(err, books.ErrNotBuilt):
		writeError(w, http.StatusNotFound, "not_built", "The book has not been built in that format yet: build it first.")
	case errors.Is(err, books.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No such book.")
	case errors.Is(err, books.ErrNoModel), errors.Is(err, llm.ErrNoProvider):
		writeError(w, http.StatusServiceUnavailable, "no_model", books.ErrNoModel.Error())
	case errors.Is(err, books.ErrNoMail):
		writeError(w, http.StatusConflict, "no_mail", books.ErrNoMail.Error())
	case errors.Is(err, books.ErrChanged):
		writeError(w, http.StatusConflict, "changed", books.ErrChanged.Error())
	case errors.Is(err, books.ErrBadAnswer):
		writeError(w, http.StatusBadGateway, "bad_model_answer", books.ErrBadAnswer.Error())
	case llm.KindOf(err) != "":
		writeError(w, http.StatusBadGateway, "model_error", "The model could not answer: "+err.Error())
	default:
		s.internal(w, what, err)
	}
}

type bookLetterJSON struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Missing: the document was deleted since it was put in the book.
	Missing bool `json:"missing,omitempty"`
}

type bookJSON struct {
	ID         string                       `json:"id"`
	Title      string                       `json:"title"`
	Subtitle   string                       `json:"subtitle"`
	Author     string                       `json:"author"`
	Dedication string                       `json:"dedication"`
	Foreword   string                       `json:"foreword"`
	Letters    []bookLetterJSON             `json:"letters"`
	Builds     map[string]books.BuildStatus `json:"builds"`
	CreatedAt  time.Time                    `json:"created_at"`
	UpdatedAt  time.Time                    `json:"updated_at"`
}

func (s *Server) bookOut(r *http.Request, u store.User, b books.Book, titles map[string]string) bookJSON {
	out := bookJSON{ID: b.ID, Title: b.Title, Subtitle: b.Subtitle, Author: b.Author, Dedication: b.Dedication, Foreword: b.Foreword,
		Letters: []bookLetterJSON{}, Builds: map[string]books.BuildStatus{}, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
	for _, id := range b.Letters {
		t, ok := titles[id]
		out.Letters = append(out.Letters, bookLetterJSON{ID: id, Title: t, Missing: !ok})
	}
	for _, f := range []string{books.EPUB, books.PDF} {
		if st, err := s.Books.Status(r.Context(), u.ID, b.ID, f); err == nil {
			out.Builds[f] = st
		}
	}
	return out
}

func (s *Server) listBooks(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	list, err := svc.List(r.Context(), u.ID)
	if err != nil {
		s.booksError(w, "list books", err)
		return
	}
	titles, err := svc.LetterTitles(r.Context(), u.ID)
	if err != nil {
		s.booksError(w, "list letters", err)
		return
	}
	out := make([]bookJSON, len(list))
	for i, b := range list {
		out[i] = s.bookOut(r, u, b, titles)
	}
	writeJSON(w, http.StatusOK, map[string]any{"books": out})
}

func (s *Server) writeBook(w http.ResponseWriter, r *http.Request, u store.User, status int, b books.Book) {
	titles, err := s.Books.LetterTitles(r.Context(), u.ID)
	if err != nil {
		s.booksError(w, "list letters", err)
		return
	}
	writeJSON(w, status, s.bookOut(r, u, b, titles))
}

func (s *Server) getBook(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	b, err := svc.Get(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.booksError(w, "read a book", err)
		return
	}
	s.writeBook(w, r, u, http.StatusOK, b)
}

func (s *Server) createBook(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	var in struct {
		Title      string   `json:"title"`
		Subtitle   string   `json:"subtitle"`
		Author     string   `json:"author"`
		Dedication string   `json:"dedication"`
		Foreword   string   `json:"foreword"`
		Letters    []string `json:"letters"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	b, err := svc.Create(r.Context(), u.ID, books.NewBook{Title: in.Title, Subtitle: in.Subtitle, Author: in.Author,
		Dedication: in.Dedication, Foreword: in.Foreword, Letters: in.Letters})
	if err != nil {
		s.booksError(w, "create a book", err)
		return
	}
	s.writeBook(w, r, u, http.StatusCreated, b)
}

func (s *Server) editBook(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	var in struct {
		Title      *string   `json:"title"`
		Subtitle   *string   `json:"subtitle"`
		Author     *string   `json:"author"`
		Dedication *string   `json:"dedication"`
		Foreword   *string   `json:"foreword"`
		Letters    *[]string `json:"letters"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	b, err := svc.Update(r.Context(), u.ID, r.PathValue("id"), books.Edit{Title: in.Title, Subtitle: in.Subtitle, Author: in.Author,
		Dedication: in.Dedication, Foreword: in.Foreword, Letters: in.Letters})
	if err != nil {
		s.booksError(w, "edit a book", err)
		return
	}
	s.writeBook(w, r, u, http.StatusOK, b)
}

func (s *Server) deleteBook(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	if err := svc.Delete(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.booksError(w, "delete a book", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) proposeBook(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	var in struct {
		N int `json:"n"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	if _, err := svc.Get(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.booksError(w, "propose letters", err)
		return
	}
	picks, err := svc.Propose(r.Context(), u.ID, in.N)
	if err != nil {
		s.booksError(w, "propose letters", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"picks": picks})
}

func (s *Server) draftForeword(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	text, err := svc.DraftForeword(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.booksError(w, "draft a foreword", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"foreword": text})
}

func (s *Server) buildBook(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	st, err := svc.Build(r.Context(), u.ID, r.PathValue("id"), r.URL.Query().Get("format"))
	if err != nil {
		s.booksError(w, "build a book", err)
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}

func (s *Server) buildStatus(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	st, err := svc.Status(r.Context(), u.ID, r.PathValue("id"), r.URL.Query().Get("format"))
	if err != nil {
		s.booksError(w, "read a build", err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// downloadBook serves a built file: as an attachment, or with ?inline=1
// inline for the page's own preview frame (a PDF), framed by this origin only.
func (s *Server) downloadBook(format string) userHandler {
	return func(w http.ResponseWriter, r *http.Request, u store.User) {
		svc := s.booksService(w)
		if svc == nil {
			return
		}
		id := r.PathValue("id")
		b, err := svc.Get(r.Context(), u.ID, id)
		if err != nil {
			s.booksError(w, "download a book", err)
			return
		}
		f, err := svc.File(r.Context(), u.ID, id, format)
		if err != nil {
			s.booksError(w, "download a book", err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", books.MIMEOf(format))
		h.Set("Content-Length", strconv.Itoa(len(f.Data)))
		h.Set("Cache-Control", "private, no-store")
		disp := "attachment"
		if r.URL.Query().Get("inline") == "1" && format == books.PDF {
			disp = "inline"
			h.Set("X-Frame-Options", "SAMEORIGIN")
			h.Set("Content-Security-Policy", "frame-ancestors 'self'")
		} else {
			h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		}
		h.Set("Content-Disposition", contentDisposition(disp, books.FileName(b, format)))
		h.Set("ETag", `"`+f.SHA256+`"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(f.Data)
	}
}

// contentDisposition names a download: quoted when the name is ASCII,
// RFC 2231 encoded (filename*=utf-8 and percent escapes) when it is not.
func contentDisposition(disp, name string) string {
	for _, r := range name {
		if r >= utf8.RuneSelf {
			return mime.FormatMediaType(disp, map[string]string{"filename": name})
		}
	}
	return fmt.Sprintf("%s; filename=%q", disp, name)
}

// previewBook answers the first chapters of the built EPUB as text.
func (s *Server) previewBook(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	f, err := svc.File(r.Context(), u.ID, r.PathValue("id"), books.EPUB)
	if err != nil {
		s.booksError(w, "preview a book", err)
		return
	}
	chapters, err := books.PreviewEPUB(f.Data, 8)
	if err != nil {
		s.booksError(w, "preview a book", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"chapters": chapters})
}

type sendJSON struct {
	Format  string `json:"format"`
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Account string `json:"account"`
}

// prepareSend answers the exact message that would send the book, with a
// cover letter she drafts when body is empty. It sends nothing.
func (s *Server) prepareSend(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	var in sendJSON
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	id := r.PathValue("id")
	req := books.SendRequest{Format: in.Format, To: in.To, Subject: in.Subject, Body: in.Body, Account: in.Account}
	if req.Body == "" {
		// Checked first, so she is not asked to write for a message that cannot go.
		if _, err := svc.PrepareSend(r.Context(), u.ID, id, books.SendRequest{Format: in.Format, To: in.To, Body: "-", Account: in.Account, Subject: in.Subject}); err != nil {
			s.booksError(w, "prepare a book's message", err)
			return
		}
		body, err := svc.DraftCoverLetter(r.Context(), u.ID, id, in.To)
		if err != nil {
			s.booksError(w, "draft a cover letter", err)
			return
		}
		req.Body = body
	}
	m, err := svc.PrepareSend(r.Context(), u.ID, id, req)
	if err != nil {
		s.booksError(w, "prepare a book's message", err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// sendBook sends the message the user approved, exactly as approved.
func (s *Server) sendBook(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.booksService(w)
	if svc == nil {
		return
	}
	var in books.Message
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	m, err := svc.Send(r.Context(), u.ID, r.PathValue("id"), in)
	if err != nil {
		s.booksError(w, "send a book", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sent": m})
}
