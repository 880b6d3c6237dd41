package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/store"
)

// The memory browser's API: list, search, edit and forget memories, see the
// messages each came from, the people she knows, export and import.

// Memory is what the memory endpoints need. With Deps.Memory nil they
// answer 503 memory_unavailable.
type Memory struct {
	Store    memory.Store
	Recaller MemorySearcher  // the *recall.Recaller
	Embedder memory.Embedder // nil: edited text is indexed without a vector
	// Progress is where the worker keeps its position and failures; nil:
	// the Store's, when it keeps one (memory.ProgressKeeper).
	Progress memory.Progress
	// Worker is the running memory worker, which releases quarantined
	// records and tries them again; nil: released records wait for a restart.
	Worker interface {
		Release(ctx context.Context, userID, id string) error
	}
	// Reindex rebuilds vectors after an embedding model change and says
	// when they need it (memory_reindex.go); nil: not offered.
	Reindex Reindexer
}

// MemorySearcher is recall as the memory page needs it: Search keeps only
// hits that match the query and marks the matching words (recall.Search).
type MemorySearcher interface {
	Search(ctx context.Context, userID string, q memory.Query, loc *time.Location) ([]recall.Match, error)
}

// Limits of the memory API.
const (
	MaxImportBytes    = 64 << 20 // POST /api/memory/import; larger files: `os1 memory import`
	defaultMemoryList = 50
	maxMemoryList     = 500
)

// memoryRoutes is called from routes().
func (s *Server) memoryRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/memory", s.mem(s.listMemory))
	m.HandleFunc("GET /api/memory/export", s.mem(s.exportMemory))
	m.HandleFunc("POST /api/memory/import", s.mem(s.importMemory))
	m.HandleFunc("GET /api/memory/quarantine", s.mem(s.listQuarantine))
	m.HandleFunc("POST /api/memory/quarantine/{id}/release", s.mem(s.releaseQuarantine))
	m.HandleFunc("GET /api/memory/{id}", s.mem(s.getMemory))
	m.HandleFunc("PATCH /api/memory/{id}", s.mem(s.patchMemory))
	m.HandleFunc("DELETE /api/memory/{id}", s.mem(s.forgetMemory))
	m.HandleFunc("GET /api/people", s.mem(s.listPeople))
	m.HandleFunc("GET /api/people/{id}", s.mem(s.getPerson))
	s.reindexRoutes(m)
}

// mem is user() for the memory endpoints: it also needs memory to be wired.
func (s *Server) mem(h userHandler) http.HandlerFunc {
	return s.user(func(w http.ResponseWriter, r *http.Request, u store.User) {
		if s.Memory == nil || s.Memory.Store == nil {
			writeError(w, http.StatusServiceUnavailable, "memory_unavailable", "long-term memory is not enabled on this server")
			return
		}
		h(w, r, u)
	})
}

// memError answers a memory error: another user's or a missing ID is 404,
// an edit memory refuses is 400 with memory's reason.
func (s *Server) memError(w http.ResponseWriter, what string, err error) {
	switch {
	case errors.Is(err, memory.ErrNotFound) || errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, memory.ErrInvalid):
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
	default:
		s.internal(w, what, err)
	}
}

// memProgress is the memory worker's progress, or nil.
func (s *Server) memProgress() memory.Progress {
	if s.Memory.Progress != nil {
		return s.Memory.Progress
	}
	if k, ok := s.Memory.Store.(memory.ProgressKeeper); ok {
		return k.Progress()
	}
	return nil
}

// editor is memory's domain side of the memory page.
func (s *Server) editor() *memory.Editor {
	return &memory.Editor{Store: s.Memory.Store, Embedder: s.Memory.Embedder, Clock: s.Clock}
}

