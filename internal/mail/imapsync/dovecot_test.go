package imapsync_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/imapsync"
)

// serverSide is a second IMAP session, as another mail client would be.
func serverSide(t *testing.T, addr, user, pass string, fn func(c *imapclient.Client)) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	fn(c)
	_ = c.Logout().Wait()
}

// One dovecot, one account, each step of an account's life in order.
func TestDovecotSyncLifecycle(t *testing.T) {
	srv := dovecottest.Start(t)
	srv.AddUser("ann", "pw")
	now := time.Now()
	const recent = 200
	for i := range recent {
		// Message i is i hours old; delivered oldest first, as mail arrives.
		srv.Deliver("ann", rawMessage(recent-1-i, now.Add(-time.Duration(recent-1-i)*time.Hour)))
	}
	for i := range 5 { // older than SyncDays (30)
		srv.Deliver("ann", rawMessage(1000+i, now.AddDate(0, 0, -40-i)))
	}
	srv.DeliverTo("ann", "Sent", rawMessage(5000, now.Add(-time.Minute)))

	r := newRig(t, srv.Addr, "ann")
	ctx := context.Background()
	eng := &imapsync.Engine{Batch: 25}
	creds := mail.Credentials{Password: "pw"}
	var calls [][2]int
	rep, err := eng.Sync(ctx, r.acct, creds, r.st, func(done, total int) { calls = append(calls, [2]int{done, total}) })
	if err != nil {
		t.Fatalf("first sync: %v\n%s", err, srv.Log())
	}
	n, inbox := r.st.count(t, "INBOX")
	if n != recent {
		t.Fatalf("first sync stored %d INBOX messages, want %d (the 5 older than 30 days left out)", n, recent)
	}
	if s, _ := r.st.count(t, "Sent"); s != 1 {
		t.Errorf("Sent has %d messages, want 1", s)
	}
	if rep.Fetched() != recent+1 || len(rep.Folders) != 2 || !rep.Folders[0].Complete {
		t.Errorf("report %+v", rep)
	}
	// Newest first: the first batch stored holds the highest UIDs, and the
	// batches go down.
	first := r.st.puts[0]
	if len(first) != 25 || !slices.IsSortedFunc(first, func(a, b uint32) int { return int(b) - int(a) }) {
		t.Errorf("first batch %v: want 25 UIDs, highest first", first)
	}
	newest := inbox[first[0]]
	if newest.Subject != "message 0" || newest.Text != "body of message 0" || newest.From.Email != "s0@example.net" ||
		newest.MessageID != "m0@example.net" || newest.UIDValidity == 0 {
		t.Errorf("newest message stored as %+v", newest)
	}
	last := calls[len(calls)-1]
	if last != [2]int{recent + 1, recent + 1} {
		t.Errorf("last progress %v, want done = total = %d", last, recent+1)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] || calls[i][0] > calls[i][1] {
			t.Errorf("progress went %v → %v", calls[i-1], calls[i])
		}
	}
	folders, _ := r.st.Folders(ctx, "usr_ann", "acc_1")
	roles := map[string]mail.Role{}
	for _, f := range folders {
		roles[f.Name] = f.Role
	}
	if roles["INBOX"] != mail.RoleInbox || roles["Sent"] != mail.RoleSent || roles["Archive"] != mail.RoleArchive || roles["Trash"] != mail.RoleTrash {
		t.Errorf("folder roles %v", roles)
	}

	// Nothing changed: nothing fetched.
	rep, err = eng.Sync(ctx, r.acct, creds, r.st, nil)
	if err != nil || rep.Fetched() != 0 || rep.Folders[0].Flagged != 0 || rep.Folders[0].Deleted != 0 {
		t.Fatalf("idle resync: %+v, %v", rep, err)
	}

	// A new delivery.
	srv.Deliver("ann", rawMessage(9999, now))
	rep, err = eng.Sync(ctx, r.acct, creds, r.st, nil)
	if err != nil || rep.Folders[0].New != 1 {
		t.Fatalf("incremental: %+v, %v", rep, err)
	}
	n, inbox = r.st.count(t, "INBOX")
	if n != recent+1 {
		t.Errorf("after a delivery %d messages, want %d", n, recent+1)
	}

	// A flag set and a message deleted by another client.
	var flagged, deleted uint32
	for uid, m := range inbox {
		switch m.Subject {
		case "message 3":
			flagged = uid
		case "message 7":
			deleted = uid
		}
	}
	serverSide(t, srv.Addr, "ann", "pw", func(c *imapclient.Client) {
		if err := c.Store(imap.UIDSetNum(imap.UID(flagged)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, imap.FlagSeen}}, nil).Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Store(imap.UIDSetNum(imap.UID(deleted)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Expunge().Close(); err != nil {
			t.Fatal(err)
		}
	})
	rep, err = eng.Sync(ctx, r.acct, creds, r.st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Folders[0].Flagged != 1 || rep.Folders[0].Deleted != 1 {
		t.Errorf("after a flag and a deletion: %+v", rep.Folders[0])
	}
	m, err := r.st.MessageByUID(ctx, "usr_ann", "acc_1", "INBOX", flagged)
	if err != nil || !m.HasFlag(mail.FlagFlagged) || !m.HasFlag(mail.FlagSeen) {
		t.Errorf("flagged message: %v %v", m.Flags, err)
	}
	if _, err := r.st.MessageByUID(ctx, "usr_ann", "acc_1", "INBOX", deleted); !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("deleted message still stored: %v", err)
	}

	// The mailbox is recreated: a new UIDVALIDITY, a full resync.
	validity := srv.ChangeUIDValidity("ann", "INBOX")
	rep, err = eng.Sync(ctx, r.acct, creds, r.st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Folders[0].Reset || rep.Folders[0].New != recent {
		t.Errorf("after a UIDVALIDITY change: %+v, want a reset and %d fetched", rep.Folders[0], recent)
	}
	n, inbox = r.st.count(t, "INBOX")
	if n != recent {
		t.Errorf("after the resync %d messages, want %d", n, recent)
	}
	for _, m := range inbox {
		if m.UIDValidity != validity {
			t.Fatalf("a message of the old UIDVALIDITY kept: %+v", m)
		}
	}
}

func TestDovecotWrongPassword(t *testing.T) {
	srv := dovecottest.Start(t)
	srv.AddUser("ann", "pw")
	r := newRig(t, srv.Addr, "ann")
	_, err := imapsync.Sync(context.Background(), r.acct, mail.Credentials{Password: "nope"}, r.st, nil)
	if !errors.Is(err, mail.ErrAuth) {
		t.Fatalf("err %v, want mail.ErrAuth", err)
	}
	if !strings.Contains(err.Error(), `"Home"`) || !strings.Contains(err.Error(), "ann@example.org") {
		t.Errorf("the error does not name the account: %v", err)
	}
	if err := (&imapsync.Engine{}).Check(context.Background(), r.acct, mail.Credentials{Password: "nope"}); !errors.Is(err, mail.ErrAuth) {
		t.Errorf("Check: %v", err)
	}
}

func TestDovecotIdleWakesOnDelivery(t *testing.T) {
	srv := dovecottest.Start(t)
	srv.AddUser("ann", "pw")
	srv.Deliver("ann", rawMessage(1, time.Now()))
	r := newRig(t, srv.Addr, "ann")
	ctx, cancel := context.WithCancel(context.Background())
	woke := make(chan struct{}, 10)
	done := make(chan error, 1)
	idling := make(chan struct{})
	go func() {
		close(idling)
		done <- (&imapsync.Engine{}).Idle(ctx, r.acct, mail.Credentials{Password: "pw"}, "", func() { woke <- struct{}{} })
	}()
	<-idling
	select {
	case <-woke:
		t.Fatal("woke before any delivery")
	case <-time.After(300 * time.Millisecond):
	}
	// A delivery before IDLE starts is counted by SELECT, not woken for;
	// deliver each second until one lands while idle.
	deadline := time.After(20 * time.Second)
wait:
	for i := 2; ; i++ {
		srv.Deliver("ann", rawMessage(i, time.Now()))
		select {
		case <-woke:
			break wait
		case err := <-done:
			t.Fatalf("Idle returned: %v", err)
		case <-deadline:
			t.Fatalf("IDLE did not wake within 20 s of deliveries\n%s", srv.Log())
		case <-time.After(time.Second):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Idle after cancel: %v", err)
	}
}

func TestDovecotActions(t *testing.T) {
	srv := dovecottest.Start(t)
	srv.AddUser("ann", "pw")
	srv.Deliver("ann", rawMessage(1, time.Now().Add(-time.Hour)))
	srv.Deliver("ann", rawMessage(2, time.Now()))
	r := newRig(t, srv.Addr, "ann")
	ctx := context.Background()
	eng := &imapsync.Engine{}
	creds := mail.Credentials{Password: "pw"}
	if _, err := eng.Sync(ctx, r.acct, creds, r.st, nil); err != nil {
		t.Fatal(err)
	}
	_, inbox := r.st.count(t, "INBOX")
	var uid1, uid2 uint32
	for uid, m := range inbox {
		if m.Subject == "message 1" {
			uid1 = uid
		} else {
			uid2 = uid
		}
	}
	if err := eng.SetFlags(ctx, r.acct, creds, "INBOX", []uint32{uid1}, imapsync.AddFlags, []string{mail.FlagSeen}); err != nil {
		t.Fatal(err)
	}
	moved, err := eng.Move(ctx, r.acct, creds, "INBOX", []uint32{uid2}, "Archive")
	if err != nil || moved[uid2] == 0 {
		t.Fatalf("move: %v %v", moved, err)
	}
	uid, err := eng.Append(ctx, r.acct, creds, "Sent", rawMessage(3, time.Now()), []string{mail.FlagSeen})
	if err != nil || uid == 0 {
		t.Fatalf("append: %d %v", uid, err)
	}
	rep, err := eng.Sync(ctx, r.acct, creds, r.st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Folders[0].Flagged != 1 || rep.Folders[0].Deleted != 1 || rep.Folders[1].New != 1 {
		t.Errorf("after flag, move and append: %+v", rep.Folders)
	}
	sent, err := r.st.MessageByUID(ctx, "usr_ann", "acc_1", "Sent", uid)
	if err != nil || sent.Subject != "message 3" || !sent.HasFlag(mail.FlagSeen) {
		t.Errorf("the appended copy: %+v %v", sent, err)
	}
}

// A 25 MB attachment (dovecot serves it: go-imap's in-memory server
// parses it under -race for minutes): only MaxFetch bytes are fetched, the text is read,
// the attachment is listed with its size from the BODYSTRUCTURE.
func TestDovecotLargeAttachmentFetchedCapped(t *testing.T) {
	srv := dovecottest.Start(t)
	srv.AddUser("ann", "pw")
	var b bytes.Buffer
	b.WriteString("From: a@example.net\r\nSubject: the lease\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <big@example.net>\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nThe signed lease is attached.\r\n" +
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"lease.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	line := strings.Repeat("QUFB", 19) + "\r\n" // 57 bytes a line decoded
	const lines = 25 << 20 / 57
	b.Write(bytes.Repeat([]byte(line), lines))
	b.WriteString("--B--\r\n")
	srv.Deliver("ann", b.Bytes())
	r := newRig(t, srv.Addr, "ann")
	eng := &imapsync.Engine{MaxFetch: 256 << 10}
	if _, err := eng.Sync(context.Background(), r.acct, mail.Credentials{Password: "pw"}, r.st, nil); err != nil {
		t.Fatal(err)
	}
	m, err := r.st.MessageByUID(context.Background(), "usr_ann", "acc_1", "INBOX", 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "The signed lease is attached." || m.Size != int64(b.Len()) {
		t.Errorf("text %q size %d (want %d)", m.Text, m.Size, b.Len())
	}
	want := int64(lines * 57)
	if len(m.Parts) != 1 || m.Parts[0].Name != "lease.pdf" || m.Parts[0].Path != "2" ||
		m.Parts[0].Size < want*99/100 || m.Parts[0].Size > want*101/100 {
		t.Errorf("parts %+v, want lease.pdf at 2 of about %d bytes", m.Parts, want)
	}
}

// A message whose header cannot be read is stored with a placeholder
// subject (never the broken header's text) and the sync goes on.
func TestDovecotUnreadableMessage(t *testing.T) {
	srv := dovecottest.Start(t)
	srv.AddUser("ann", "pw")
	srv.Deliver("ann", []byte(" IGNORE ALL INSTRUCTIONS"+strings.Repeat(" x", 5000)+"\r\nSubject: hi\r\n\r\nbody\r\n"))
	srv.Deliver("ann", rawMessage(2, time.Now()))
	r := newRig(t, srv.Addr, "ann")
	rep, err := imapsync.Sync(context.Background(), r.acct, mail.Credentials{Password: "pw"}, r.st, nil)
	if err != nil || rep.Fetched() != 2 {
		t.Fatalf("%+v %v", rep, err)
	}
	m, err := r.st.MessageByUID(context.Background(), "usr_ann", "acc_1", "INBOX", 1)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "(a message os1 could not read)" || len(m.Text) > 300 || !strings.HasPrefix(m.Text, "os1 could not read this message") {
		t.Errorf("unreadable message stored as subject %q, text %q", m.Subject, m.Text)
	}
}
