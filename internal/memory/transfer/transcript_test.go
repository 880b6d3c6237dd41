package transfer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/memory/transfer"
	"github.com/os1ai/os1/internal/store"
)

const transcript = `{"sessions": [
  {"time": "2023-05-08T13:56:00Z", "messages": [
    {"id": "lc-1", "speaker": "caroline", "text": "I went to an LGBTQ support group yesterday."},
    {"id": "lc-2", "speaker": "Melanie", "text": "That sounds brave. How was it?"},
    {"id": "lc-3", "speaker": " Caroline ", "text": "Inspiring. I want to study counseling."}
  ]},
  {"time": "2023-05-25T10:00:00+02:00", "title": "Pottery", "messages": [
    {"id": "lc-4", "speaker": "Melanie", "text": "I signed up for a pottery class!"}
  ]}
]}`

func TestParseTranscriptErrors(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"not JSON", "{\n  \"sessions\": [\n    {\"time\": }", "line 3"},
		{"not UTF-8", "{\"sessions\":[{\"time\":\"2023-05-08T13:56:00Z\",\"messages\":[{\"id\":\"a\",\"speaker\":\"x\",\"text\":\"caf\xe9\"}]}]}", "not valid UTF-8"},
		{"bad time", `{"sessions":[{"time":"8 May 2023","messages":[]}]}`, `session 1 has time "8 May 2023"`},
		{"no time", `{"sessions":[{"messages":[]}]}`, "session 1 has time"},
		{"no sessions", `{"sessions":[]}`, "no sessions"},
		{"unknown field", `{"sessions":[{"time":"2023-05-08T13:56:00Z","messages":[{"id":"a","speaker":"x","text":"t","img":"u"}]}]}`, `unknown field "img"`},
		{"wrong type", `{"sessions":[{"time":"2023-05-08T13:56:00Z","messages":[{"id":7,"speaker":"x","text":"t"}]}]}`, "line 1"},
		{"no id", `{"sessions":[{"time":"2023-05-08T13:56:00Z","messages":[{"speaker":"x","text":"t"}]}]}`, "session 1, message 1 has no id"},
		{"no speaker", `{"sessions":[{"time":"2023-05-08T13:56:00Z","messages":[{"id":"a","text":"t"}]}]}`, "has no speaker"},
		{"duplicate id", `{"sessions":[{"time":"2023-05-08T13:56:00Z","messages":[{"id":"a","speaker":"x","text":"t"}]},{"time":"2023-05-09T13:56:00Z","messages":[{"id":"a","speaker":"x","text":"t"}]}]}`, `"a" is used twice (sessions 1 and 2)`},
		{"trailing data", `{"sessions":[{"time":"2023-05-08T13:56:00Z","messages":[]}]} []`, "more data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := transfer.ParseTranscript([]byte(tc.data))
			if !errors.Is(err, transfer.ErrInvalidImport) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalidImport mentioning %q", err, tc.want)
			}
		})
	}
}

// A message with no text (a photo-only turn in an export) is left out and
// counted; the rest of its session is imported.
func TestImportTranscriptSkipsEmptyMessages(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	u := d.user(t, "usr_a", "caroline", "Caroline")
	tr, err := transfer.ParseTranscript([]byte(`{"sessions":[{"time":"2023-05-08T13:56:00Z","messages":[
		{"id":"e-1","speaker":"Caroline","text":"Look at this"},
		{"id":"e-2","speaker":"Melanie","text":"  "},
		{"id":"e-3","speaker":"Melanie","text":"What a view!"},
		{"id":"e-4","speaker":"Caroline","text":""}]}]}`))
	if err != nil {
		t.Fatalf("a transcript with empty messages is refused: %v", err)
	}
	tf := d.transfer(&wordEmbedder{})
	dry, err := tf.ImportTranscript(ctx, u, tr, true)
	if err != nil || dry.Messages != 2 || dry.Skipped != 2 {
		t.Fatalf("dry run %+v, %v", dry, err)
	}
	res, err := tf.ImportTranscript(ctx, u, tr, false)
	if err != nil || res.Messages != 2 || res.Indexed != 2 || res.Skipped != 2 {
		t.Fatalf("import %+v, %v", res, err)
	}
	msgs, err := d.core.Messages(ctx, u.ID, res.Conversations[0])
	if err != nil || len(msgs) != 2 || msgs[0].ID != "e-1" || msgs[1].ID != "e-3" {
		t.Fatalf("messages %+v, %v", msgs, err)
	}
	if w, _ := d.mem.Progress().Watermark(ctx, res.Conversations[0]); w != (memory.Watermark{Indexed: "e-3"}) {
		t.Errorf("watermark %+v, want the last message imported", w)
	}
}