type itemJSON struct {
	ID           string     `json:"id"`
	Kind         string     `json:"kind"`
	Text         string     `json:"text"`
	EntityIDs    []string   `json:"entity_ids"`
	Sources      []string   `json:"sources"`
	Confidence   float64    `json:"confidence"`
	Importance   float64    `json:"importance"`
	EventTime    *time.Time `json:"event_time"`
	ValidFrom    *time.Time `json:"valid_from"`
	ValidTo      *time.Time `json:"valid_to"`
	SupersededBy string     `json:"superseded_by"`
	Current      bool       `json:"current"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func itemOut(it memory.Item) itemJSON {
	return itemJSON{ID: it.ID, Kind: string(it.Kind), Text: it.Text, EntityIDs: strs(it.EntityIDs), Sources: strs(it.Sources),
		Confidence: it.Confidence, Importance: it.Importance, EventTime: timePtr(it.EventTime), ValidFrom: timePtr(it.ValidFrom),
		ValidTo: timePtr(it.ValidTo), SupersededBy: it.SupersededBy, Current: it.Current(), CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
}

func itemsOut(items []memory.Item) []itemJSON {
	out := make([]itemJSON, len(items))
	for i, it := range items {
		out[i] = itemOut(it)
	}
	return out
}

type personJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Aliases   []string  `json:"aliases"`
	Relation  string    `json:"relation"`
	Notes     string    `json:"notes"`
	Sources   []string  `json:"sources"`
	Items     int       `json:"item_count"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func personOut(e memory.Entity, items int) personJSON {
	return personJSON{ID: e.ID, Name: e.Name, Aliases: strs(e.Aliases), Relation: e.Relation, Notes: e.Notes,
		Sources: strs(e.Sources), Items: items, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

type hitJSON struct {
	Kind           string    `json:"kind"`
	ID             string    `json:"id"`
	Text           string    `json:"text"`
	Time           time.Time `json:"time"`
	Score          float64   `json:"score"`
	Sources        []string  `json:"sources"`
	ConversationID string    `json:"conversation_id,omitempty"` // message hits
	Role           string    `json:"role,omitempty"`            // message hits: user or assistant
	Item           *itemJSON `json:"item,omitempty"`            // item hits
	Mail           *mailRef  `json:"mail,omitempty"`            // mail hits: where the email lives
	Document       *docRef   `json:"document,omitempty"`        // document hits: which document (documents.go)
	// Marks are the [start, end) ranges of Text, in Unicode code points,
	// that hold the query's words; empty for a hit found by meaning or date.
	Marks [][2]int `json:"marks"`
}

// memoryQuery reads ?kind=&history=&limit=&offset=, answering on failure.
func memoryQuery(w http.ResponseWriter, r *http.Request) (kinds []string, history bool, limit, offset int, ok bool) {
	q := r.URL.Query()
	for _, v := range q["kind"] {
		for k := range strings.SplitSeq(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				kinds = append(kinds, k)
			}
		}
	}
	for _, k := range kinds {
		if !memory.ValidKind(memory.Kind(k)) && k != string(memory.DocMessage) && k != string(memory.DocJournal) && k != kindMail && k != kindDocument {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("kind %q is not one of fact, event, preference, reflection, person (or, with q, message, journal, mail, document)", k))
			return nil, false, 0, 0, false
		}
	}
	if v := q.Get("history"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "history must be true or false")
			return nil, false, 0, 0, false
		}
		history = b
	}
	num := func(name string, def, most int) (int, bool) {
		v := q.Get(name)
		if v == "" {
			return def, true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > most {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%s must be a whole number from 0 to %d", name, most))
			return 0, false
		}
		return n, true
	}
	if limit, ok = num("limit", defaultMemoryList, maxMemoryList); !ok {
		return nil, false, 0, 0, false
	}
	if offset, ok = num("offset", 0, 1<<30); !ok {
		return nil, false, 0, 0, false
	}
	if limit == 0 {
		limit = defaultMemoryList
	}
	return kinds, history, limit, offset, true
}

