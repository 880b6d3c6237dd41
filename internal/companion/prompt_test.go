package companion

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
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

func TestSystemPromptGolden(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	in := promptInput{
		Persona: store.Persona{Name: "Samantha", Voice: "warm and calm", Style: "No emoji."},
		User:    store.User{Username: "theo", DisplayName: "Theodore"},
		Profile: store.Profile{Answers: map[string]string{
			"social": "Not very, lately.", "matters": "Writing letters for people.", "sound": "warm and calm", "pets": "a cat named Ink",
		}},
		Now:   time.Date(2026, 11, 25, 18, 30, 0, 0, time.UTC),
		Loc:   berlin,
		Slots: []slotText{{Name: "Today", Text: "Dinner with Amy at 20:00."}},
	}
	for _, tc := range []struct {
		channel, golden string
	}{
		{"", "system_prompt.golden"},
		{store.ChannelVoice, "system_prompt_voice.golden"},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			in := in
			in.Channel = tc.channel
			got := systemPrompt(in)
			golden(t, tc.golden, got)
			// The local time, not UTC, must be in the prompt.
			if !strings.Contains(got, "19:30") {
				t.Errorf("prompt does not show Berlin local time 19:30:\n%s", got)
			}
			if spoken := IsSpokenRegister(got); spoken != (tc.channel == store.ChannelVoice) {
				t.Errorf("channel %q: spoken register = %v:\n%s", tc.channel, spoken, got)
			}
		})
	}
}

func TestSystemPromptBeforeNaming(t *testing.T) {
	got := systemPrompt(promptInput{Now: time.Unix(0, 0), Loc: time.UTC})
	if !strings.Contains(got, "has not chosen a name yet") || !strings.Contains(got, "the user") {
		t.Errorf("unnamed prompt is wrong:\n%s", got)
	}
}

func msg(role store.MessageRole, content string) store.Message {
	return store.Message{Role: role, Content: content, Status: store.StatusComplete}
}

func TestBuildHistoryKeepsNewestWithinBudget(t *testing.T) {
	var msgs []store.Message
	for i := 0; i < 50; i++ {
		msgs = append(msgs, msg(store.RoleUser, strings.Repeat("u", 396)), msg(store.RoleAssistant, strings.Repeat("a", 396)))
	}
	msgs = append(msgs, msg(store.RoleUser, "latest"))
	h, all := buildHistory(msgs, 1000) // each old message costs 103 tokens
	if len(h) == 0 || h[len(h)-1].Content != "latest" {
		t.Fatalf("the newest message must be last in the prompt, got %d messages", len(h))
	}
	total := 0
	for _, m := range h {
		total += estimateTokens(m.Content)
	}
	if total > 1000 {
		t.Errorf("history uses %d tokens, budget 1000", total)
	}
	if len(h) != 10 { // 5 for "latest" leaves 995 = 9 × 103 + …
		t.Errorf("got %d messages, want 10", len(h))
	}
	if all {
		t.Error("buildHistory says everything fitted")
	}
	if len(msgs) != 101 {
		t.Fatal("buildHistory must not change its input")
	}
}

func TestBuildHistoryShortensHugeLatest(t *testing.T) {
	huge := strings.Repeat("é", 100000) // 200 kB
	h, _ := buildHistory([]store.Message{msg(store.RoleUser, "hi"), msg(store.RoleUser, huge)}, 500)
	if len(h) != 1 {
		t.Fatalf("got %d messages, want only the shortened latest", len(h))
	}
	c := h[0].Content
	if !strings.HasSuffix(c, truncatedNote) || estimateTokens(strings.TrimSuffix(c, truncatedNote)) > 500 {
		t.Errorf("latest not shortened to the budget: %d bytes, %d estimated tokens", len(c), estimateTokens(c))
	}
	// Digits count a token each (a hex dump): the cut follows the estimate,
	// not four bytes a token.
	hex := strings.Repeat("0123456789abcdef", 10000)
	h, _ = buildHistory([]store.Message{msg(store.RoleUser, hex)}, 500)
	if c := strings.TrimSuffix(h[0].Content, truncatedNote); estimateTokens(c) > 500 || len(c) > 1000 {
		t.Errorf("hex dump shortened to %d bytes, %d estimated tokens; want within 500 tokens", len(c), estimateTokens(c))
	}
	if !strings.HasPrefix(c, "éé") || strings.ContainsRune(c, '\uFFFD') {
		t.Error("shortening split a UTF-8 character")
	}
}

