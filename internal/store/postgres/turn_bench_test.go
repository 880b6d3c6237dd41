//go:build unix

package postgres_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/store"
)

// BenchmarkTurnWrites is the core store's share of one conversation turn,
// the calls internal/companion and the server make, in order: the
// request's API token (looked up and touched), the conversation's
// ownership check, the user's profile, account and persona, the recent
// messages for the prompt, the user's message appended, the assistant's
// streaming reply appended, five streaming saves of its content (one a
// second), and the final save. One op is one turn. Besides wall time it
// reports cpu-ns/op, the CPU this process spent per turn (user + system,
// all threads): on a busy machine that moves less than ns/op, and it is
// os1's share alone (PostgreSQL's server runs in processes of its own):
//
//	go test -run '^$' -bench TurnWrites -benchmem -count 5 ./internal/store/postgres/
func BenchmarkTurnWrites(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			s := backends(b)[name](b)
			const convs = 20
			seed(b, s, convs, 20)
			ctx := b.Context()
			if err := s.CreateAPIToken(ctx, store.APIToken{ID: "t", UserID: "u", Name: "bench", TokenHash: "hash", CreatedAt: benchT0}); err != nil {
				b.Fatal(err)
			}
			if err := s.SaveProfile(ctx, store.Profile{UserID: "u", Timezone: "UTC", OnboardedAt: benchT0, UpdatedAt: benchT0}); err != nil {
				b.Fatal(err)
			}
			if err := s.SavePersona(ctx, store.Persona{UserID: "u", Name: "Sam", NamedAt: benchT0, UpdatedAt: benchT0}); err != nil {
				b.Fatal(err)
			}
			reply := strings.Repeat("a sentence of a reply ", 14)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			for i := range b.N {
				at := benchT0.Add(time.Hour + time.Duration(i)*time.Second)
				conv := fmt.Sprintf("c%d", i%convs)
				tok, err := s.APITokenByHash(ctx, "hash")
				if err != nil {
					b.Fatal(err)
				}
				if err := s.TouchAPIToken(ctx, tok.ID, at); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Conversation(ctx, "u", conv); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Profile(ctx, "u"); err != nil {
					b.Fatal(err)
				}
				if _, err := s.UserByID(ctx, "u"); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Persona(ctx, "u"); err != nil {
					b.Fatal(err)
				}
				if msgs, err := s.RecentMessages(ctx, "u", conv, 40); err != nil || len(msgs) == 0 {
					b.Fatalf("%d recent messages, %v", len(msgs), err)
				}
				user := benchMsg(conv, fmt.Sprintf("t%d-u", i), 0)
				user.CreatedAt, user.UpdatedAt = at, at
				if err := s.AppendMessage(ctx, user); err != nil {
					b.Fatal(err)
				}
				asst := store.Message{ID: fmt.Sprintf("t%d-a", i), ConversationID: conv, UserID: "u",
					Role: store.RoleAssistant, Status: store.StatusStreaming, CreatedAt: at, UpdatedAt: at}
				if err := s.AppendMessage(ctx, asst); err != nil {
					b.Fatal(err)
				}
				for k := 1; k <= 5; k++ {
					content := reply[:len(reply)*k/6]
					if err := s.UpdateMessage(ctx, "u", asst.ID, store.MessagePatch{Content: &content}, at.Add(time.Duration(k)*time.Second)); err != nil {
						b.Fatal(err)
					}
				}
				status, finish := store.StatusComplete, "stop"
				if err := s.UpdateMessage(ctx, "u", asst.ID, store.MessagePatch{Content: &reply, Status: &status, Finish: &finish},
					at.Add(6*time.Second)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the CPU time this process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
