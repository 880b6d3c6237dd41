package storetest

import (
	"testing"

	"github.com/os1ai/os1/internal/store"
)

// isolation sets up Alice's data and checks, after each of Bob's attempts,
// that Bob got ErrNotFound (never a hint that the row exists) and that
// Alice's data is exactly as before.
type isolation struct {
	*fixture
	conv   store.Conversation
	msg    store.Message
	action store.Action
	token  store.APIToken
}

func newIsolation(t *testing.T, f *fixture) *isolation {
	f.user("alice")
	f.user("bob")
	f.conv("bob", "bob-conv", at(0))
	is := &isolation{fixture: f, conv: f.conv("alice", "alice-conv", at(1))}
	is.msg = f.msg("alice", "alice-conv", "alice-msg", "my secret", at(2))
	is.conv.UpdatedAt = at(2)
	is.action = f.action("alice", "alice-conv", "alice-action", at(3))
	is.token = store.APIToken{ID: "alice-token", UserID: "alice", Name: "cli", TokenHash: "alice-hash", CreatedAt: at(4)}
	must(t, f.s.CreateAPIToken(f.ctx, is.token), "CreateAPIToken")
	must(t, f.s.SavePersona(f.ctx, store.Persona{UserID: "alice", Name: "Samantha", UpdatedAt: at(5)}), "SavePersona")
	must(t, f.s.SaveProfile(f.ctx, store.Profile{UserID: "alice", Answers: map[string]string{"social": "yes"}, UpdatedAt: at(5)}), "SaveProfile")
	return is
}

// unchanged fails the test if any of Alice's rows differ from the originals.
func (is *isolation) unchanged(t *testing.T, after string) {
	t.Helper()
	c, err := is.s.Conversation(is.ctx, "alice", is.conv.ID)
	must(t, err, "Alice's conversation after %s", after)
	same(t, c, is.conv, "Alice's conversation after %s", after)
	msgs, err := is.s.Messages(is.ctx, "alice", is.conv.ID)
	must(t, err, "Alice's messages after %s", after)
	same(t, msgs, []store.Message{is.msg}, "Alice's messages after %s", after)
	a, err := is.s.Action(is.ctx, "alice", is.action.ID)
	must(t, err, "Alice's action after %s", after)
	same(t, a, is.action, "Alice's action after %s", after)
	tokens, err := is.s.ListAPITokens(is.ctx, "alice")
	must(t, err, "Alice's tokens after %s", after)
	same(t, tokens, []store.APIToken{is.token}, "Alice's tokens after %s", after)
}