func TestBuildHistoryToolsAndFailures(t *testing.T) {
	call := store.ToolCall{ID: "call_1", Name: "rename_conversation", Arguments: []byte(`{"title":"x"}`)}
	msgs := []store.Message{
		msg(store.RoleUser, "one"),
		{Role: store.RoleAssistant, Status: store.StatusFailed, Error: "boom"},
		{Role: store.RoleAssistant, Status: store.StatusInterrupted, Content: "half a rep"},
		msg(store.RoleUser, "two"),
		{Role: store.RoleAssistant, Status: store.StatusComplete, ToolCalls: []store.ToolCall{call, {ID: "call_2", Name: "current_time", Arguments: []byte(`{}`)}}},
		{Role: store.RoleTool, ToolCallID: "call_2", Content: "noon", Status: store.StatusComplete},
	}
	h, all := buildHistory(msgs, 10000)
	if !all {
		t.Error("everything fits, but buildHistory says not")
	}
	var roles []string
	for _, m := range h {
		roles = append(roles, string(m.Role))
	}
	want := "user assistant user assistant tool tool"
	if got := strings.Join(roles, " "); got != want {
		t.Fatalf("roles = %q, want %q", got, want)
	}
	if h[1].Content != "half a rep" {
		t.Errorf("interrupted reply should be kept as heard, got %q", h[1].Content)
	}
	if h[4].ToolCallID != "call_2" || h[5].ToolCallID != "call_1" || !strings.Contains(h[5].Content, "not confirmed") {
		t.Errorf("unanswered call_1 needs a synthetic result after the real one: %+v", h[4:])
	}
	if h[3].ToolCalls[0].Name != "rename_conversation" || h[3].Role != llm.RoleAssistant {
		t.Errorf("assistant tool calls lost: %+v", h[3])
	}
}

func TestParseName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`{"name": "Samantha"}`, "Samantha", true},
		{"```json\n{\"name\":\"Iris\"}\n```", "Iris", true},
		{`I think I'd like {"name": "Mae-Lin"} please`, "Mae-Lin", true},
		{"Nova", "Nova", true},
		{"", "", false},
		{`{"name": ""}`, "", false},
		{`{"name": "<script>alert(1)</script>"}`, "", false},
		{`{"name": "A Very Long Name Indeed Friend"}`, "", false},
		{"I cannot choose a name because I am a language model.", "", false},
	} {
		got, err := parseName(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseName(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestTitleFrom(t *testing.T) {
	if got := titleFrom("  Hello there\nsecond line"); got != "Hello there" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("ab ", 40)
	if got := titleFrom(long); len([]rune(got)) > 61 || !strings.HasSuffix(got, "…") {
		t.Errorf("long title not cut: %q", got)
	}
}

// A turn whose tool result fills the budget keeps the request it answers:
// the tool result is shortened, the user's message stays, and what came
// before the turn is left out.
func TestBuildHistoryKeepsTheTurnsRequest(t *testing.T) {
	call := store.ToolCall{ID: "call_1", Name: "mail_draft_reply", Arguments: []byte(`{}`)}
	msgs := []store.Message{
		msg(store.RoleUser, "an older message"),
		msg(store.RoleAssistant, "an older reply"),
		msg(store.RoleUser, "Draft a reply to Maya"),
		{Role: store.RoleAssistant, Status: store.StatusComplete, ToolCalls: []store.ToolCall{call}},
		{Role: store.RoleTool, ToolCallID: "call_1", Content: strings.Repeat("quoted mail ", 5000), Status: store.StatusComplete},
	}
	h, all := buildHistory(msgs, 600)
	if all {
		t.Error("buildHistory says everything fitted")
	}
	var roles []string
	for _, m := range h {
		roles = append(roles, string(m.Role))
	}
	if got := strings.Join(roles, " "); got != "user assistant tool" {
		t.Fatalf("roles %q, want the turn only", got)
	}
	if h[0].Content != "Draft a reply to Maya" {
		t.Errorf("the request became %q", h[0].Content)
	}
	if c := h[2].Content; !strings.HasSuffix(c, truncatedNote) || estimateTokens(c) > 700 {
		t.Errorf("the tool result was not shortened to the budget: %d tokens", estimateTokens(c))
	}
}
