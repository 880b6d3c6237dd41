package server

import (
	"context"
	"net/http"
	"time"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/store"
)

// Bulk clean-up and reply tracking (docs/mail.md): a GET proposes and
// changes nothing; a POST is the batch the user approved, once, naming the
// senders to act on, and answers what became of each. Both read only the
// signed-in user's mail: a sender of another user's is reported and left
// alone.

func (s *Server) mailBulkRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/mail/unsubscribe", s.user(s.mailUnsubCandidates))
	m.HandleFunc("POST /api/mail/unsubscribe", s.user(s.mailUnsubscribe))
	m.HandleFunc("GET /api/mail/archive-suggestions", s.user(s.mailArchiveSuggestions))
	m.HandleFunc("POST /api/mail/archive", s.user(s.mailArchive))
	m.HandleFunc("GET /api/mail/replies", s.user(s.mailReplies))
}

// mailBulk returns the bulk runner, or answers 503 when there is none.
func (s *Server) mailBulk(w http.ResponseWriter) *mail.Bulk {
	if s.Mail == nil || s.MailBulk == nil {
		writeError(w, http.StatusServiceUnavailable, "mail_unavailable", "Mail is not enabled on this server.")
		return nil
	}
	return s.MailBulk
}

// batchTimeout bounds an approved batch. A batch runs to its end even
// when the page that asked goes away: half a batch moved on the server and
// not in os1 is worse than a batch whose answer nobody read.
const batchTimeout = 10 * time.Minute

func batchContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), batchTimeout)
}

// batchInput is an approved batch: {"senders": [...]}.
type batchInput struct {
	Senders []string `json:"senders"`
}

func (s *Server) mailUnsubCandidates(w http.ResponseWriter, r *http.Request, u store.User) {
	b := s.mailBulk(w)
	if b == nil {
		return
	}
	cs, err := b.UnsubscribeCandidates(r.Context(), u.ID)
	if err != nil {
		s.mailError(w, "list unsubscribe candidates", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"candidates": cs})
}

func (s *Server) mailUnsubscribe(w http.ResponseWriter, r *http.Request, u store.User) {
	b := s.mailBulk(w)
	if b == nil {
		return
	}
	var in batchInput
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	ctx, cancel := batchContext(r)
	defer cancel()
	res, err := b.Unsubscribe(ctx, u.ID, in.Senders)
	if err != nil {
		s.mailError(w, "unsubscribe", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": res})
}

func (s *Server) mailArchiveSuggestions(w http.ResponseWriter, r *http.Request, u store.User) {
	b := s.mailBulk(w)
	if b == nil {
		return
	}
	sug, err := b.ArchiveSuggestions(r.Context(), u.ID)
	if err != nil {
		s.mailError(w, "list archive suggestions", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"suggestions": sug})
}

func (s *Server) mailArchive(w http.ResponseWriter, r *http.Request, u store.User) {
	b := s.mailBulk(w)
	if b == nil {
		return
	}
	var in batchInput
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	ctx, cancel := batchContext(r)
	defer cancel()
	res, err := b.Archive(ctx, u.ID, in.Senders)
	if err != nil {
		s.mailError(w, "archive mail", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": res})
}

// replyView is one owed or awaited answer as the page shows it.
type replyView struct {
	Message mail.Message `json:"message"` // text cut as in a listing
	AgeDays int          `json:"age_days"`
	Nudge   string       `json:"nudge,omitempty"` // empty while not overdue
}

func replyViews(items []mail.ReplyItem) []replyView {
	out := make([]replyView, len(items))
	for i, it := range items {
		out[i] = replyView{Message: listing([]mail.Message{it.Message})[0], AgeDays: int(it.Age.Hours() / 24), Nudge: it.Nudge}
	}
	return out
}

// mailReplies is reply tracking: {"owed": [...], "awaiting": [...]}, oldest
// first, each with its nudge once overdue.
func (s *Server) mailReplies(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	owed, awaiting, err := svc.FollowUps(r.Context(), u.ID)
	if err != nil {
		s.mailError(w, "list owed and awaited replies", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"owed": replyViews(owed), "awaiting": replyViews(awaiting)})
}
