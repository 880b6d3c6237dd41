// Package dovecottest starts Debian's dovecot (package dovecot-imapd) for
// tests: a temp config dir and maildir, a free loopback port, plaintext
// LOGIN allowed on loopback, users in a passwd-file. Tests only; it never
// touches the system's dovecot configuration, and never listens beyond
// 127.0.0.1.
//
// Without dovecot a test that calls Start is skipped with the reason;
// OS1_E2E_REQUIRE=1 (make test, CI) makes that a failure.
package dovecottest

import (
	"bytes"
	"fmt"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/daemontest"
)

// Binary is where Debian's dovecot-imapd package puts the server.
const Binary = "/usr/sbin/dovecot"

// Server is a running dovecot. Its mailboxes are maildirs under Dir/mail.
type Server struct {
	Addr string // 127.0.0.1:port
	Dir  string

	t        testing.TB
	uid, gid int
	mu       sync.Mutex
	users    map[string]string
	seq      atomic.Int64
}

// Require returns dovecot's path, or skips the test with the reason (fails
// it with OS1_E2E_REQUIRE=1).
func Require(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(Binary); err != nil {
		msg := "dovecot test needs Debian's dovecot (apt-get install dovecot-imapd; scripts/deps.sh test): " + err.Error()
		if os.Getenv("OS1_E2E_REQUIRE") == "1" {
			t.Fatal(msg + " (OS1_E2E_REQUIRE=1 makes this a failure)")
		}
		t.Skip(msg)
	}
	return Binary
}

