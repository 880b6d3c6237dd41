package mail_test

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/imapsync"
)

type imapLiteral struct{ *bytes.Reader }

func (l imapLiteral) Size() int64 { return l.Reader.Size() }

type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}

// TestBulkArchiveOverIMAP: the approved batch moves the mail on a real
// IMAP server (go-imap's in-memory one) with imapsync.Engine, and os1's
// store agrees with the server, so the next sync adds nothing twice.
func TestBulkArchiveOverIMAP(t *testing.T) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("ana", "pw")
	for _, name := range []string{"INBOX", "Archive"} {
		if err := u.Create(name, nil); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps: imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}, InsecureAuth: true, Logger: quietLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	r := newRig(t)
	now := r.clock.Now()
	put := func(from string, i int, seen bool) {
		date := now.Add(-time.Duration(i+1) * time.Hour)
		raw := fmt.Appendf(nil, "From: <%s>\r\nTo: ana@example.org\r\nSubject: note %d\r\nDate: %s\r\nMessage-ID: <%s.%d@x>\r\n"+
			"Content-Type: text/plain; charset=utf-8\r\n\r\nbody %d\r\n", from, i, date.Format(time.RFC1123Z), from, i, i)
		var opts imap.AppendOptions
		opts.Time = date
		if seen {
			opts.Flags = []imap.Flag{imap.FlagSeen}
		}
		if _, err := u.Append("INBOX", imapLiteral{bytes.NewReader(raw)}, &opts); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		put("promo@shop.example", i, false)
		put("friend@example.org", i, true)
	}
	engine := &imapsync.Engine{Now: r.clock.Now}
	r.svc.Syncer = imapsync.Syncer{Engine: engine}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	in := input("ana@example.org", "pw")
	in.IMAP, in.Username = mail.Endpoint{Host: "127.0.0.1", Port: p, Security: mail.Plain}, "ana"
	a, err := r.svc.AddAccount(t.Context(), r.ana, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Sync(t.Context(), r.ana, a.ID); err != nil {
		t.Fatal(err)
	}
	bulk := &mail.Bulk{Service: r.svc, Mover: engine}
	sug, err := bulk.ArchiveSuggestions(t.Context(), r.ana)
	if err != nil || len(sug) != 1 || sug[0].Sender != "promo@shop.example" || sug[0].Messages != 5 {
		t.Fatalf("suggestions: %+v %v", sug, err)
	}
	res, err := bulk.Archive(t.Context(), r.ana, []string{"promo@shop.example"})
	if err != nil || res[0].Status != mail.StatusDone || res[0].Moved != 5 || res[0].Message != "Archived 5 messages from promo@shop.example." {
		t.Fatalf("archive: %+v %v", res, err)
	}
	onServer := func(folder string) uint32 {
		t.Helper()
		sess := mem.NewSession()
		defer sess.Close()
		if err := sess.Login("ana", "pw"); err != nil {
			t.Fatal(err)
		}
		data, err := sess.Status(folder, &imap.StatusOptions{NumMessages: true})
		if err != nil {
			t.Fatal(err)
		}
		return *data.NumMessages
	}
	if in, ar := onServer("INBOX"), onServer("Archive"); in != 5 || ar != 5 {
		t.Fatalf("on the server: INBOX %d, Archive %d", in, ar)
	}
	count := func(folder string) int {
		ms, err := r.svc.Store.Messages(t.Context(), r.ana, mail.Query{Folder: folder, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}
	if count("INBOX") != 5 || count("Archive") != 5 {
		t.Fatalf("in the store: INBOX %d, Archive %d", count("INBOX"), count("Archive"))
	}
	if _, err := r.svc.Sync(t.Context(), r.ana, a.ID); err != nil {
		t.Fatal(err)
	}
	if count("INBOX") != 5 || count("Archive") != 5 {
		t.Fatalf("after the next sync: INBOX %d, Archive %d", count("INBOX"), count("Archive"))
	}
}
