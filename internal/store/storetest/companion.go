package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
)

var actionsTests = map[string]func(*testing.T, *fixture){
	"CreateAndRead": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.conv("u1", "c1", at(0))
		a := f.action("u1", "c1", "a1", at(1))
		got, err := f.s.Action(f.ctx, "u1", "a1")
		must(t, err, "Action")
		same(t, got, a, "Action (DecidedAt zero while pending)")
		if string(got.Arguments) != string(a.Arguments) {
			t.Errorf("arguments = %s, want byte-exact %s", got.Arguments, a.Arguments)
		}
		_, err = f.s.Action(f.ctx, "u1", "unknown")
		wantErr(t, err, store.ErrNotFound, "Action unknown")
		wantErr(t, f.s.CreateAction(f.ctx, a), store.ErrConflict, "CreateAction twice")
		orphan := a
		orphan.ID, orphan.ConversationID = "a2", "unknown"
		wantErr(t, f.s.CreateAction(f.ctx, orphan), store.ErrNotFound, "CreateAction in an unknown conversation")
	},
	"Pending": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.conv("u1", "c1", at(0))
		f.conv("u1", "c2", at(0))
		a2 := f.action("u1", "c1", "a2", at(2))
		a1 := f.action("u1", "c1", "a1", at(1))
		f.action("u1", "c2", "elsewhere", at(1))
		f.action("u1", "c1", "decided", at(1))
		must(t, f.s.DecideAction(f.ctx, "u1", "decided", store.ActionDenied, at(3)), "DecideAction")
		got, err := f.s.PendingActions(f.ctx, "u1", "c1")
		must(t, err, "PendingActions")
		same(t, got, []store.Action{a1, a2}, "PendingActions (this conversation, pending only, oldest first)")
	},
	"DecideOnce": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.conv("u1", "c1", at(0))
		a := f.action("u1", "c1", "a1", at(1))
		must(t, f.s.DecideAction(f.ctx, "u1", "a1", store.ActionApproved, at(2)), "DecideAction")
		a.Status, a.DecidedAt = store.ActionApproved, at(2)
		got, err := f.s.Action(f.ctx, "u1", "a1")
		must(t, err, "Action")
		same(t, got, a, "approved action")
		wantErr(t, f.s.DecideAction(f.ctx, "u1", "a1", store.ActionDenied, at(3)), store.ErrNotFound, "DecideAction twice")
		got, err = f.s.Action(f.ctx, "u1", "a1")
		must(t, err, "Action")
		same(t, got, a, "action after a second decision")
		wantErr(t, f.s.DecideAction(f.ctx, "u1", "unknown", store.ActionApproved, at(3)), store.ErrNotFound, "DecideAction unknown")

		f.action("u1", "c1", "a2", at(1))
		if err := f.s.DecideAction(f.ctx, "u1", "a2", store.ActionDone, at(3)); err == nil {
			t.Errorf("DecideAction to %q succeeded, want an error (only approved or denied)", store.ActionDone)
		}
	},
	"DecideRace": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.conv("u1", "c1", at(0))
		f.action("u1", "c1", "a1", at(1))
		wins := race(t, 10, func() error { return f.s.DecideAction(f.ctx, "u1", "a1", store.ActionApproved, at(2)) })
		if wins != 1 {
			t.Errorf("%d concurrent DecideAction calls succeeded, want exactly 1", wins)
		}
	},
	"Finish": func(t *testing.T, f *fixture) {
		f.user("u1")
		f.conv("u1", "c1", at(0))
		a := f.action("u1", "c1", "a1", at(1))
		must(t, f.s.DecideAction(f.ctx, "u1", "a1", store.ActionApproved, at(2)), "DecideAction")
		must(t, f.s.FinishAction(f.ctx, "u1", "a1", store.ActionDone, "sent to bob@example.org"), "FinishAction")
		a.Status, a.DecidedAt, a.Result = store.ActionDone, at(2), "sent to bob@example.org"
		got, err := f.s.Action(f.ctx, "u1", "a1")
		must(t, err, "Action")
		same(t, got, a, "finished action")
		wantErr(t, f.s.FinishAction(f.ctx, "u1", "unknown", store.ActionFailed, "x"), store.ErrNotFound, "FinishAction unknown")
	},
}

var personasTests = map[string]func(*testing.T, *fixture){
	"Upsert": func(t *testing.T, f *fixture) {
		f.user("u1")
		_, err := f.s.Persona(f.ctx, "u1")
		wantErr(t, err, store.ErrNotFound, "Persona before the first meeting")
		p := store.Persona{UserID: "u1", Voice: "warm, a little dry", Style: "short answers", UpdatedAt: at(1)}
		must(t, f.s.SavePersona(f.ctx, p), "SavePersona")
		got, err := f.s.Persona(f.ctx, "u1")
		must(t, err, "Persona")
		same(t, got, p, "Persona (unnamed, NamedAt zero)")

		p.Name, p.NamedAt, p.UpdatedAt, p.Style = "Samantha", at(2), at(2), ""
		must(t, f.s.SavePersona(f.ctx, p), "SavePersona again")
		got, err = f.s.Persona(f.ctx, "u1")
		must(t, err, "Persona")
		same(t, got, p, "Persona after second save")

		wantErr(t, f.s.SavePersona(f.ctx, store.Persona{UserID: "ghost"}), store.ErrNotFound, "SavePersona for an unknown user")
	},
}

