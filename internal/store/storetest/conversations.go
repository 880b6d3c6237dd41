package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
)

var conversationsTests = map[string]func(*testing.T, *fixture){
	"CreateAndRead": func(t *testing.T, f *fixture) {
		f.user("u1")
		c := store.Conversation{ID: "c1", UserID: "u1", Title: "Abendessen 🍝", CreatedAt: at(1), UpdatedAt: at(2)}
		must(t, f.s.CreateConversation(f.ctx, c), "CreateConversation")
		got, err := f.s.Conversation(f.ctx, "u1", "c1")
		must(t, err, "Conversation")
		same(t, got, c, "Conversation")
		_, err = f.s.Conversation(f.ctx, "u1", "unknown")
		wantErr(t, err, store.ErrNotFound, "Conversation unknown")
		wantErr(t, f.s.CreateConversation(f.ctx, c), store.ErrConflict, "CreateConversation twice")
	},
	"UnknownUser": func(t *testing.T, f *fixture) {
		c := store.Conversation{ID: "c1", UserID: "ghost", CreatedAt: at(1)}
		wantErr(t, f.s.CreateConversation(f.ctx, c), store.ErrNotFound, "CreateConversation for an unknown user")
	},
	"ListNewestFirst": func(t *testing.T, f *fixture) {
		f.user("u1")
		list, err := f.s.ListConversations(f.ctx, "u1")
		must(t, err, "ListConversations empty")
		if len(list) != 0 {
			t.Fatalf("ListConversations of a new user = %v, want none", list)
		}
		a := f.conv("u1", "a", at(1))
		b := f.conv("u1", "b", at(2))
		c := f.conv("u1", "c", at(3))
		list, err = f.s.ListConversations(f.ctx, "u1")
		must(t, err, "ListConversations")
		same(t, list, []store.Conversation{c, b, a}, "ListConversations")

		// New activity moves a conversation to the top.
		f.msg("u1", "a", "m1", "hello", at(10))
		a.UpdatedAt = at(10)
		list, err = f.s.ListConversations(f.ctx, "u1")
		must(t, err, "ListConversations after append")
		same(t, list, []store.Conversation{a, c, b}, "ListConversations after AppendMessage")

		must(t, f.s.RenameConversation(f.ctx, "u1", "b", "renamed", at(20)), "RenameConversation")
		b.Title, b.UpdatedAt = "renamed", at(20)
		list, err = f.s.ListConversations(f.ctx, "u1")
		must(t, err, "ListConversations after rename")
		same(t, list, []store.Conversation{b, a, c}, "ListConversations after RenameConversation")
	},
	"Rename": func(t *testing.T, f *fixture) {
		f.user("u1")
		c := f.conv("u1", "c1", at(1))
		must(t, f.s.RenameConversation(f.ctx, "u1", "c1", "Trip to Lisbon", at(5)), "RenameConversation")
		c.Title, c.UpdatedAt = "Trip to Lisbon", at(5)
		got, err := f.s.Conversation(f.ctx, "u1", "c1")
		must(t, err, "Conversation")
		same(t, got, c, "renamed conversation")
		wantErr(t, f.s.RenameConversation(f.ctx, "u1", "unknown", "x", at(5)), store.ErrNotFound, "RenameConversation unknown")
	},
	"Update": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.user("u2")
		c := f.conv("u1", "c1", at(1))
		on, off, title, source, model := true, false, "Lisbon in May", store.TitleFromModel, "qwen3:8b"
		must(t, f.s.UpdateConversation(f.ctx, "u1", "c1", store.ConversationPatch{
			Title: &title, TitleSource: &source, Pinned: &on, Archived: &on, Model: &model}, at(5)), "UpdateConversation")
		c.Title, c.TitleSource, c.PinnedAt, c.ArchivedAt, c.Model = title, source, at(5), at(5), model
		got, err := f.s.Conversation(f.ctx, "u1", "c1")
		must(t, err, "Conversation")
		same(t, got, c, "conversation after UpdateConversation (UpdatedAt unchanged)")
		must(t, f.s.UpdateConversation(f.ctx, "u1", "c1", store.ConversationPatch{Pinned: &off}, at(6)), "unpin")
		c.PinnedAt = time.Time{}
		got, err = f.s.Conversation(f.ctx, "u1", "c1")
		must(t, err, "Conversation")
		same(t, got, c, "conversation after unpinning")
		wantErr(t, f.s.UpdateConversation(f.ctx, "u2", "c1", store.ConversationPatch{Pinned: &on}, at(7)), store.ErrNotFound, "UpdateConversation of another user's")
		wantErr(t, f.s.UpdateConversation(f.ctx, "u1", "nope", store.ConversationPatch{}, at(7)), store.ErrNotFound, "empty UpdateConversation of an unknown one")
	},
	"Search": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.user("u2")
		trip := f.conv("u1", "trip", at(1))
		must(t, f.s.RenameConversation(f.ctx, "u1", "trip", "Lisbon in May", at(2)), "RenameConversation")
		trip.Title, trip.UpdatedAt = "Lisbon in May", at(2)
		garden := f.conv("u1", "garden", at(3))
		f.msg("u1", "garden", "g1", "I planted TOMATOES today, 50% of them in pots_", at(4))
		garden.UpdatedAt = at(4)
		f.conv("u1", "empty", at(5))
		f.conv("u2", "other", at(6))
		f.msg("u2", "other", "o1", "tomatoes in Lisbon", at(7))

		search := func(q string, limit int) []store.Conversation {
			t.Helper()
			got, err := f.s.SearchConversations(f.ctx, "u1", q, limit)
			must(t, err, "SearchConversations %q", q)
			return got
		}
		for _, tc := range []struct {
			q    string
			want []store.Conversation
		}{
			{"lisbon", []store.Conversation{trip}},          // title, any case
			{"tomato", []store.Conversation{garden}},        // message text, any case, part of a word
			{"tomatoes pots", []store.Conversation{garden}}, // every word
			{"tomatoes lisbon", nil},                        // words in different conversations
			{"%", []store.Conversation{garden}},             // no wildcards: a literal %
			{"_", []store.Conversation{garden}},
			{"IN", []store.Conversation{garden, trip}}, // newest first
			{"", nil},
			{"   ", nil},
			{"nowhere", nil},
		} {
			same(t, search(tc.q, 10), tc.want, "SearchConversations %q", tc.q)
		}
		same(t, search("in", 1), []store.Conversation{garden}, "SearchConversations with limit 1")

		// Tool results are not what was said; another user's words are not the user's.
		must(t, f.s.AppendMessage(f.ctx, store.Message{ID: "t1", ConversationID: "trip", UserID: "u1", Role: store.RoleTool,
			Content: "weather: sunny", ToolCallID: "call1", Status: store.StatusComplete, CreatedAt: at(8), UpdatedAt: at(8)}), "AppendMessage tool")
		same(t, search("sunny", 10), []store.Conversation(nil), "SearchConversations of a tool result")
		got, err := f.s.SearchConversations(f.ctx, "u2", "lisbon", 10)
		must(t, err, "SearchConversations u2")
		if len(got) != 1 || got[0].ID != "other" {
			t.Errorf("u2's search for lisbon = %+v, want only their own conversation", got)
		}
	},
	"DeleteCascades": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.conv("u1", "c1", at(1))
		keep := f.conv("u1", "c2", at(1))
		f.msg("u1", "c1", "m1", "bye", at(2))
		kept := f.msg("u1", "c2", "m2", "stay", at(2))
		f.action("u1", "c1", "a1", at(3))
		f.action("u1", "c2", "a2", at(3))

		must(t, f.s.DeleteConversation(f.ctx, "u1", "c1"), "DeleteConversation")
		_, err := f.s.Conversation(f.ctx, "u1", "c1")
		wantErr(t, err, store.ErrNotFound, "Conversation after delete")
		_, err = f.s.Message(f.ctx, "u1", "m1")
		wantErr(t, err, store.ErrNotFound, "Message of a deleted conversation")
		_, err = f.s.Messages(f.ctx, "u1", "c1")
		wantErr(t, err, store.ErrNotFound, "Messages of a deleted conversation")
		_, err = f.s.Action(f.ctx, "u1", "a1")
		wantErr(t, err, store.ErrNotFound, "Action of a deleted conversation")
		wantErr(t, f.s.DeleteConversation(f.ctx, "u1", "c1"), store.ErrNotFound, "DeleteConversation twice")

		// The other conversation is untouched.
		got, err := f.s.Conversation(f.ctx, "u1", "c2")
		must(t, err, "other conversation")
		keep.UpdatedAt = at(2)
		same(t, got, keep, "other conversation")
		msgs, err := f.s.Messages(f.ctx, "u1", "c2")
		must(t, err, "other conversation's messages")
		same(t, msgs, []store.Message{kept}, "other conversation's messages")
		_, err = f.s.Action(f.ctx, "u1", "a2")
		must(t, err, "other conversation's action")
	},
}