// Start runs dovecot until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Require(t)
	dir, err := os.MkdirTemp("", "os1-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// dovecot's login processes run as its own users and must reach the
	// sockets under run/.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &Server{Dir: dir, t: t, users: map[string]string{}}
	cur, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	s.uid, s.gid = os.Getuid(), os.Getgid()
	var extra string
	if s.uid == 0 {
		// dovecot refuses uid 0 for mail: the mail belongs to nobody.
		s.uid, s.gid = 65534, 65534
	} else {
		grp, _ := user.LookupGroupId(cur.Gid)
		gname := cur.Username
		if grp != nil {
			gname = grp.Name
		}
		extra = fmt.Sprintf(`default_login_user = %[1]s
default_internal_user = %[1]s
default_internal_group = %[2]s
service anvil {
  chroot =
}
service imap-login {
  chroot =
  user = %[1]s
}
service auth {
  user = %[1]s
}
service auth-worker {
  user = %[1]s
}
`, cur.Username, gname)
	}
	for _, d := range []string{"run", "state", "mail", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.chown(filepath.Join(dir, "mail"))
	s.chown(filepath.Join(dir, "home"))
	if err := os.WriteFile(s.passwdPath(), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := daemontest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mailbox_idle_check_interval = 1 secs
auth_verbose = yes
log_timestamp = "%%H:%%M:%%S.%%{usecs} "
mail_location = maildir:%[1]s/mail/%%u
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[2]d gid=%[3]d home=%[1]s/home/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[4]d
  }
  inet_listener imaps {
    port = 0
  }
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
  mailbox Archive {
    special_use = \Archive
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
}
%[5]s`, dir, s.uid, s.gid, port, extra)
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out daemontest.Output
	cmd := exec.Command(bin, "-F", "-c", confPath)
	cmd.Stdout, cmd.Stderr = &out, &out
	exited := daemontest.Start(t, "dovecot", cmd)
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot exited at start: %v\n%s\n%s", err, out.String(), log)
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("dovecot did not listen on %s within 15 s: %v\n%s", s.Addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Log is dovecot's log so far (for a failing test's message).
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "dovecot.log"))
	return string(b)
}

func (s *Server) passwdPath() string { return filepath.Join(s.Dir, "passwd") }

// AddUser adds (or changes the password of) a user; dovecot reads the
// passwd-file at each login.
func (s *Server) AddUser(name, pass string) {
	s.t.Helper()
	if strings.ContainsAny(name+pass, ":\n") {
		s.t.Fatalf("dovecottest: a user name or password with ':' or a newline")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[name] = pass
	var b strings.Builder
	for u, p := range s.users {
		fmt.Fprintf(&b, "%s:{PLAIN}%s::::::\n", u, p)
	}
	if err := os.WriteFile(s.passwdPath(), []byte(b.String()), 0o644); err != nil {
		s.t.Fatal(err)
	}
	for _, d := range []string{"cur", "new", "tmp"} {
		s.mkdir(filepath.Join(s.Dir, "mail", name, d))
	}
}

// Maildir is the directory of a user's folder ("INBOX", "Sent").
func (s *Server) Maildir(user, folder string) string {
	if folder == "" || strings.EqualFold(folder, "INBOX") {
		return filepath.Join(s.Dir, "mail", user)
	}
	// Maildir++: ".Sent", ".a.b" for a/b.
	return filepath.Join(s.Dir, "mail", user, "."+strings.ReplaceAll(folder, "/", "."))
}

// Deliver puts raw into the user's INBOX, as a delivery agent would.
func (s *Server) Deliver(user string, raw []byte) {
	s.t.Helper()
	s.DeliverTo(user, "INBOX", raw)
}

// DeliverTo puts raw into a folder of the user. The file's time, which
// dovecot takes for the INTERNALDATE, is the message's Date header when it
// has one.
func (s *Server) DeliverTo(user, folder string, raw []byte) {
	s.t.Helper()
	md := s.Maildir(user, folder)
	for _, d := range []string{"cur", "new", "tmp"} {
		s.mkdir(filepath.Join(md, d))
	}
	name := fmt.Sprintf("%d.M%dP%d.os1test", time.Now().Unix(), s.seq.Add(1), os.Getpid())
	tmp := filepath.Join(md, "tmp", name)
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		s.t.Fatal(err)
	}
	s.chown(tmp)
	if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		if d, err := m.Header.Date(); err == nil {
			_ = os.Chtimes(tmp, d, d)
		}
	}
	if err := os.Rename(tmp, filepath.Join(md, "new", name)); err != nil {
		s.t.Fatal(err)
	}
}

// ChangeUIDValidity makes dovecot give a folder a new UIDVALIDITY, as when
// a mailbox is deleted and created again with the same name: its UID list
// and indexes are replaced, so every message gets a new UID. No session
// may have the folder open.
func (s *Server) ChangeUIDValidity(user, folder string) uint32 {
	s.t.Helper()
	md := s.Maildir(user, folder)
	old := uint32(0)
	if b, err := os.ReadFile(filepath.Join(md, "dovecot-uidlist")); err == nil {
		for _, f := range strings.Fields(strings.SplitN(string(b), "\n", 2)[0]) {
			if strings.HasPrefix(f, "V") {
				v, _ := strconv.ParseUint(f[1:], 10, 32)
				old = uint32(v)
			}
		}
	}
	next := old + 1000
	entries, _ := os.ReadDir(md)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "dovecot.index") {
			_ = os.Remove(filepath.Join(md, e.Name()))
		}
	}
	p := filepath.Join(md, "dovecot-uidlist")
	if err := os.WriteFile(p, []byte(fmt.Sprintf("3 V%d N1\n", next)), 0o600); err != nil {
		s.t.Fatal(err)
	}
	s.chown(p)
	return next
}

func (s *Server) mkdir(d string) {
	if err := os.MkdirAll(d, 0o700); err != nil {
		s.t.Fatal(err)
	}
	// Each level under mail/ belongs to the mail user.
	rel, _ := filepath.Rel(filepath.Join(s.Dir, "mail"), d)
	p := filepath.Join(s.Dir, "mail")
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		p = filepath.Join(p, part)
		s.chown(p)
	}
}

func (s *Server) chown(p string) {
	if os.Getuid() == 0 {
		if err := os.Chown(p, s.uid, s.gid); err != nil {
			s.t.Fatal(err)
		}
	}
}
