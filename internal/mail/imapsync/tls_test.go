package imapsync_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/imapsync"
)

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imapsync test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: c}, pool
}

// tlsServer is the in-memory server over TLS from the first byte, or with
// STARTTLS (plaintext login refused before it).
func tlsServer(t *testing.T, startTLS bool) (string, *x509.CertPool) {
	cert, pool := selfSigned(t)
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("ann", "pw")
	_ = u.Create("INBOX", nil)
	mem.AddUser(u)
	appendTo(t, u, "INBOX", rawMessage(1, time.Now()), time.Now())
	conf := &tls.Config{Certificates: []tls.Certificate{cert}}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:   imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		Logger: discardLogger{},
	}
	var ln net.Listener
	var err error
	if startTLS {
		opts.TLSConfig = conf
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	} else {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", conf)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := imapserver.New(opts)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), pool
}

func TestTLSAndStartTLS(t *testing.T) {
	for _, sec := range []mail.Security{mail.TLS, mail.StartTLS} {
		t.Run(string(sec), func(t *testing.T) {
			addr, pool := tlsServer(t, sec == mail.StartTLS)
			r := newRig(t, addr, "ann")
			r.acct.IMAP.Security = sec
			eng := &imapsync.Engine{TLSConfig: &tls.Config{RootCAs: pool}}
			rep, err := eng.Sync(context.Background(), r.acct, mail.Credentials{Password: "pw"}, r.st, nil)
			if err != nil || rep.Fetched() != 1 {
				t.Fatalf("sync over %s: %+v %v", sec, rep, err)
			}
			// A certificate the system does not trust is refused, with a reason.
			err = (&imapsync.Engine{}).Check(context.Background(), r.acct, mail.Credentials{Password: "pw"})
			if err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("an untrusted certificate over %s: %v", sec, err)
			}
		})
	}
}
