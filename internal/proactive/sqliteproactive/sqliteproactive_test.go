package sqliteproactive_test

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/proactive"
	"github.com/os1ai/os1/internal/proactive/proactivetest"
	"github.com/os1ai/os1/internal/proactive/sqliteproactive"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/store/sqlite/sqlitetest"
)

var (
	open    = sqlitetest.Open
	newUser = sqlitetest.User
)

// say stores a message the user wrote at at, in a conversation of its own.
func say(t *testing.T, db *sqlite.DB, userID string, at time.Time) {
	t.Helper()
	id := userID + at.Format("150405")
	if err := db.CreateConversation(t.Context(), store.Conversation{ID: "conv_" + id, UserID: userID, Title: "t", CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendMessage(t.Context(), store.Message{ID: "msg_" + id, ConversationID: "conv_" + id, UserID: userID,
		Role: store.RoleUser, Content: "hi", Status: store.StatusComplete, CreatedAt: at, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
}

func TestProactiveContract(t *testing.T) {
	proactivetest.Run(t, func(t *testing.T) (proactive.Store, func(string) string, func(string, time.Time)) {
		db := open(t)
		return sqliteproactive.New(db), func(name string) string { return newUser(t, db, name) },
			func(u string, at time.Time) { say(t, db, u, at) }
	})
}

// Deleting a user deletes their settings and log (the foreign keys cascade).
func TestUserDeletionRemovesAll(t *testing.T) {
	db := open(t)
	st := sqliteproactive.New(db)
	ana := newUser(t, db, "ana")
	s := proactive.Defaults()
	s.DailyCount = 1
	if err := st.SaveSettings(t.Context(), ana, s); err != nil {
		t.Fatal(err)
	}
	if err := st.Add(t.Context(), proactive.Entry{ID: "pro_1", UserID: ana, Trigger: proactive.TriggerMail, Key: "k",
		Reason: "r", Outcome: proactive.Held, Hold: proactive.HoldMuted, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(t.Context(), ana); err != nil {
		t.Fatal(err)
	}
	var n int
	db.SQL().QueryRow(`SELECT (SELECT count(*) FROM proactive_settings) + (SELECT count(*) FROM proactive_log)`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows outlived their user", n)
	}
}