var profilesTests = map[string]func(*testing.T, *fixture){
	"Upsert": func(t *testing.T, f *fixture) {
		f.user("u1")
		_, err := f.s.Profile(f.ctx, "u1")
		wantErr(t, err, store.ErrNotFound, "Profile before the first meeting")
		p := store.Profile{UserID: "u1", Answers: map[string]string{
			"social":  "I like small dinners",
			"matters": "my kids 👧👦,\n\"honesty\"",
		}, Timezone: "Europe/Berlin", UpdatedAt: at(1)}
		must(t, f.s.SaveProfile(f.ctx, p), "SaveProfile")
		got, err := f.s.Profile(f.ctx, "u1")
		must(t, err, "Profile")
		same(t, got, p, "Profile (not onboarded, OnboardedAt zero)")

		p.Answers = map[string]string{"sound": "calm"}
		p.Timezone, p.OnboardedAt, p.UpdatedAt = "", at(2), at(2)
		must(t, f.s.SaveProfile(f.ctx, p), "SaveProfile again")
		got, err = f.s.Profile(f.ctx, "u1")
		must(t, err, "Profile")
		same(t, got, p, "Profile after second save (answers replaced, not merged)")

		p.Answers = nil
		must(t, f.s.SaveProfile(f.ctx, p), "SaveProfile with no answers")
		got, err = f.s.Profile(f.ctx, "u1")
		must(t, err, "Profile")
		if len(got.Answers) != 0 {
			t.Errorf("answers after saving none = %v, want none", got.Answers)
		}

		wantErr(t, f.s.SaveProfile(f.ctx, store.Profile{UserID: "ghost"}), store.ErrNotFound, "SaveProfile for an unknown user")
	},
}

var settingsTests = map[string]func(*testing.T, *fixture){
	"SetGetDelete": func(t *testing.T, f *fixture) {
		_, err := f.s.Setting(f.ctx, "llm.base_url")
		wantErr(t, err, store.ErrNotFound, "Setting unset")
		must(t, f.s.SetSetting(f.ctx, "llm.base_url", "http://localhost:11434/v1"), "SetSetting")
		must(t, f.s.SetSetting(f.ctx, "llm.api_key", "v1:c2VhbGVk"), "SetSetting other key")
		must(t, f.s.SetSetting(f.ctx, "llm.base_url", "https://api.example.org/v1"), "SetSetting overwrite")
		for key, want := range map[string]string{"llm.base_url": "https://api.example.org/v1", "llm.api_key": "v1:c2VhbGVk"} {
			got, err := f.s.Setting(f.ctx, key)
			must(t, err, "Setting %s", key)
			if got != want {
				t.Errorf("Setting %s = %q, want %q", key, got, want)
			}
		}
		must(t, f.s.SetSetting(f.ctx, "empty", ""), "SetSetting empty value")
		got, err := f.s.Setting(f.ctx, "empty")
		must(t, err, "Setting with an empty value (set, not unset)")
		if got != "" {
			t.Errorf("Setting empty = %q, want empty", got)
		}

		must(t, f.s.DeleteSetting(f.ctx, "llm.base_url"), "DeleteSetting")
		_, err = f.s.Setting(f.ctx, "llm.base_url")
		wantErr(t, err, store.ErrNotFound, "Setting after delete")
		must(t, f.s.DeleteSetting(f.ctx, "llm.base_url"), "DeleteSetting of an unset key")
		_, err = f.s.Setting(f.ctx, "llm.api_key")
		must(t, err, "other setting after delete")
	},
}

var timesTests = map[string]func(*testing.T, *fixture){
	"RoundTripExactly": func(t *testing.T, f *fixture) {
		zones := []time.Time{
			time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.FixedZone("UTC-7", -7*3600)),
			time.Date(1999, 12, 31, 23, 0, 0, 1, time.FixedZone("UTC+14", 14*3600)),
			time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(2025, 3, 30, 2, 30, 0, 123456789, time.Local),
		}
		for i, ts := range zones {
			id := string(rune('a' + i))
			u := store.User{ID: id, Username: id, Role: store.RoleMember, CreatedAt: ts}
			must(t, f.s.CreateUser(f.ctx, u), "CreateUser")
			got, err := f.s.UserByID(f.ctx, id)
			must(t, err, "UserByID")
			if !got.CreatedAt.Equal(ts) {
				t.Errorf("time %s came back as %s", ts.Format(time.RFC3339Nano), got.CreatedAt.Format(time.RFC3339Nano))
			}
		}
	},
	"ZeroStaysZero": func(t *testing.T, f *fixture) {
		must(t, f.s.CreateUser(f.ctx, store.User{ID: "u1", Username: "u1", Role: store.RoleMember}), "CreateUser without CreatedAt")
		u, err := f.s.UserByID(f.ctx, "u1")
		must(t, err, "UserByID")
		f.conv("u1", "c1", time.Time{})
		m := f.msg("u1", "c1", "m1", "x", time.Time{})
		a := store.Action{ID: "a1", UserID: "u1", ConversationID: "c1", Tool: "t", Arguments: json.RawMessage(`{}`), Status: store.ActionPending}
		must(t, f.s.CreateAction(f.ctx, a), "CreateAction")
		gotM, err := f.s.Message(f.ctx, "u1", "m1")
		must(t, err, "Message")
		gotA, err := f.s.Action(f.ctx, "u1", "a1")
		must(t, err, "Action")
		c, err := f.s.Conversation(f.ctx, "u1", "c1")
		must(t, err, "Conversation")
		for name, ts := range map[string]time.Time{
			"User.CreatedAt": u.CreatedAt, "Conversation.UpdatedAt": c.UpdatedAt,
			"Message.CreatedAt": gotM.CreatedAt, "Message.UpdatedAt": gotM.UpdatedAt,
			"Action.CreatedAt": gotA.CreatedAt, "Action.DecidedAt": gotA.DecidedAt,
		} {
			if !ts.IsZero() {
				t.Errorf("%s = %s, want the zero time", name, ts)
			}
		}
		same(t, gotM, m, "message with zero times")
	},
}
