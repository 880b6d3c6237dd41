package extract_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/memory/memtest"
)

// guardConversation is the turn every guard case extracts from.
func guardConversation(h *workHarness) string {
	h.Conversation("cnv_other", said("msg_x1", "user", "Something said elsewhere entirely.", day0.Add(-time.Hour)))
	return h.Conversation("cnv_g",
		said("msg_u1", "user", "My sister Catherine just moved to Boston, she starts at MIT next week.", day0),
		said("msg_a1", "assistant", "That's a big move! I bet you miss her. You seem a little lonely lately.", day0.Add(time.Minute)),
		said("msg_u2", "user", "I do. Also I stopped drinking coffee, only tea now.", day0.Add(2*time.Minute)),
	)
}

var (
	fromUser      = []string{"msg_u1"}
	fromTea       = []string{"msg_u2"}
	fromAssistant = []string{"msg_a1"}
)

func supersedeOp(target, text string, sources []string) string {
	return `{"op":"supersede","target":"` + target + `","kind":"preference","text":"` + text + `","sources":["` + sources[0] + `"],"confidence":0.9,"importance":0.5}`
}

// TestExtractGuards checks each guard on its own: what the model proposes,
// what is stored, and how each operation is counted.
func TestExtractGuards(t *testing.T) {
	coffee := func(h *workHarness) {
		h.Item("mem_coffee", memory.KindPreference, "Theodore drinks coffee every morning.", "msg_x1")
	}
	cases := []struct {
		name   string
		setup  func(h *workHarness)
		opts   extract.Options
		embed  bool
		reply  []string
		want   map[string]int
		stored []string // current items afterwards
		absent []string // texts never stored
	}{
		{name: "valid add from the user",
			reply:  []string{memtest.AddOp("fact", "Theodore's sister Catherine moved to Boston.", fromUser, "Catherine")},
			want:   map[string]int{extract.OutAdded: 1},
			stored: []string{"Theodore's sister Catherine moved to Boston."}},

		// Guard 1: nothing from the system prompt or recalled memories.
		{name: "echo: a first-meeting answer from the system prompt",
			reply:  []string{memtest.AddOp("fact", "Writing letters for people.", fromUser)},
			want:   map[string]int{extract.OutEcho: 1},
			absent: []string{"Writing letters for people."}},
		{name: "echo: contained in memory text recalled for the companion",
			setup: func(h *workHarness) {
				h.Echoes.Remember(h.User.ID, "- 2026-02-20 (journal) Theodore told me he works as a letter writer.\n- 2026-02-21 (fact) Theodore lives in Los Angeles.")
			},
			reply:  []string{memtest.AddOp("fact", "Theodore told me he works as a letter writer", fromUser)},
			want:   map[string]int{extract.OutEcho: 1},
			absent: []string{"Theodore told me he works as a letter writer"}},
		{name: "echo: near-identical to recalled text by embedding",
			setup: func(h *workHarness) {
				h.Echoes.Remember(h.User.ID, "Theodore loves long walks on the beach at dawn.")
			},
			embed:  true,
			reply:  []string{memtest.AddOp("preference", "At dawn Theodore loves long walks on the beach.", fromUser)},
			want:   map[string]int{extract.OutEcho: 1},
			absent: []string{"At dawn Theodore loves long walks on the beach."}},
		{name: "echo: the example in the extraction instructions",
			reply:  []string{memtest.AddOp("fact", "Theodore's sister Ana teaches violin in Porto.", fromUser, "Ana")},
			want:   map[string]int{extract.OutEcho: 1},
			absent: []string{"Theodore's sister Ana teaches violin in Porto."}},

		// Guard 2: near-duplicates are merged into what exists.
		{name: "duplicate: equal to a current item after folding",
			setup: func(h *workHarness) {
				h.Item("mem_tea", memory.KindPreference, "Theodore drinks only tea now.", "msg_x1")
			},
			reply:  []string{memtest.AddOp("preference", "theodore drinks ONLY tea now", fromTea)},
			want:   map[string]int{extract.OutDuplicate: 1},
			absent: []string{"theodore drinks ONLY tea now"}},
		{name: "duplicate: contained in a current item",
			setup: func(h *workHarness) {
				h.Item("mem_boston", memory.KindFact, "Theodore's sister Catherine moved to Boston for a job at MIT.", "msg_x1")
			},
			reply:  []string{memtest.AddOp("fact", "Catherine moved to Boston.", fromUser)},
			want:   map[string]int{extract.OutDuplicate: 1},
			absent: []string{"Catherine moved to Boston."}},
		{name: "duplicate: twice in one answer",
			reply: []string{memtest.AddOp("preference", "Theodore drinks only tea now.", fromTea),
				memtest.AddOp("preference", "Theodore drinks only tea now!", fromTea)},
			want:   map[string]int{extract.OutAdded: 1, extract.OutDuplicate: 1},
			stored: []string{"Theodore drinks only tea now."}},
		{name: "duplicate: near-identical by embedding",
			setup: func(h *workHarness) {
				h.Item("mem_tea", memory.KindPreference, "Theodore stopped drinking coffee and drinks tea.", "msg_x1")
			},
			embed:  true,
			reply:  []string{memtest.AddOp("preference", "Theodore drinks tea and stopped drinking coffee.", fromTea)},
			want:   map[string]int{extract.OutDuplicate: 1},
			absent: []string{"Theodore drinks tea and stopped drinking coffee."}},
		{name: "duplicate: a supersede that changes nothing",
			setup: coffee,
			reply: []string{supersedeOp("mem_coffee", "Theodore drinks coffee every morning", fromTea)},
			want:  map[string]int{extract.OutDuplicate: 1}, stored: []string{"Theodore drinks coffee every morning."}},

		// Guard 3: a cap on writes per extraction.
		{name: "cap: default five",
			reply: []string{memtest.AddOp("fact", "Fact number one here.", fromUser), memtest.AddOp("fact", "Fact number two here.", fromUser),
				memtest.AddOp("fact", "Fact number three here.", fromUser), memtest.AddOp("fact", "Fact number four here.", fromUser),
				memtest.AddOp("fact", "Fact number five here.", fromUser), memtest.AddOp("fact", "Fact number six here.", fromUser),
				`{"op":"invalidate","target":"mem_x","sources":["msg_u1"]}`},
			want:   map[string]int{extract.OutAdded: 5, extract.OutCapped: 2},
			absent: []string{"Fact number six here."}},
		{name: "cap: configured to two",
			opts: extract.Options{MaxItems: 2},
			reply: []string{memtest.AddOp("fact", "Fact number one here.", fromUser), memtest.AddOp("fact", "Fact number two here.", fromUser),
				memtest.AddOp("fact", "Fact number three here.", fromUser)},
			want:   map[string]int{extract.OutAdded: 2, extract.OutCapped: 1},
			absent: []string{"Fact number three here."}},

		// Guard 4: provenance from this turn, and the user's word for their facts.
		{name: "source: none",
			reply: []string{memtest.AddOp("fact", "Catherine starts at MIT soon.", nil)},
			want:  map[string]int{extract.OutNoSource: 1}, absent: []string{"Catherine starts at MIT soon."}},
		{name: "source: invented",
			reply: []string{memtest.AddOp("fact", "Catherine starts at MIT soon.", []string{"msg_made_up"})},
			want:  map[string]int{extract.OutNoSource: 1}, absent: []string{"Catherine starts at MIT soon."}},
		{name: "source: a real message of another conversation",
			reply: []string{memtest.AddOp("fact", "Catherine starts at MIT soon.", []string{"msg_x1"})},
			want:  map[string]int{extract.OutNoSource: 1}, absent: []string{"Catherine starts at MIT soon."}},
		{name: "source: one good, one invented",
			reply: []string{memtest.AddOp("fact", "Catherine starts at MIT soon.", []string{"msg_u1", "msg_nope"})},
			want:  map[string]int{extract.OutNoSource: 1}, absent: []string{"Catherine starts at MIT soon."}},
		{name: "source: a fact on the assistant's word alone",
			reply: []string{memtest.AddOp("fact", "Theodore misses his sister.", fromAssistant)},
			want:  map[string]int{extract.OutAssistantOnly: 1}, absent: []string{"Theodore misses his sister."}},
		{name: "source: a reflection on the assistant's word",
			reply:  []string{memtest.AddOp("reflection", "Theodore seems a little lonely lately.", fromAssistant)},
			want:   map[string]int{extract.OutAdded: 1},
			stored: []string{"Theodore seems a little lonely lately."}},
		{name: "source: the assistant and the user together",
			reply:  []string{memtest.AddOp("fact", "Theodore misses his sister Catherine.", []string{"msg_a1", "msg_u2"}, "Catherine")},
			want:   map[string]int{extract.OutAdded: 1},
			stored: []string{"Theodore misses his sister Catherine."}},
		{name: "source: invalidating a fact on the assistant's word",
			setup: coffee,
			reply: []string{`{"op":"invalidate","target":"mem_coffee","sources":["msg_a1"]}`},
			want:  map[string]int{extract.OutAssistantOnly: 1}, stored: []string{"Theodore drinks coffee every morning."}},

		// Operations.
		{name: "supersede a changed belief",
			setup:  coffee,
			reply:  []string{supersedeOp("mem_coffee", "Theodore stopped drinking coffee and drinks only tea.", fromTea)},
			want:   map[string]int{extract.OutSuperseded: 1},
			stored: []string{"Theodore stopped drinking coffee and drinks only tea."}},
		{name: "supersede an unknown item",
			reply: []string{supersedeOp("mem_nope", "Theodore stopped drinking coffee.", fromTea)},
			want:  map[string]int{extract.OutBadTarget: 1}, absent: []string{"Theodore stopped drinking coffee."}},
		{name: "invalidate on the user's word",
			setup: coffee,
			reply: []string{`{"op":"invalidate","target":"mem_coffee","sources":["msg_u2"]}`},
			want:  map[string]int{extract.OutInvalidated: 1}},
		{name: "unknown op is skipped",
			reply: []string{`{"op":"merge","kind":"fact","text":"Catherine is in Boston.","sources":["msg_u1"]}`,
				memtest.AddOp("fact", "Catherine starts at MIT next week.", fromUser)},
			want:   map[string]int{extract.OutUnknownOp: 1, extract.OutAdded: 1},
			stored: []string{"Catherine starts at MIT next week."}, absent: []string{"Catherine is in Boston."}},
		{name: "low confidence",
			reply: []string{`{"op":"add","kind":"fact","text":"Catherine might be a nurse.","sources":["msg_u1"],"confidence":0.1}`},
			want:  map[string]int{extract.OutLowConfidence: 1}, absent: []string{"Catherine might be a nurse."}},
		{name: "unknown kind, one word, wrong types",
			reply: []string{memtest.AddOp("opinion", "Boston is cold in winter.", fromUser), memtest.AddOp("fact", "Boston", fromUser),
				`{"op":"add","kind":"fact","text":"Catherine likes MIT.","sources":"msg_u1","confidence":"high"}`},
			want: map[string]int{extract.OutInvalid: 3}, absent: []string{"Boston is cold in winter.", "Boston", "Catherine likes MIT."}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newWorkHarness(t)
			conv := guardConversation(h)
			if tc.setup != nil {
				tc.setup(h)
			}
			var emb memory.Embedder
			if tc.embed {
				emb = memtest.BagEmbedder{}
			}
			before := len(h.Items())
			h.LLM.Enqueue(memtest.OpsReply(tc.reply...))
			res, err := h.extractor(emb, tc.opts).Extract(h.Ctx, h.batch(conv))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(res.Outcomes, tc.want) {
				t.Errorf("outcomes = %v, want %v", res.Outcomes, tc.want)
			}
			for k, n := range tc.want {
				if got := h.Meter.Get(k); got != n {
					t.Errorf("meter %s = %d, want %d", k, got, n)
				}
			}
			items := h.Items()
			for _, text := range tc.stored {
				if it, ok := items[text]; !ok || !it.Current() {
					t.Errorf("%q is not a current item; items: %v", text, slices.Collect(maps.Keys(items)))
				}
			}
			for _, text := range tc.absent {
				if _, ok := items[text]; ok {
					t.Errorf("%q was stored", text)
				}
			}
			if got, want := len(items)-before, len(res.Added); got != want {
				t.Errorf("%d items were written, Result.Added says %d", got, want)
			}
		})
	}
}

