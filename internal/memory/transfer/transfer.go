// Package transfer exports and imports one user's whole relationship with
// os1: conversations and their messages, memory items with their history
// and provenance, people, journals, the persona and the first-meeting
// profile, as lossless JSON (docs/memory.md) or readable Markdown, and
// imports chat transcripts from elsewhere. It must never write half an
// import (a failure undoes what it wrote), never take an ID another user
// holds, and never accept what the live API would refuse (memory's limits).
package transfer

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/textsafe"
)

// Export and import of one user's whole relationship: conversations and
// their messages, memory items with their history and provenance, people,
// journals, the persona and the first-meeting profile. The JSON form
// (Export) is lossless; docs/memory.md describes it. Vectors are not
// exported: they are recomputed on import when an embedder is available.

// ExportFormat and ExportVersion identify the JSON export.
const (
	ExportFormat  = "os1-memory"
	ExportVersion = 1
)

// Sentinel errors of import.
var (
	// ErrConflict: an ID in the file is already taken in the target database.
	ErrConflict = errors.New("already taken")
	// ErrInvalidImport: the file is not a valid export or transcript.
	ErrInvalidImport = errors.New("invalid import file")
)

// Core is what transfer needs from the core store.
type Core interface {
	ListUsers(ctx context.Context) ([]store.User, error)
	store.Conversations
	store.Messages
	store.Personas
	store.Profiles
}

// Export is one user's relationship, as written to a JSON file.
type Export struct {
	Format        string               `json:"format"`
	Version       int                  `json:"version"`
	ExportedAt    time.Time            `json:"exported_at"`
	User          ExportUser           `json:"user"`
	Persona       *ExportPersona       `json:"persona"`
	Profile       *ExportProfile       `json:"profile"`
	Conversations []ExportConversation `json:"conversations"`
	Entities      []ExportEntity       `json:"entities"`
	Items         []ExportItem         `json:"items"`
	Journals      []ExportJournal      `json:"journals"`
}

// ExportUser says whose export it is (informational; import goes to the
// user it is given).
type ExportUser struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

