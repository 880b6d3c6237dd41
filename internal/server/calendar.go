package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/store"
)

// Calendar: each user's agenda, CalDAV accounts, ICS import and export
// (docs/calendar.md). Every query is scoped by the signed-in user; another
// user's ids answer 404. Passwords go in once and never come back out.

// MaxCalendarImportBytes caps an .ics upload (POST /api/calendar/import).
const MaxCalendarImportBytes = 8 << 20

// MaxAgendaDays bounds the span one agenda request may cover.
const MaxAgendaDays = 400

func (s *Server) calendarRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/calendar/agenda", s.user(s.calAgenda))
	m.HandleFunc("GET /api/calendar/accounts", s.user(s.calAccounts))
	m.HandleFunc("POST /api/calendar/accounts", s.user(s.calAddAccount))
	m.HandleFunc("DELETE /api/calendar/accounts/{id}", s.user(s.calRemoveAccount))
	m.HandleFunc("POST /api/calendar/accounts/{id}/sync", s.user(s.calSync))
	m.HandleFunc("POST /api/calendar/import", s.user(s.calImport))
	m.HandleFunc("GET /api/calendar/export.ics", s.user(s.calExport))
	m.HandleFunc("GET /api/calendar/calendars", s.user(s.calCalendars))
	m.HandleFunc("POST /api/calendar/events", s.user(s.calCreateEvent))
	m.HandleFunc("DELETE /api/calendar/events/{id}", s.user(s.calCancelEvent))
	m.HandleFunc("GET /api/calendar/subscriptions", s.user(s.calSubscriptions))
	m.HandleFunc("POST /api/calendar/subscriptions", s.user(s.calSubscribe))
	m.HandleFunc("DELETE /api/calendar/subscriptions/{id}", s.user(s.calUnsubscribe))
	m.HandleFunc("POST /api/calendar/subscriptions/{id}/refresh", s.user(s.calRefresh))
}

// calService returns the calendar service, or answers 503 when there is none.
func (s *Server) calService(w http.ResponseWriter) *calendar.Service {
	if s.Calendar == nil {
		writeError(w, http.StatusServiceUnavailable, "calendar_unavailable", "The calendar is not enabled on this server.")
	}
	return s.Calendar
}

// calError maps the calendar domain's errors to answers.
func (s *Server) calError(w http.ResponseWriter, what string, err error) {
	var in *calendar.InputError
	switch {
	case errors.As(err, &in):
		writeError(w, http.StatusBadRequest, "bad_request", in.Msg)
	case errors.Is(err, calendar.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No such calendar, event or calendar account.")
	case errors.Is(err, calendar.ErrAuth):
		writeError(w, http.StatusBadRequest, "calendar_auth", sentence(err.Error()))
	case errors.Is(err, calendar.ErrReadOnly):
		writeError(w, http.StatusConflict, "read_only", sentence(err.Error()))
	case errors.Is(err, calendar.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", sentence(err.Error()))
	default:
		s.internal(w, what, err)
	}
}

// calAgenda lists occurrences in [from, to), expanded and read in the
// user's zone: ?from=&to= as RFC 3339 times or dates (2026-12-05, midnight
// in the user's zone); from defaults to today's midnight, to to 7 days on.
func (s *Server) calAgenda(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	loc := s.userLocation(r.Context(), u.ID)
	q := r.URL.Query()
	now := s.Clock.Now().In(loc)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if v := q.Get("from"); v != "" {
		t, ok := parseWhen(v, loc)
		if !ok {
			writeError(w, http.StatusBadRequest, "bad_request", "from must be a date like 2026-12-05 or a time like 2026-12-05T10:00:00Z.")
			return
		}
		from = t
	}
	to := from.AddDate(0, 0, 7)
	if v := q.Get("to"); v != "" {
		t, ok := parseWhen(v, loc)
		if !ok {
			writeError(w, http.StatusBadRequest, "bad_request", "to must be a date like 2026-12-12 or a time like 2026-12-12T10:00:00Z.")
			return
		}
		to = t
	}
	if !to.After(from) {
		writeError(w, http.StatusBadRequest, "bad_request", "to must come after from.")
		return
	}
	if to.Sub(from) > MaxAgendaDays*24*time.Hour {
		writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("An agenda may span at most %d days.", MaxAgendaDays))
		return
	}
	occ, err := svc.Agenda(r.Context(), u.ID, calendar.Range{From: from, To: to}, loc)
	if err != nil {
		s.calError(w, "read the agenda", err)
		return
	}
	if occ == nil {
		occ = []calendar.Occurrence{}
	}
	for i := range occ { // a series' occurrences may come in the event's own zone
		occ[i].Start, occ[i].End = occ[i].Start.In(loc), occ[i].End.In(loc)
	}
	writeJSON(w, http.StatusOK, map[string]any{"from": from, "to": to, "zone": loc.String(), "occurrences": occ})
}

// parseWhen reads an RFC 3339 time or a date (midnight in loc).
func parseWhen(v string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.In(loc), true
	}
	if t, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		return t, true
	}
	return time.Time{}, false
}

