// Package memtest is the shared rig of the memory packages' tests (recall,
// extract, worker and the root): a user with real SQLite stores, a Recaller,
// a scripted model server speaking the OpenAI wire protocol, a fake clock,
// a counting meter, a small real embedder and golden files.
//
// It is imported only by tests and must never be linked into the os1
// binary; it must never fake what it can run for real (stores, the model's
// protocol).
package memtest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// The -update flag rewrites golden files. A test file may have registered
// it already.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

// Golden compares got with testdata/name of the calling package's
// directory, rewriting the file under -update.
func Golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// Day0 is when the tests' conversations happen: Monday 2 March 2026, 15:00 in Berlin.
var Day0 = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

// Harness is a user with real SQLite stores (core and memory), a Recaller,
// a scripted model server and a fake clock.
type Harness struct {
	T      *testing.T
	Ctx    context.Context
	DB     *sqlite.DB
	Mem    *sqlitemem.Store
	Recall *recall.Recaller
	LLM    *llmtest.Server
	Models *SwitchModels
	Clock  *clock.Fake
	Echoes *memory.Echoes
	Meter  *CountMeter
	User   store.User
	Berlin *time.Location
}

// SwitchModels hands out one provider, or none; tests connect it later.
type SwitchModels struct {
	mu sync.Mutex
	p  llm.Provider
}

// Provider is the connected provider, or an error wrapping llm.ErrNoProvider.
func (m *SwitchModels) Provider(context.Context) (llm.Provider, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p == nil {
		return nil, fmt.Errorf("%w: connect one in Settings", llm.ErrNoProvider)
	}
	return m.p, nil
}

// Set connects p (nil: none).
func (m *SwitchModels) Set(p llm.Provider) {
	m.mu.Lock()
	m.p = p
	m.mu.Unlock()
}

// NewProvider is the real OpenAI client talking to srv, without retries.
func NewProvider(srv *llmtest.Server) llm.Provider {
	return llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "m",
		Transport: llm.Transport{MaxRetries: -1, IdleTimeout: 10 * time.Second}})
}

// New builds the rig with one user, Theodore, and a connected model.
func New(t *testing.T) *Harness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clock.NewFake(Day0)
	mem := sqlitemem.New(db.SQL(), sqlitemem.Options{Clock: clk})
	srv := llmtest.NewServer(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	h := &Harness{T: t, Ctx: ctx, DB: db, Mem: mem, LLM: srv, Models: &SwitchModels{p: NewProvider(srv)}, Clock: clk,
		Echoes: memory.NewEchoes(), Meter: &CountMeter{n: map[string]int{}}, Berlin: berlin,
		Recall: recall.New(mem, nil, clk, recall.DefaultOptions())}
	h.User = h.AddUser("usr_theo", "theo", "Theodore")
	return h
}

// AddUser creates an onboarded user in Berlin whose companion is Samantha.
func (h *Harness) AddUser(id, username, display string) store.User {
	h.T.Helper()
	u := store.User{ID: id, Username: username, DisplayName: display, Role: store.RoleMember, PasswordHash: "x", CreatedAt: Day0}
	h.Must(h.DB.CreateUser(h.Ctx, u))
	h.Must(h.DB.SavePersona(h.Ctx, store.Persona{UserID: id, Name: "Samantha", Voice: "warm and calm", NamedAt: Day0, UpdatedAt: Day0}))
	h.Must(h.DB.SaveProfile(h.Ctx, store.Profile{UserID: id, Timezone: "Europe/Berlin", OnboardedAt: Day0, UpdatedAt: Day0,
		Answers: map[string]string{"matters": "Writing letters for people.", "social": "Not very, lately."}}))
	return u
}

// Must fails the test on an error.
func (h *Harness) Must(err error) {
	h.T.Helper()
	if err != nil {
		h.T.Fatal(err)
	}
}

// Said is a message to store: Role "user" or "assistant" (or "tool").
type Said struct {
	ID, Role, Text string
	At             time.Time
}

// Conversation stores a conversation of h.User with msgs and returns its ID.
func (h *Harness) Conversation(id string, msgs ...Said) string {
	h.T.Helper()
	h.Must(h.DB.CreateConversation(h.Ctx, store.Conversation{ID: id, UserID: h.User.ID, Title: "t", CreatedAt: msgs[0].At, UpdatedAt: msgs[0].At}))
	h.Append(id, msgs...)
	return id
}