var isolationTests = map[string]func(*testing.T, *fixture){
	"Reads": func(t *testing.T, f *fixture) {
		is := newIsolation(t, f)
		_, err := f.s.Conversation(f.ctx, "bob", is.conv.ID)
		wantErr(t, err, store.ErrNotFound, "Bob reads Alice's conversation")
		list, err := f.s.ListConversations(f.ctx, "bob")
		must(t, err, "ListConversations bob")
		if len(list) != 1 || list[0].ID != "bob-conv" {
			t.Errorf("Bob's ListConversations = %+v, want only bob-conv", list)
		}
		_, err = f.s.Messages(f.ctx, "bob", is.conv.ID)
		wantErr(t, err, store.ErrNotFound, "Bob lists Alice's messages")
		_, err = f.s.Message(f.ctx, "bob", is.msg.ID)
		wantErr(t, err, store.ErrNotFound, "Bob reads Alice's message")
		_, err = f.s.Action(f.ctx, "bob", is.action.ID)
		wantErr(t, err, store.ErrNotFound, "Bob reads Alice's action")
		pending, err := f.s.PendingActions(f.ctx, "bob", is.conv.ID)
		if err != nil {
			wantErr(t, err, store.ErrNotFound, "Bob lists pending actions of Alice's conversation")
		} else if len(pending) != 0 {
			t.Errorf("Bob's PendingActions in Alice's conversation = %+v, want none", pending)
		}
		tokens, err := f.s.ListAPITokens(f.ctx, "bob")
		must(t, err, "ListAPITokens bob")
		if len(tokens) != 0 {
			t.Errorf("Bob's ListAPITokens = %+v, want none", tokens)
		}
		_, err = f.s.Persona(f.ctx, "bob")
		wantErr(t, err, store.ErrNotFound, "Bob's persona when only Alice has one")
		_, err = f.s.Profile(f.ctx, "bob")
		wantErr(t, err, store.ErrNotFound, "Bob's profile when only Alice has one")
		is.unchanged(t, "Bob's reads")
	},
	"Writes": func(t *testing.T, f *fixture) {
		is := newIsolation(t, f)
		content, status := "overwritten", store.StatusFailed
		attempts := []struct {
			name string
			err  error
		}{
			{"RenameConversation", f.s.RenameConversation(f.ctx, "bob", is.conv.ID, "pwned", at(9))},
			{"DeleteConversation", f.s.DeleteConversation(f.ctx, "bob", is.conv.ID)},
			{"AppendMessage", f.s.AppendMessage(f.ctx, store.Message{ID: "bob-msg", ConversationID: is.conv.ID,
				UserID: "bob", Role: store.RoleUser, Content: "hi", Status: store.StatusComplete, CreatedAt: at(9)})},
			{"UpdateMessage", f.s.UpdateMessage(f.ctx, "bob", is.msg.ID,
				store.MessagePatch{Content: &content, Status: &status}, at(9))},
			{"CreateAction", f.s.CreateAction(f.ctx, store.Action{ID: "bob-action", UserID: "bob",
				ConversationID: is.conv.ID, Tool: "send_email", Status: store.ActionPending, CreatedAt: at(9)})},
			{"DecideAction", f.s.DecideAction(f.ctx, "bob", is.action.ID, store.ActionApproved, at(9))},
			{"FinishAction", f.s.FinishAction(f.ctx, "bob", is.action.ID, store.ActionDone, "sent")},
			{"DeleteAPIToken", f.s.DeleteAPIToken(f.ctx, "bob", is.token.ID)},
		}
		for _, a := range attempts {
			wantErr(t, a.err, store.ErrNotFound, "Bob's %s on Alice's data", a.name)
		}
		is.unchanged(t, "Bob's writes")
		_, err := f.s.Action(f.ctx, "bob", "bob-action")
		wantErr(t, err, store.ErrNotFound, "action Bob tried to put into Alice's conversation")
		_, err = f.s.Message(f.ctx, "bob", "bob-msg")
		wantErr(t, err, store.ErrNotFound, "message Bob tried to put into Alice's conversation")
	},
	"DeleteUser": func(t *testing.T, f *fixture) {
		is := newIsolation(t, f)
		// Bob gets a row in every table; Alice keeps hers.
		f.msg("bob", "bob-conv", "bob-msg", "bob's secret", at(6))
		f.action("bob", "bob-conv", "bob-action", at(6))
		must(t, f.s.CreateAPIToken(f.ctx, store.APIToken{ID: "bob-token", UserID: "bob", Name: "cli", TokenHash: "bob-hash", CreatedAt: at(6)}), "CreateAPIToken bob")
		must(t, f.s.SavePersona(f.ctx, store.Persona{UserID: "bob", Name: "Ava", UpdatedAt: at(6)}), "SavePersona bob")
		must(t, f.s.SaveProfile(f.ctx, store.Profile{UserID: "bob", Answers: map[string]string{"social": "no"}, UpdatedAt: at(6)}), "SaveProfile bob")
		for _, s := range []store.Session{{TokenHash: "bob-sess", UserID: "bob", ExpiresAt: at(60)}, {TokenHash: "alice-sess", UserID: "alice", ExpiresAt: at(60)}} {
			must(t, f.s.CreateSession(f.ctx, s), "CreateSession %s", s.TokenHash)
		}
		must(t, f.s.CreateInvite(f.ctx, store.Invite{TokenHash: "bob-invite", CreatedBy: "bob", ExpiresAt: at(60)}), "CreateInvite bob")
		must(t, f.s.CreatePasswordReset(f.ctx, store.PasswordReset{TokenHash: "bob-reset", UserID: "bob", ExpiresAt: at(60)}), "CreatePasswordReset bob")
		settings := map[string]bool{"memory.journaled.bob": false, "memory.watermark.bob-conv": false,
			"memory.journaled.alice": true, "memory.watermark.alice-conv": true, "llm.base_url": true, "bob": true}
		for k := range settings {
			must(t, f.s.SetSetting(f.ctx, k, "v"), "SetSetting %s", k)
		}

		must(t, f.s.DeleteUser(f.ctx, "bob"), "DeleteUser bob")
		wantErr(t, f.s.DeleteUser(f.ctx, "bob"), store.ErrNotFound, "DeleteUser bob again")
		wantErr(t, f.s.DeleteUser(f.ctx, "ghost"), store.ErrNotFound, "DeleteUser unknown")

		_, err := f.s.UserByID(f.ctx, "bob")
		wantErr(t, err, store.ErrNotFound, "Bob after DeleteUser")
		_, err = f.s.Conversation(f.ctx, "bob", "bob-conv")
		wantErr(t, err, store.ErrNotFound, "Bob's conversation")
		_, err = f.s.Message(f.ctx, "bob", "bob-msg")
		wantErr(t, err, store.ErrNotFound, "Bob's message")
		_, err = f.s.Action(f.ctx, "bob", "bob-action")
		wantErr(t, err, store.ErrNotFound, "Bob's action")
		_, err = f.s.APITokenByHash(f.ctx, "bob-hash")
		wantErr(t, err, store.ErrNotFound, "Bob's token")
		_, err = f.s.Persona(f.ctx, "bob")
		wantErr(t, err, store.ErrNotFound, "Bob's persona")
		_, err = f.s.Profile(f.ctx, "bob")
		wantErr(t, err, store.ErrNotFound, "Bob's profile")
		_, err = f.s.SessionByHash(f.ctx, "bob-sess")
		wantErr(t, err, store.ErrNotFound, "Bob's session")
		_, err = f.s.UseInvite(f.ctx, "bob-invite", at(1))
		wantErr(t, err, store.ErrNotFound, "Bob's invite")
		_, err = f.s.UsePasswordReset(f.ctx, "bob-reset", at(1))
		wantErr(t, err, store.ErrNotFound, "Bob's reset link")
		for k, keep := range settings {
			_, err := f.s.Setting(f.ctx, k)
			if keep {
				must(t, err, "setting %s after deleting Bob", k)
			} else {
				wantErr(t, err, store.ErrNotFound, "Bob's setting %s", k)
			}
		}

		is.unchanged(t, "deleting Bob")
		if _, err := f.s.Persona(f.ctx, "alice"); err != nil {
			t.Errorf("Alice's persona after deleting Bob: %v", err)
		}
		if _, err := f.s.Profile(f.ctx, "alice"); err != nil {
			t.Errorf("Alice's profile after deleting Bob: %v", err)
		}
		_, err = f.s.SessionByHash(f.ctx, "alice-sess")
		must(t, err, "Alice's session after deleting Bob")
	},
}
