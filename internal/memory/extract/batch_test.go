package extract_test

import (
	"fmt"
	"testing"

	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/store"
)

func TestExtractBatchesCountsOnlyConversationalMessages(t *testing.T) {
	msg := func(id string, role store.MessageRole, text string) store.Message {
		return store.Message{ID: id, Role: role, Content: text, Status: store.StatusComplete}
	}
	msgs := []store.Message{
		msg("u1", store.RoleUser, "hi"),
		msg("a1", store.RoleAssistant, ""), // asked for a tool: not counted
		msg("t1", store.RoleTool, "tool output"),
		msg("a2", store.RoleAssistant, "hello"),
		msg("u2", store.RoleUser, "how are you"),
		msg("a3", store.RoleAssistant, "well"),
		msg("u3", store.RoleUser, "good"),
	}
	for _, c := range []struct {
		n    int
		want string
	}{
		{2, "[[u1 a1 t1 a2] [u2 a3] [u3]]"},
		{20, "[[u1 a1 t1 a2 u2 a3 u3]]"},
		{0, "[[u1] [a1 t1 a2] [u2] [a3] [u3]]"}, // at least one a batch
	} {
		var got [][]string
		for part := range extract.Batches(msgs, c.n) {
			var ids []string
			for _, m := range part {
				ids = append(ids, m.ID)
			}
			got = append(got, ids)
		}
		if fmt.Sprint(got) != c.want {
			t.Errorf("n=%d: batches %v, want %s", c.n, got, c.want)
		}
	}
	for range extract.Batches(nil, 5) {
		t.Fatal("no messages made a batch")
	}
}