// Append stores msgs in conversation conv, complete.
func (h *Harness) Append(conv string, msgs ...Said) {
	h.T.Helper()
	for _, m := range msgs {
		sm := store.Message{ID: m.ID, ConversationID: conv, UserID: h.User.ID, Role: store.MessageRole(m.Role), Content: m.Text,
			Status: store.StatusComplete, CreatedAt: m.At, UpdatedAt: m.At}
		if m.Role == "tool" {
			sm.ToolCallID = "call_1"
		}
		h.Must(h.DB.AppendMessage(h.Ctx, sm))
	}
}

// Item stores a current memory item as if extracted earlier.
func (h *Harness) Item(id string, kind memory.Kind, text string, sources ...string) memory.Item {
	h.T.Helper()
	it := memory.Item{ID: id, UserID: h.User.ID, Kind: kind, Text: text, Sources: sources, Confidence: 0.9, Importance: 0.5,
		ValidFrom: Day0.Add(-48 * time.Hour), CreatedAt: Day0.Add(-48 * time.Hour)}
	h.Must(h.Mem.AddItem(h.Ctx, it, nil))
	return it
}

// Items lists the user's items, history included, by text.
func (h *Harness) Items() map[string]memory.Item {
	h.T.Helper()
	list, err := h.Mem.ListItems(h.Ctx, h.User.ID, memory.ItemFilter{History: true})
	h.Must(err)
	out := map[string]memory.Item{}
	for _, it := range list {
		out[it.Text] = it
	}
	return out
}

// Journals are the user's journal entries, oldest first.
func (h *Harness) Journals() []memory.Journal {
	h.T.Helper()
	js, err := h.Mem.Journals(h.Ctx, h.User.ID, "0000-01-01", "9999-12-31")
	h.Must(err)
	return js
}

// Extractions are the extraction requests the model server received.
func (h *Harness) Extractions() []llmtest.Request {
	var out []llmtest.Request
	for _, r := range h.LLM.Requests() {
		if strings.Contains(r.System, "deciding what to remember") {
			out = append(out, r)
		}
	}
	return out
}

// JournalRequests are the journal requests the model server received.
func (h *Harness) JournalRequests() []llmtest.Request {
	var out []llmtest.Request
	for _, r := range h.LLM.Requests() {
		if strings.Contains(r.System, "journal entry") {
			out = append(out, r)
		}
	}
	return out
}

// JournalReply is a scripted journal entry.
func JournalReply(text string) llmtest.Reply { return llmtest.Reply{Chunks: []string{text}} }

// OpsReply is a scripted extraction answer of the given operations.
func OpsReply(list ...string) llmtest.Reply {
	return llmtest.Reply{Chunks: []string{`{"operations":[`, strings.Join(list, ","), `]}`}}
}

// AddOp renders one add operation.
func AddOp(kind, text string, sources []string, people ...string) string {
	b, _ := json.Marshal(map[string]any{"op": "add", "kind": kind, "text": text, "sources": sources, "people": people,
		"event_time": "", "confidence": 0.9, "importance": 0.6})
	return string(b)
}

// CountMeter counts memory events.
type CountMeter struct {
	mu sync.Mutex
	n  map[string]int
}

// MemoryEvent counts n of event.
func (m *CountMeter) MemoryEvent(event string, n int) {
	m.mu.Lock()
	m.n[event] += n
	m.mu.Unlock()
}

// Get is how many of event were counted.
func (m *CountMeter) Get(event string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[event]
}

// String lists the counts, for failure messages.
func (m *CountMeter) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprint(m.n)
}

// BagEmbedder is a small real embedder for tests: a bag of words hashed
// into 256 dimensions, so texts with the same words are near-identical and
// texts sharing none are orthogonal.
type BagEmbedder struct{}

// Embed returns one unit vector per text.
func (BagEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 256)
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !('a' <= r && r <= 'z' || '0' <= r && r <= '9') }) {
			f := fnv.New32a()
			f.Write([]byte(w))
			v[f.Sum32()%256]++
		}
		var n float64
		for _, x := range v {
			n += float64(x * x)
		}
		if n == 0 {
			v[0], n = 1, 1
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(n))
		}
		out[i] = v
	}
	return out, nil
}