// TestExtractProvenance checks what a stored item carries.
func TestExtractProvenance(t *testing.T) {
	h := newWorkHarness(t)
	conv := guardConversation(h)
	h.Item("mem_coffee", memory.KindPreference, "Theodore drinks coffee every morning.", "msg_x1")
	h.LLM.Enqueue(memtest.OpsReply(
		`{"op":"add","kind":"event","text":"Catherine starts at MIT on Monday 9 March 2026.","sources":["msg_u1"],"people":["Catherine"],"event_time":"2026-03-09T09:00:00+01:00","confidence":0.8,"importance":0.7}`,
		supersedeOp("mem_coffee", "Theodore stopped drinking coffee and drinks only tea.", fromTea),
	))
	res, err := h.extractor(nil, extract.Options{}).Extract(h.Ctx, h.batch(conv))
	if err != nil {
		t.Fatal(err)
	}
	items := h.Items()
	ev := items["Catherine starts at MIT on Monday 9 March 2026."]
	if !slices.Equal(ev.Sources, []string{"msg_u1"}) || !ev.ValidFrom.Equal(day0) || ev.Kind != memory.KindEvent ||
		!ev.EventTime.Equal(time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)) || ev.Confidence != 0.8 || ev.Importance != 0.7 {
		t.Errorf("event item = %+v", ev)
	}
	if len(ev.EntityIDs) != 1 || len(res.Entities) != 1 || ev.EntityIDs[0] != res.Entities[0] {
		t.Fatalf("event people = %v, created %v", ev.EntityIDs, res.Entities)
	}
	cath, err := h.Mem.Entity(h.Ctx, h.User.ID, ev.EntityIDs[0])
	if err != nil || cath.Name != "Catherine" || !slices.Equal(cath.Sources, []string{"msg_u1"}) {
		t.Errorf("entity = %+v, %v", cath, err)
	}
	old, next := items["Theodore drinks coffee every morning."], items["Theodore stopped drinking coffee and drinks only tea."]
	if old.Current() || old.SupersededBy != next.ID || !old.ValidTo.Equal(day0.Add(2*time.Minute)) {
		t.Errorf("superseded item = %+v", old)
	}
	if !next.Current() || !slices.Equal(next.Sources, []string{"msg_u2"}) || next.Kind != memory.KindPreference {
		t.Errorf("successor = %+v", next)
	}
}

