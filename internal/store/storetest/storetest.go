// Package storetest is the contract every store.Store backend must pass.
//
// A backend's own test calls Run with a function that opens an empty store;
// the same suite then checks SQLite today and PostgreSQL later, so the two
// cannot drift apart. The suite uses fixed times only, never the wall clock,
// and must never depend on one backend's quirks (SQL dialect, rowids, how a
// time zone is stored): only on what store.go documents.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
)

// Run runs the whole contract suite. open must return a new, empty store for
// each call and arrange for it to be closed when t ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		tests map[string]func(*testing.T, *fixture)
	}{
		{"Users", usersTests},
		{"Sessions", sessionsTests},
		{"Tokens", tokensTests},
		{"Invites", invitesTests},
		{"PasswordResets", passwordResetsTests},
		{"Conversations", conversationsTests},
		{"Messages", messagesTests},
		{"Isolation", isolationTests},
		{"Actions", actionsTests},
		{"Personas", personasTests},
		{"Profiles", profilesTests},
		{"Settings", settingsTests},
		{"Times", timesTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, name := range slices.Sorted(maps.Keys(g.tests)) {
				t.Run(name, func(t *testing.T) {
					g.tests[name](t, &fixture{t: t, s: open(t), ctx: t.Context()})
				})
			}
		})
	}
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// t0 has nanoseconds so that a backend rounding to micro- or milliseconds fails.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// at returns t0 plus m minutes.
func at(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

// fixture is one subtest's store plus helpers that fail the test on error.
type fixture struct {
	t   *testing.T
	s   store.Store
	ctx context.Context
}

func (f *fixture) user(id string) store.User {
	f.t.Helper()
	u := store.User{
		ID:           id,
		Username:     id,
		DisplayName:  "User " + id,
		Role:         store.RoleMember,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$" + id,
		CreatedAt:    at(0),
	}
	must(f.t, f.s.CreateUser(f.ctx, u), "CreateUser %s", id)
	return u
}

func (f *fixture) conv(userID, id string, created time.Time) store.Conversation {
	f.t.Helper()
	c := store.Conversation{ID: id, UserID: userID, Title: "Title " + id, CreatedAt: created, UpdatedAt: created}
	must(f.t, f.s.CreateConversation(f.ctx, c), "CreateConversation %s", id)
	return c
}

func (f *fixture) msg(userID, convID, id, content string, created time.Time) store.Message {
	f.t.Helper()
	m := store.Message{
		ID: id, ConversationID: convID, UserID: userID,
		Role: store.RoleUser, Content: content, Status: store.StatusComplete,
		CreatedAt: created, UpdatedAt: created,
	}
	must(f.t, f.s.AppendMessage(f.ctx, m), "AppendMessage %s", id)
	got, err := f.s.Message(f.ctx, userID, id)
	must(f.t, err, "Message %s", id)
	return got
}

func (f *fixture) action(userID, convID, id string, created time.Time) store.Action {
	f.t.Helper()
	a := store.Action{
		ID: id, UserID: userID, ConversationID: convID, MessageID: "msg-" + id, ToolCallID: "call-" + id,
		Tool: "send_email", Arguments: []byte(`{"to": "bob@example.org", "subject": "Grüße"}`),
		Status: store.ActionPending, CreatedAt: created,
	}
	must(f.t, f.s.CreateAction(f.ctx, a), "CreateAction %s", id)
	return a
}

// must stops the test when err is not nil.
func must(t *testing.T, err error, format string, args ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

// wantErr checks that err matches target with errors.Is.
func wantErr(t *testing.T, err, target error, format string, args ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", fmt.Sprintf(format, args...), err, target)
	}
}

// same compares got and want deeply, comparing times with time.Time.Equal
// semantics (a backend may hand back another time zone for the same instant).
func same(t *testing.T, got, want any, format string, args ...any) {
	t.Helper()
	if !reflect.DeepEqual(utc(got), utc(want)) {
		t.Errorf("%s:\n got  %+v\n want %+v", fmt.Sprintf(format, args...), got, want)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// utc returns a deep copy of v with every time.Time in UTC and without a
// monotonic reading.
func utc(v any) any {
	if v == nil {
		return nil
	}
	src := reflect.ValueOf(v)
	dst := reflect.New(src.Type()).Elem()
	copyUTC(dst, src)
	return dst.Interface()
}

func copyUTC(dst, src reflect.Value) {
	switch {
	case src.Type() == timeType:
		dst.Set(reflect.ValueOf(src.Interface().(time.Time).UTC()))
	case src.Kind() == reflect.Struct:
		for i := range src.NumField() {
			copyUTC(dst.Field(i), src.Field(i))
		}
	case src.Kind() == reflect.Slice && !src.IsNil():
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			copyUTC(dst.Index(i), src.Index(i))
		}
	default:
		dst.Set(src)
	}
}
