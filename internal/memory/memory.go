// Package memory is what the companion remembers beyond the prompt window:
// the types (memory items derived from conversations, each traceable to the
// messages it came from; people; daily journal entries; recall hits), the
// Store a backend implements (sqlitemem), the worker's durable Progress,
// the Editor a person corrects their memory with, and the small pieces the
// jobs share (Echoes, UserLocation, text helpers). The jobs live below it:
// recall finds memories, extract makes them, worker runs extraction in the
// background, transfer exports and imports them.
//
// It must never store an item without a source message, never let one
// user reach another user's memories, and never silently drop anything:
// a changed belief supersedes the old item, which stays as history, and
// only an explicit Forget deletes (from every index). It must never import
// its sub-packages.
package memory

import (
	"context"
	"errors"
	"time"

	"github.com/os1ai/os1/internal/store"
)

// Sentinel errors.
var (
	ErrNotFound  = errors.New("memory not found")
	ErrNoSource  = errors.New("a memory needs at least one source message")
	ErrDuplicate = errors.New("an equivalent memory already exists")
)

// Limits of what a user can put into memory, the same through the live API
// (chat, the memory page) and through imports.
const (
	// MaxMessageBytes bounds one message's content (server.MaxMessageBytes).
	MaxMessageBytes = 1 << 20
	// MaxItemText bounds the characters of one memory item's text.
	MaxItemText = 2000
)

// Kind of a memory item.
type Kind string

const (
	KindFact       Kind = "fact"       // about the user and their world
	KindEvent      Kind = "event"      // something with a date
	KindPreference Kind = "preference" // likes, dislikes, wishes
	KindReflection Kind = "reflection" // the companion's own observation
	KindPerson     Kind = "person"     // a note about a person (see Entity)
)

