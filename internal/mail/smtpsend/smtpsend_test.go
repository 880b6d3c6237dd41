package smtpsend_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	gomail "github.com/emersion/go-message/mail"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/smtpsend"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
)

var start = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func compose(t *testing.T, d smtpsend.Draft) []byte {
	t.Helper()
	raw, err := smtpsend.Compose(d, clock.NewFake(start), clock.NewFakeIDs())
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestComposePlainText pins the whole message: headers, quoted-printable
// UTF-8 body, CRLF line ends.
func TestComposePlainText(t *testing.T) {
	d := smtpsend.Draft{
		From:       mail.Address{Name: "Theo Twombly", Email: "theo@example.com"},
		To:         []mail.Address{{Name: "Amy", Email: "amy@example.org"}},
		Cc:         []mail.Address{{Email: "paul@example.net"}},
		Subject:    "Re: Dîner vendredi",
		Body:       "Oui, avec plaisir — à vendredi.\nTheo",
		InReplyTo:  "abc@example.org",
		References: []string{"root@example.org", "abc@example.org"},
	}
	got := string(compose(t, d))
	want := "Date: Wed, 25 Nov 2026 09:00:00 +0000\r\n" +
		"From: \"Theo Twombly\" <theo@example.com>\r\n" +
		"To: \"Amy\" <amy@example.org>\r\n" +
		"Cc: <paul@example.net>\r\n" +
		"Subject: =?utf-8?q?Re:_D=C3=AEner_vendredi?=\r\n" +
		"Message-Id: <os1.0000000000000001@example.com>\r\n" +
		"In-Reply-To: <abc@example.org>\r\n" +
		"References: <root@example.org> <abc@example.org>\r\n" +
		"Mime-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"Oui, avec plaisir =E2=80=94 =C3=A0 vendredi.\r\n" +
		"Theo\r\n"
	if got != want {
		t.Fatalf("composed:\n%s\nwant:\n%s", got, want)
	}
	// And a reader of mail reads back what was written.
	r, err := gomail.CreateReader(strings.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	subj, _ := r.Header.Subject()
	if subj != d.Subject {
		t.Errorf("subject read back %q", subj)
	}
	p, err := r.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(p.Body)
	if string(body) != "Oui, avec plaisir — à vendredi.\r\nTheo\r\n" {
		t.Errorf("body read back %q", body)
	}
}

func TestComposeAttachments(t *testing.T) {
	d := smtpsend.Draft{
		From: mail.Address{Email: "theo@example.com"}, To: []mail.Address{{Email: "amy@example.org"}},
		Subject: "Photos", Body: "Here they are.",
		Attachments: []smtpsend.Attachment{
			{Name: "beach.jpg", MIME: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff, 0x00, 0x01}},
			{Name: "notes — été.txt", MIME: "text/plain", Data: []byte("hello")},
		},
	}
	raw := compose(t, d)
	if !bytes.Contains(raw, []byte("Content-Type: multipart/mixed; boundary=os1-")) {
		t.Fatalf("not multipart/mixed with our boundary:\n%s", raw)
	}
	if again := compose(t, d); !bytes.Equal(raw, again) {
		t.Error("the same draft with the same clock and ids composed different bytes")
	}
	r, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var text string
	var files []string
	var datas [][]byte
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		switch h := p.Header.(type) {
		case *gomail.InlineHeader:
			text = string(b)
		case *gomail.AttachmentHeader:
			name, _ := h.Filename()
			files = append(files, name)
			datas = append(datas, b)
		}
	}
	if text != "Here they are.\r\n" {
		t.Errorf("text part %q", text)
	}
	if len(files) != 2 || files[0] != "beach.jpg" || files[1] != "notes — été.txt" {
		t.Errorf("attachment names %q", files)
	}
	if len(datas) == 2 && (!bytes.Equal(datas[0], d.Attachments[0].Data) || string(datas[1]) != "hello") {
		t.Errorf("attachment bytes %q", datas)
	}
}

