//go:build !race

package imapsync_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/imapsync"
)

// An attachment past 25 MB is refused while streaming, and one just
// under it is fetched whole (dovecot serves them: go-imap's in-memory
// server parses big messages slowly, and under -race reading 60 MB
// takes minutes, so this test runs without it).
func TestDovecotFetchPartCappedAt25MB(t *testing.T) {
	srv := dovecottest.Start(t)
	srv.AddUser("ann", "pw")
	under := bytes.Repeat([]byte("0123456789abcdef"), (imapsync.MaxPart-4096)/16)
	over := bytes.Repeat([]byte("0123456789abcdef"), (imapsync.MaxPart+4096)/16)
	srv.Deliver("ann", withAttachments(under))
	srv.Deliver("ann", withAttachments(over))
	r := newRig(t, srv.Addr, "ann")
	ctx := context.Background()
	creds := mail.Credentials{Password: "pw"}
	eng := &imapsync.Engine{}
	got, err := eng.FetchPart(ctx, r.acct, creds, "INBOX", 1, "2")
	if err != nil || !bytes.Equal(got, under) {
		t.Fatalf("just under 25 MB: %d bytes (want %d), %v", len(got), len(under), err)
	}
	if got, err := eng.FetchPart(ctx, r.acct, creds, "INBOX", 2, "2"); !errors.Is(err, imapsync.ErrPartTooLarge) || got != nil {
		t.Fatalf("over 25 MB: %d bytes, %v", len(got), err)
	}
	// The connection is still good after a refused part.
	if got, err := eng.FetchPart(ctx, r.acct, creds, "INBOX", 2, "3"); err != nil || !strings.HasPrefix(string(got), "Café") {
		t.Errorf("after the refusal: %q %v", got, err)
	}
}
