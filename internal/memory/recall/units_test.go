package recall_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/store"
)

// unitRig stores conversations in the log and indexes their turns for
// recall, as the worker does; text recall only.
type unitRig struct {
	*memtest.Harness
	r *recall.Recaller
}

func newUnitRig(t *testing.T) *unitRig {
	h := memtest.New(t)
	opts := recall.DefaultOptions()
	opts.Mode = recall.TextOnly
	return &unitRig{Harness: h, r: recall.New(h.Mem, nil, h.Clock, opts)}
}

// conversation stores msgs for user in a new conversation and indexes its
// turns (not tool results).
func (u *unitRig) conversation(user, conv string, msgs ...memtest.Said) {
	u.T.Helper()
	u.Must(u.DB.CreateConversation(u.Ctx, store.Conversation{ID: conv, UserID: user, Title: "t", CreatedAt: msgs[0].At, UpdatedAt: msgs[0].At}))
	for _, m := range msgs {
		sm := store.Message{ID: m.ID, ConversationID: conv, UserID: user, Role: store.MessageRole(m.Role), Content: m.Text,
			Status: store.StatusComplete, CreatedAt: m.At, UpdatedAt: m.At}
		if m.Role == "tool" {
			sm.ToolCallID = "call_1"
		}
		u.Must(u.DB.AppendMessage(u.Ctx, sm))
		if m.Role == "tool" {
			continue
		}
		u.Must(u.Mem.IndexMessage(u.Ctx, memory.MessageDoc{ID: m.ID, UserID: user, ConversationID: conv, Role: m.Role,
			Speaker: m.Role, Text: m.Text, Time: m.At}, nil))
	}
}

func (u *unitRig) recall(user, q string) []memory.Hit {
	u.T.Helper()
	hits, err := u.r.Recall(u.Ctx, user, memory.Query{Text: q}, time.UTC)
	u.Must(err)
	return hits
}

func hitByID(hits []memory.Hit, id string) (memory.Hit, bool) {
	i := slices.IndexFunc(hits, func(h memory.Hit) bool { return h.ID == id })
	if i < 0 {
		return memory.Hit{}, false
	}
	return hits[i], true
}

func at(min int) time.Time { return day0.Add(time.Duration(min) * time.Minute) }

// Her reply comes with the question it answers: its ID in Sources and its
// text in front, past a tool call's result.
func TestRecallUnitCarriesTheQuestion(t *testing.T) {
	u := newUnitRig(t)
	theo := u.User.ID
	u.conversation(theo, "cnv_1",
		said("m_q", "user", "Where should we eat on Friday?", at(0)),
		said("m_tool", "tool", "weather: rain", at(1)),
		said("m_a", "assistant", "The Lebanese place on Maple Street has a covered terrace.", at(2)),
		said("m_next", "user", "Perfect, book Maple Street for eight.", at(3)))

	hits := u.recall(theo, "terrace")
	a, ok := hitByID(hits, "m_a")
	if !ok {
		t.Fatalf("m_a not found: %v", ids(hits))
	}
	if !slices.Equal(a.Sources, []string{"m_a", "m_q"}) {
		t.Errorf("sources = %v, want m_a and the question m_q (the tool result stepped over)", a.Sources)
	}
	want := "(before: Where should we eat on Friday?) The Lebanese place"
	if !strings.HasPrefix(a.Text, want) {
		t.Errorf("text = %q, want it to start %q", a.Text, want)
	}
}

// A neighbour that is a hit itself is not attached again, and no message is
// the source of two hits.
func TestRecallUnitNeighbourOnce(t *testing.T) {
	u := newUnitRig(t)
	theo := u.User.ID
	u.conversation(theo, "cnv_1",
		said("m_q", "user", "Where should we eat on Friday?", at(0)),
		said("m_a", "assistant", "The Lebanese place on Maple Street.", at(2)),
		said("m_next", "user", "Perfect, book Maple Street for eight.", at(3)))

	hits := u.recall(theo, "Maple Street")
	if len(hits) != 2 {
		t.Fatalf("hits = %v, want m_a and m_next", ids(hits))
	}
	seen := map[string]int{}
	for _, h := range hits {
		for _, s := range h.Sources {
			seen[s]++
		}
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s is a source of %d hits: %v", id, n, hits)
		}
	}
	// Whichever ranks first keeps its own past: m_next's is m_a, a hit,
	// so m_next stands alone; m_a carries m_q.
	next, _ := hitByID(hits, "m_next")
	if !slices.Equal(next.Sources, []string{"m_next"}) || strings.HasPrefix(next.Text, "(before:") {
		t.Errorf("m_next = %v %q, want it alone (its neighbour m_a is a hit)", next.Sources, next.Text)
	}
	a, _ := hitByID(hits, "m_a")
	if !slices.Equal(a.Sources, []string{"m_a", "m_q"}) {
		t.Errorf("m_a sources = %v, want m_a, m_q", a.Sources)
	}
}