// TestComposeRefusesHeaderInjection: a line break in any header text
// would start a new header (a Bcc the user never saw); each is refused.
func TestComposeRefusesHeaderInjection(t *testing.T) {
	base := func() smtpsend.Draft {
		return smtpsend.Draft{From: mail.Address{Email: "theo@example.com"}, To: []mail.Address{{Email: "amy@example.org"}}, Subject: "hi", Body: "x"}
	}
	cases := map[string]func(*smtpsend.Draft){
		"subject CRLF":        func(d *smtpsend.Draft) { d.Subject = "hi\r\nBcc: evil@attacker.test" },
		"subject LF":          func(d *smtpsend.Draft) { d.Subject = "hi\nBcc: evil@attacker.test" },
		"subject NUL":         func(d *smtpsend.Draft) { d.Subject = "hi\x00" },
		"to name CRLF":        func(d *smtpsend.Draft) { d.To[0].Name = "Amy\r\nBcc: evil@attacker.test" },
		"from name LF":        func(d *smtpsend.Draft) { d.From.Name = "Theo\nBcc: evil@attacker.test" },
		"to address CRLF":     func(d *smtpsend.Draft) { d.To[0].Email = "amy@example.org\r\nBcc: evil@attacker.test" },
		"to address list":     func(d *smtpsend.Draft) { d.To[0].Email = "amy@example.org, evil@attacker.test" },
		"to address brackets": func(d *smtpsend.Draft) { d.To[0].Email = "Amy <evil@attacker.test>" },
		"cc address space":    func(d *smtpsend.Draft) { d.Cc = []mail.Address{{Email: "a@b.c d@e.f"}} },
		"no at sign":          func(d *smtpsend.Draft) { d.To[0].Email = "amy" },
		"attachment name LF": func(d *smtpsend.Draft) {
			d.Attachments = []smtpsend.Attachment{{Name: "a.txt\r\nBcc: x@y.z", MIME: "text/plain"}}
		},
		"attachment mime LF": func(d *smtpsend.Draft) {
			d.Attachments = []smtpsend.Attachment{{Name: "a.txt", MIME: "text/plain\r\nBcc: x@y.z"}}
		},
		"in-reply-to CRLF":   func(d *smtpsend.Draft) { d.InReplyTo = "a@b\r\nBcc: x@y.z" },
		"references bracket": func(d *smtpsend.Draft) { d.References = []string{"a@b> <c@d"} },
		"no recipient":       func(d *smtpsend.Draft) { d.To = nil },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			d := base()
			mutate(&d)
			raw, err := smtpsend.Compose(d, clock.NewFake(start), clock.NewFakeIDs())
			if !errors.Is(err, smtpsend.ErrHeader) {
				t.Fatalf("err = %v, want ErrHeader; composed:\n%s", err, raw)
			}
		})
	}
	// Bidi and zero-width characters are not line breaks: they are encoded, never raw.
	d := base()
	d.Subject = "Invoice \u202efdp.exe"
	raw := compose(t, d)
	if bytes.Contains(raw, []byte("\u202e")) || !bytes.Contains(raw, []byte("Subject: =?utf-8?")) {
		t.Errorf("bidi subject not encoded:\n%s", raw)
	}
}

func TestReplyTo(t *testing.T) {
	m := mail.Message{
		MessageID: "m3@example.org", References: []string{"m1@example.org", "m2@example.org"},
		From: mail.Address{Name: "Amy", Email: "amy@example.org"}, ReplyTo: []mail.Address{{Email: "amy.list@example.org"}},
		To:      []mail.Address{{Email: "theo@example.com"}, {Email: "charles@example.org"}},
		Cc:      []mail.Address{{Email: "THEO@example.com"}, {Email: "paul@example.net"}, {Email: "amy.list@example.org"}},
		Subject: "Dinner",
	}
	d := smtpsend.ReplyTo(m, "theo@example.com", "Yes!")
	if d.Subject != "Re: Dinner" || d.InReplyTo != "m3@example.org" || d.From.Email != "theo@example.com" {
		t.Errorf("reply %+v", d)
	}
	if strings.Join(d.References, " ") != "m1@example.org m2@example.org m3@example.org" {
		t.Errorf("references %q", d.References)
	}
	if len(d.To) != 1 || d.To[0].Email != "amy.list@example.org" || len(d.Cc) != 0 {
		t.Errorf("reply goes to %v cc %v, want Reply-To only", d.To, d.Cc)
	}
	m.ReplyTo = nil
	if d := smtpsend.ReplyTo(m, "theo@example.com", ""); d.To[0].Email != "amy@example.org" {
		t.Errorf("without Reply-To the reply goes to %v, want From", d.To)
	}
	all := smtpsend.ReplyAll(m, "theo@example.com", "")
	var cc []string
	for _, a := range all.Cc {
		cc = append(cc, a.Email)
	}
	if strings.Join(cc, " ") != "charles@example.org paul@example.net amy.list@example.org" {
		t.Errorf("reply-all cc %q, want the others without the user", cc)
	}
	for _, s := range []string{"Re: Dinner", "RE: Dinner", "re : Dinner"} {
		m.Subject = s
		if got := smtpsend.ReplyTo(m, "theo@example.com", "").Subject; got != strings.TrimSpace(s) {
			t.Errorf("subject %q became %q", s, got)
		}
	}
	m.Subject = "Reading list"
	if got := smtpsend.ReplyTo(m, "theo@example.com", "").Subject; got != "Re: Reading list" {
		t.Errorf("subject %q", got)
	}
	long := mail.Message{MessageID: "last@x"}
	for i := 0; i < 40; i++ {
		long.References = append(long.References, "r"+string(rune('a'+i%26))+"@x")
	}
	if refs := smtpsend.ReplyTo(long, "theo@example.com", "").References; len(refs) != 20 || refs[0] != "ra@x" || refs[19] != "last@x" {
		t.Errorf("long thread references %d: %v", len(refs), refs)
	}
}

