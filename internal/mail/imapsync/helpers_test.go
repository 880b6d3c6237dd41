package imapsync_test

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/sqlitemail"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
)

// rig is one user with one account in a real sqlitemail store.
type rig struct {
	st   *recordingStore
	acct mail.Account
}

func newRig(t testing.TB, addr, username string) *rig {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "os1.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateUser(ctx, store.User{ID: "usr_ann", Username: "ann", DisplayName: "Ann", Role: store.RoleMember,
		PasswordHash: "x", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	acct := mail.Account{ID: "acc_1", UserID: "usr_ann", Name: "Home", Address: username + "@example.org",
		IMAP: mail.Endpoint{Host: host, Port: p, Security: mail.Plain}, Username: username, Auth: mail.AuthPassword,
		SyncDays: 30, CreatedAt: time.Now()}
	st := &recordingStore{Store: sqlitemail.New(db)}
	if err := st.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	return &rig{st: st, acct: acct}
}

// recordingStore records the UIDs of each PutMessages call, in order.
type recordingStore struct {
	mail.Store
	mu   sync.Mutex
	puts [][]uint32
}

func (s *recordingStore) PutMessages(ctx context.Context, userID string, ms []mail.Message) error {
	s.mu.Lock()
	var uids []uint32
	for _, m := range ms {
		uids = append(uids, m.UID)
	}
	s.puts = append(s.puts, uids)
	s.mu.Unlock()
	return s.Store.PutMessages(ctx, userID, ms)
}

func (s *recordingStore) count(t testing.TB, folder string) (n int, uids map[uint32]mail.Message) {
	t.Helper()
	uids = map[uint32]mail.Message{}
	before := time.Time{}
	for {
		page, err := s.Messages(context.Background(), "usr_ann", mail.Query{AccountID: "acc_1", Folder: folder, Limit: 500, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page {
			if _, dup := uids[m.UID]; dup {
				t.Fatalf("UID %d stored twice in %s", m.UID, folder)
			}
			uids[m.UID] = m
		}
		if len(page) < 500 {
			return len(uids), uids
		}
		before = page[len(page)-1].Date
	}
}

func rawMessage(i int, date time.Time) []byte {
	return fmt.Appendf(nil, "From: Sender %d <s%d@example.net>\r\nTo: ann@example.org\r\nSubject: message %d\r\n"+
		"Date: %s\r\nMessage-ID: <m%d@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody of message %d\r\n",
		i, i, i, date.Format(time.RFC1123Z), i, i)
}
