package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/backendtest"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/postgres"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/store/sqlstore"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// core is the sqlstore.Store inside a backend's DB.
func core(t *testing.T, db backendtest.DB) *sqlstore.Store {
	switch d := db.(type) {
	case *sqlite.DB:
		return d.Store
	case *postgres.DB:
		return d.Store
	}
	t.Fatalf("%T is not a core store", db)
	return nil
}

// setup makes user u with conversation c and an API token.
func setup(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	for _, err := range []error{
		s.CreateUser(ctx, store.User{ID: "u", Username: "u", Role: store.RoleOwner, CreatedAt: t0}),
		s.CreateUser(ctx, store.User{ID: "v", Username: "v", Role: store.RoleMember, CreatedAt: t0}),
		s.CreateConversation(ctx, store.Conversation{ID: "c", UserID: "u", CreatedAt: t0, UpdatedAt: t0}),
		s.CreateAPIToken(ctx, store.APIToken{ID: "t", UserID: "u", Name: "n", TokenHash: "h", CreatedAt: t0}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// turn is one turn's store calls; it checks what they read back.
func turn(ctx context.Context, s store.Store, conv string, i int) error {
	at := t0.Add(time.Duration(i+1) * time.Minute)
	if tok, err := s.APITokenByHash(ctx, "h"); err != nil || tok.UserID != "u" {
		return fmt.Errorf("APITokenByHash = %+v, %v", tok, err)
	}
	if err := s.TouchAPIToken(ctx, "t", at); err != nil {
		return err
	}
	if _, err := s.Conversation(ctx, "u", conv); err != nil {
		return err
	}
	user := store.Message{ID: fmt.Sprintf("%s-%d-u", conv, i), ConversationID: conv, UserID: "u", Role: store.RoleUser,
		Content: "hello", Status: store.StatusComplete, CreatedAt: at, UpdatedAt: at}
	asst := store.Message{ID: fmt.Sprintf("%s-%d-a", conv, i), ConversationID: conv, UserID: "u", Role: store.RoleAssistant,
		Status: store.StatusStreaming, CreatedAt: at, UpdatedAt: at}
	for _, m := range []store.Message{user, asst} {
		if err := s.AppendMessage(ctx, m); err != nil {
			return err
		}
	}
	for k := range 3 {
		content := fmt.Sprintf("part %d", k)
		if err := s.UpdateMessage(ctx, "u", asst.ID, store.MessagePatch{Content: &content}, at); err != nil {
			return err
		}
	}
	final, status := fmt.Sprintf("reply %d", i), store.StatusComplete
	if err := s.UpdateMessage(ctx, "u", asst.ID, store.MessagePatch{Content: &final, Status: &status}, at); err != nil {
		return err
	}
	msgs, err := s.RecentMessages(ctx, "u", conv, 2)
	if err != nil {
		return err
	}
	if len(msgs) != 2 || msgs[0].ID != user.ID || msgs[1].ID != asst.ID || msgs[1].Content != final || msgs[1].Status != status {
		return fmt.Errorf("RecentMessages = %+v, want %s then %s (%q, complete)", msgs, user.ID, asst.ID, final)
	}
	return nil
}

// The hot statements are prepared once and reused on SQLite: a second and
// third turn prepare nothing more; closing the store closes them, and a
// call after that fails (it does not panic or hang). On PostgreSQL, where
// pgx caches prepared statements itself, none are kept; the turn behaves
// the same.
func TestHotStatementsPreparedOnce(t *testing.T) {
	for _, b := range backendtest.All {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			s := core(t, db)
			setup(t, db)
			if err := turn(t.Context(), db, "c", 0); err != nil {
				t.Fatal(err)
			}
			n := sqlstore.Prepared(s)
			if db.Dialect() == sqldb.Postgres {
				if n != 0 {
					t.Fatalf("%d statements prepared on PostgreSQL, want none (pgx caches them)", n)
				}
			} else if n < 9 {
				t.Fatalf("%d statements prepared after a turn, want the hot ones (9 or more)", n)
			}
			if err := turn(t.Context(), db, "c", 1); err != nil {
				t.Fatal(err)
			}
			if err := turn(t.Context(), db, "c", 2); err != nil {
				t.Fatal(err)
			}
			if got := sqlstore.Prepared(s); got != n {
				t.Fatalf("%d statements prepared after three turns, %d after one: not reused", got, n)
			}
			// Ownership still holds with the statements prepared.
			if _, err := db.RecentMessages(t.Context(), "v", "c", 5); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("another user's RecentMessages: %v, want ErrNotFound", err)
			}
			if err := db.CreateConversation(t.Context(), store.Conversation{ID: "e", UserID: "u", CreatedAt: t0, UpdatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			if msgs, err := db.Messages(t.Context(), "u", "e"); err != nil || len(msgs) != 0 {
				t.Fatalf("Messages of an empty conversation = %v, %v", msgs, err)
			}
			if _, err := db.Messages(t.Context(), "v", "e"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Messages of another user's empty conversation: %v, want ErrNotFound", err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if got := sqlstore.Prepared(s); got != 0 {
				t.Fatalf("%d statements still prepared after Close", got)
			}
			if _, err := db.Conversation(t.Context(), "u", "c"); err == nil {
				t.Fatal("Conversation after Close succeeded")
			}
		})
	}
}

// Every shape of message patch (each is its own statement text) applies
// as asked, past the bound on the statements kept; the cache stays within
// it.
func TestEveryPatchShape(t *testing.T) {
	for _, b := range backendtest.All {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			setup(t, db)
			ctx := t.Context()
			if err := db.AppendMessage(ctx, store.Message{ID: "m", ConversationID: "c", UserID: "u", Role: store.RoleAssistant,
				Status: store.StatusStreaming, CreatedAt: t0, UpdatedAt: t0}); err != nil {
				t.Fatal(err)
			}
			// Twice round all 128 shapes: the second round runs the ones
			// that did not fit unprepared.
			for i := range 2 * 128 {
				v := fmt.Sprint(i)
				var p store.MessagePatch
				status, think := store.StatusComplete, time.Duration(i)*time.Millisecond
				calls := []store.ToolCall{{ID: v, Name: "n"}}
				sets := []func(){
					func() { p.Content = &v },
					func() { p.Status = &status },
					func() { p.Error = &v },
					func() { p.ToolCalls = calls },
					func() { p.Reasoning = &v },
					func() { p.ThoughtFor = &think },
					func() { p.Finish = &v },
				}
				for bit, set := range sets {
					if i&(1<<bit) != 0 {
						set()
					}
				}
				at := t0.Add(time.Duration(i) * time.Second)
				if err := db.UpdateMessage(ctx, "u", "m", p, at); err != nil {
					t.Fatalf("patch %d: %v", i, err)
				}
				m, err := db.Message(ctx, "u", "m")
				if err != nil {
					t.Fatal(err)
				}
				if !m.UpdatedAt.Equal(at) || (p.Content != nil && m.Content != v) || (p.Error != nil && m.Error != v) ||
					(p.Reasoning != nil && m.Reasoning != v) || (p.Finish != nil && m.Finish != v) ||
					(p.ThoughtFor != nil && m.ThoughtFor != think) || (p.ToolCalls != nil && (len(m.ToolCalls) != 1 || m.ToolCalls[0].ID != v)) {
					t.Fatalf("patch %d (%+v) left %+v", i, p, m)
				}
			}
			if n := sqlstore.Prepared(core(t, db)); n > sqlstore.MaxStmts {
				t.Fatalf("%d statements kept, bound %d", n, sqlstore.MaxStmts)
			}
			if err := db.UpdateMessage(ctx, "v", "m", store.MessagePatch{}, t0); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("another user's UpdateMessage: %v, want ErrNotFound", err)
			}
		})
	}
}

// Many turns at once on a fresh store, more than the pool has
// connections: preparing never waits on a connection a transaction holds.
func TestConcurrentTurnsOnFreshStore(t *testing.T) {
	for _, b := range backendtest.All {
		t.Run(b.Name, func(t *testing.T) {
			db := b.Open(t)
			setup(t, db)
			const n = 24
			for i := range n {
				if err := db.CreateConversation(t.Context(), store.Conversation{ID: fmt.Sprint("c", i), UserID: "u", CreatedAt: t0, UpdatedAt: t0}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					for k := range 3 {
						if err := turn(t.Context(), db, fmt.Sprint("c", i), k); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}
