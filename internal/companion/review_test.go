package companion_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/store"
)

// TestDescribeUsesReviewLineByLine: a tool's Review sees the stored action
// and keeps its lines, each with hidden characters escaped; a tool without
// one is summarized as before.
func TestDescribeUsesReviewLineByLine(t *testing.T) {
	r := companion.NewRegistry()
	var seen store.Action
	err := r.Register(companion.Tool{Name: "send", SideEffects: true,
		Summary: func(json.RawMessage) string { return "summary" },
		Review: func(_ context.Context, a store.Action) string {
			seen = a
			return "To: x@y.z\u202e\nBody:\nhello\u200b"
		},
		Run: func(context.Context, companion.Call) (string, error) { return "", nil }},
		companion.Tool{Name: "plain", SideEffects: true, Summary: func(json.RawMessage) string { return "a\nb" },
			Run: func(context.Context, companion.Call) (string, error) { return "", nil }})
	if err != nil {
		t.Fatal(err)
	}
	a := store.Action{ID: "act_1", UserID: "usr_a", ConversationID: "cnv_1", MessageID: "msg_1", Tool: "send", Arguments: json.RawMessage(`{}`)}
	got := r.Describe(context.Background(), a)
	if got != "To: x@y.z[U+202E]\nBody:\nhello[U+200B]" {
		t.Errorf("described %q", got)
	}
	if seen.ConversationID != "cnv_1" || seen.MessageID != "msg_1" || seen.UserID != "usr_a" {
		t.Errorf("review saw %+v", seen)
	}
	a.Tool = "plain"
	if got := r.Describe(context.Background(), a); strings.Contains(got, "\n") || got != "a[U+000A]b" {
		t.Errorf("a tool without Review described %q, want its escaped summary", got)
	}
}
