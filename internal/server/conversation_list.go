package server

// The conversation list: listing and searching the user's conversations,
// and changing one (title, pin, archive, the owner's model pick).

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
)

const (
	// searchLimit bounds the conversations one search returns.
	searchLimit = 50
	// maxSearchQuery bounds the q parameter, in characters.
	maxSearchQuery = 200
)

// listConversations answers GET /api/conversations: every conversation of
// the user, or with ?q= those whose title or messages hold every word of q
// (at most searchLimit). Pinned ones come first; archived ones are included
// and marked, for the client to show apart.
func (s *Server) listConversations(w http.ResponseWriter, r *http.Request, u store.User) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	var (
		cs  []store.Conversation
		err error
	)
	switch {
	case !utf8.ValidString(q) || strings.IndexByte(q, 0) >= 0:
		writeError(w, http.StatusBadRequest, "bad_request", "search text is not valid text")
		return
	case utf8.RuneCountInString(q) > maxSearchQuery:
		writeError(w, http.StatusBadRequest, "bad_request", "search text must be at most 200 characters")
		return
	case q != "":
		cs, err = s.Store.SearchConversations(r.Context(), u.ID, q, searchLimit)
	default:
		cs, err = s.Store.ListConversations(r.Context(), u.ID)
	}
	if err != nil {
		s.internal(w, "list conversations", err)
		return
	}
	// Pinned first; within each part the store's order (newest first).
	slices.SortStableFunc(cs, func(a, b store.Conversation) int {
		switch {
		case !a.PinnedAt.IsZero() && b.PinnedAt.IsZero():
			return -1
		case a.PinnedAt.IsZero() && !b.PinnedAt.IsZero():
			return 1
		}
		return 0
	})
	out := make([]conversationJSON, len(cs))
	for i, c := range cs {
		out[i] = conversationOut(c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": out})
}

// patchConversation answers PATCH /api/conversations/{id} with any of
// {"title", "pinned", "archived", "model"}. Only the owner may set model
// (403 for a member, whose conversations use the server's model); another
// user's conversation is 404.
func (s *Server) patchConversation(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Title    *string `json:"title"`
		Pinned   *bool   `json:"pinned"`
		Archived *bool   `json:"archived"`
		Model    *string `json:"model"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	if in.Title == nil && in.Pinned == nil && in.Archived == nil && in.Model == nil {
		writeError(w, http.StatusBadRequest, "bad_request", "say what to change: title, pinned, archived or model")
		return
	}
	c, err := s.Companion.UpdateConversation(r.Context(), u, r.PathValue("id"), companion.ConversationChange{
		Title: in.Title, Pinned: in.Pinned, Archived: in.Archived, Model: in.Model})
	switch {
	case errors.Is(err, companion.ErrModelOwnerOnly):
		writeError(w, http.StatusForbidden, "forbidden", err.Error())
	case errors.Is(err, companion.ErrEmptyTitle), errors.Is(err, companion.ErrTitleTooLong),
		errors.Is(err, companion.ErrUnknownModel), errors.Is(err, companion.ErrBadModelName):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	case err != nil:
		s.storeError(w, "update conversation", err)
	default:
		writeJSON(w, http.StatusOK, conversationOut(c))
	}
}
