package dovecottest

import (
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"
)

func TestStartDeliverLogin(t *testing.T) {
	s := Start(t)
	s.AddUser("alice", "pw")
	s.Deliver("alice", []byte("From: a@x\r\nSubject: one\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n\r\nhi\r\n"))
	s.DeliverTo("alice", "Sent", []byte("From: alice@x\r\nSubject: sent\r\n\r\nhi\r\n"))

	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", "pw").Wait(); err != nil {
		t.Fatalf("login: %v\n%s", err, s.Log())
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 1 {
		t.Errorf("INBOX has %d messages, want 1", sel.NumMessages)
	}
	old := sel.UIDValidity
	sent, err := c.Select("Sent", nil).Wait()
	if err != nil || sent.NumMessages != 1 {
		t.Fatalf("Sent: %v, %+v", err, sent)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}

	next := s.ChangeUIDValidity("alice", "INBOX")
	c2, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Login("alice", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err = c2.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.UIDValidity == old || sel.UIDValidity != next || sel.NumMessages != 1 {
		t.Errorf("after ChangeUIDValidity: validity %d (was %d, want %d), %d messages", sel.UIDValidity, old, next, sel.NumMessages)
	}

	// Last: dovecot delays every login from an address after a failure.
	c3, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if err := c3.Login("alice", "wrong").Wait(); err == nil {
		t.Fatal("a wrong password logged in")
	}
}