// Item is one belief, with provenance.
type Item struct {
	ID           string
	UserID       string
	Kind         Kind
	Text         string    // one self-contained sentence, e.g. "Theo's sister Catherine lives in Boston."
	EntityIDs    []string  // people this item is about
	Sources      []string  // message IDs it was derived from; never empty
	Confidence   float64   // 0..1: how sure the extraction was
	Importance   float64   // 0..1: how much it matters to the user
	EventTime    time.Time // events: when it happens or happened; zero otherwise
	ValidFrom    time.Time // when it became true (usually the source message's time)
	ValidTo      time.Time // zero while still believed; set when superseded or invalidated
	SupersededBy string    // the item that replaced this one
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Current reports whether the item is still believed.
func (it Item) Current() bool { return it.ValidTo.IsZero() }

// ItemPatch edits an item by hand (the user correcting a belief). Nil fields
// are left alone.
type ItemPatch struct {
	Text       *string
	Kind       *Kind
	Importance *float64
	EventTime  *time.Time
	EntityIDs  []string // nil: unchanged
}

// ItemFilter selects items to list.
type ItemFilter struct {
	Kinds    []Kind
	EntityID string
	History  bool // include superseded and invalidated items
	Limit    int  // 0: no limit
	Offset   int
}

// Entity is a person in the user's life: one entity per person, with aliases.
type Entity struct {
	ID        string
	UserID    string
	Name      string   // the name the user uses most
	Aliases   []string // other names, nicknames, "my sister"
	Relation  string   // "sister", "colleague", …
	Notes     string
	Sources   []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Journal is the companion's entry for one day, written by the model during
// consolidation, linked to that day's raw messages.
type Journal struct {
	ID        string
	UserID    string
	Day       string // YYYY-MM-DD in the user's time zone
	Text      string
	Sources   []string
	CreatedAt time.Time
}

// MessageDoc is a raw message as the recall index sees it.
type MessageDoc struct {
	ID             string
	UserID         string
	ConversationID string
	Speaker        string // display name of who said it
	Role           string // "user" or "assistant"
	Text           string
	Time           time.Time
}

// DocKind says what a recall hit is.
type DocKind string

const (
	DocMessage DocKind = "message"
	DocItem    DocKind = "item"
	DocJournal DocKind = "journal"
)

// Hit is one recall result. Sources always lead back to messages: for a
// message hit it is the message itself.
type Hit struct {
	Kind    DocKind
	ID      string
	Text    string
	Time    time.Time // message time, item ValidFrom, or journal day
	Sources []string
	Score   float64 // higher is better; comparable only within one result list
	Item    *Item   // set for item hits
}

// Query asks for memories.
type Query struct {
	Text  string
	Limit int       // default 10
	From  time.Time // zero: unbounded; hits before From are dropped
	To    time.Time // zero: unbounded; hits at or after To are dropped
	Kinds []DocKind // empty: all
	// History includes superseded items (for "what did I used to …").
	History bool
}

// Index is the retrieval side of a backend: full text and vectors, per user.
type Index interface {
	// IndexMessage makes a message recallable. vec may be nil (then only full text).
	IndexMessage(ctx context.Context, m MessageDoc, vec []float32) error
	// SearchText ranks by BM25 over the query's words.
	SearchText(ctx context.Context, userID string, q Query) ([]Hit, error)
	// SearchVector ranks by cosine similarity to vec.
	SearchVector(ctx context.Context, userID string, vec []float32, q Query) ([]Hit, error)
}

// Items stores memory items.
type Items interface {
	AddItem(ctx context.Context, it Item, vec []float32) error // ErrNoSource without sources
	Item(ctx context.Context, userID, id string) (Item, error)
	ListItems(ctx context.Context, userID string, f ItemFilter) ([]Item, error)
	UpdateItem(ctx context.Context, userID, id string, p ItemPatch, vec []float32, at time.Time) error
	// Supersede atomically closes old (ValidTo=at, SupersededBy=next.ID) and adds next.
	Supersede(ctx context.Context, userID, oldID string, next Item, vec []float32, at time.Time) error
	// Invalidate closes an item without a successor (it stopped being true).
	Invalidate(ctx context.Context, userID, id string, at time.Time) error
	// Forget deletes an item from every table and index. Items it superseded
	// keep pointing at nothing.
	Forget(ctx context.Context, userID, id string) error
}

// Entities stores people.
type Entities interface {
	SaveEntity(ctx context.Context, e Entity) error // upsert by ID
	Entity(ctx context.Context, userID, id string) (Entity, error)
	Entities(ctx context.Context, userID string) ([]Entity, error)
	// FindEntity matches a name or alias, case-insensitively.
	FindEntity(ctx context.Context, userID, name string) (Entity, error)
	DeleteEntity(ctx context.Context, userID, id string) error
}

// Journals stores daily entries.
type Journals interface {
	SaveJournal(ctx context.Context, j Journal, vec []float32) error // upsert by (user, day)
	Journals(ctx context.Context, userID string, fromDay, toDay string) ([]Journal, error)
}

// Embedder turns texts into vectors of one fixed dimension (internal/embed).
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Searcher is recall as its users need it: the recall tool, the extractor
// (which shows the model what is already remembered) and the HTTP API. The
// Recaller in package recall implements it.
type Searcher interface {
	Recall(ctx context.Context, userID string, q Query, loc *time.Location) ([]Hit, error)
}

// Meter counts what memory work did; the metrics package implements it.
// Events are extract's Out* constants and "index", "journal", "retry",
// "quarantine", "restart".
type Meter interface {
	MemoryEvent(event string, n int)
}

// Store is a memory backend (SQLite today, PostgreSQL later). All of it runs
// the contract suite in memorytest.
type Store interface {
	Index
	Items
	Entities
	Journals
	// ForgetMessage removes a message from the recall index (the episodic
	// log itself is the core store's).
	ForgetMessage(ctx context.Context, userID, messageID string) error
}

// MessageDocOf is how a stored message enters the recall index, said by
// speaker; tool results and empty messages do not (false).
func MessageDocOf(m store.Message, speaker string) (MessageDoc, bool) {
	if (m.Role != store.RoleUser && m.Role != store.RoleAssistant) || m.Content == "" {
		return MessageDoc{}, false
	}
	return MessageDoc{ID: m.ID, UserID: m.UserID, ConversationID: m.ConversationID, Speaker: speaker,
		Role: string(m.Role), Text: m.Content, Time: m.CreatedAt}, true
}
