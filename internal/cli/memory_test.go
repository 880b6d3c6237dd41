package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/sqlitemem"
	"github.com/os1ai/os1/internal/memory/transfer"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// dataDir is an os1 data directory with users and no server, as
// `os1 memory` finds it on disk.
type dataDir struct {
	env map[string]string
	dir string
}

func newDataDir(t *testing.T, users ...string) *dataDir {
	t.Helper()
	home := t.TempDir()
	d := &dataDir{dir: filepath.Join(home, "data"), env: map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config"), "OS1_DATA_DIR": filepath.Join(home, "data"),
		"OS1_CACHE_DIR": filepath.Join(home, "cache"), "OS1_OLLAMA_URL": "off",
	}}
	db, err := sqlite.Open(context.Background(), filepath.Join(d.dir, "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, name := range users {
		u := store.User{ID: "usr_" + name, Username: name, DisplayName: strings.ToUpper(name[:1]) + name[1:], Role: store.RoleMember,
			PasswordHash: "x", CreatedAt: time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)}
		if err := db.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func (d *dataDir) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, func(k string) string { return d.env[k] }, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func (d *dataDir) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const transcriptFile = `{"sessions": [
  {"time": "2023-05-08T13:56:00Z", "messages": [
    {"id": "lc-1", "speaker": "Caroline", "text": "I went to an LGBTQ support group yesterday."},
    {"id": "lc-2", "speaker": "Melanie", "text": "That sounds brave. How was it?"}
  ]},
  {"time": "2023-05-25T10:00:00Z", "messages": [
    {"id": "lc-3", "speaker": "Melanie", "text": "I signed up for a pottery class!"},
    {"id": "lc-4", "speaker": "caroline", "text": "Send me photos of your bowls."}
  ]}
]}`

func TestMemoryTranscriptImportAndSearch(t *testing.T) {
	d := newDataDir(t, "caroline")
	f := d.file(t, "t.json", transcriptFile)

	// Without --no-extract a model is needed, and none is configured: fail
	// before writing anything.
	code, _, stderr := d.run("memory", "import", "--format", "transcript", f)
	if code != 1 || !strings.Contains(stderr, "needs a language model") || !strings.Contains(stderr, "--no-extract") {
		t.Fatalf("import without a model: %d %q", code, stderr)
	}
	code, out, stderr := d.run("memory", "import", "--format", "transcript", "--no-extract", f)
	if code != 0 || !strings.Contains(out, "Imported 4 messages in 2 conversations for caroline") || !strings.Contains(out, "messages/s") {
		t.Fatalf("import: %d %q %q", code, out, stderr)
	}
	if !strings.Contains(stderr, "no embedding model in") {
		t.Errorf("no notice about the missing model: %q", stderr)
	}

	code, out, stderr = d.run("memory", "search", "--json", "--limit", "2", "pottery class")
	if code != 0 {
		t.Fatalf("search: %d %q", code, stderr)
	}
	var res struct {
		Query   string           `json:"query"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Query != "pottery class" || len(res.Results) == 0 {
		t.Fatalf("search output %q: %v", out, err)
	}
	first := res.Results[0]
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range first {
			if !yield(k) {
				return
			}
		}
	})
	if !reflect.DeepEqual(keys, []string{"id", "kind", "marks", "score", "sources", "text", "time"}) || first["id"] != "lc-3" ||
		first["kind"] != "message" || first["time"] != "2023-05-25T10:00:00Z" || !reflect.DeepEqual(first["sources"], []any{"lc-3"}) {
		t.Fatalf("first result %v", first)
	}

	// Batch mode: one JSON line per query, blank lines skipped.
	q := d.file(t, "q.txt", "pottery class\n\nsupport group\n")
	code, out, stderr = d.run("memory", "search", "--queries", q, "--mode", "text", "--limit", "1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("batch: %d %q %q", code, out, stderr)
	}
	for i, want := range []string{"lc-3", "lc-1"} {
		var r searchOutput
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil || len(r.Results) != 1 || r.Results[0].ID != want || strings.Contains(lines[i], `"marks"`) {
			t.Errorf("line %d %q: %v", i, lines[i], err)
		}
		if strings.Contains(lines[i], `"took_ms"`) {
			t.Errorf("line %d has took_ms without --timings: %q", i, lines[i])
		}
	}
	// --timings: each line also says how long os1 took for that query.
	code, out, stderr = d.run("memory", "search", "--queries", q, "--mode", "text", "--limit", "1", "--timings")
	if lines = strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 {
		t.Fatalf("batch --timings: %d %q %q", code, out, stderr)
	}
	for i, want := range []string{"lc-3", "lc-1"} {
		var r searchOutput
		if err := json.Unmarshal([]byte(lines[i]), &r); err != nil || len(r.Results) != 1 || r.Results[0].ID != want || r.TookMS == nil || *r.TookMS < 0 {
			t.Errorf("--timings line %d %q: %v", i, lines[i], err)
		}
	}
	if code, _, stderr := d.run("memory", "search", "--timings", "pottery"); code != 1 || !strings.Contains(stderr, "--timings works with --queries") {
		t.Errorf("--timings with one query: %d %q", code, stderr)
	}
	if code, _, stderr := d.run("memory", "search", "--mode", "vector", "x"); code != 1 || !strings.Contains(stderr, "scripts/assets.sh") {
		t.Errorf("vector search without a model: %d %q", code, stderr)
	}

	// Importing again clashes on the first id and writes nothing.
	code, _, stderr = d.run("memory", "import", "--format", "transcript", "--no-extract", f)
	if code != 1 || !strings.Contains(stderr, `message id "lc-1" is already taken`) {
		t.Fatalf("second import: %d %q", code, stderr)
	}
	bad := d.file(t, "bad.json", `{"sessions":[{"time":"yesterday","messages":[]}]}`)
	if code, _, stderr := d.run("memory", "import", "--format", "transcript", "--no-extract", bad); code != 1 || !strings.Contains(stderr, "RFC 3339") {
		t.Fatalf("bad time: %d %q", code, stderr)
	}
}

func TestMemoryUserChoice(t *testing.T) {
	d := newDataDir(t, "theo", "amy")
	if code, _, stderr := d.run("memory", "show"); code != 1 || !strings.Contains(stderr, "several users (theo, amy)") {
		t.Fatalf("no --user: %d %q", code, stderr)
	}
	if code, _, stderr := d.run("memory", "show", "--user", "zoe"); code != 1 || !strings.Contains(stderr, `no user "zoe"`) {
		t.Fatalf("unknown user: %d %q", code, stderr)
	}
	if code, out, _ := d.run("memory", "show", "--user", "Amy"); code != 0 || !strings.Contains(out, "No memories for amy") {
		t.Fatalf("amy: %d %q", code, out)
	}
	empty := newDataDir(t)
	if code, _, stderr := empty.run("memory", "show"); code != 1 || !strings.Contains(stderr, "no users yet") {
		t.Fatalf("no users: %d %q", code, stderr)
	}
}

// seedItems adds memories about Catherine to theo's data dir.
func seedItems(t *testing.T, d *dataDir) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(d.dir, "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mem := sqlitemem.New(db.SQL(), sqlitemem.Options{})
	t0 := time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateConversation(ctx, store.Conversation{ID: "cnv_1", UserID: "usr_theo", Title: "Family", CreatedAt: t0, UpdatedAt: t0}))
	must(db.AppendMessage(ctx, store.Message{ID: "msg_1", ConversationID: "cnv_1", UserID: "usr_theo", Role: store.RoleUser,
		Content: "My sister Catherine lives in Boston.", Status: store.StatusComplete, CreatedAt: t0, UpdatedAt: t0}))
	must(mem.SaveEntity(ctx, memory.Entity{ID: "ent_cat", UserID: "usr_theo", Name: "Catherine", Aliases: []string{"Cat"}, Relation: "sister"}))
	must(mem.AddItem(ctx, memory.Item{ID: "itm_boston", UserID: "usr_theo", Kind: memory.KindFact, Text: "Theo's sister Catherine lives in Boston.",
		EntityIDs: []string{"ent_cat"}, Sources: []string{"msg_1"}, Confidence: 0.9, Importance: 0.8, ValidFrom: t0}, nil))
}

func TestMemoryShowAndForget(t *testing.T) {
	d := newDataDir(t, "theo")
	seedItems(t, d)
	if code, out, _ := d.run("memory", "show"); code != 0 || !strings.Contains(out, "itm_boston  fact       2026-03-12  Theo's sister Catherine lives in Boston.") {
		t.Fatalf("show: %d %q", code, out)
	}
	code, out, _ := d.run("memory", "show", "itm_boston")
	if code != 0 || !strings.Contains(out, "Why she believes it:") || !strings.Contains(out, "user in “Family” (cnv_1)") || !strings.Contains(out, "about       Catherine (ent_cat)") {
		t.Fatalf("show item: %d %q", code, out)
	}
	if code, out, _ := d.run("memory", "show", "--json", "ent_cat"); code != 0 || !strings.Contains(out, `"aliases":["Cat"]`) || !strings.Contains(out, `"id":"itm_boston"`) {
		t.Fatalf("show person: %d %q", code, out)
	}
	if code, out, _ := d.run("memory", "search", "--json", "Boston"); code != 0 || !strings.Contains(out, `"id":"itm_boston"`) {
		t.Fatalf("search before forget: %d %q", code, out)
	}
	if code, out, stderr := d.run("memory", "forget", "--sources", "itm_boston"); code != 0 || !strings.Contains(out, "Forgot itm_boston") {
		t.Fatalf("forget: %d %q %q", code, out, stderr)
	}
	if code, out, _ := d.run("memory", "search", "--json", "Boston"); code != 0 || strings.Contains(out, "itm_boston") || strings.Contains(out, "msg_1") {
		t.Fatalf("search after forget: %d %q", code, out)
	}
	if code, _, stderr := d.run("memory", "forget", "itm_boston"); code != 1 || !strings.Contains(stderr, `no memory, person or message "itm_boston"`) {
		t.Fatalf("forget twice: %d %q", code, stderr)
	}
}

func TestMemoryExportImport(t *testing.T) {
	a := newDataDir(t, "theo")
	seedItems(t, a)
	out := filepath.Join(t.TempDir(), "theo.json")
	if code, _, stderr := a.run("memory", "export", "-o", out); code != 0 || !strings.Contains(stderr, "Exported 1 memories, 1 people") {
		t.Fatalf("export: %d %q", code, stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("export file %v %v", st, err)
	}
	if code, md, _ := a.run("memory", "export", "--format", "markdown"); code != 0 || !strings.Contains(md, "## People") || !strings.Contains(md, "### Catherine (sister)") {
		t.Fatalf("markdown: %d %q", code, md)
	}

	b := newDataDir(t, "theo")
	if code, got, stderr := b.run("memory", "import", "--dry-run", out); code != 0 || !strings.Contains(got, "Dry run: would import 1 conversations (1 messages), 1 memories, 1 people") {
		t.Fatalf("dry run: %d %q %q", code, got, stderr)
	}
	if code, got, stderr := b.run("memory", "import", out); code != 0 || !strings.Contains(got, "Imported 1 conversations") {
		t.Fatalf("import: %d %q %q", code, got, stderr)
	}
	_, first, _ := a.run("memory", "export")
	_, second, _ := b.run("memory", "export")
	if stripExportedAt(first) != stripExportedAt(second) {
		t.Fatalf("exports differ:\n%s\n%s", first, second)
	}
	if code, _, stderr := b.run("memory", "import", out); code != 1 || !strings.Contains(stderr, "already taken") || !strings.Contains(stderr, "nothing was imported") {
		t.Fatalf("import twice: %d %q", code, stderr)
	}
}

func stripExportedAt(s string) string {
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return s
	}
	delete(m, "exported_at")
	b, _ := json.Marshal(m)
	return string(b)
}

// With a model, import extracts memories through it, batch by batch, and
// records where it got; a model that fails stops extraction with the
// imported messages kept.
func TestMemoryTranscriptExtraction(t *testing.T) {
	d := newDataDir(t, "caroline")
	ls := llmtest.NewServer(t)
	ls.SetModels("test")
	d.env["OS1_LLM_URL"], d.env["OS1_LLM_MODEL"] = ls.OpenAIBaseURL(), "test"
	ls.EnqueueFunc(func(req llmtest.Request) llmtest.Reply {
		if !strings.Contains(req.System, "You are Melanie") || !strings.Contains(req.Messages[0].Content, "[lc-1]") {
			t.Errorf("first extraction request: %s\n%s", req.System, req.Messages[0].Content)
		}
		return llmtest.Reply{Chunks: []string{`{"operations":[{"op":"add","kind":"event","text":"Caroline went to an LGBTQ support group on 7 May 2023.",` +
			`"sources":["lc-1"],"people":[],"event_time":"2023-05-07T12:00:00Z","confidence":0.9,"importance":0.7}]}`}}
	})
	ls.Enqueue(llmtest.Reply{Status: 401, Error: "bad key"}) // not retried
	f := d.file(t, "t.json", transcriptFile)
	code, out, stderr := d.run("memory", "import", "--format", "transcript", f)
	if code != 1 || !strings.Contains(stderr, "extraction stopped after 2 of 4 messages (1 memories so far)") || !strings.Contains(stderr, "os1 serve") {
		t.Fatalf("import with a failing model: %d %q %q", code, out, stderr)
	}
	if !strings.Contains(out, "Imported 4 messages in 2 conversations") {
		t.Fatalf("import summary: %q", out)
	}
	code, out, _ = d.run("memory", "show", "--json")
	if code != 0 || !strings.Contains(out, `"text":"Caroline went to an LGBTQ support group on 7 May 2023."`) || !strings.Contains(out, `"sources":["lc-1"]`) {
		t.Fatalf("extracted memory: %d %q", code, out)
	}
	if code, out, _ := d.run("memory", "search", "--json", "pottery"); code != 0 || !strings.Contains(out, `"id":"lc-3"`) {
		t.Fatalf("the messages after the failure are still searchable: %q", out)
	}
	// The first conversation is done; the second waits for the server's worker.
	db, err := sqlite.Open(context.Background(), filepath.Join(d.dir, "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	convs, _ := db.ListConversations(context.Background(), "usr_caroline")
	marks := sqlitemem.NewProgress(db.SQL())
	got := map[string]memory.Watermark{}
	for _, c := range convs {
		got[c.Title], _ = marks.Watermark(context.Background(), c.ID)
	}
	want := map[string]memory.Watermark{
		"Imported conversation, 8 May 2023":  {Indexed: "lc-2", Extracted: "lc-2"},
		"Imported conversation, 25 May 2023": {Indexed: "lc-4"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("watermarks %+v, want %+v", got, want)
	}
}

// A message over the chat limit in the middle of a file fails the import
// and leaves nothing behind: no conversation, no message (issue 8: a file
// with one 143 MiB message crashed the import and left a conversation).
func TestMemoryImportOverLimitLeavesNothing(t *testing.T) {
	big := strings.Repeat("kk ", memory.MaxMessageBytes/3+1)
	conv := func(id string, msgs ...string) transfer.ExportConversation {
		c := transfer.ExportConversation{ID: id, Title: "t", CreatedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
		for i, m := range msgs {
			c.Messages = append(c.Messages, transfer.ExportMessage{ID: id + "_m" + string(rune('0'+i)), Role: "user", Content: m,
				Status: "complete", CreatedAt: c.CreatedAt.Add(time.Duration(i) * time.Second)})
		}
		return c
	}
	ex := transfer.Export{Format: transfer.ExportFormat, Version: transfer.ExportVersion,
		Conversations: []transfer.ExportConversation{conv("cnv_a", "hello"), conv("cnv_b", "one", big, "three"), conv("cnv_c", "bye")}}
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	session := func(ids ...string) string {
		var ms []string
		for _, id := range ids {
			text := "hello"
			if id == "big" {
				text = big
			}
			ms = append(ms, `{"id":"`+id+`","speaker":"Theo","text":"`+text+`"}`)
		}
		return `{"time":"2023-05-08T13:56:00Z","messages":[` + strings.Join(ms, ",") + `]}`
	}
	transcript := `{"sessions":[` + session("t1") + `,` + session("t2", "big", "t3") + `,` + session("t4") + `]}`

	for _, tc := range []struct {
		name, file string
		args       []string
	}{
		{"export", string(b), nil},
		{"transcript", transcript, []string{"--format", "transcript", "--no-extract"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDataDir(t, "theo")
			f := d.file(t, "big.json", tc.file)
			code, out, stderr := d.run(append(append([]string{"memory", "import"}, tc.args...), f)...)
			if code != 1 || !strings.Contains(stderr, "the limit is 1048576") {
				t.Fatalf("import: %d %q %.300q", code, out, stderr)
			}
			db, err := sqlite.Open(context.Background(), filepath.Join(d.dir, "os1.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if cs, err := db.ListConversations(context.Background(), "usr_theo"); err != nil || len(cs) != 0 {
				t.Fatalf("after the failed import: %d conversations (%v)", len(cs), err)
			}
		})
	}
}
