package imapsync_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/imapsync"
)

type literal struct {
	*bytes.Reader
}

func (l literal) Size() int64 { return l.Reader.Size() }

// memServer is go-imap's in-memory server with user ann (password pw),
// INBOX and Sent, listening on loopback. It has no SPECIAL-USE and no
// CONDSTORE: roles come from names, flags from a FLAGS refetch.
func memServer(t *testing.T, wrap func(imapserver.Session) imapserver.Session) (addr string, user *imapmemserver.User) {
	t.Helper()
	mem := imapmemserver.New()
	user = imapmemserver.NewUser("ann", "pw")
	for _, name := range []string{"INBOX", "Sent", "Archive"} {
		if err := user.Create(name, nil); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(user)
	caps := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	if wrap != nil {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			s := mem.NewSession()
			if wrap != nil {
				s = wrap(s)
			}
			return s, nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), user
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

func appendTo(t *testing.T, u *imapmemserver.User, folder string, raw []byte, date time.Time) {
	t.Helper()
	if _, err := u.Append(folder, literal{bytes.NewReader(raw)}, &imap.AppendOptions{Time: date}); err != nil {
		t.Fatal(err)
	}
}

func TestMemServerSyncAndFlagsWithoutCondstore(t *testing.T) {
	addr, u := memServer(t, nil)
	now := time.Now()
	for i := 9; i >= 0; i-- {
		appendTo(t, u, "INBOX", rawMessage(i, now.AddDate(0, 0, -i)), now.AddDate(0, 0, -i))
	}
	appendTo(t, u, "Sent", rawMessage(100, now), now)
	r := newRig(t, addr, "ann")
	ctx := context.Background()
	creds := mail.Credentials{Password: "pw"}
	eng := &imapsync.Engine{Batch: 3}
	rep, err := eng.Sync(ctx, r.acct, creds, r.st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Folders) != 2 || rep.Folders[0].New != 10 || rep.Folders[1].Name != "Sent" || rep.Folders[1].New != 1 {
		t.Fatalf("report %+v (roles guessed from names)", rep.Folders)
	}
	// A flag set by another client, seen by a FLAGS refetch.
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("ann", "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagAnswered}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	rep, err = eng.Sync(ctx, r.acct, creds, r.st, nil)
	if err != nil || rep.Folders[0].Flagged != 1 || rep.Folders[0].New != 0 {
		t.Fatalf("after a flag change: %+v %v", rep.Folders, err)
	}
	m, err := r.st.MessageByUID(ctx, "usr_ann", "acc_1", "INBOX", 2)
	if err != nil || !m.HasFlag(mail.FlagAnswered) {
		t.Errorf("flags %v %v", m.Flags, err)
	}
}

func TestPlainOnlyToLoopback(t *testing.T) {
	acct := mail.Account{Name: "Work", Address: "a@example.org", IMAP: mail.Endpoint{Host: "imap.example.org", Port: 143, Security: mail.Plain}}
	err := (&imapsync.Engine{}).Check(context.Background(), acct, mail.Credentials{Password: "x"})
	if err == nil || !strings.Contains(err.Error(), "loopback") || !strings.Contains(err.Error(), `"Work"`) {
		t.Errorf("plain IMAP to a remote host: %v", err)
	}
}

// xoauth2Session accepts XOAUTH2 with one token, as ann.
type xoauth2Session struct {
	imapserver.Session
	token string
	got   *atomic.Value
}

func (s xoauth2Session) AuthenticateMechanisms() []string { return []string{"XOAUTH2"} }

func (s xoauth2Session) Authenticate(mech string) (sasl.Server, error) {
	return xoauth2Server{s}, nil
}

type xoauth2Server struct{ s xoauth2Session }

func (x xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	x.s.got.Store(string(resp))
	if string(resp) != "user=ann\x01auth=Bearer "+x.s.token+"\x01\x01" {
		return nil, true, imapserver.ErrAuthFailed
	}
	return nil, true, x.s.Login("ann", "pw")
}

func TestXOAUTH2(t *testing.T) {
	var got atomic.Value
	addr, u := memServer(t, func(s imapserver.Session) imapserver.Session {
		return xoauth2Session{Session: s, token: "tok-123", got: &got}
	})
	appendTo(t, u, "INBOX", rawMessage(1, time.Now()), time.Now())
	r := newRig(t, addr, "ann")
	r.acct.Auth = mail.AuthOAuth2
	rep, err := imapsync.Sync(context.Background(), r.acct, mail.Credentials{AccessToken: "tok-123"}, r.st, nil)
	if err != nil || rep.Fetched() != 1 {
		t.Fatalf("XOAUTH2 sync: %+v %v (server got %q)", rep, err, got.Load())
	}
	_, err = imapsync.Sync(context.Background(), r.acct, mail.Credentials{AccessToken: "expired"}, r.st, nil)
	if !errors.Is(err, mail.ErrAuth) {
		t.Errorf("a refused token: %v, want mail.ErrAuth", err)
	}
}

// cutProxy forwards to target; the first connection is cut after the
// server has sent cut bytes.
type cutProxy struct {
	target string
	cut    int64
	conns  atomic.Int32
	wg     sync.WaitGroup
}

func (p *cutProxy) start(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := p.conns.Add(1)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer c.Close()
				s, err := net.Dial("tcp", p.target)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { _, _ = io.Copy(s, c); s.Close() }()
				if n == 1 {
					_, _ = io.CopyN(c, s, p.cut)
					return // cut both ways
				}
				_, _ = io.Copy(c, s)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestConnectionDroppedMidFetchResumes(t *testing.T) {
	addr, u := memServer(t, nil)
	now := time.Now()
	const total = 60
	for i := total - 1; i >= 0; i-- { // one a day, oldest first
		appendTo(t, u, "INBOX", rawMessage(i, now.AddDate(0, 0, -i)), now.AddDate(0, 0, -i))
	}
	proxy := &cutProxy{target: addr, cut: 9000}
	r := newRig(t, proxy.start(t), "ann")
	r.acct.SyncDays = 365
	ctx := context.Background()
	creds := mail.Credentials{Password: "pw"}
	eng := &imapsync.Engine{Batch: 5}
	_, err := eng.Sync(ctx, r.acct, creds, r.st, nil)
	if err == nil {
		t.Fatal("a sync cut off mid-FETCH reported no error")
	}
	if !strings.Contains(err.Error(), `"Home"`) || !strings.Contains(err.Error(), "INBOX") || !strings.Contains(err.Error(), "connection") {
		t.Errorf("the error does not say which account and folder: %v", err)
	}
	t.Logf("cut: %v", err)
	got, _ := r.st.count(t, "INBOX")
	if got == 0 || got >= total {
		t.Fatalf("the cut sync stored %d of %d; the cut should land mid-way (adjust cut)", got, total)
	}
	folders, _ := r.st.Folders(ctx, "usr_ann", "acc_1")
	var inbox mail.Folder
	for _, f := range folders {
		if f.Name == "INBOX" {
			inbox = f
		}
	}
	if inbox.Complete || inbox.SyncedTo.IsZero() {
		t.Errorf("after the cut: %+v, want incomplete with SyncedTo", inbox)
	}

	rep, err := eng.Sync(ctx, r.acct, creds, r.st, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := r.st.count(t, "INBOX") // fails on a duplicate UID
	t.Logf("stored %d after the cut, resumed fetch %d", got, rep.Folders[0].New)
	if n != total || !rep.Folders[0].Complete {
		t.Fatalf("after resuming: %d of %d, %+v", n, total, rep.Folders[0])
	}
	// Resumed below the day reached: what was stored is not fetched again.
	if rep.Folders[0].New > total-got {
		t.Errorf("the resumed sync fetched %d; %d were missing", rep.Folders[0].New, total-got)
	}
}

type countingSession struct {
	imapserver.Session
	logins *atomic.Int32
}

func (s countingSession) Login(user, pass string) error {
	s.logins.Add(1)
	return s.Session.Login(user, pass)
}

func TestKeepOpenReusesTheSession(t *testing.T) {
	var logins atomic.Int32
	addr, u := memServer(t, func(s imapserver.Session) imapserver.Session {
		return countingSession{Session: s, logins: &logins}
	})
	appendTo(t, u, "INBOX", rawMessage(1, time.Now()), time.Now())
	r := newRig(t, addr, "ann")
	creds := mail.Credentials{Password: "pw"}
	eng := &imapsync.Engine{KeepOpen: true}
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := eng.Sync(ctx, r.acct, creds, r.st, nil); err != nil {
		t.Fatal(err)
	}
	cancel() // the first call's context ending must not close the kept session
	appendTo(t, u, "INBOX", rawMessage(2, time.Now()), time.Now())
	rep, err := eng.Sync(context.Background(), r.acct, creds, r.st, nil)
	if err != nil || rep.Fetched() != 1 {
		t.Fatalf("second sync: %+v %v", rep, err)
	}
	if err := eng.SetFlags(context.Background(), r.acct, creds, "INBOX", []uint32{1}, imapsync.AddFlags, []string{mail.FlagSeen}); err != nil {
		t.Fatal(err)
	}
	if n := logins.Load(); n != 1 {
		t.Errorf("%d logins for two syncs and a flag change with KeepOpen, want 1", n)
	}
	// Other credentials never reuse it.
	if _, err := eng.Sync(context.Background(), r.acct, mail.Credentials{Password: "wrong"}, r.st, nil); !errors.Is(err, mail.ErrAuth) {
		t.Errorf("other credentials: %v, want mail.ErrAuth", err)
	}
	eng.Close()
	if _, err := eng.Sync(context.Background(), r.acct, creds, r.st, nil); err != nil {
		t.Fatal(err)
	}
	if n := logins.Load(); n != 3 {
		t.Errorf("%d logins after Close and a sync, want 3", n)
	}
	eng.Close()
}
