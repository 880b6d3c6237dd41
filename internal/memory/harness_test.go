package memory_test

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
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// The -update flag rewrites golden files. Another test file of this
// package may have registered it already.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func goldenFile(t *testing.T, name, got string) {
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

// day0 is when the tests' conversations happen: Monday 2 March 2026, 15:00 in Berlin.
var day0 = time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)

// workHarness is a user with real SQLite stores (core and memory), a
// Recaller, a scripted model server and a fake clock.
type workHarness struct {
	t      *testing.T
	ctx    context.Context
	db     *sqlite.DB
	mem    *sqlitemem.Store
	recall *memory.Recaller
	llm    *llmtest.Server
	models *switchModels
	clock  *clock.Fake
	echoes *memory.Echoes
	meter  *countMeter
	user   store.User
	berlin *time.Location
}

// switchModels hands out one provider, or none; tests connect it later.
type switchModels struct {
	mu sync.Mutex
	p  llm.Provider
}

func (m *switchModels) Provider(context.Context) (llm.Provider, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.p == nil {
		return nil, fmt.Errorf("%w: connect one in Settings", llm.ErrNoProvider)
	}
	return m.p, nil
}

func (m *switchModels) set(p llm.Provider) {
	m.mu.Lock()
	m.p = p
	m.mu.Unlock()
}

func newProvider(srv *llmtest.Server) llm.Provider {
	return llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "m",
		Transport: llm.Transport{MaxRetries: -1, IdleTimeout: 10 * time.Second}})
}

func newWorkHarness(t *testing.T) *workHarness {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clock.NewFake(day0)
	mem := sqlitemem.New(db.SQL(), sqlitemem.Options{Clock: clk})
	srv := llmtest.NewServer(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	h := &workHarness{t: t, ctx: ctx, db: db, mem: mem, llm: srv, models: &switchModels{p: newProvider(srv)}, clock: clk,
		echoes: memory.NewEchoes(), meter: &countMeter{n: map[string]int{}}, berlin: berlin,
		recall: memory.NewRecaller(mem, nil, clk, memory.DefaultRecallOptions())}
	h.user = h.addUser("usr_theo", "theo", "Theodore")
	return h
}

// addUser creates an onboarded user in Berlin whose companion is Samantha.
func (h *workHarness) addUser(id, username, display string) store.User {
	h.t.Helper()
	u := store.User{ID: id, Username: username, DisplayName: display, Role: store.RoleMember, PasswordHash: "x", CreatedAt: day0}
	h.must(h.db.CreateUser(h.ctx, u))
	h.must(h.db.SavePersona(h.ctx, store.Persona{UserID: id, Name: "Samantha", Voice: "warm and calm", NamedAt: day0, UpdatedAt: day0}))
	h.must(h.db.SaveProfile(h.ctx, store.Profile{UserID: id, Timezone: "Europe/Berlin", OnboardedAt: day0, UpdatedAt: day0,
		Answers: map[string]string{"matters": "Writing letters for people.", "social": "Not very, lately."}}))
	return u
}

func (h *workHarness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}

// said is a message to store: role "user" or "assistant" (or "tool").
type said struct {
	id, role, text string
	at             time.Time
}

// conversation stores a conversation of h.user with msgs and returns its ID.
func (h *workHarness) conversation(id string, msgs ...said) string {
	h.t.Helper()
	h.must(h.db.CreateConversation(h.ctx, store.Conversation{ID: id, UserID: h.user.ID, Title: "t", CreatedAt: msgs[0].at, UpdatedAt: msgs[0].at}))
	h.append(id, msgs...)
	return id
}

func (h *workHarness) append(conv string, msgs ...said) {
	h.t.Helper()
	for _, m := range msgs {
		sm := store.Message{ID: m.id, ConversationID: conv, UserID: h.user.ID, Role: store.MessageRole(m.role), Content: m.text,
			Status: store.StatusComplete, CreatedAt: m.at, UpdatedAt: m.at}
		if m.role == "tool" {
			sm.ToolCallID = "call_1"
		}
		h.must(h.db.AppendMessage(h.ctx, sm))
	}
}

// batch reads a stored conversation as the worker would hand it over.
func (h *workHarness) batch(conv string) memory.Batch {
	h.t.Helper()
	msgs, err := h.db.Messages(h.ctx, h.user.ID, conv)
	h.must(err)
	return memory.Batch{UserID: h.user.ID, ConversationID: conv, UserName: "Theodore", CompanionName: "Samantha",
		Loc: h.berlin, Messages: msgs, Prompt: []string{"warm and calm", "Writing letters for people.", "Not very, lately."}}
}

func (h *workHarness) extractor(emb memory.Embedder, o memory.ExtractOptions) *memory.Extractor {
	return memory.NewExtractor(memory.ExtractorDeps{Memory: h.mem, Recall: h.recall, Models: h.models, Embedder: emb,
		Echoes: h.echoes, Clock: h.clock, Meter: h.meter}, o)
}

// item stores a current memory item as if extracted earlier.
func (h *workHarness) item(id string, kind memory.Kind, text string, sources ...string) memory.Item {
	h.t.Helper()
	it := memory.Item{ID: id, UserID: h.user.ID, Kind: kind, Text: text, Sources: sources, Confidence: 0.9, Importance: 0.5,
		ValidFrom: day0.Add(-48 * time.Hour), CreatedAt: day0.Add(-48 * time.Hour)}
	h.must(h.mem.AddItem(h.ctx, it, nil))
	return it
}

// items lists the user's items, history included, by text.
func (h *workHarness) items() map[string]memory.Item {
	h.t.Helper()
	list, err := h.mem.ListItems(h.ctx, h.user.ID, memory.ItemFilter{History: true})
	h.must(err)
	out := map[string]memory.Item{}
	for _, it := range list {
		out[it.Text] = it
	}
	return out
}

// ops is a scripted extraction answer.
func opsReply(list ...string) llmtest.Reply {
	return llmtest.Reply{Chunks: []string{`{"operations":[`, strings.Join(list, ","), `]}`}}
}

// add renders one add operation.
func addOp(kind, text string, sources []string, people ...string) string {
	b, _ := json.Marshal(map[string]any{"op": "add", "kind": kind, "text": text, "sources": sources, "people": people,
		"event_time": "", "confidence": 0.9, "importance": 0.6})
	return string(b)
}

// countMeter counts memory events.
type countMeter struct {
	mu sync.Mutex
	n  map[string]int
}

func (m *countMeter) MemoryEvent(event string, n int) {
	m.mu.Lock()
	m.n[event] += n
	m.mu.Unlock()
}

func (m *countMeter) get(event string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n[event]
}

// bagEmbedder is a small real embedder for tests: a bag of words hashed
// into 256 dimensions, so texts with the same words are near-identical and
// texts sharing none are orthogonal.
type bagEmbedder struct {
	mu    sync.Mutex
	calls int
}

func (e *bagEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	e.mu.Lock()
	e.calls++
	e.mu.Unlock()
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