var messagesTests = map[string]func(*testing.T, *fixture){
	"RecentMessages": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.user("u2")
		f.conv("u1", "c1", at(0))
		var all []store.Message
		for i := 0; i < 7; i++ {
			m := f.msg("u1", "c1", fmt.Sprintf("m%d", i), fmt.Sprintf("message %d", i), at(1)) // equal times: order is append order
			all = append(all, m)
		}
		for _, n := range []int{1, 3, 7, 100} {
			got, err := f.s.RecentMessages(f.ctx, "u1", "c1", n)
			must(t, err, "RecentMessages(%d)", n)
			want := all[max(0, len(all)-n):]
			if len(got) != len(want) {
				t.Fatalf("RecentMessages(%d) returned %d messages, want %d", n, len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i].ID {
					t.Fatalf("RecentMessages(%d)[%d] = %s, want %s (oldest first)", n, i, got[i].ID, want[i].ID)
				}
			}
		}
		_, err := f.s.RecentMessages(f.ctx, "u2", "c1", 3)
		wantErr(t, err, store.ErrNotFound, "RecentMessages of another user's conversation")
		_, err = f.s.RecentMessages(f.ctx, "u1", "nope", 3)
		wantErr(t, err, store.ErrNotFound, "RecentMessages of an unknown conversation")
	},
	"RoundTrip": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.conv("u1", "c1", at(0))
		m := store.Message{
			ID: "m1", ConversationID: "c1", UserID: "u1", Role: store.RoleAssistant,
			Content: "Let me check.",
			ToolCalls: []store.ToolCall{
				// Arguments must come back byte for byte, whitespace and all.
				{ID: "call_1", Name: "calendar_list", Arguments: json.RawMessage(`{ "day": "2025-03-14",  "tz": "Europe/Berlin" }`)},
				{ID: "call_2", Name: "weather", Arguments: json.RawMessage(`{"city":"Zürich <3 & co"}`)},
			},
			Status: store.StatusFailed, Error: "the model server did not answer",
			CreatedAt: at(1), UpdatedAt: at(2),
		}
		must(t, f.s.AppendMessage(f.ctx, m), "AppendMessage")
		tool := store.Message{ID: "m2", ConversationID: "c1", UserID: "u1", Role: store.RoleTool,
			Content: `{"events":[]}`, ToolCallID: "call_1", Status: store.StatusComplete, CreatedAt: at(3), UpdatedAt: at(3),
			ParentID: "m1", Reasoning: "They want the calendar <think>", ThoughtFor: 4200 * time.Millisecond,
			Finish: store.FinishLength, Channel: store.ChannelVoice}
		must(t, f.s.AppendMessage(f.ctx, tool), "AppendMessage tool")

		got, err := f.s.Message(f.ctx, "u1", "m1")
		must(t, err, "Message")
		same(t, got, m, "Message")
		for i, c := range got.ToolCalls {
			if string(c.Arguments) != string(m.ToolCalls[i].Arguments) {
				t.Errorf("tool call %d arguments = %s, want %s", i, c.Arguments, m.ToolCalls[i].Arguments)
			}
		}
		all, err := f.s.Messages(f.ctx, "u1", "c1")
		must(t, err, "Messages")
		same(t, all, []store.Message{m, tool}, "Messages")

		_, err = f.s.Message(f.ctx, "u1", "unknown")
		wantErr(t, err, store.ErrNotFound, "Message unknown")
		wantErr(t, f.s.AppendMessage(f.ctx, m), store.ErrConflict, "AppendMessage with a taken id")
	},
	"MessageReason": func(t *testing.T, f *fixture) {
		// A turn os1 started itself keeps its reason; UpdateMessage leaves it.
		f.user("u1")
		f.conv("u1", "c1", at(1))
		m := store.Message{ID: "m1", ConversationID: "c1", UserID: "u1", Role: store.RoleAssistant,
			Status: store.StatusStreaming, Reason: "reminder: call Catherine at 18:00", CreatedAt: at(2), UpdatedAt: at(2)}
		must(t, f.s.AppendMessage(f.ctx, m), "AppendMessage with a reason")
		content, status := "Time to call Catherine.", store.StatusComplete
		must(t, f.s.UpdateMessage(f.ctx, "u1", "m1", store.MessagePatch{Content: &content, Status: &status}, at(3)), "UpdateMessage")
		got, err := f.s.Message(f.ctx, "u1", "m1")
		must(t, err, "Message")
		m.Content, m.Status, m.UpdatedAt = content, status, at(3)
		same(t, got, m, "Message with a reason")
		all, err := f.s.RecentMessages(f.ctx, "u1", "c1", 1)
		must(t, err, "RecentMessages")
		same(t, all, []store.Message{m}, "RecentMessages with a reason")
	},
	"UnknownConversation": func(t *testing.T, f *fixture) {
		f.user("u1")
		m := store.Message{ID: "m1", ConversationID: "nope", UserID: "u1", Role: store.RoleUser, Status: store.StatusComplete, CreatedAt: at(1)}
		wantErr(t, f.s.AppendMessage(f.ctx, m), store.ErrNotFound, "AppendMessage to an unknown conversation")
		_, err := f.s.Messages(f.ctx, "u1", "nope")
		wantErr(t, err, store.ErrNotFound, "Messages of an unknown conversation")
	},
	"AppendBumpsConversation": func(t *testing.T, f *fixture) {
		f.user("u1")
		c := f.conv("u1", "c1", at(1))
		f.msg("u1", "c1", "m1", "hi", at(7))
		got, err := f.s.Conversation(f.ctx, "u1", "c1")
		must(t, err, "Conversation")
		c.UpdatedAt = at(7)
		same(t, got, c, "conversation after AppendMessage")
	},
	"InsertionOrder": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.conv("u1", "c1", at(0))
		var want []store.Message
		// Equal timestamps, and one stamped earlier than its predecessors (a
		// clock stepping back): the order is the order of appending, not of
		// timestamps or IDs (which sort backwards here).
		for i, ts := range []int{5, 5, 5, 5, 3, 5} {
			want = append(want, f.msg("u1", "c1", fmt.Sprintf("m-%c", 'z'-i), fmt.Sprint(i), at(ts)))
		}
		got, err := f.s.Messages(f.ctx, "u1", "c1")
		must(t, err, "Messages")
		same(t, got, want, "Messages order")
	},
	"ByteExactContent": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.conv("u1", "c1", at(0))
		contents := map[string]string{
			"empty":      "",
			"multi-line": "line one\nline two\r\nline three\n\n",
			"whitespace": "  \tleading and trailing  \n ",
			"emoji":      "I ❤️ you 👩‍👩‍👧 🇩🇪",
			"combining":  "e\u0301 vs \u00e9, ﬁ, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
			"sql":        `'); DROP TABLE messages; -- "quoted" \backslash\ %_`,
			"1MiB":       strings.Repeat("abcdefghijklmnopqrstuvwxyz äöü €\n", 1<<20/36+1)[:1<<20],
		}
		for name, content := range contents {
			f.msg("u1", "c1", "m-"+name, content, at(1))
			got, err := f.s.Message(f.ctx, "u1", "m-"+name)
			must(t, err, "Message %s", name)
			if got.Content != content {
				t.Errorf("%s: content changed in storage (%d bytes in, %d out)", name, len(content), len(got.Content))
			}
		}
	},
	"Update": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.conv("u1", "c1", at(0))
		m := store.Message{ID: "m1", ConversationID: "c1", UserID: "u1", Role: store.RoleAssistant,
			Content: "Hel", Status: store.StatusStreaming, CreatedAt: at(1), UpdatedAt: at(1)}
		must(t, f.s.AppendMessage(f.ctx, m), "AppendMessage")

		content := "Hello there."
		must(t, f.s.UpdateMessage(f.ctx, "u1", "m1", store.MessagePatch{Content: &content}, at(2)), "UpdateMessage content")
		m.Content, m.UpdatedAt = content, at(2)
		checkMessage(t, f, m, "after content patch")

		calls := []store.ToolCall{{ID: "call_9", Name: "remember", Arguments: json.RawMessage(`{"fact":"likes tea"}`)}}
		status, msg := store.StatusFailed, "connection reset"
		p := store.MessagePatch{Status: &status, Error: &msg, ToolCalls: calls}
		must(t, f.s.UpdateMessage(f.ctx, "u1", "m1", p, at(3)), "UpdateMessage status/error/tool calls")
		m.Status, m.Error, m.ToolCalls, m.UpdatedAt = status, msg, calls, at(3)
		checkMessage(t, f, m, "after status patch (content left alone)")

		must(t, f.s.UpdateMessage(f.ctx, "u1", "m1", store.MessagePatch{ToolCalls: []store.ToolCall{}}, at(4)), "UpdateMessage clear tool calls")
		m.ToolCalls, m.UpdatedAt = nil, at(4)
		checkMessage(t, f, m, "after clearing tool calls with an empty slice")

		reasoning, thought, finish := "Hello first, then the weather.", 1500*time.Millisecond, store.FinishLength
		must(t, f.s.UpdateMessage(f.ctx, "u1", "m1", store.MessagePatch{Reasoning: &reasoning, ThoughtFor: &thought, Finish: &finish}, at(5)), "UpdateMessage reasoning")
		m.Reasoning, m.ThoughtFor, m.Finish, m.UpdatedAt = reasoning, thought, finish, at(5)
		checkMessage(t, f, m, "after reasoning patch")

		wantErr(t, f.s.UpdateMessage(f.ctx, "u1", "unknown", store.MessagePatch{Content: &content}, at(5)), store.ErrNotFound, "UpdateMessage unknown")
	},
	"Branches": func(t *testing.T, f *fixture) {
		// u1 asks, she answers, u1 edits the question (a branch at the
		// question), she answers that, and u1 regenerates the answer.
		f.user("u1")
		f.user("u2")
		f.conv("u1", "c1", at(0))
		f.conv("u1", "other", at(0))
		f.conv("u2", "c2", at(0))
		ids := func(ms []store.Message) []string {
			var out []string
			for _, m := range ms {
				out = append(out, m.ID)
			}
			return out
		}
		path := func(want ...string) {
			t.Helper()
			got, err := f.s.Messages(f.ctx, "u1", "c1")
			must(t, err, "Messages")
			same(t, ids(got), want, "current path")
		}
		add := func(id, parent string, role store.MessageRole) {
			t.Helper()
			m := store.Message{ID: id, ConversationID: "c1", UserID: "u1", Role: role, Content: id,
				Status: store.StatusComplete, ParentID: parent, CreatedAt: at(1)}
			must(t, f.s.AppendMessage(f.ctx, m), "AppendMessage %s", id)
		}
		add("q0", "", store.RoleUser)
		add("a0", "", store.RoleAssistant)
		add("q1", "", store.RoleUser)
		add("a1", "", store.RoleAssistant)
		path("q0", "a0", "q1", "a1")
		add("q1b", "a0", store.RoleUser) // edit of q1
		path("q0", "a0", "q1b")
		add("a1b", "", store.RoleAssistant)
		add("a1c", "q1b", store.RoleAssistant) // regenerate a1b
		path("q0", "a0", "q1b", "a1c")
		recent, err := f.s.RecentMessages(f.ctx, "u1", "c1", 2)
		must(t, err, "RecentMessages")
		same(t, ids(recent), []string{"q1b", "a1c"}, "RecentMessages on a branch")

		// Showing the old question's branch goes to its newest message.
		must(t, f.s.ShowBranch(f.ctx, "u1", "c1", "q1"), "ShowBranch q1")
		path("q0", "a0", "q1", "a1")
		must(t, f.s.ShowBranch(f.ctx, "u1", "c1", "a1b"), "ShowBranch a1b")
		path("q0", "a0", "q1b", "a1b")
		// Appending continues the branch shown.
		add("q2", "", store.RoleUser)
		path("q0", "a0", "q1b", "a1b", "q2")
		// An edit of the very first message.
		add("q0b", store.BranchAtRoot, store.RoleUser)
		path("q0b")
		must(t, f.s.ShowBranch(f.ctx, "u1", "c1", "q0"), "ShowBranch q0")
		path("q0", "a0", "q1b", "a1b", "q2")

		tree, err := f.s.MessageTree(f.ctx, "u1", "c1")
		must(t, err, "MessageTree")
		node := func(id, parent string, role store.MessageRole) store.MessageNode {
			return store.MessageNode{ID: id, ParentID: parent, Role: role}
		}
		u, a := store.RoleUser, store.RoleAssistant
		wantTree := []store.MessageNode{
			node("q0", "", u), node("a0", "q0", a), node("q1", "a0", u), node("a1", "q1", a), node("q1b", "a0", u),
			node("a1b", "q1b", a), node("a1c", "q1b", a), node("q2", "a1b", u), node("q0b", "", u),
		}
		same(t, tree, wantTree, "MessageTree")

		// Parents and branches are the user's and the conversation's own.
		stray := store.Message{ID: "x", ConversationID: "other", UserID: "u1", Role: store.RoleUser, ParentID: "q0", Status: store.StatusComplete}
		wantErr(t, f.s.AppendMessage(f.ctx, stray), store.ErrNotFound, "AppendMessage after a message of another conversation")
		wantErr(t, f.s.ShowBranch(f.ctx, "u1", "other", "q0"), store.ErrNotFound, "ShowBranch of another conversation's message")
		wantErr(t, f.s.ShowBranch(f.ctx, "u2", "c1", "q0"), store.ErrNotFound, "ShowBranch of another user's conversation")
		_, err = f.s.MessageTree(f.ctx, "u2", "c1")
		wantErr(t, err, store.ErrNotFound, "MessageTree of another user's conversation")
		path("q0", "a0", "q1b", "a1b", "q2")
	},
	"MarkInterrupted": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.user("u2")
		f.conv("u1", "c1", at(0))
		f.conv("u2", "c2", at(0))
		var want []store.Message
		for _, m := range []store.Message{
			{ID: "s1", ConversationID: "c1", UserID: "u1", Status: store.StatusStreaming},
			{ID: "done", ConversationID: "c1", UserID: "u1", Status: store.StatusComplete, ParentID: "s1"},
			{ID: "s2", ConversationID: "c2", UserID: "u2", Status: store.StatusStreaming},
			{ID: "failed", ConversationID: "c2", UserID: "u2", Status: store.StatusFailed, Error: "boom", ParentID: "s2"},
		} {
			m.Role, m.Content, m.CreatedAt, m.UpdatedAt = store.RoleAssistant, "partial "+m.ID, at(1), at(1)
			must(t, f.s.AppendMessage(f.ctx, m), "AppendMessage %s", m.ID)
			if m.Status == store.StatusStreaming {
				m.Status, m.UpdatedAt = store.StatusInterrupted, at(9)
			}
			want = append(want, m)
		}
		n, err := f.s.MarkInterrupted(f.ctx, at(9))
		must(t, err, "MarkInterrupted")
		if n != 2 {
			t.Errorf("MarkInterrupted changed %d messages, want 2", n)
		}
		for _, m := range want {
			checkMessage(t, f, m, "after MarkInterrupted")
		}
		n, err = f.s.MarkInterrupted(f.ctx, at(10))
		must(t, err, "MarkInterrupted again")
		if n != 0 {
			t.Errorf("second MarkInterrupted changed %d messages, want 0", n)
		}
	},
	"ConcurrentAppend": func(t *testing.T, f *fixture) {
		const writers, each = 20, 20
		f.user("u1")
		f.conv("u1", "c1", at(0))
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					m := store.Message{ID: fmt.Sprintf("w%02d-%02d", w, i), ConversationID: "c1", UserID: "u1",
						Role: store.RoleUser, Content: fmt.Sprint(i), Status: store.StatusComplete, CreatedAt: at(1)}
					if err := f.s.AppendMessage(f.ctx, m); err != nil {
						t.Errorf("AppendMessage %s: %v", m.ID, err)
						return
					}
				}
			})
		}
		wg.Wait()
		msgs, err := f.s.Messages(f.ctx, "u1", "c1")
		must(t, err, "Messages")
		if len(msgs) != writers*each {
			t.Fatalf("got %d messages, want %d", len(msgs), writers*each)
		}
		// Each writer's messages keep the order it appended them in.
		next := map[string]int{}
		for _, m := range msgs {
			w := m.ID[:3]
			if want := fmt.Sprint(next[w]); m.Content != want {
				t.Fatalf("writer %s: message %s out of order (content %s, want %s)", w, m.ID, m.Content, want)
			}
			next[w]++
		}
	},
}

// checkMessage reads want back by ID and compares.
func checkMessage(t *testing.T, f *fixture, want store.Message, context string) {
	t.Helper()
	got, err := f.s.Message(f.ctx, want.UserID, want.ID)
	must(t, err, "Message %s %s", want.ID, context)
	same(t, got, want, "message %s %s", want.ID, context)
}