func (s *Server) calAccounts(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	as, err := svc.Store.ListAccounts(r.Context(), u.ID)
	if err != nil {
		s.calError(w, "list calendar accounts", err)
		return
	}
	if as == nil {
		as = []calendar.Account{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": as})
}

func (s *Server) calAddAccount(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	var in calendar.AccountInput
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	if svc.Syncer == nil {
		writeError(w, http.StatusServiceUnavailable, "caldav_unavailable", "CalDAV accounts are not available on this server.")
		return
	}
	a, err := svc.AddAccount(r.Context(), u.ID, in)
	if err != nil {
		s.calError(w, "add a calendar account", err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) calRemoveAccount(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	if err := svc.Store.DeleteAccount(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.calError(w, "remove a calendar account", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// calSync syncs one account now and answers with what the sync did; a
// failed sync answers with its error (also kept on the account).
func (s *Server) calSync(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	id := r.PathValue("id")
	if _, err := svc.Store.Account(r.Context(), u.ID, id); err != nil {
		s.calError(w, "sync a calendar account", err)
		return
	}
	rep, err := svc.Sync(r.Context(), u.ID, id)
	if err != nil {
		if errors.Is(err, calendar.ErrNotFound) || errors.Is(err, calendar.ErrAuth) {
			s.calError(w, "sync a calendar account", err)
			return
		}
		s.Log.Warn("calendar sync", "account", id, "err", err)
		writeError(w, http.StatusBadGateway, "sync_failed", sentence(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// calImport reads an .ics body into a calendar (?calendar=id, default the
// user's local one). Events that cannot be read are listed in errors; every
// other event is kept.
func (s *Server) calImport(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxCalendarImportBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
				fmt.Sprintf("The calendar file is larger than %s, the most os1 imports at once; split it into smaller .ics files.", human(MaxCalendarImportBytes)))
			return
		}
		writeError(w, http.StatusBadRequest, "bad_request", "Could not read the calendar file: "+err.Error())
		return
	}
	// A file that is no iCalendar at all is the request's fault, not the server's.
	if _, _, err := calendar.ParseICS(bytes.NewReader(body)); err != nil {
		writeError(w, http.StatusBadRequest, "bad_ics", sentence(err.Error()))
		return
	}
	res, err := svc.Import(r.Context(), u.ID, r.URL.Query().Get("calendar"), bytes.NewReader(body))
	if err != nil {
		s.calError(w, "import a calendar file", err)
		return
	}
	if res.Errors == nil {
		res.Errors = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"imported": res.Imported, "updated": res.Updated, "errors": res.Errors})
}

// calExport writes a calendar (?calendar=id, default the local one) as .ics.
func (s *Server) calExport(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	var buf bytes.Buffer
	if err := svc.Export(r.Context(), u.ID, r.URL.Query().Get("calendar"), &buf); err != nil {
		s.calError(w, "export a calendar", err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="calendar.ics"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// calCalendars lists the user's calendars (the local one made on first
// use): kind is "local", "caldav" or "subscription".
func (s *Server) calCalendars(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	if _, err := svc.LocalCalendar(r.Context(), u.ID); err != nil {
		s.calError(w, "list calendars", err)
		return
	}
	cals, err := svc.Store.ListCalendars(r.Context(), u.ID)
	if err != nil {
		s.calError(w, "list calendars", err)
		return
	}
	type calJSON struct {
		calendar.Calendar
		Kind string `json:"kind"`
	}
	out := make([]calJSON, 0, len(cals))
	for _, c := range cals {
		kind := "local"
		switch {
		case c.Subscription():
			kind = "subscription"
		case c.AccountID != "":
			kind = "caldav"
		}
		out = append(out, calJSON{Calendar: c, Kind: kind})
	}
	writeJSON(w, http.StatusOK, map[string]any{"calendars": out})
}

// calEventBody is an event to create: calendar.EventInput, or, simpler
// for a form, date (and time, "" for all day) read in the user's zone
// with a length in minutes (timed) or days (all day).
type calEventBody struct {
	calendar.EventInput
	Date    string `json:"date,omitempty"`
	Time    string `json:"time,omitempty"`
	Minutes int    `json:"minutes,omitempty"`
	Days    int    `json:"days,omitempty"`
}

func (s *Server) calCreateEvent(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	var in calEventBody
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	if in.Date != "" {
		loc := s.userLocation(r.Context(), u.ID)
		day, err := time.ParseInLocation(time.DateOnly, in.Date, loc)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "date must be a day like 2026-12-05.")
			return
		}
		if in.Time == "" {
			days := max(in.Days, 1)
			in.Start = calendar.Day(day.Year(), day.Month(), day.Day())
			in.End = calendar.Day(day.Year(), day.Month(), day.Day()+days)
		} else {
			hm, err := time.Parse("15:04", in.Time)
			if err != nil {
				writeError(w, http.StatusBadRequest, "bad_request", "time must be like 09:30.")
				return
			}
			start := time.Date(day.Year(), day.Month(), day.Day(), hm.Hour(), hm.Minute(), 0, 0, loc)
			mins := in.Minutes
			if mins <= 0 {
				mins = 60
			}
			in.Start, in.End = calendar.At(start), calendar.At(start.Add(time.Duration(mins)*time.Minute))
		}
	} else if in.Start.IsZero() {
		writeError(w, http.StatusBadRequest, "bad_request", "Give the event a date (and a time, or none for all day).")
		return
	}
	e, err := svc.Create(r.Context(), u.ID, in.EventInput)
	if err != nil {
		s.calError(w, "create an event", err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

// calCancelEvent removes an event (a synced one at the next sync).
func (s *Server) calCancelEvent(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	if _, err := svc.Cancel(r.Context(), u.ID, r.PathValue("id"), calendar.When{}); err != nil {
		s.calError(w, "cancel an event", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// feedService is svc when it can fetch subscriptions; it answers 503 when not.
func (s *Server) feedService(w http.ResponseWriter) *calendar.Service {
	svc := s.calService(w)
	if svc != nil && svc.Feeds == nil {
		writeError(w, http.StatusServiceUnavailable, "subscriptions_unavailable", "Calendar subscriptions are not available on this server.")
		return nil
	}
	return svc
}

func (s *Server) calSubscriptions(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	subs, err := svc.Subscriptions(r.Context(), u.ID)
	if err != nil {
		s.calError(w, "list calendar subscriptions", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": subs})
}

// calSubscribe adds a subscription, fetched at once: the answer holds the
// calendar and what the fetch did (each unreadable event named).
func (s *Server) calSubscribe(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.feedService(w)
	if svc == nil {
		return
	}
	var in calendar.SubscriptionInput
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	c, rep, err := svc.Subscribe(r.Context(), u.ID, in)
	if err != nil {
		s.calError(w, "subscribe to a calendar", err)
		return
	}
	if rep.Errors == nil {
		rep.Errors = []string{}
	}
	writeJSON(w, http.StatusCreated, map[string]any{"subscription": c, "report": rep})
}

func (s *Server) calUnsubscribe(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.calService(w)
	if svc == nil {
		return
	}
	if err := svc.Unsubscribe(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.calError(w, "remove a calendar subscription", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// calRefresh fetches a subscription now; a failed fetch answers 502 with
// its reason (also kept on the calendar) and keeps the events it had.
func (s *Server) calRefresh(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.feedService(w)
	if svc == nil {
		return
	}
	rep, err := svc.Refresh(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		if errors.Is(err, calendar.ErrNotFound) {
			s.calError(w, "refresh a calendar subscription", err)
			return
		}
		writeError(w, http.StatusBadGateway, "fetch_failed", sentence(err.Error()))
		return
	}
	if rep.Errors == nil {
		rep.Errors = []string{}
	}
	writeJSON(w, http.StatusOK, rep)
}
