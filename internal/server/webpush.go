package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/webpush"
)

// Web Push: the VAPID public key browsers subscribe with, and each user's
// own push subscriptions (docs/reminders.md). Another user's ids answer
// 404; a subscription's auth secret never comes back out.

func (s *Server) pushRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/push/key", s.user(s.pushKey))
	m.HandleFunc("GET /api/push/subscriptions", s.user(s.pushSubscriptions))
	m.HandleFunc("POST /api/push/subscriptions", s.user(s.pushSubscribe))
	m.HandleFunc("DELETE /api/push/subscriptions/{id}", s.user(s.pushUnsubscribe))
	m.HandleFunc("POST /api/push/test", s.user(s.pushTest))
}

// pushNotifier returns the notifier, or answers 503 when there is none.
func (s *Server) pushNotifier(w http.ResponseWriter) *webpush.Notifier {
	if s.Push == nil {
		writeError(w, http.StatusServiceUnavailable, "push_unavailable", "Push notifications are not enabled on this server.")
	}
	return s.Push
}

func (s *Server) pushError(w http.ResponseWriter, what string, err error) {
	var in *webpush.InputError
	switch {
	case errors.As(err, &in):
		writeError(w, http.StatusBadRequest, "bad_request", in.Msg)
	case errors.Is(err, webpush.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No such push subscription.")
	default:
		s.internal(w, what, err)
	}
}

type pushSubscriptionJSON struct {
	ID        string    `json:"id"`
	Endpoint  string    `json:"endpoint"`
	CreatedAt time.Time `json:"created_at"`
}

func pushJSON(p webpush.Subscription) pushSubscriptionJSON {
	return pushSubscriptionJSON{ID: p.ID, Endpoint: p.Endpoint, CreatedAt: p.CreatedAt}
}

func (s *Server) pushKey(w http.ResponseWriter, r *http.Request, u store.User) {
	if n := s.pushNotifier(w); n != nil {
		writeJSON(w, http.StatusOK, map[string]string{"public_key": n.PublicKey()})
	}
}

func (s *Server) pushSubscriptions(w http.ResponseWriter, r *http.Request, u store.User) {
	n := s.pushNotifier(w)
	if n == nil {
		return
	}
	subs, err := n.Subscriptions(r.Context(), u.ID)
	if err != nil {
		s.pushError(w, "list push subscriptions", err)
		return
	}
	out := make([]pushSubscriptionJSON, 0, len(subs))
	for _, p := range subs {
		out = append(out, pushJSON(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": out})
}

func (s *Server) pushSubscribe(w http.ResponseWriter, r *http.Request, u store.User) {
	n := s.pushNotifier(w)
	if n == nil {
		return
	}
	var in webpush.SubscriptionInput
	if readJSON(w, r, &in) != nil {
		return
	}
	p, err := n.Subscribe(r.Context(), u.ID, in)
	if err != nil {
		s.pushError(w, "save push subscription", err)
		return
	}
	writeJSON(w, http.StatusCreated, pushJSON(p))
}

func (s *Server) pushUnsubscribe(w http.ResponseWriter, r *http.Request, u store.User) {
	n := s.pushNotifier(w)
	if n == nil {
		return
	}
	if err := n.Unsubscribe(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.pushError(w, "delete push subscription", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// pushTest sends one notification to the user's own browsers, so Settings
// can show that notifications arrive.
func (s *Server) pushTest(w http.ResponseWriter, r *http.Request, u store.User) {
	n := s.pushNotifier(w)
	if n == nil {
		return
	}
	sent, err := n.Notify(r.Context(), u.ID, "os1", "Notifications reach this device.", "/#/settings/notifications")
	out := map[string]any{"sent": sent}
	if err != nil {
		s.Log.Warn("test push", "user", u.ID, "err", err)
		out["error"] = "Some devices could not be reached; the server log has details."
	}
	writeJSON(w, http.StatusOK, out)
}