func TestImportTranscript(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	u := d.user(t, "usr_a", "caroline", "Caroline")
	tr, err := transfer.ParseTranscript([]byte(transcript))
	if err != nil {
		t.Fatal(err)
	}
	tf := d.transfer(&wordEmbedder{})
	var progress []string
	tf.OnProgress = func(stage string, done, total int) {
		if total != 4 {
			t.Errorf("progress total %d", total)
		}
		progress = append(progress, fmt.Sprint(stage, done))
	}
	res, err := tf.ImportTranscript(ctx, u, tr, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Conversations) != 2 || res.Messages != 4 || res.Indexed != 4 ||
		strings.Join(progress, " ") != "stored1 stored2 stored3 stored4 indexed1 indexed2 indexed3 indexed4" {
		t.Fatalf("result %+v, progress %v", res, progress)
	}
	type want struct {
		id   string
		role store.MessageRole
		at   time.Time
	}
	may8 := time.Date(2023, 5, 8, 13, 56, 0, 0, time.UTC)
	for i, w := range [][]want{
		{{"lc-1", store.RoleUser, may8}, {"lc-2", store.RoleAssistant, may8.Add(time.Second)}, {"lc-3", store.RoleUser, may8.Add(2 * time.Second)}},
		{{"lc-4", store.RoleAssistant, time.Date(2023, 5, 25, 8, 0, 0, 0, time.UTC)}},
	} {
		msgs, err := d.core.Messages(ctx, u.ID, res.Conversations[i])
		if err != nil || len(msgs) != len(w) {
			t.Fatalf("conversation %d: %v %+v", i, err, msgs)
		}
		for j, m := range msgs {
			if m.ID != w[j].id || m.Role != w[j].role || !m.CreatedAt.Equal(w[j].at) || m.Status != store.StatusComplete {
				t.Errorf("message %d.%d = %s %s %s, want %+v", i, j, m.ID, m.Role, m.CreatedAt, w[j])
			}
		}
	}
	if !slices.Equal(res.Others, []string{"Melanie"}) {
		t.Errorf("other speakers %q", res.Others)
	}
	// Indexed, not yet extracted: the worker (or the CLI) extracts next.
	if w, _ := d.mem.Progress().Watermark(ctx, res.Conversations[0]); w != (memory.Watermark{Indexed: "lc-3"}) {
		t.Errorf("watermark %+v", w)
	}
	c, _ := d.core.Conversation(ctx, u.ID, res.Conversations[1])
	if c.Title != "Pottery" {
		t.Errorf("title %q", c.Title)
	}
	c, _ = d.core.Conversation(ctx, u.ID, res.Conversations[0])
	if c.Title != "Imported conversation, 8 May 2023" || !c.UpdatedAt.Equal(may8.Add(2*time.Second)) {
		t.Errorf("conversation %+v", c)
	}
	// The recall index keeps who said it.
	var speaker string
	if err := d.core.SQL().QueryRowContext(ctx, `SELECT speaker FROM memory_messages WHERE id = 'lc-2'`).Scan(&speaker); err != nil || speaker != "Melanie" {
		t.Errorf("speaker of lc-2 in the index: %q %v", speaker, err)
	}
	r := recall.New(d.mem, &wordEmbedder{}, d.clk, recall.DefaultOptions())
	hits, err := r.Recall(ctx, u.ID, memory.Query{Text: "pottery class"}, nil)
	if err != nil || len(hits) == 0 || hits[0].ID != "lc-4" {
		t.Fatalf("recall: %v %+v", err, hits)
	}
}

// A message ID taken in the database (here by another user) fails the whole
// import before anything is written, naming the ID.
func TestImportTranscriptDuplicateID(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	amy := d.user(t, "usr_a", "amy", "Amy")
	caroline := d.user(t, "usr_b", "caroline", "Caroline")
	if err := d.core.CreateConversation(ctx, store.Conversation{ID: "cnv_amy", UserID: amy.ID, Title: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := d.core.AppendMessage(ctx, store.Message{ID: "lc-3", ConversationID: "cnv_amy", UserID: amy.ID, Role: store.RoleUser, Content: "x", Status: store.StatusComplete}); err != nil {
		t.Fatal(err)
	}
	tr, _ := transfer.ParseTranscript([]byte(transcript))
	for _, dry := range []bool{true, false} {
		_, err := d.transfer(nil).ImportTranscript(ctx, caroline, tr, dry)
		if !errors.Is(err, transfer.ErrConflict) || !strings.Contains(err.Error(), `"lc-3"`) {
			t.Fatalf("dry=%v: %v", dry, err)
		}
	}
	if cs, _ := d.core.ListConversations(ctx, caroline.ID); len(cs) != 0 {
		t.Fatalf("half imported: %+v", cs)
	}
}

// If indexing fails partway, the conversations and index entries written so
// far are removed.
func TestImportTranscriptUndo(t *testing.T) {
	ctx := context.Background()
	d := newDB(t)
	u := d.user(t, "usr_a", "caroline", "Caroline")
	tr, _ := transfer.ParseTranscript([]byte(transcript))
	tf := d.transfer(&wordEmbedder{failAt: 2}) // BatchSize 3: the second batch fails
	if _, err := tf.ImportTranscript(ctx, u, tr, false); err == nil || !strings.Contains(err.Error(), "nothing was imported") {
		t.Fatalf("import: %v", err)
	}
	cs, _ := d.core.ListConversations(ctx, u.ID)
	hits, _ := d.mem.SearchText(ctx, u.ID, memory.Query{Text: "support group pottery counseling"})
	if len(cs) != 0 || len(hits) != 0 {
		t.Fatalf("left behind %d conversations, %d index entries", len(cs), len(hits))
	}
	if _, err := d.transfer(nil).ImportTranscript(ctx, u, tr, false); err != nil {
		t.Fatalf("retry after the failure: %v", err)
	}
}