func account(s *smtptest.Sink, auth mail.AuthKind) mail.Account {
	return mail.Account{ID: "acc_1", Name: "Work", Address: "theo@example.com", Username: "theo", Auth: auth, SMTP: s.Endpoint()}
}

// TestSendDeliversExactly sends through each kind of connection and checks
// the sink got the envelope and the bytes exactly.
func TestSendDeliversExactly(t *testing.T) {
	d := smtpsend.Draft{From: mail.Address{Email: "theo@example.com"}, To: []mail.Address{{Email: "amy@example.org"}},
		Cc: []mail.Address{{Email: "paul@example.net"}}, Subject: "Hello", Body: "One.\n.\nTwo (a lone dot line)."}
	raw := compose(t, d)
	for _, sec := range []mail.Security{mail.Plain, mail.StartTLS, mail.TLS} {
		for _, auth := range []mail.AuthKind{mail.AuthPassword, mail.AuthOAuth2} {
			t.Run(string(sec)+"/"+string(auth), func(t *testing.T) {
				sink := smtptest.Start(t, smtptest.Options{Security: sec, Passwords: map[string]string{"theo": "pw"}, Tokens: map[string]string{"theo": "tok"}})
				s := &smtpsend.Sender{TLS: &tls.Config{RootCAs: sink.RootCAs}}
				err := s.Send(context.Background(), account(sink, auth), mail.Credentials{Password: "pw", AccessToken: "tok"}, raw, d.From.Email, d.Recipients())
				if err != nil {
					t.Fatal(err)
				}
				got := sink.Deliveries()
				if len(got) != 1 {
					t.Fatalf("%d deliveries", len(got))
				}
				if got[0].User != "theo" || got[0].From != "theo@example.com" || strings.Join(got[0].Rcpts, ",") != "amy@example.org,paul@example.net" {
					t.Errorf("envelope %+v", got[0])
				}
				if !bytes.Equal(got[0].Data, raw) {
					t.Errorf("delivered bytes differ:\n%q\nwant\n%q", got[0].Data, raw)
				}
			})
		}
	}
}

func TestSendRefusedLoginNamesTheAccount(t *testing.T) {
	for _, auth := range []mail.AuthKind{mail.AuthPassword, mail.AuthOAuth2} {
		t.Run(string(auth), func(t *testing.T) {
			sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"theo": "pw"}, Tokens: map[string]string{"theo": "tok"}})
			err := smtpsend.Send(context.Background(), account(sink, auth), mail.Credentials{Password: "wrong", AccessToken: "expired"},
				[]byte("Subject: x\r\n\r\nx"), "theo@example.com", []string{"amy@example.org"})
			if !errors.Is(err, mail.ErrAuth) {
				t.Fatalf("err = %v, want ErrAuth", err)
			}
			if !strings.Contains(err.Error(), `"Work"`) || !strings.Contains(err.Error(), "theo@example.com") {
				t.Errorf("error %q does not name the account", err)
			}
			if n := len(sink.Deliveries()); n != 0 || sink.FailedLogins() != 1 {
				t.Errorf("deliveries %d, failed logins %d", n, sink.FailedLogins())
			}
		})
	}
}

func TestSendRefusesPlainToARemoteHost(t *testing.T) {
	a := mail.Account{Name: "Work", Address: "theo@example.com", SMTP: mail.Endpoint{Host: "smtp.example.com", Port: 25, Security: mail.Plain}}
	err := smtpsend.Send(context.Background(), a, mail.Credentials{Password: "pw"}, []byte("x"), "theo@example.com", []string{"amy@example.org"})
	if !errors.Is(err, smtpsend.ErrInsecure) {
		t.Fatalf("err = %v, want ErrInsecure", err)
	}
}

func TestSendRefusesInjectedEnvelope(t *testing.T) {
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"theo": "pw"}})
	for _, rcpt := range []string{"amy@example.org>\r\nRCPT TO:<evil@attacker.test", "amy@example.org evil@attacker.test", ""} {
		err := smtpsend.Send(context.Background(), account(sink, mail.AuthPassword), mail.Credentials{Password: "pw"}, []byte("x"), "theo@example.com", []string{rcpt})
		if !errors.Is(err, smtpsend.ErrHeader) {
			t.Errorf("rcpt %q: err = %v, want ErrHeader", rcpt, err)
		}
	}
	if n := len(sink.Deliveries()); n != 0 {
		t.Errorf("%d deliveries", n)
	}
}

func TestSendHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"theo": "pw"}})
	err := smtpsend.Send(ctx, account(sink, mail.AuthPassword), mail.Credentials{Password: "pw"}, []byte("x"), "theo@example.com", []string{"amy@example.org"})
	if err == nil || len(sink.Deliveries()) != 0 {
		t.Fatalf("a cancelled send: err %v, %d deliveries", err, len(sink.Deliveries()))
	}
}
