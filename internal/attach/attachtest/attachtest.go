// Package attachtest is the contract every attach.Store backend passes:
// messages and their attachments stored together or not at all, data kept
// byte for byte, order kept, per-user isolation, and attachments going with
// their conversation and their user.
package attachtest

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/attach"
	"github.com/os1ai/os1/internal/store"
)

// Open returns a fresh core store and the attachment store beside it.
type Open func(t *testing.T) (store.Store, attach.Store)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Run runs the contract against the stores open makes.
func Run(t *testing.T, open Open) {
	setup := func(t *testing.T) (context.Context, store.Store, attach.Store) {
		t.Parallel()
		s, as := open(t)
		ctx := t.Context()
		for _, u := range []string{"ana", "bob"} {
			if err := s.CreateUser(ctx, store.User{ID: u, Username: u, DisplayName: u, Role: store.RoleMember, PasswordHash: "x", CreatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateConversation(ctx, store.Conversation{ID: "cnv_" + u, UserID: u, Title: "t", CreatedAt: t0, UpdatedAt: t0}); err != nil {
				t.Fatal(err)
			}
		}
		return ctx, s, as
	}
	msg := func(user, id string) store.Message {
		return store.Message{ID: id, ConversationID: "cnv_" + user, UserID: user, Role: store.RoleUser,
			Content: "look", Status: store.StatusComplete, CreatedAt: t0, UpdatedAt: t0}
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x01binary\xff")
	two := func() []attach.Attachment {
		return []attach.Attachment{
			{ID: "att_2", Name: "zeta.png", MIME: "image/png", Data: png},
			{ID: "att_1", Name: "alpha.txt", MIME: attach.TextMIME, Data: []byte("héllo\n")},
		}
	}

	t.Run("StoredWithTheMessage", func(t *testing.T) {
		ctx, s, as := setup(t)
		if err := as.AppendMessage(ctx, msg("ana", "msg_1"), two()); err != nil {
			t.Fatal(err)
		}
		if m, err := s.Message(ctx, "ana", "msg_1"); err != nil || m.Content != "look" {
			t.Fatalf("message = %+v, %v", m, err)
		}
		a, err := as.Attachment(ctx, "ana", "att_2")
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "zeta.png" || a.MIME != "image/png" || a.Size != int64(len(png)) || !bytes.Equal(a.Data, png) ||
			a.UserID != "ana" || a.ConversationID != "cnv_ana" || a.MessageID != "msg_1" || !a.CreatedAt.Equal(t0) {
			t.Errorf("attachment = %+v", a)
		}
		list, err := as.List(ctx, "ana", []string{"msg_1", "msg_none"})
		if err != nil {
			t.Fatal(err)
		}
		got := list["msg_1"]
		if len(list) != 1 || len(got) != 2 || got[0].ID != "att_2" || got[1].ID != "att_1" {
			t.Fatalf("list = %+v, want att_2 then att_1 (the order sent) under msg_1", list)
		}
		if got[0].Data != nil || got[1].Size != int64(len("héllo\n")) {
			t.Errorf("list = %+v, want sizes and no data", got)
		}
	})

	t.Run("NeitherWhenOneFails", func(t *testing.T) {
		ctx, s, as := setup(t)
		if err := as.AppendMessage(ctx, msg("ana", "msg_1"), two()); err != nil {
			t.Fatal(err)
		}
		// The second message reuses an attachment ID: nothing of it may stay.
		atts := []attach.Attachment{{ID: "att_new", Name: "a.txt", MIME: attach.TextMIME, Data: []byte("a")}, two()[0]}
		if err := as.AppendMessage(ctx, msg("ana", "msg_2"), atts); err == nil {
			t.Fatal("a taken attachment ID was accepted")
		}
		if _, err := s.Message(ctx, "ana", "msg_2"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("message of the failed append: %v, want ErrNotFound", err)
		}
		if _, err := as.Attachment(ctx, "ana", "att_new"); !errors.Is(err, attach.ErrNotFound) {
			t.Errorf("attachment of the failed append: %v, want ErrNotFound", err)
		}
		// Not into another user's conversation either.
		m := msg("bob", "msg_3")
		m.ConversationID = "cnv_ana"
		if err := as.AppendMessage(ctx, m, []attach.Attachment{{ID: "att_3", Name: "b.txt", MIME: attach.TextMIME, Data: []byte("b")}}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("append into another user's conversation: %v, want ErrNotFound", err)
		}
		if _, err := as.Attachment(ctx, "bob", "att_3"); !errors.Is(err, attach.ErrNotFound) {
			t.Errorf("attachment stored in another user's conversation: %v", err)
		}
	})

	t.Run("IsolatedPerUser", func(t *testing.T) {
		ctx, _, as := setup(t)
		if err := as.AppendMessage(ctx, msg("ana", "msg_1"), two()); err != nil {
			t.Fatal(err)
		}
		if _, err := as.Attachment(ctx, "bob", "att_1"); !errors.Is(err, attach.ErrNotFound) {
			t.Errorf("bob reading ana's attachment: %v, want ErrNotFound", err)
		}
		if list, err := as.List(ctx, "bob", []string{"msg_1"}); err != nil || len(list) != 0 {
			t.Errorf("bob listing ana's message: %+v, %v; want nothing", list, err)
		}
	})

	t.Run("GoWithConversationAndUser", func(t *testing.T) {
		ctx, s, as := setup(t)
		if err := as.AppendMessage(ctx, msg("ana", "msg_1"), two()[:1]); err != nil {
			t.Fatal(err)
		}
		if err := as.AppendMessage(ctx, msg("bob", "msg_2"), two()[1:]); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteConversation(ctx, "ana", "cnv_ana"); err != nil {
			t.Fatal(err)
		}
		if _, err := as.Attachment(ctx, "ana", "att_2"); !errors.Is(err, attach.ErrNotFound) {
			t.Errorf("attachment of a deleted conversation: %v, want ErrNotFound", err)
		}
		if err := s.DeleteUser(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := as.Attachment(ctx, "bob", "att_1"); !errors.Is(err, attach.ErrNotFound) {
			t.Errorf("attachment of a deleted user: %v, want ErrNotFound", err)
		}
	})

	t.Run("ManyMessages", func(t *testing.T) {
		ctx, _, as := setup(t)
		var ids []string
		for i := range 600 { // more than one batch of bound parameters
			id := "msg_" + string(rune('a'+i%26)) + time.Duration(i).String()
			ids = append(ids, id)
		}
		last := ids[len(ids)-1]
		if err := as.AppendMessage(ctx, msg("ana", last), two()[1:]); err != nil {
			t.Fatal(err)
		}
		list, err := as.List(ctx, "ana", ids)
		if err != nil || len(list[last]) != 1 {
			t.Errorf("list over 600 IDs = %+v, %v", list, err)
		}
	})
}