func (s *Server) listMemory(w http.ResponseWriter, r *http.Request, u store.User) {
	kinds, history, limit, offset, ok := memoryQuery(w, r)
	if !ok {
		return
	}
	if q := strings.TrimSpace(r.URL.Query().Get("q")); q != "" {
		s.searchMemory(w, r, u, q, kinds, history, limit, offset)
		return
	}
	f := memory.ItemFilter{History: history, Limit: limit, Offset: offset}
	for _, k := range kinds {
		if !memory.ValidKind(memory.Kind(k)) {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("kind %q only works with a search (q)", k))
			return
		}
		f.Kinds = append(f.Kinds, memory.Kind(k))
	}
	items, err := s.Memory.Store.ListItems(r.Context(), u.ID, f)
	if err != nil {
		s.memError(w, "list memories", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": itemsOut(items), "limit": limit, "offset": offset})
}

// searchMemory runs hybrid recall and keeps only hits that match (see
// recall.Search for the rule), best first, with the matching words marked.
// Item kinds keep only item hits of those kinds; message and journal keep
// those hits.
func (s *Server) searchMemory(w http.ResponseWriter, r *http.Request, u store.User, text string, kinds []string, history bool, limit, offset int) {
	if s.Memory.Recaller == nil {
		writeError(w, http.StatusServiceUnavailable, "memory_unavailable", "memory search is not enabled on this server")
		return
	}
	ctx := r.Context()
	q := memory.Query{Text: text, Limit: limit + offset, History: history}
	var wantItems []memory.Kind
	wantMail, wantDocs := len(kinds) == 0, len(kinds) == 0
	for _, k := range kinds {
		switch dk := memory.DocKind(k); dk {
		case memory.DocMessage, memory.DocJournal:
			q.Kinds = append(q.Kinds, dk)
		case kindMail:
			wantMail = true
		case kindDocument:
			wantDocs = true
		default:
			wantItems = append(wantItems, memory.Kind(k))
		}
	}
	if len(wantItems) > 0 {
		q.Kinds = append(q.Kinds, memory.DocItem)
	}
	var hits []recall.Match
	if len(kinds) == 0 || len(q.Kinds) > 0 {
		var err error
		if hits, err = s.Memory.Recaller.Search(ctx, u.ID, q, s.userLocation(ctx, u.ID)); err != nil {
			s.memError(w, "search memories", err)
			return
		}
	}
	var mails []hitJSON
	if wantMail {
		mails = s.mailHits(ctx, u.ID, text, limit+offset)
	}
	out := []hitJSON{}
	for _, h := range hits {
		if h.Kind == memory.DocItem && len(wantItems) > 0 && (h.Item == nil || !slices.Contains(wantItems, h.Item.Kind)) {
			continue
		}
		hj := hitJSON{Kind: string(h.Kind), ID: h.ID, Text: h.Text, Time: h.Time, Score: h.Score, Sources: strs(h.Sources),
			Marks: recall.CodePointRanges(h.Text, h.Marks)}
		if h.Item != nil {
			it := itemOut(*h.Item)
			hj.Item = &it
		}
		if h.Kind == memory.DocMessage {
			m, err := s.Store.Message(ctx, u.ID, h.ID)
			if err != nil {
				continue // deleted since it was indexed, or not this user's: never shown
			}
			hj.ConversationID, hj.Role = m.ConversationID, string(m.Role)
		}
		out = append(out, hj)
	}
	var docs []hitJSON
	if wantDocs {
		docs = s.documentHits(ctx, u.ID, text, limit+offset)
	}
	out = interleave(interleave(out, mails), docs)
	if offset >= len(out) {
		out = []hitJSON{}
	} else {
		out = out[offset:]
	}
	if len(out) > limit {
		out = out[:limit]
	}
	writeJSON(w, http.StatusOK, map[string]any{"query": text, "results": out, "limit": limit, "offset": offset})
}

// userLocation is the user's time zone (store.Profile.Location), so "last
// week" on the memory page means the days it means in the prompt.
func (s *Server) userLocation(ctx context.Context, userID string) *time.Location {
	p, _ := s.Store.Profile(ctx, userID) // none yet: the zero profile's zone
	return p.Location()
}

func (s *Server) getMemory(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	it, err := s.Memory.Store.Item(ctx, u.ID, r.PathValue("id"))
	if err != nil {
		s.memError(w, "read memory", err)
		return
	}
	sources := []messageJSON{}
	convs := []conversationJSON{}
	missing := 0
	for _, id := range it.Sources {
		m, err := s.Store.Message(ctx, u.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			missing++ // its conversation was deleted
			continue
		} else if err != nil {
			s.internal(w, "read source message", err)
			return
		}
		sources = append(sources, messageOut(m))
		if !slices.ContainsFunc(convs, func(c conversationJSON) bool { return c.ID == m.ConversationID }) {
			if c, err := s.Store.Conversation(ctx, u.ID, m.ConversationID); err == nil {
				convs = append(convs, conversationOut(c))
			}
		}
	}
	people := []personJSON{}
	for _, id := range it.EntityIDs {
		if e, err := s.Memory.Store.Entity(ctx, u.ID, id); err == nil {
			people = append(people, personOut(e, 0))
		}
	}
	history, err := s.editor().History(ctx, u.ID, it.ID)
	if err != nil {
		s.memError(w, "read memory history", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"item": itemOut(it), "sources": sources, "conversations": convs,
		"missing_sources": missing, "people": people, "history": itemsOut(history)})
}

func (s *Server) patchMemory(w http.ResponseWriter, r *http.Request, u store.User) {
	var in struct {
		Text       *string         `json:"text"`
		Kind       *string         `json:"kind"`
		Importance *float64        `json:"importance"`
		EventTime  json.RawMessage `json:"event_time"` // null clears it
		EntityIDs  []string        `json:"entity_ids"`
	}
	if readJSON(w, r, &in) != nil {
		return
	}
	p := memory.ItemPatch{Text: in.Text, Importance: in.Importance, EntityIDs: in.EntityIDs}
	if in.Kind != nil {
		k := memory.Kind(*in.Kind)
		p.Kind = &k
	}
	if len(in.EventTime) > 0 {
		var t time.Time
		if string(in.EventTime) != "null" {
			if err := json.Unmarshal(in.EventTime, &t); err != nil {
				writeError(w, http.StatusBadRequest, "bad_request", "event_time must be an RFC 3339 time or null")
				return
			}
		}
		p.EventTime = &t
	}
	it, err := s.editor().Edit(r.Context(), u.ID, r.PathValue("id"), p)
	if err != nil {
		s.memError(w, "update memory", err)
		return
	}
	writeJSON(w, http.StatusOK, itemOut(it))
}

// forgetMemory deletes a memory from every index; with ?sources=true its
// source messages also leave the recall index (they stay in their
// conversations).
func (s *Server) forgetMemory(w http.ResponseWriter, r *http.Request, u store.User) {
	withSources := false
	if v := r.URL.Query().Get("sources"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "sources must be true or false")
			return
		}
		withSources = b
	}
	if err := s.editor().Forget(r.Context(), u.ID, r.PathValue("id"), withSources); err != nil {
		s.memError(w, "forget memory", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request, u store.User) {
	people, err := s.editor().People(r.Context(), u.ID)
	if err != nil {
		s.memError(w, "list people", err)
		return
	}
	out := make([]personJSON, len(people))
	for i, p := range people {
		out[i] = personOut(p.Entity, p.Items)
	}
	writeJSON(w, http.StatusOK, map[string]any{"people": out})
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	e, err := s.Memory.Store.Entity(ctx, u.ID, r.PathValue("id"))
	if err != nil {
		s.memError(w, "read person", err)
		return
	}
	_, history, _, _, ok := memoryQuery(w, r)
	if !ok {
		return
	}
	items, err := s.Memory.Store.ListItems(ctx, u.ID, memory.ItemFilter{EntityID: e.ID, History: history})
	if err != nil {
		s.memError(w, "list memories", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"person": personOut(e, len(items)), "items": itemsOut(items)})
}

type quarantineJSON struct {
	Kind   string    `json:"kind"` // "conversation" or "journal"
	ID     string    `json:"id"`   // the conversation ID, or the user's for the journal
	Panics int       `json:"panics"`
	Error  string    `json:"error"`
	At     time.Time `json:"at"`
}

// listQuarantine lists the user's records that memory's background work
// gave up on after repeated panics: it skips them until they are released.
func (s *Server) listQuarantine(w http.ResponseWriter, r *http.Request, u store.User) {
	p := s.memProgress()
	if p == nil {
		writeJSON(w, http.StatusOK, map[string]any{"quarantined": []quarantineJSON{}})
		return
	}
	fs, err := memory.Quarantined(r.Context(), p, u.ID)
	if err != nil {
		s.internal(w, "list quarantined memory records", err)
		return
	}
	out := make([]quarantineJSON, len(fs))
	for i, f := range fs {
		out[i] = quarantineJSON{Kind: f.Kind, ID: f.ID, Panics: f.Count, Error: f.Error, At: f.At}
	}
	writeJSON(w, http.StatusOK, map[string]any{"quarantined": out})
}

// releaseQuarantine takes one of the user's records out of quarantine and
// has the worker try it again (after the cause was fixed or to retry once).
func (s *Server) releaseQuarantine(w http.ResponseWriter, r *http.Request, u store.User) {
	id := r.PathValue("id")
	var err error
	switch p := s.memProgress(); {
	case s.Memory.Worker != nil:
		err = s.Memory.Worker.Release(r.Context(), u.ID, id)
	case p != nil:
		_, err = memory.Release(r.Context(), p, u.ID, id)
	default:
		err = store.ErrNotFound // nothing keeps failures here, so nothing is quarantined
	}
	if err != nil {
		s.storeError(w, "release a quarantined memory record", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
