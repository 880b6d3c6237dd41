package imapsync_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/imapsync"
)

// An invitation delivered to dovecot is stored marked as one (its
// text/calendar part's method), whether the message is parsed whole or,
// too big to fetch, read from its BODYSTRUCTURE; the calendar part is
// fetched back byte for byte.
func TestDovecotInvitationIsMarked(t *testing.T) {
	srv := dovecottest.Start(t)
	srv.AddUser("ann", "pw")
	const ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:u1@example.org\r\n" +
		"DTSTART:20261216T150000Z\r\nSUMMARY:Design review\r\nORGANIZER:mailto:bo@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	invite := func(id string, pad int) []byte {
		var b bytes.Buffer
		b.WriteString("From: Bo <bo@example.org>\r\nTo: ann@example.com\r\nSubject: Invitation: Design review\r\nDate: " +
			time.Now().Format(time.RFC1123Z) + "\r\nMessage-ID: <" + id + ">\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=M\r\n\r\n--M\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n" +
			"--A\r\nContent-Type: text/plain\r\n\r\nYou are invited.\r\n" +
			"--A\r\nContent-Type: text/calendar; charset=UTF-8; method=REQUEST\r\n\r\n" + ics + "--A--\r\n")
		if pad > 0 {
			b.WriteString("--M\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"agenda.pdf\"\r\n" +
				"Content-Transfer-Encoding: base64\r\n\r\n" + strings.Repeat(strings.Repeat("QUFB", 19)+"\r\n", pad))
		}
		b.WriteString("--M--\r\n")
		return b.Bytes()
	}
	srv.Deliver("ann", invite("small@example.org", 0))
	srv.Deliver("ann", invite("big@example.org", 20000)) // about 1.5 MB, over MaxFetch below
	r := newRig(t, srv.Addr, "ann")
	eng := &imapsync.Engine{MaxFetch: 256 << 10}
	creds := mail.Credentials{Password: "pw"}
	ctx := context.Background()
	if _, err := eng.Sync(ctx, r.acct, creds, r.st, nil); err != nil {
		t.Fatalf("%v\n%s", err, srv.Log())
	}
	for uid := uint32(1); uid <= 2; uid++ {
		m, err := r.st.MessageByUID(ctx, "usr_ann", "acc_1", "INBOX", uid)
		if err != nil {
			t.Fatal(err)
		}
		p, ok := m.Invitation()
		if !ok || p.Method != "REQUEST" || p.MIME != "text/calendar" || p.Path != "1.2" {
			t.Fatalf("message %d: invitation %+v %v (parts %+v)", uid, p, ok, m.Parts)
		}
		data, err := eng.FetchPart(ctx, r.acct, creds, "INBOX", uid, p.Path)
		if err != nil || string(data) != strings.TrimSuffix(ics, "\r\n") { // the CRLF before a boundary is the boundary's
			t.Errorf("message %d: the calendar fetched: %q %v", uid, data, err)
		}
	}
}
