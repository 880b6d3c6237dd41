package server

import (
	"errors"
	"net/http"

	"github.com/os1ai/os1/internal/auth"
	"github.com/os1ai/os1/internal/store"
)

// msgInviteUnusable is all a stranger learns about a link that cannot be
// used: not whether it was used or expired (the store does not tell them
// apart, and the difference would only help someone guessing links).
const msgInviteUnusable = "This invite link was used or has expired. Ask the owner for a new one."

// checkInvite (POST /api/invites/check, {"token"}) says whether an invite
// link can still be used, so the page says so before anyone fills in the
// form. Bad links count against the caller's address like failed sign-ins,
// exactly as accepting does; a good one is not spent.
func (s *Server) checkInvite(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Token string `json:"token"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	addr := s.clientAddr(r)
	if wait := s.loginByAddr.Begin(addr); wait > 0 {
		tooManySignIns(w, wait)
		return
	}
	inv, err := s.Store.Invite(r.Context(), auth.HashToken(in.Token), s.Clock.Now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && in.Token == "") {
		writeError(w, http.StatusForbidden, "invite_unusable", msgInviteUnusable)
		return
	}
	if err != nil {
		s.internal(w, "read invite", err)
		return
	}
	s.loginByAddr.Succeed(addr, false)
	writeJSON(w, http.StatusOK, map[string]any{"valid": true, "expires_at": inv.ExpiresAt})
}
