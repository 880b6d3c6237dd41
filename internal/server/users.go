package server

import (
	"fmt"
	"net/http"
	"time"

	"github.com/os1ai/os1/internal/store"
)

// The owner's side of accounts: the member list, disabling, enabling and
// deleting members, and one-time password reset links. The owner cannot
// aim any of these at their own account.

// checkEnabled refuses a disabled account, in words for the user.
func checkEnabled(u store.User) error {
	if !u.DisabledAt.IsZero() {
		return fmt.Errorf("%w: this account is disabled; ask the owner of this os1 server to enable it", errUnauthenticated)
	}
	return nil
}

type memberJSON struct {
	userJSON
	Disabled   bool       `json:"disabled"`
	DisabledAt *time.Time `json:"disabled_at"`
	LastSeenAt *time.Time `json:"last_seen_at"`
	Sessions   int        `json:"sessions"`
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ store.User) {
	list, err := s.accounts().List(r.Context())
	if err != nil {
		s.internal(w, "list users", err)
		return
	}
	out := make([]memberJSON, len(list))
	for i, m := range list {
		out[i] = memberJSON{userJSON: userOut(m.User), Disabled: !m.DisabledAt.IsZero(), Sessions: m.Sessions}
		if !m.DisabledAt.IsZero() {
			at := m.DisabledAt
			out[i].DisabledAt = &at
		}
		if !m.LastSeen.IsZero() {
			at := m.LastSeen
			out[i].LastSeenAt = &at
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

// disableUser stops a member from signing in and ends their sessions and
// live connections; their tokens stop working while disabled.
func (s *Server) disableUser(w http.ResponseWriter, r *http.Request, owner store.User) {
	id := r.PathValue("id")
	if _, err := s.accounts().Disable(r.Context(), owner.ID, id); err != nil {
		s.accountError(w, "disable user", err)
		return
	}
	s.endUser(r.Context(), id, reasonDisabled)
	s.Log.Info("user disabled", "user", id)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) enableUser(w http.ResponseWriter, r *http.Request, _ store.User) {
	if err := s.accounts().Enable(r.Context(), r.PathValue("id")); err != nil {
		s.accountError(w, "enable user", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteUser removes a member and all their data, memory included.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, owner store.User) {
	id := r.PathValue("id")
	// Ending first stops new turns from writing while the rows go.
	if _, err := s.Store.UserByID(r.Context(), id); err != nil {
		s.storeError(w, "delete user", err)
		return
	}
	if id != owner.ID {
		s.endUser(r.Context(), id, reasonDeleted)
	}
	if err := s.accounts().Delete(r.Context(), owner.ID, id); err != nil {
		s.accountError(w, "delete user", err)
		return
	}
	s.Log.Info("user deleted with all their data", "user", id)
	w.WriteHeader(http.StatusNoContent)
}

// resetLink makes a one-time link that sets a member's password.
func (s *Server) resetLink(w http.ResponseWriter, r *http.Request, owner store.User) {
	token, exp, err := s.accounts().ResetLink(r.Context(), owner.ID, r.PathValue("id"))
	if err != nil {
		s.accountError(w, "make reset link", err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"url": ResetURL(s.BaseURL, token), "expires_at": exp})
}

// ResetURL is the web UI's page for a password reset token.
func ResetURL(baseURL, token string) string { return baseURL + "/#/reset/" + token }
