package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/mailoauth"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// Mail: each user's own accounts, their sync, the triaged inbox, search and
// rules (docs/mail.md). Every query is scoped by the signed-in user; another
// user's ids answer 404. Passwords go in once and never come back out.

func (s *Server) mailRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/mail/accounts", s.user(s.mailAccounts))
	m.HandleFunc("POST /api/mail/accounts", s.user(s.mailAddAccount))
	m.HandleFunc("DELETE /api/mail/accounts/{id}", s.user(s.mailRemoveAccount))
	m.HandleFunc("POST /api/mail/accounts/{id}/sync", s.user(s.mailSync))
	m.HandleFunc("GET /api/mail/accounts/{id}/sync", s.user(s.mailProgress))
	m.HandleFunc("GET /api/mail/messages", s.user(s.mailMessages))
	m.HandleFunc("GET /api/mail/messages/{id}", s.user(s.mailMessage))
	m.HandleFunc("GET /api/mail/search", s.user(s.mailSearch))
	m.HandleFunc("GET /api/mail/rules", s.user(s.mailRules))
	m.HandleFunc("GET /api/mail/triage", s.user(s.mailTriage))
	m.HandleFunc("POST /api/mail/rules", s.user(s.mailAddRule))
	m.HandleFunc("POST /api/mail/rules/dry-run", s.user(s.mailDryRun))
	m.HandleFunc("DELETE /api/mail/rules/{id}", s.user(s.mailDeleteRule))
	s.mailOAuthRoutes(m)
	s.mailBulkRoutes(m)
}

// mailService returns the mail service, or answers 503 when there is none.
func (s *Server) mailService(w http.ResponseWriter) *mail.Service {
	if s.Mail == nil {
		writeError(w, http.StatusServiceUnavailable, "mail_unavailable", "Mail is not enabled on this server.")
	}
	return s.Mail
}

