package imapsync_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/imapsync"
)

// withAttachments is a message with a base64 PDF at part 2 and a
// quoted-printable text file at part 3.
func withAttachments(pdf []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: amy@example.org\r\nTo: ann@example.org\r\nSubject: the menu\r\nMessage-ID: <menu@example.org>\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nThe menu is attached.\r\n" +
		"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"menu.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(pdf)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	b.WriteString("--B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9 at eight =3D fine\r\n--B--\r\n")
	return b.Bytes()
}

func TestFetchPartDecodesAndLeavesUnread(t *testing.T) {
	addr, u := memServer(t, nil)
	pdf := bytes.Repeat([]byte("%PDF-1.7 \x00\xff binary "), 500)
	appendTo(t, u, "INBOX", withAttachments(pdf), time.Now())
	r := newRig(t, addr, "ann")
	ctx := context.Background()
	creds := mail.Credentials{Password: "pw"}
	eng := &imapsync.Engine{}
	got, err := eng.FetchPart(ctx, r.acct, creds, "INBOX", 1, "2")
	if err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("part 2: %d bytes (want %d), %v", len(got), len(pdf), err)
	}
	got, err = eng.FetchPart(ctx, r.acct, creds, "INBOX", 1, "3")
	if err != nil || string(got) != "Café at eight = fine" {
		t.Errorf("part 3: %q %v", got, err)
	}
	for _, bad := range []string{"4", "2.1"} {
		if _, err := eng.FetchPart(ctx, r.acct, creds, "INBOX", 1, bad); !errors.Is(err, mail.ErrNotFound) {
			t.Errorf("part %s: %v, want ErrNotFound", bad, err)
		}
	}
	if _, err := eng.FetchPart(ctx, r.acct, creds, "INBOX", 1, "x"); err == nil {
		t.Error("part x fetched")
	}
	if _, err := eng.FetchPart(ctx, r.acct, creds, "INBOX", 9, "2"); !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("message 9: %v, want ErrNotFound", err)
	}
	// Past the cap the part is refused while streaming; the pooled
	// connection stays good.
	if got, err := eng.FetchPartUpTo(ctx, r.acct, creds, "INBOX", 1, "2", int64(len(pdf)-1)); !errors.Is(err, imapsync.ErrPartTooLarge) || got != nil {
		t.Errorf("capped one byte short: %d bytes, %v", len(got), err)
	}
	if got, err := eng.FetchPartUpTo(ctx, r.acct, creds, "INBOX", 1, "2", int64(len(pdf))); err != nil || !bytes.Equal(got, pdf) {
		t.Errorf("capped at its size: %d bytes, %v", len(got), err)
	}
	// BODY.PEEK: fetching attachments does not mark the message read.
	if _, err := eng.Sync(ctx, r.acct, creds, r.st, nil); err != nil {
		t.Fatal(err)
	}
	m, err := r.st.MessageByUID(ctx, "usr_ann", "acc_1", "INBOX", 1)
	if err != nil || m.HasFlag(mail.FlagSeen) {
		t.Errorf("flags after fetching parts: %v %v", m.Flags, err)
	}
}
