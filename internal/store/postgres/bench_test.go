package postgres_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/pgtest"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// The store's hottest calls on both backends, side by side:
//
//	go test -run '^$' -bench . ./internal/store/postgres/
//
// PostgreSQL is pgtest's local server (loopback TCP, fsync off), SQLite a
// file in a temp dir (WAL, synchronous=normal): neither waits for the disk
// on commit, so the numbers compare the query paths.
func backends(b *testing.B) map[string]func(b *testing.B) store.Store {
	return map[string]func(b *testing.B) store.Store{
		"sqlite": func(b *testing.B) store.Store {
			db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "os1.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			return db
		},
		"postgres": func(b *testing.B) store.Store { return open(b, pgtest.New(b)) },
	}
}

var benchT0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// seed makes user u with convs conversations of msgs messages each.
func seed(b *testing.B, s store.Store, convs, msgs int) {
	b.Helper()
	ctx := b.Context()
	if err := s.CreateUser(ctx, store.User{ID: "u", Username: "u", Role: store.RoleOwner, CreatedAt: benchT0}); err != nil {
		b.Fatal(err)
	}
	for c := range convs {
		id := fmt.Sprintf("c%d", c)
		if err := s.CreateConversation(ctx, store.Conversation{ID: id, UserID: "u", CreatedAt: benchT0, UpdatedAt: benchT0}); err != nil {
			b.Fatal(err)
		}
		for i := range msgs {
			if err := s.AppendMessage(ctx, benchMsg(id, fmt.Sprintf("%s-m%d", id, i), i)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchMsg is a typical chat message (~300 bytes).
func benchMsg(conv, id string, i int) store.Message {
	role := store.RoleUser
	if i%2 == 1 {
		role = store.RoleAssistant
	}
	return store.Message{ID: id, ConversationID: conv, UserID: "u", Role: role,
		Content: strings.Repeat("a sentence of a reply ", 14), Status: store.StatusComplete,
		CreatedAt: benchT0.Add(time.Duration(i) * time.Second), UpdatedAt: benchT0}
}

// AppendMessage, one caller at a time.
func BenchmarkAppendMessage(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := backends(b)[name](b)
			seed(b, s, 1, 0)
			b.ResetTimer()
			for i := range b.N {
				if err := s.AppendMessage(b.Context(), benchMsg("c0", fmt.Sprintf("m%d", i), i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// AppendMessage from 8 callers at once per CPU, each to a conversation of
// its own (many users' turns at the same time).
func BenchmarkAppendMessageParallel(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := backends(b)[name](b)
			const convs = 64
			seed(b, s, convs, 0)
			var next atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := next.Add(1)
					conv := fmt.Sprintf("c%d", n%convs)
					if err := s.AppendMessage(b.Context(), benchMsg(conv, fmt.Sprintf("p%d", n), int(n))); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// Messages of a conversation of 50 messages (what every turn reads).
func BenchmarkMessages(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := backends(b)[name](b)
			seed(b, s, 20, 50)
			b.ResetTimer()
			for i := range b.N {
				msgs, err := s.Messages(b.Context(), "u", fmt.Sprintf("c%d", i%20))
				if err != nil || len(msgs) != 50 {
					b.Fatalf("%d messages, %v", len(msgs), err)
				}
			}
		})
	}
}