// TestExtractPeople resolves names to one entity per person.
func TestExtractPeople(t *testing.T) {
	cases := []struct {
		name    string
		people  []string
		want    []string // entity names linked to the item
		created int
	}{
		{"alias of a known person", []string{"Cathy"}, []string{"Catherine"}, 0},
		{"known name in lower case", []string{"catherine"}, []string{"Catherine"}, 0},
		{"known alias that is a description", []string{"her sister"}, []string{"Catherine"}, 0},
		{"unknown description", []string{"my cousin"}, nil, 0},
		{"new person", []string{"Bob"}, []string{"Bob"}, 1},
		{"new person twice", []string{"Bob", "Bob"}, []string{"Bob"}, 1},
		{"a name inside a description", []string{"my friend Bob"}, []string{"Bob"}, 1},
		{"possessive", []string{"Catherine's"}, []string{"Catherine"}, 0},
		{"junk", []string{"someone", "my friend", "He", "they", "a friend", "Someone", "my sister", "", "  "}, nil, 0},
		{"the user and the companion", []string{"Theodore", "Samantha"}, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newWorkHarness(t)
			conv := guardConversation(h)
			h.Must(h.Mem.SaveEntity(h.Ctx, memory.Entity{ID: "ent_cath", UserID: h.User.ID, Name: "Catherine", Aliases: []string{"Cathy", "her sister"},
				Relation: "sister", Sources: []string{"msg_x1"}, CreatedAt: day0, UpdatedAt: day0}))
			h.LLM.Enqueue(memtest.OpsReply(memtest.AddOp("person", "Theodore's sister moved to Boston for MIT.", fromUser, tc.people...),
				memtest.AddOp("fact", "Theodore stopped drinking coffee.", fromTea, tc.people...)))
			res, err := h.extractor(nil, extract.Options{}).Extract(h.Ctx, h.batch(conv))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Entities) != tc.created {
				t.Errorf("created %d entities, want %d", len(res.Entities), tc.created)
			}
			for _, text := range []string{"Theodore's sister moved to Boston for MIT.", "Theodore stopped drinking coffee."} {
				it := h.Items()[text]
				var names []string
				for _, id := range it.EntityIDs {
					e, err := h.Mem.Entity(h.Ctx, h.User.ID, id)
					h.Must(err)
					names = append(names, e.Name)
				}
				if !slices.Equal(names, tc.want) {
					t.Errorf("%q is about %v, want %v", text, names, tc.want)
				}
			}
			all, err := h.Mem.Entities(h.Ctx, h.User.ID)
			h.Must(err)
			if len(all) != 1+tc.created {
				t.Errorf("%d entities exist, want %d", len(all), 1+tc.created)
			}
		})
	}
}
