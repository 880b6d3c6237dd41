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
	"unicode/utf8"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/store"
)

// The memory browser's API: list, search, edit and forget memories, see the
// messages each came from, the people she knows, export and import.

// Memory is what the memory endpoints need. With Deps.Memory nil they
// answer 503 memory_unavailable.
type Memory struct {
	Store    memory.Store
	Recaller memory.Searcher // the *memory.Recaller
	Embedder memory.Embedder // nil: edited text is indexed without a vector
	// Worker is the running memory worker, which releases quarantined
	// records and tries them again; nil: released records wait for a restart.
	Worker interface {
		Release(ctx context.Context, userID, id string) error
	}
}

// Limits of the memory API.
const (
	MaxImportBytes    = 64 << 20           // POST /api/memory/import; larger files: `os1 memory import`
	maxMemoryText     = memory.MaxItemText // characters of one edited memory; imports obey it too
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

// memError answers a memory store error: another user's or a missing ID is 404.
func (s *Server) memError(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, memory.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "not found")
		return
	}
	s.internal(w, what, err)
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
}

var itemKinds = []memory.Kind{memory.KindFact, memory.KindEvent, memory.KindPreference, memory.KindReflection, memory.KindPerson}

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
		if !slices.Contains(itemKinds, memory.Kind(k)) && k != string(memory.DocMessage) && k != string(memory.DocJournal) {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("kind %q is not one of fact, event, preference, reflection, person (or, with q, message, journal)", k))
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
		if !slices.Contains(itemKinds, memory.Kind(k)) {
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

// searchMemory runs hybrid recall. Item kinds keep only item hits of those
// kinds; message and journal keep those hits.
func (s *Server) searchMemory(w http.ResponseWriter, r *http.Request, u store.User, text string, kinds []string, history bool, limit, offset int) {
	if s.Memory.Recaller == nil {
		writeError(w, http.StatusServiceUnavailable, "memory_unavailable", "memory search is not enabled on this server")
		return
	}
	ctx := r.Context()
	q := memory.Query{Text: text, Limit: limit + offset, History: history}
	var wantItems []memory.Kind
	for _, k := range kinds {
		switch dk := memory.DocKind(k); dk {
		case memory.DocMessage, memory.DocJournal:
			q.Kinds = append(q.Kinds, dk)
		default:
			wantItems = append(wantItems, memory.Kind(k))
		}
	}
	if len(wantItems) > 0 {
		q.Kinds = append(q.Kinds, memory.DocItem)
	}
	hits, err := s.Memory.Recaller.Recall(ctx, u.ID, q, s.userLocation(ctx, u.ID))
	if err != nil {
		s.memError(w, "search memories", err)
		return
	}
	out := []hitJSON{}
	for _, h := range hits {
		if h.Kind == memory.DocItem && len(wantItems) > 0 && (h.Item == nil || !slices.Contains(wantItems, h.Item.Kind)) {
			continue
		}
		hj := hitJSON{Kind: string(h.Kind), ID: h.ID, Text: h.Text, Time: h.Time, Score: h.Score, Sources: strs(h.Sources)}
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

// userLocation is the user's time zone from the first meeting (UTC when unknown).
func (s *Server) userLocation(ctx context.Context, userID string) *time.Location {
	if p, err := s.Store.Profile(ctx, userID); err == nil && p.Timezone != "" {
		if loc, err := time.LoadLocation(p.Timezone); err == nil {
			return loc
		}
	}
	return time.UTC
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
	history, err := s.memoryHistory(ctx, u.ID, it.ID)
	if err != nil {
		s.memError(w, "read memory history", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"item": itemOut(it), "sources": sources, "conversations": convs,
		"missing_sources": missing, "people": people, "history": itemsOut(history)})
}

// memoryHistory returns the beliefs id replaced, newest first.
func (s *Server) memoryHistory(ctx context.Context, userID, id string) ([]memory.Item, error) {
	all, err := s.Memory.Store.ListItems(ctx, userID, memory.ItemFilter{History: true})
	if err != nil {
		return nil, err
	}
	prev := map[string]memory.Item{} // successor -> predecessor
	for _, it := range all {
		if it.SupersededBy != "" {
			prev[it.SupersededBy] = it
		}
	}
	var out []memory.Item
	seen := map[string]bool{id: true}
	for p, ok := prev[id]; ok && !seen[p.ID]; p, ok = prev[p.ID] {
		seen[p.ID] = true
		out = append(out, p)
	}
	return out, nil
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
	ctx := r.Context()
	id := r.PathValue("id")
	var p memory.ItemPatch
	var vec []float32
	if in.Text != nil {
		text := strings.TrimSpace(*in.Text)
		if text == "" {
			writeError(w, http.StatusBadRequest, "bad_request", "a memory needs some text; to remove it, forget it")
			return
		}
		if n := utf8.RuneCountInString(text); n > maxMemoryText {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("memory text is %d characters; the limit is %d", n, maxMemoryText))
			return
		}
		p.Text = &text
	}
	if in.Kind != nil {
		k := memory.Kind(*in.Kind)
		if !slices.Contains(itemKinds, k) {
			writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("kind %q is not one of fact, event, preference, reflection, person", *in.Kind))
			return
		}
		p.Kind = &k
	}
	if in.Importance != nil {
		if *in.Importance < 0 || *in.Importance > 1 {
			writeError(w, http.StatusBadRequest, "bad_request", "importance must be between 0 and 1")
			return
		}
		p.Importance = in.Importance
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
	if in.EntityIDs != nil {
		for _, e := range in.EntityIDs {
			if _, err := s.Memory.Store.Entity(ctx, u.ID, e); err != nil {
				if errors.Is(err, memory.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
					writeError(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("no person %s", e))
					return
				}
				s.internal(w, "read person", err)
				return
			}
		}
		p.EntityIDs = in.EntityIDs
	}
	// Check the item is the user's before spending time on a vector.
	if _, err := s.Memory.Store.Item(ctx, u.ID, id); err != nil {
		s.memError(w, "read memory", err)
		return
	}
	if p.Text != nil && s.Memory.Embedder != nil {
		vecs, err := s.Memory.Embedder.Embed(ctx, []string{*p.Text})
		if err != nil || len(vecs) != 1 {
			s.internal(w, "embed the edited memory", cmpErr(err, "no vector"))
			return
		}
		vec = vecs[0]
	}
	if err := s.Memory.Store.UpdateItem(ctx, u.ID, id, p, vec, s.Clock.Now()); err != nil {
		s.memError(w, "update memory", err)
		return
	}
	it, err := s.Memory.Store.Item(ctx, u.ID, id)
	if err != nil {
		s.memError(w, "read memory", err)
		return
	}
	writeJSON(w, http.StatusOK, itemOut(it))
}

func cmpErr(err error, otherwise string) error {
	if err != nil {
		return err
	}
	return errors.New(otherwise)
}

// forgetMemory deletes a memory from every index; with ?sources=true its
// source messages also leave the recall index (they stay in their
// conversations).
func (s *Server) forgetMemory(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	id := r.PathValue("id")
	withSources := false
	if v := r.URL.Query().Get("sources"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "sources must be true or false")
			return
		}
		withSources = b
	}
	it, err := s.Memory.Store.Item(ctx, u.ID, id)
	if err != nil {
		s.memError(w, "forget memory", err)
		return
	}
	if err := s.Memory.Store.Forget(ctx, u.ID, id); err != nil {
		s.memError(w, "forget memory", err)
		return
	}
	if withSources {
		for _, m := range it.Sources {
			if err := s.Memory.Store.ForgetMessage(ctx, u.ID, m); err != nil && !errors.Is(err, memory.ErrNotFound) && !errors.Is(err, store.ErrNotFound) {
				s.internal(w, "forget source message", err)
				return
			}
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request, u store.User) {
	ctx := r.Context()
	ents, err := s.Memory.Store.Entities(ctx, u.ID)
	if err != nil {
		s.memError(w, "list people", err)
		return
	}
	items, err := s.Memory.Store.ListItems(ctx, u.ID, memory.ItemFilter{})
	if err != nil {
		s.memError(w, "list memories", err)
		return
	}
	count := map[string]int{}
	for _, it := range items {
		for _, e := range it.EntityIDs {
			count[e]++
		}
	}
	slices.SortFunc(ents, func(a, b memory.Entity) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	out := make([]personJSON, len(ents))
	for i, e := range ents {
		out[i] = personOut(e, count[e.ID])
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
	fs, err := memory.Quarantined(r.Context(), memory.SettingsProgress{Settings: s.Store}, u.ID)
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
	if s.Memory.Worker != nil {
		err = s.Memory.Worker.Release(r.Context(), u.ID, id)
	} else {
		_, err = memory.Release(r.Context(), memory.SettingsProgress{Settings: s.Store}, u.ID, id)
	}
	if err != nil {
		s.storeError(w, "release a quarantined memory record", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