// ExportPersona is the companion as the user knows her.
type ExportPersona struct {
	Name      string    `json:"name"`
	Voice     string    `json:"voice"`
	Style     string    `json:"style"`
	NamedAt   time.Time `json:"named_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// ExportProfile is what the first meeting learned.
type ExportProfile struct {
	Answers     map[string]string `json:"answers"`
	Timezone    string            `json:"timezone"`
	OnboardedAt time.Time         `json:"onboarded_at,omitzero"`
	UpdatedAt   time.Time         `json:"updated_at,omitzero"`
}

// ExportConversation is a conversation with all its messages, in order.
type ExportConversation struct {
	ID        string          `json:"id"`
	Title     string          `json:"title"`
	CreatedAt time.Time       `json:"created_at,omitzero"`
	UpdatedAt time.Time       `json:"updated_at,omitzero"`
	Messages  []ExportMessage `json:"messages"`
}

// ExportMessage is a stored message exactly as it is.
type ExportMessage struct {
	ID         string           `json:"id"`
	Role       string           `json:"role"`
	Content    string           `json:"content"`
	ToolCalls  []ExportToolCall `json:"tool_calls,omitempty"`
	ToolCallID string           `json:"tool_call_id,omitempty"`
	Status     string           `json:"status"`
	Error      string           `json:"error,omitempty"`
	Reason     string           `json:"reason,omitempty"` // why os1 spoke unasked (store.Message.Reason)
	CreatedAt  time.Time        `json:"created_at,omitzero"`
	UpdatedAt  time.Time        `json:"updated_at,omitzero"`
}

// ExportToolCall keeps the arguments as a string: a call cut off while
// streaming may hold bytes that are not valid JSON, and they survive as they are.
type ExportToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ExportEntity is a person.
type ExportEntity struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Aliases   []string  `json:"aliases"`
	Relation  string    `json:"relation"`
	Notes     string    `json:"notes"`
	Sources   []string  `json:"sources"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// ExportItem is a memory item, current or history.
type ExportItem struct {
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	Text         string    `json:"text"`
	EntityIDs    []string  `json:"entity_ids"`
	Sources      []string  `json:"sources"`
	Confidence   float64   `json:"confidence"`
	Importance   float64   `json:"importance"`
	EventTime    time.Time `json:"event_time,omitzero"`
	ValidFrom    time.Time `json:"valid_from,omitzero"`
	ValidTo      time.Time `json:"valid_to,omitzero"`
	SupersededBy string    `json:"superseded_by,omitempty"`
	CreatedAt    time.Time `json:"created_at,omitzero"`
	UpdatedAt    time.Time `json:"updated_at,omitzero"`
}

// ExportJournal is one day's entry.
type ExportJournal struct {
	ID        string    `json:"id"`
	Day       string    `json:"day"`
	Text      string    `json:"text"`
	Sources   []string  `json:"sources"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// Transfer exports and imports users' memories.
type Transfer struct {
	Core     Core
	Memory   memory.Store
	Embedder memory.Embedder // nil: imported text is indexed without vectors
	Clock    clock.Clock     // nil: system clock
	// Watermarks, when set, records imported conversations as processed by
	// the memory worker (indexed; for JSON imports also extracted, since
	// their memories come along), so it neither re-indexes them (which
	// would lose transcript speakers) nor extracts them twice.
	Watermarks memory.Progress
	// OnProgress, when set, hears how far an import is: stage "stored"
	// (messages written) or "indexed" (messages made recallable). It is
	// called often; the caller throttles what it prints.
	OnProgress func(stage string, done, total int)
	// BatchSize is how many texts go to the embedder at once (default 64).
	BatchSize int
}

func (t *Transfer) now() time.Time {
	if t.Clock == nil {
		return time.Now()
	}
	return t.Clock.Now()
}

// allDays spans every journal day.
const firstDay, lastDay = "0000-01-01", "9999-12-31"

// Export collects everything of user u, sorted so that the same data always
// gives the same file.
func (t *Transfer) Export(ctx context.Context, u store.User) (*Export, error) {
	ex := &Export{Format: ExportFormat, Version: ExportVersion, ExportedAt: t.now().UTC(),
		User:          ExportUser{Username: u.Username, DisplayName: u.DisplayName},
		Conversations: []ExportConversation{}, Entities: []ExportEntity{}, Items: []ExportItem{}, Journals: []ExportJournal{}}
	if p, err := t.Core.Persona(ctx, u.ID); err == nil {
		ex.Persona = &ExportPersona{Name: p.Name, Voice: p.Voice, Style: p.Style, NamedAt: p.NamedAt, UpdatedAt: p.UpdatedAt}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("export: %w", err)
	}
	if p, err := t.Core.Profile(ctx, u.ID); err == nil {
		ex.Profile = &ExportProfile{Answers: p.Answers, Timezone: p.Timezone, OnboardedAt: p.OnboardedAt, UpdatedAt: p.UpdatedAt}
		if ex.Profile.Answers == nil {
			ex.Profile.Answers = map[string]string{}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("export: %w", err)
	}

	convs, err := t.Core.ListConversations(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	slices.SortFunc(convs, func(a, b store.Conversation) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	for _, c := range convs {
		msgs, err := t.Core.Messages(ctx, u.ID, c.ID)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		ec := ExportConversation{ID: c.ID, Title: c.Title, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Messages: make([]ExportMessage, len(msgs))}
		for i, m := range msgs {
			ec.Messages[i] = exportMessage(m)
		}
		ex.Conversations = append(ex.Conversations, ec)
	}

	ents, err := t.Memory.Entities(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("export people: %w", err)
	}
	slices.SortFunc(ents, func(a, b memory.Entity) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	for _, e := range ents {
		ex.Entities = append(ex.Entities, ExportEntity{ID: e.ID, Name: e.Name, Aliases: nonNil(e.Aliases), Relation: e.Relation,
			Notes: e.Notes, Sources: nonNil(e.Sources), CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt})
	}

	items, err := t.Memory.ListItems(ctx, u.ID, memory.ItemFilter{History: true})
	if err != nil {
		return nil, fmt.Errorf("export memories: %w", err)
	}
	slices.SortFunc(items, func(a, b memory.Item) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	for _, it := range items {
		ex.Items = append(ex.Items, ExportItem{ID: it.ID, Kind: string(it.Kind), Text: it.Text, EntityIDs: nonNil(it.EntityIDs),
			Sources: nonNil(it.Sources), Confidence: it.Confidence, Importance: it.Importance, EventTime: it.EventTime,
			ValidFrom: it.ValidFrom, ValidTo: it.ValidTo, SupersededBy: it.SupersededBy, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt})
	}

	js, err := t.Memory.Journals(ctx, u.ID, firstDay, lastDay)
	if err != nil {
		return nil, fmt.Errorf("export journal: %w", err)
	}
	slices.SortFunc(js, func(a, b memory.Journal) int { return cmp.Compare(a.Day, b.Day) })
	for _, j := range js {
		ex.Journals = append(ex.Journals, ExportJournal{ID: j.ID, Day: j.Day, Text: j.Text, Sources: nonNil(j.Sources), CreatedAt: j.CreatedAt})
	}
	return ex, nil
}

// ParseExport decodes a JSON export strictly: valid UTF-8, one object, only
// known fields. Errors wrap ErrInvalidImport.
func ParseExport(data []byte) (*Export, error) {
	var ex Export
	if err := decodeStrict(data, &ex, "an os1 memory export", "the export object", ""); err != nil {
		return nil, err
	}
	return &ex, nil
}

// noNUL refuses a file whose text holds a NUL anywhere, as the live API does.
func noNUL(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return invalid("the file cannot be read back: %v", err)
	}
	if textsafe.JSONHasNUL(b) {
		return invalid("the file holds a NUL character (\\u0000); no text in os1 may, as in chat")
	}
	return nil
}

// decodeStrict decodes one JSON object of known fields from valid UTF-8,
// with errors (wrapping ErrInvalidImport) that say where the problem is.
// what names the format, object the top-level value, want an optional hint.
func decodeStrict(data []byte, v any, what, object, want string) error {
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:invalidAt(data)], []byte("\n"))
		return invalid("the file is not valid UTF-8 text (first bad byte on line %d)", line)
	}
	if textsafe.JSONHasNUL(data) {
		return invalid("the file holds a NUL character (\\u0000); no text in os1 may, as in chat")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid("not %s: %s%s", what, jsonProblem(data, err), want)
	}
	if dec.More() {
		return invalid("the file has more data after %s", object)
	}
	return nil
}

func exportMessage(m store.Message) ExportMessage {
	em := ExportMessage{ID: m.ID, Role: string(m.Role), Content: m.Content, ToolCallID: m.ToolCallID,
		Status: string(m.Status), Error: m.Error, Reason: m.Reason, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
	for _, c := range m.ToolCalls {
		em.ToolCalls = append(em.ToolCalls, ExportToolCall{ID: c.ID, Name: c.Name, Arguments: string(c.Arguments)})
	}
	return em
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ImportReport says what an import did (or, in a dry run, would do).
type ImportReport struct {
	DryRun        bool `json:"dry_run"`
	Conversations int  `json:"conversations"`
	Messages      int  `json:"messages"`
	Entities      int  `json:"entities"`
	Items         int  `json:"items"`
	Journals      int  `json:"journals"`
	Persona       bool `json:"persona"` // the persona was imported
	Profile       bool `json:"profile"` // the profile was imported
	// Notes are sentences the user should read (a persona that was kept).
	Notes []string `json:"notes"`
}

// Import recreates ex for user u. IDs are kept; when one is taken in this
// database (by anyone) nothing is written and the error, wrapping
// ErrConflict, names the IDs. A file that does not hang together, or holds
// more than the live API lets a user write (see validate), wraps
// ErrInvalidImport. Tool calls and tool results are left out (the report
// says so). If writing fails halfway, even by a panic, what was written is
// removed again. The persona and profile are imported only when u has not met her
// yet (no named persona, no finished first meeting).
func (t *Transfer) Import(ctx context.Context, u store.User, ex *Export, dryRun bool) (ImportReport, error) {
	rep := ImportReport{DryRun: dryRun, Notes: []string{}}
	if err := t.validate(ctx, u, ex); err != nil {
		return rep, err
	}
	if err := t.conflicts(ctx, u, ex); err != nil {
		return rep, err
	}
	rep.Conversations, rep.Entities, rep.Items, rep.Journals = len(ex.Conversations), len(ex.Entities), len(ex.Items), len(ex.Journals)
	calls, results := 0, 0
	for _, c := range ex.Conversations {
		for _, m := range c.Messages {
			calls += len(m.ToolCalls)
			if m.Role == string(store.RoleTool) {
				results++
				continue
			}
			rep.Messages++
		}
	}
	if calls+results > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("Left out %d tool calls and %d tool results: a file cannot show what a tool really did, "+
			"and she would take them for her own.", calls, results))
	}
	persona, profile, err := t.personaToImport(ctx, u, ex, &rep)
	if err != nil {
		return rep, err
	}
	if dryRun {
		return rep, nil
	}
	w := &writer{t: t, u: u}
	if err := w.guarded(func() error { return w.write(ctx, ex, persona, profile) }); err != nil {
		w.undo()
		return rep, err
	}
	return rep, nil
}

// personaToImport decides whether the file's persona and profile replace the
// user's: only when the user has not met her yet.
func (t *Transfer) personaToImport(ctx context.Context, u store.User, ex *Export, rep *ImportReport) (*store.Persona, *store.Profile, error) {
	var persona *store.Persona
	var profile *store.Profile
	if p := ex.Persona; p != nil {
		cur, err := t.Core.Persona(ctx, u.ID)
		switch {
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, nil, fmt.Errorf("import: %w", err)
		case err == nil && cur.Name != "":
			if cur.Name != p.Name || cur.Voice != p.Voice || cur.Style != p.Style {
				rep.Notes = append(rep.Notes, fmt.Sprintf("Kept your companion's current persona (%q); the file's (%q) was not imported.", cur.Name, p.Name))
			}
		default:
			persona = &store.Persona{UserID: u.ID, Name: p.Name, Voice: p.Voice, Style: p.Style, NamedAt: p.NamedAt, UpdatedAt: p.UpdatedAt}
			rep.Persona = true
		}
	}
	if p := ex.Profile; p != nil {
		cur, err := t.Core.Profile(ctx, u.ID)
		switch {
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return nil, nil, fmt.Errorf("import: %w", err)
		case err == nil && !cur.OnboardedAt.IsZero():
			rep.Notes = append(rep.Notes, "Kept your current first-meeting answers; the file's were not imported.")
		default:
			profile = &store.Profile{UserID: u.ID, Answers: p.Answers, Timezone: p.Timezone, OnboardedAt: p.OnboardedAt, UpdatedAt: p.UpdatedAt}
			rep.Profile = true
		}
	}
	return persona, profile, nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidImport, fmt.Sprintf(format, args...))
}

var (
	messageRoles = []string{string(store.RoleUser), string(store.RoleAssistant), string(store.RoleTool)}
	// No "streaming": only a turn in progress has it, and the memory worker
	// waits at such a message for the turn to end.
	messageStates = []string{string(store.StatusComplete), string(store.StatusInterrupted), string(store.StatusFailed)}
	itemKinds     = []memory.Kind{memory.KindFact, memory.KindEvent, memory.KindPreference, memory.KindReflection, memory.KindPerson}
)

// Limits of an import beside MaxMessageBytes and MaxItemText: what the live
// API and the model write stays far inside them.
const (
	maxTitleChars   = 200      // a conversation title (the API's rename limit)
	maxErrorBytes   = 64 << 10 // a failed message's error text
	maxReasonChars  = 500      // why os1 spoke unasked: a short line, as Initiate is given
	maxNameChars    = 200      // a person's name, relation or one alias
	maxAliases      = 100      // aliases of one person
	maxJournalBytes = 64 << 10 // one journal entry
)

// checkID enforces the syntax of IDs from a file: at most maxIDLen bytes,
// no control characters (valid UTF-8 was checked when parsing).
func checkID(what, v string) error {
	if v == "" {
		return invalid("a %s has no id", what)
	}
	if len(v) > maxIDLen || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return invalid("%s id %q: ids are at most %d bytes without control characters", what, shortenUTF8(v, 40), maxIDLen)
	}
	return nil
}

// validate checks that ex hangs together and stays within what the live
// API lets a user write: known format, unique well-formed IDs, known roles,
// statuses and kinds, messages of at most MaxMessageBytes, memories of at
// most MaxItemText characters with confidence and importance in 0..1, a
// supersession history without cycles, tool calls only where the companion
// makes them, and every source and person an item names in the file or
// already the user's.
func (t *Transfer) validate(ctx context.Context, u store.User, ex *Export) error {
	if ex.Format != ExportFormat {
		return invalid("format is %q, want %q (is this an os1 memory export?)", ex.Format, ExportFormat)
	}
	if ex.Version != ExportVersion {
		return invalid("version %d is not supported; this os1 reads version %d", ex.Version, ExportVersion)
	}
	if err := noNUL(ex); err != nil {
		return err
	}
	seen := map[string]string{} // id -> what
	id := func(what, v string) error {
		if err := checkID(what, v); err != nil {
			return err
		}
		if prev, ok := seen[v]; ok {
			return invalid("id %q is used twice (%s and %s)", v, prev, what)
		}
		seen[v] = what
		return nil
	}
	msgs := map[string]bool{}
	for _, c := range ex.Conversations {
		if err := id("conversation", c.ID); err != nil {
			return err
		}
		if n := utf8.RuneCountInString(c.Title); n > maxTitleChars {
			return invalid("conversation %s has a title of %d characters; the limit is %d", c.ID, n, maxTitleChars)
		}
		for _, m := range c.Messages {
			if err := id("message", m.ID); err != nil {
				return err
			}
			if err := checkMessage(m); err != nil {
				return err
			}
			if m.Role != string(store.RoleTool) { // tool results are not imported
				msgs[m.ID] = true
			}
		}
	}
	haveSource := func(what, owner string, srcs []string, need bool) error {
		if need && len(srcs) == 0 {
			return invalid("%s %s has no source message", what, owner)
		}
		for _, s := range srcs {
			if msgs[s] {
				continue
			}
			if _, err := t.Core.Message(ctx, u.ID, s); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return invalid("%s %s names source message %s, which is neither in the file nor yours", what, owner, s)
				}
				return fmt.Errorf("import: %w", err)
			}
		}
		return nil
	}
	ents := map[string]bool{}
	for _, e := range ex.Entities {
		if err := id("person", e.ID); err != nil {
			return err
		}
		if strings.TrimSpace(e.Name) == "" {
			return invalid("person %s has no name", e.ID)
		}
		if err := checkPerson(e); err != nil {
			return err
		}
		if err := haveSource("person", e.ID, e.Sources, false); err != nil {
			return err
		}
		ents[e.ID] = true
	}
	items := map[string]bool{}
	for _, it := range ex.Items {
		if err := id("memory", it.ID); err != nil {
			return err
		}
		items[it.ID] = true
	}
	replaced := map[string]string{} // successor -> the item it superseded
	for _, it := range ex.Items {
		if !slices.Contains(itemKinds, memory.Kind(it.Kind)) {
			return invalid("memory %s has kind %q; want fact, event, preference, reflection or person", it.ID, it.Kind)
		}
		if strings.TrimSpace(it.Text) == "" {
			return invalid("memory %s has no text", it.ID)
		}
		if n := utf8.RuneCountInString(it.Text); n > memory.MaxItemText {
			return invalid("memory %s has %d characters of text; the limit is %d", it.ID, n, memory.MaxItemText)
		}
		if !unitRange(it.Confidence) || !unitRange(it.Importance) {
			return invalid("memory %s has confidence %v and importance %v; both must lie in 0..1", it.ID, it.Confidence, it.Importance)
		}
		if it.SupersededBy != "" {
			switch {
			case !items[it.SupersededBy]:
				return invalid("memory %s was superseded by %s, which is not in the file", it.ID, it.SupersededBy)
			case it.ValidTo.IsZero():
				return invalid("memory %s was superseded by %s but has no valid_to", it.ID, it.SupersededBy)
			case replaced[it.SupersededBy] != "":
				return invalid("memory %s supersedes both %s and %s; a memory replaces one", it.SupersededBy, replaced[it.SupersededBy], it.ID)
			}
			replaced[it.SupersededBy] = it.ID
		}
		if err := haveSource("memory", it.ID, it.Sources, true); err != nil {
			return err
		}
		for _, e := range it.EntityIDs {
			if ents[e] {
				continue
			}
			if _, err := t.Memory.Entity(ctx, u.ID, e); err != nil {
				if errors.Is(err, memory.ErrNotFound) || errors.Is(err, store.ErrNotFound) {
					return invalid("memory %s is about person %s, who is neither in the file nor yours", it.ID, e)
				}
				return fmt.Errorf("import: %w", err)
			}
		}
	}
	if err := supersessionCycle(ex.Items); err != nil {
		return err
	}
	days := map[string]bool{}
	for _, j := range ex.Journals {
		if err := id("journal", j.ID); err != nil {
			return err
		}
		if _, err := time.Parse(time.DateOnly, j.Day); err != nil {
			return invalid("journal %s has day %q; want YYYY-MM-DD", j.ID, j.Day)
		}
		if days[j.Day] {
			return invalid("two journal entries for %s", j.Day)
		}
		if len(j.Text) > maxJournalBytes {
			return invalid("the journal entry of %s is %d bytes; the limit is %d", j.Day, len(j.Text), maxJournalBytes)
		}
		days[j.Day] = true
		if err := haveSource("journal", j.Day, j.Sources, true); err != nil {
			return err
		}
	}
	return nil
}

func unitRange(x float64) bool { return !math.IsNaN(x) && x >= 0 && x <= 1 }

// checkMessage holds a message to what the live server stores: a known
// role and a finished status, at most MaxMessageBytes, a reason only on her
// replies and of one short line, and tool calls and
// results only in the shape the companion writes them (tool calls on her
// messages, a result's call ID on a tool message). Even so they are not
// imported (see writer.write): a file cannot prove what a tool returned,
// and a forged result would reach the prompt as if a tool had said it.
func checkMessage(m ExportMessage) error {
	switch {
	case !slices.Contains(messageRoles, m.Role):
		return invalid("message %s has role %q; want user, assistant or tool", m.ID, m.Role)
	case !slices.Contains(messageStates, m.Status):
		return invalid("message %s has status %q; want complete, interrupted or failed", m.ID, m.Status)
	case len(m.Content) > memory.MaxMessageBytes:
		return invalid("message %s is %d bytes; the limit is %d (1 MiB), as in chat", m.ID, len(m.Content), memory.MaxMessageBytes)
	case len(m.Error) > maxErrorBytes:
		return invalid("message %s has an error text of %d bytes; the limit is %d", m.ID, len(m.Error), maxErrorBytes)
	case len(m.ToolCalls) > 0 && m.Role != string(store.RoleAssistant):
		return invalid("message %s is the %s's but makes tool calls; only the companion calls tools", m.ID, m.Role)
	case m.ToolCallID != "" && m.Role != string(store.RoleTool):
		return invalid("message %s is the %s's but answers tool call %q; only tool results do", m.ID, m.Role, m.ToolCallID)
	case m.Role == string(store.RoleTool) && m.ToolCallID == "":
		return invalid("tool result %s answers no tool call", m.ID)
	case m.Reason != "" && m.Role != string(store.RoleAssistant):
		return invalid("message %s is the %s's but has a reason; only replies os1 started herself do", m.ID, m.Role)
	case utf8.RuneCountInString(m.Reason) > maxReasonChars:
		return invalid("message %s has a reason of %d characters; the limit is %d", m.ID, utf8.RuneCountInString(m.Reason), maxReasonChars)
	case strings.IndexFunc(m.Reason, unicode.IsControl) >= 0:
		return invalid("message %s has a reason with a control character (a line break, a tab…); a reason is one line", m.ID)
	}
	return nil
}

// checkPerson bounds a person's fields.
func checkPerson(e ExportEntity) error {
	if len(e.Aliases) > maxAliases {
		return invalid("person %s has %d aliases; the limit is %d", e.ID, len(e.Aliases), maxAliases)
	}
	for _, s := range append([]string{e.Name, e.Relation}, e.Aliases...) {
		if n := utf8.RuneCountInString(s); n > maxNameChars {
			return invalid("person %s has a name, relation or alias of %d characters; the limit is %d", e.ID, n, maxNameChars)
		}
	}
	if n := utf8.RuneCountInString(e.Notes); n > memory.MaxItemText {
		return invalid("person %s has notes of %d characters; the limit is %d", e.ID, n, memory.MaxItemText)
	}
	return nil
}

// supersessionCycle reports a chain of superseded_by that comes back to
// where it started: history must lead to a current belief.
func supersessionCycle(items []ExportItem) error {
	next := map[string]string{}
	for _, it := range items {
		if it.SupersededBy != "" {
			next[it.ID] = it.SupersededBy
		}
	}
	done := map[string]bool{}
	for _, it := range items {
		onPath := map[string]bool{}
		for id := it.ID; id != "" && !done[id]; id = next[id] {
			if onPath[id] {
				return invalid("memories supersede each other in a cycle (through %s); each history must end in one memory", id)
			}
			onPath[id] = true
		}
		for id := range onPath {
			done[id] = true
		}
	}
	return nil
}

// maxNamed bounds how many conflicting IDs an error lists.
const maxNamed = 5

// conflicts reports IDs of the file that are taken in this database, by
// this user or anyone else, and journal days the user already has.
func (t *Transfer) conflicts(ctx context.Context, u store.User, ex *Export) error {
	users, err := t.Core.ListUsers(ctx)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	var taken []string
	var total int
	add := func(what, id string) {
		total++
		if len(taken) < maxNamed {
			taken = append(taken, what+" "+id)
		}
	}
	for _, owner := range users {
		for _, c := range ex.Conversations {
			if _, err := t.Core.Conversation(ctx, owner.ID, c.ID); err == nil {
				add("conversation", c.ID)
			} else if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("import: %w", err)
			}
			for _, m := range c.Messages {
				if _, err := t.Core.Message(ctx, owner.ID, m.ID); err == nil {
					add("message", m.ID)
				} else if !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("import: %w", err)
				}
			}
		}
		for _, e := range ex.Entities {
			if _, err := t.Memory.Entity(ctx, owner.ID, e.ID); err == nil {
				add("person", e.ID)
			} else if !errors.Is(err, memory.ErrNotFound) && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("import: %w", err)
			}
		}
		for _, it := range ex.Items {
			if _, err := t.Memory.Item(ctx, owner.ID, it.ID); err == nil {
				add("memory", it.ID)
			} else if !errors.Is(err, memory.ErrNotFound) && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("import: %w", err)
			}
		}
	}
	if len(ex.Journals) > 0 {
		have, err := t.Memory.Journals(ctx, u.ID, firstDay, lastDay)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		for _, j := range ex.Journals {
			for _, h := range have {
				if h.Day == j.Day {
					add("journal of", j.Day)
				}
			}
		}
	}
	if total == 0 {
		return nil
	}
	more := ""
	if total > len(taken) {
		more = fmt.Sprintf(" and %d more", total-len(taken))
	}
	return fmt.Errorf("these IDs of the file are %w in this database: %s%s; nothing was imported (import into a fresh data directory, or forget those first)",
		ErrConflict, strings.Join(taken, ", "), more)
}

// shortenUTF8 cuts s to at most n bytes on a rune boundary, marking the cut.
func shortenUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " ") + "…"
}