// mailError maps the mail domain's errors to answers.
func (s *Server) mailError(w http.ResponseWriter, what string, err error) {
	var in *mail.InputError
	switch {
	case errors.As(err, &in):
		writeError(w, http.StatusBadRequest, "bad_request", in.Msg)
	case errors.Is(err, mail.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "No such mail account or message.")
	case errors.Is(err, mail.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", sentence(err.Error()))
	case errors.Is(err, mail.ErrAuth):
		writeError(w, http.StatusBadRequest, "mail_auth", sentence(err.Error()))
	case errors.Is(err, mail.ErrSyncing):
		writeError(w, http.StatusConflict, "syncing", "A sync of this account is already running.")
	default:
		s.internal(w, what, err)
	}
}

func (s *Server) mailAccounts(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	as, err := svc.Accounts(r.Context(), u.ID)
	if err != nil {
		s.mailError(w, "list mail accounts", err)
		return
	}
	if as == nil {
		as = []mail.Account{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": as})
}

func (s *Server) mailAddAccount(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	var in mail.AccountInput
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	a, err := svc.AddAccount(r.Context(), u.ID, in)
	if err != nil {
		s.mailError(w, "add a mail account", err)
		return
	}
	if err := svc.SyncNow(r.Context(), u.ID, a.ID); err != nil {
		s.Log.Warn("start the first mail sync", "account", a.ID, "err", err)
	}
	writeJSON(w, http.StatusCreated, a)
}

func (s *Server) mailRemoveAccount(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	if err := svc.RemoveAccount(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.mailError(w, "remove a mail account", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) mailSync(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	id := r.PathValue("id")
	if err := svc.SyncNow(r.Context(), u.ID, id); err != nil && !errors.Is(err, mail.ErrSyncing) {
		s.mailError(w, "start a mail sync", err)
		return
	}
	p, err := svc.Progress(r.Context(), u.ID, id)
	if err != nil {
		s.mailError(w, "read mail sync progress", err)
		return
	}
	writeJSON(w, http.StatusAccepted, p)
}

func (s *Server) mailProgress(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	p, err := svc.Progress(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.mailError(w, "read mail sync progress", err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// mailMessages lists messages: ?account=&folder=&category=&unread=1&before=RFC3339&limit=N.
func (s *Server) mailMessages(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	q := r.URL.Query()
	mq := mail.Query{AccountID: q.Get("account"), Folder: q.Get("folder"), Category: mail.Category(q.Get("category")),
		Unread: q.Get("unread") == "1" || q.Get("unread") == "true", ThreadID: q.Get("thread")}
	if mq.Category != "" && !validCategory(mq.Category) {
		writeError(w, http.StatusBadRequest, "bad_request", "Unknown category "+strconv.Quote(string(mq.Category))+".")
		return
	}
	if b := q.Get("before"); b != "" {
		t, err := time.Parse(time.RFC3339, b)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "before must be a time like 2026-12-05T10:00:00Z.")
			return
		}
		mq.Before = t
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			writeError(w, http.StatusBadRequest, "bad_request", "limit must be between 1 and 500.")
			return
		}
		mq.Limit = n
	}
	ms, err := svc.Store.Messages(r.Context(), u.ID, mq)
	if err != nil {
		s.mailError(w, "list mail", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": listing(ms)})
}

func validCategory(c mail.Category) bool {
	for _, k := range mail.Categories {
		if k == c {
			return true
		}
	}
	return false
}

// listing drops message bodies from a list (the full text is one GET away).
func listing(ms []mail.Message) []mail.Message {
	out := make([]mail.Message, len(ms))
	for i, m := range ms {
		if len(m.Text) > 240 {
			cut := 240
			for cut > 0 && !utf8.RuneStart(m.Text[cut]) {
				cut--
			}
			m.Text = m.Text[:cut]
		}
		out[i] = m
	}
	return out
}

func (s *Server) mailMessage(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	m, err := svc.Store.Message(r.Context(), u.ID, r.PathValue("id"))
	if err != nil {
		s.mailError(w, "read a message", err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) mailSearch(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	q := r.URL.Query().Get("q")
	if q == "" {
		writeError(w, http.StatusBadRequest, "bad_request", "Say what to search for: ?q=words.")
		return
	}
	ms, err := svc.Store.Search(r.Context(), u.ID, q, 50)
	if err != nil {
		s.mailError(w, "search mail", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": listing(ms)})
}

func (s *Server) mailRules(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	rs, err := svc.Store.Rules(r.Context(), u.ID)
	if err != nil {
		s.mailError(w, "list mail rules", err)
		return
	}
	if rs == nil {
		rs = []mail.Rule{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rs})
}

// mailTriage says how the user's mail is triaged: by rules, or by the model
// with today's tokens against the daily cap.
func (s *Server) mailTriage(w http.ResponseWriter, _ *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	writeJSON(w, http.StatusOK, svc.TriageStateOf(u.ID))
}

// mailAddRule keeps a rule in plain words ({"text"}) and answers what os1
// understood of it.
func (s *Server) mailAddRule(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	rule, err := svc.AddRule(r.Context(), u.ID, in.Text)
	if err != nil {
		s.mailError(w, "add a mail rule", err)
		return
	}
	writeJSON(w, http.StatusCreated, rule)
}

// mailDryRun shows which recent messages a rule ({"text"}) would touch.
func (s *Server) mailDryRun(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	var in struct {
		Text string `json:"text"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	spec, hits, err := svc.DryRunRule(r.Context(), u.ID, in.Text)
	if err != nil {
		s.mailError(w, "try a mail rule", err)
		return
	}
	if hits == nil {
		hits = []mail.Hit{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"understood": spec, "hits": hits})
}

func (s *Server) mailDeleteRule(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	if err := svc.Store.DeleteRule(r.Context(), u.ID, r.PathValue("id")); err != nil {
		s.mailError(w, "delete a mail rule", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// sentence makes an error's text a sentence: a capital first letter and a
// full stop.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

// OAuth sign-in (mailoauth): the page asks for the provider's URL, the
// browser goes there, and the provider sends it back to the callback, which
// stores the account and starts its first sync.

func (s *Server) mailOAuthRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/mail/oauth", s.user(s.mailOAuthProviders))
	m.HandleFunc("POST /api/mail/oauth/start", s.user(s.mailOAuthStart))
	m.HandleFunc("GET /api/mail/oauth/callback", s.mailOAuthCallback)
	m.HandleFunc("POST /api/mail/oauth/finish", s.user(s.mailOAuthFinish))
}

func (s *Server) mailOAuthProviders(w http.ResponseWriter, _ *http.Request, _ store.User) {
	names := []string{}
	if s.MailOAuth != nil {
		names = append(names, s.MailOAuth.Providers()...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"providers": names})
}

// oauthData is what the sign-in carries through the provider and back.
type oauthData struct {
	Address  string `json:"address"`
	Name     string `json:"name"`
	SyncDays int    `json:"sync_days"`
}

func (s *Server) mailOAuthStart(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	var in struct {
		Provider string `json:"provider"`
		oauthData
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	if s.MailOAuth == nil {
		writeError(w, http.StatusBadRequest, "bad_request", "No OAuth provider is configured on this server; use an app password, or ask the owner to add [[mail.oauth]] (docs/mail.md).")
		return
	}
	if _, err := netmail.ParseAddress(in.Address); err != nil || strings.ContainsAny(in.Address, "<>") {
		writeError(w, http.StatusBadRequest, "bad_request", "Give the account's email address.")
		return
	}
	data, _ := json.Marshal(in.oauthData)
	to, err := s.MailOAuth.Start(u.ID, in.Provider, strings.TrimSuffix(s.BaseURL, "/")+"/api/mail/oauth/callback", string(data))
	if errors.Is(err, mailoauth.ErrUnknownProvider) {
		writeError(w, http.StatusBadRequest, "bad_request", sentence(err.Error()))
		return
	}
	if err != nil {
		s.internal(w, "start an OAuth sign-in", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": to})
}

// mailOAuthCallback is where the provider sends the browser back. Session
// cookies are SameSite=Strict, so this cross-site navigation carries none:
// it only hands the state and code to the page (#/mail-oauth), which
// finishes the sign-in with its own session (POST /api/mail/oauth/finish).
func (s *Server) mailOAuthCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := url.Values{}
	if e := q.Get("error"); e != "" {
		v.Set("error", textsafe.CleanTitle(e))
	} else {
		v.Set("state", q.Get("state"))
		v.Set("code", q.Get("code"))
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, "/#/mail-oauth?"+v.Encode(), http.StatusSeeOther)
}

// mailOAuthFinish exchanges the code for tokens (the state must be one this
// user started), stores the account and starts its first sync.
func (s *Server) mailOAuthFinish(w http.ResponseWriter, r *http.Request, u store.User) {
	svc := s.mailService(w)
	if svc == nil {
		return
	}
	var in struct {
		State string `json:"state"`
		Code  string `json:"code"`
	}
	if err := readJSON(w, r, &in); err != nil {
		return
	}
	if s.MailOAuth == nil {
		writeError(w, http.StatusBadRequest, "bad_request", "No OAuth provider is configured on this server.")
		return
	}
	p, creds, raw, err := s.MailOAuth.Finish(r.Context(), u.ID, in.State, in.Code)
	if err != nil {
		writeError(w, http.StatusBadRequest, "oauth_failed", sentence(err.Error()))
		return
	}
	var d oauthData
	_ = json.Unmarshal([]byte(raw), &d)
	a, err := svc.AddOAuthAccount(r.Context(), u.ID, mail.AccountInput{Address: d.Address, Name: d.Name, SyncDays: d.SyncDays,
		IMAP: p.IMAP, SMTP: p.SMTP, Username: d.Address}, creds)
	if err != nil {
		s.mailError(w, "add an OAuth mail account", err)
		return
	}
	if err := svc.SyncNow(r.Context(), u.ID, a.ID); err != nil {
		s.Log.Warn("start the first mail sync", "account", a.ID, "err", err)
	}
	writeJSON(w, http.StatusCreated, a)
}

// Mail in memory search: the memory page's search also finds the user's
// email, as its own kind of hit, with where it lives (account, folder, UID,
// Message-ID) and a link to it; "what did the landlord say about the
// deposit?" finds the landlord's email.

const kindMail = "mail"

// mailRef is where a mail hit lives.
type mailRef struct {
	AccountID string `json:"account_id"`
	Folder    string `json:"folder"`
	UID       uint32 `json:"uid"`
	MessageID string `json:"message_id"`
	From      string `json:"from"`
	Subject   string `json:"subject"`
	URL       string `json:"url"` // the message in the web UI
}

// mailHits searches the user's mail for a memory search; nil when mail is
// off or fails (memory's own hits still answer).
func (s *Server) mailHits(ctx context.Context, userID, text string, limit int) []hitJSON {
	if s.Mail == nil {
		return nil
	}
	ms, err := s.Mail.Store.Search(ctx, userID, text, limit)
	if err != nil {
		s.Log.Warn("search mail for a memory search", "err", err)
		return nil
	}
	out := make([]hitJSON, 0, len(ms))
	for _, m := range ms {
		body := strings.Join(strings.Fields(m.Text), " ")
		if r := []rune(body); len(r) > 300 {
			body = string(r[:300]) + "…"
		}
		t := m.Subject
		if body != "" {
			t += " — " + body
		}
		out = append(out, hitJSON{Kind: kindMail, ID: m.ID, Text: t, Time: m.Date, Sources: []string{}, Marks: [][2]int{},
			Mail: &mailRef{AccountID: m.AccountID, Folder: m.Folder, UID: m.UID, MessageID: m.MessageID,
				From: m.From.String(), Subject: m.Subject, URL: "/#/mail/" + url.PathEscape(m.ID)}})
	}
	return out
}

// interleave merges memory's hits and mail's, each best first, by rank:
// their scores are not comparable, so neither list buries the other.
func interleave(a, b []hitJSON) []hitJSON {
	out := make([]hitJSON, 0, len(a)+len(b))
	for i := 0; i < len(a) || i < len(b); i++ {
		if i < len(a) {
			out = append(out, a[i])
		}
		if i < len(b) {
			out = append(out, b[i])
		}
	}
	return out
}
