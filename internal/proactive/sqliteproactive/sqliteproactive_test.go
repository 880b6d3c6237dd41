package sqliteproactive_test

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/proactive/proactivetest"
	"github.com/os1ai/os1/internal/proactive/sqliteproactive"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/backendtest"
	"github.com/os1ai/os1/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// db is a core store of either dialect.
type db = backendtest.DB

// backends run every test on SQLite and on a real PostgreSQL 15.
var backends = backendtest.All

var day = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// newUser creates the member "usr_"+name and returns its id.
func newUser(t *testing.T, d db, name string) string {
	t.Helper()
	id := "usr_" + name
	if err := d.CreateUser(t.Context(), store.User{ID: id, Username: name, DisplayName: name, Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: day}); err != nil {
		t.Fatal(err)
	}
	return id
}

// say stores a message the user wrote at at, in a conversation of its own.
func say(t *testing.T, d db, userID string, at time.Time) {
	t.Helper()
	id := userID + at.Format("150405")
	if err := d.CreateConversation(t.Context(), store.Conversation{ID: "conv_" + id, UserID: userID, Title: "t", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := d.AppendMessage(t.Context(), store.Message{ID: "msg_" + id, ConversationID: "conv_" + id, UserID: userID,
		Role: store.RoleUser, Content: "hi", Status: store.StatusComplete, CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
}

func TestProactiveContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			proactivetest.Run(t, func(t *testing.T) (proactive.Store, func(string) string, func(string, time.Time)) {
				d := b.Open(t)
				return sqliteproactive.New(d), func(name string) string { return newUser(t, d, name) },
					func(u string, at time.Time) { say(t, d, u, at) }
			})
		})
	}
}

// Deleting a user deletes their settings and log (the foreign keys cascade).
func TestUserDeletionRemovesAll(t *testing.T) {
	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			d := b.Open(t)
			st := sqliteproactive.New(d)
			ana := newUser(t, d, "ana")
			s := proactive.Defaults()
			s.DailyCount = 1
			if err := st.SaveSettings(t.Context(), ana, s); err != nil {
				t.Fatal(err)
			}
			if err := st.Add(t.Context(), proactive.Entry{ID: "pro_1", UserID: ana, Trigger: proactive.TriggerMail, Key: "k",
				Reason: "r", Outcome: proactive.Held, Hold: proactive.HoldMuted, At: day}); err != nil {
				t.Fatal(err)
			}
			if err := d.DeleteUser(t.Context(), ana); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := d.SQL().QueryRow(`SELECT (SELECT count(*) FROM proactive_settings) + (SELECT count(*) FROM proactive_log)`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%d rows outlived their user", n)
			}
		})
	}
}