// The first turn of a conversation has no unit, though another
// conversation's last turn came just before it; and a parent link that
// points into another conversation or at another user's message is not
// followed.
func TestRecallUnitStaysInConversationAndUser(t *testing.T) {
	u := newUnitRig(t)
	theo := u.User.ID
	bob := u.AddUser("usr_bob", "bob", "Bob").ID
	u.conversation(theo, "cnv_1",
		said("m_old_q", "user", "Anything new?", at(0)),
		said("m_old_a", "assistant", "I finished the crossword.", at(1)))
	u.conversation(theo, "cnv_2",
		said("m_first", "user", "The piano tuner comes on Tuesday.", at(5)),
		said("m_reply", "assistant", "Good, the piano needs it.", at(6)),
		said("m_later", "user", "The violin teacher cancelled.", at(7)))
	u.conversation(bob, "cnv_bob",
		said("m_bob", "user", "Bob's secret: the safe code is 1234.", at(6)))

	first, ok := hitByID(u.recall(theo, "piano tuner"), "m_first")
	if !ok || !slices.Equal(first.Sources, []string{"m_first"}) || strings.HasPrefix(first.Text, "(before:") {
		t.Errorf("first turn = %v %q, want no unit", first.Sources, first.Text)
	}

	// Links a store must never follow, set by hand.
	if _, err := u.DB.SQL().ExecContext(u.Ctx, `UPDATE messages SET parent_id = 'm_old_a' WHERE id = 'm_reply'`); err != nil {
		t.Fatal(err)
	}
	if _, err := u.DB.SQL().ExecContext(u.Ctx, `UPDATE messages SET parent_id = 'm_bob' WHERE id = 'm_later'`); err != nil {
		t.Fatal(err)
	}
	for q, id := range map[string]string{"piano needs": "m_reply", "violin teacher": "m_later"} {
		h, ok := hitByID(u.recall(theo, q), id)
		if !ok {
			t.Fatalf("%s not found for %q", id, q)
		}
		if !slices.Equal(h.Sources, []string{id}) || strings.Contains(h.Text, "crossword") || strings.Contains(h.Text, "1234") {
			t.Errorf("%s = %v %q, want no unit from another conversation or user", id, h.Sources, h.Text)
		}
	}
	// Bob's own recall is his alone.
	for _, h := range u.recall(bob, "safe code piano") {
		for _, s := range h.Sources {
			if s != "m_bob" {
				t.Errorf("bob's hit %s has source %s", h.ID, s)
			}
		}
	}
}

// Search marks the query's words in the hit's own text, after the unit's
// prefix, and never in the prefix.
func TestSearchUnitMarksShift(t *testing.T) {
	u := newUnitRig(t)
	theo := u.User.ID
	u.conversation(theo, "cnv_1",
		said("m_q", "user", "What was the café called, the one with the blue door?", at(0)),
		said("m_a", "assistant", "Café Lumière — the blue door on Rue Oberkampf.", at(1)))

	ms, err := u.r.Search(u.Ctx, theo, memory.Query{Text: "Oberkampf"}, time.UTC)
	u.Must(err)
	if len(ms) != 1 || ms[0].ID != "m_a" {
		t.Fatalf("search = %v, want m_a", matchIDs(ms))
	}
	m := ms[0]
	if !strings.HasPrefix(m.Text, "(before: What was the café called") || !slices.Equal(m.Sources, []string{"m_a", "m_q"}) {
		t.Fatalf("m_a = %v %q, want the question in front", m.Sources, m.Text)
	}
	if got := marked(m); !slices.Equal(got, []string{"Oberkampf"}) {
		t.Errorf("marked %q, want [Oberkampf]", got)
	}

	ms, err = u.r.Search(u.Ctx, theo, memory.Query{Text: "blue door"}, time.UTC)
	u.Must(err)
	for _, m := range ms {
		prefix := 0
		if strings.HasPrefix(m.Text, "(before:") {
			prefix = strings.Index(m.Text, ") ") + 2
		}
		for _, r := range m.Marks {
			if r[0] < prefix {
				t.Errorf("%s: mark %v in the unit's prefix of %q", m.ID, r, m.Text)
			}
		}
		if got := marked(m); len(got) != 2 || !strings.EqualFold(got[0], "blue") || !strings.EqualFold(got[1], "door") {
			t.Errorf("%s: marked %q, want blue, door", m.ID, got)
		}
	}
}

// plainStore hides every method but memory.Store's: no PreviousTurns.
type plainStore struct{ memory.Store }

// A store that cannot read the turn before returns single turns.
func TestRecallWithoutTurnReader(t *testing.T) {
	u := newUnitRig(t)
	theo := u.User.ID
	u.conversation(theo, "cnv_1",
		said("m_q", "user", "Where should we eat on Friday?", at(0)),
		said("m_a", "assistant", "The Lebanese place has a covered terrace.", at(1)))
	opts := recall.DefaultOptions()
	opts.Mode = recall.TextOnly
	r := recall.New(plainStore{u.Mem}, nil, u.Clock, opts)
	hits, err := r.Recall(u.Ctx, theo, memory.Query{Text: "terrace"}, time.UTC)
	u.Must(err)
	a, ok := hitByID(hits, "m_a")
	if !ok || !slices.Equal(a.Sources, []string{"m_a"}) || a.Text != "The Lebanese place has a covered terrace." {
		t.Errorf("m_a = %v %q, want it alone", a.Sources, a.Text)
	}
}
