// Package smtptest runs go-smtp's server in-process as a submission sink for
// tests: it signs users in (PLAIN, LOGIN, XOAUTH2), speaks TLS, STARTTLS or
// plain on a loopback port, and records every message exactly as it
// arrived (envelope and bytes), so a test checks what was sent byte for byte.
//
// It is imported only by tests and must never be linked into the os1 binary.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/os1ai/os1/internal/mail"
)

// Delivery is one accepted message.
type Delivery struct {
	User  string   // who signed in
	From  string   // MAIL FROM
	Rcpts []string // RCPT TO, in order
	Data  []byte   // the message as received (CRLF line ends)
}

// Options configure a Sink.
type Options struct {
	// Security is how clients connect: mail.TLS, mail.StartTLS or mail.Plain (default).
	Security mail.Security
	// Passwords signs users in with PLAIN or LOGIN; Tokens with XOAUTH2.
	Passwords map[string]string
	Tokens    map[string]string
}

// Sink is a running submission server.
type Sink struct {
	Host string
	Port int
	// RootCAs trusts the sink's certificate (for Sender.TLS).
	RootCAs *x509.CertPool
	opts    Options

	mu         sync.Mutex
	deliveries []Delivery
	failures   int
}

// Start runs a sink on a loopback port until the test ends.
func Start(t testing.TB, o Options) *Sink {
	t.Helper()
	if o.Security == "" {
		o.Security = mail.Plain
	}
	s := &Sink{opts: o}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{sink: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = o.Security == mail.Plain
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 32 << 20
	var l net.Listener
	var err error
	if o.Security != mail.Plain {
		cert, pool := selfSigned(t)
		s.RootCAs = pool
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	if o.Security == mail.TLS {
		l, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(l.Addr().String())
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Endpoint is where an account reaches the sink.
func (s *Sink) Endpoint() mail.Endpoint {
	return mail.Endpoint{Host: s.Host, Port: s.Port, Security: s.opts.Security}
}

// Deliveries returns the accepted messages so far.
func (s *Sink) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// FailedLogins counts refused sign-ins.
func (s *Sink) FailedLogins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failures
}

// BytesTo counts the message bytes delivered to an envelope recipient
// (case-insensitive), and how many messages.
func (s *Sink) BytesTo(addr string) (n int, msgs int) {
	for _, d := range s.Deliveries() {
		for _, r := range d.Rcpts {
			if strings.EqualFold(r, addr) {
				n += len(d.Data)
				msgs++
			}
		}
	}
	return n, msgs
}

type session struct {
	sink  *Sink
	user  string
	from  string
	rcpts []string
}

var errAuthFailed = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login, "XOAUTH2"} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return s.check(user, pass, s.sink.opts.Passwords) }), nil
	case sasl.Login:
		return &loginServer{check: func(user, pass string) error { return s.check(user, pass, s.sink.opts.Passwords) }}, nil
	case "XOAUTH2":
		return &xoauth2Server{check: func(user, token string) error { return s.check(user, token, s.sink.opts.Tokens) }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) check(user, secret string, known map[string]string) error {
	if want, ok := known[user]; ok && want == secret && secret != "" {
		s.user = user
		return nil
	}
	s.sink.mu.Lock()
	s.sink.failures++
	s.sink.mu.Unlock()
	return errAuthFailed
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sink.mu.Lock()
	s.sink.deliveries = append(s.sink.deliveries, Delivery{User: s.user, From: s.from, Rcpts: s.rcpts, Data: b})
	s.sink.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.rcpts = "", nil }
func (s *session) Logout() error { return nil }

// loginServer is SASL LOGIN (go-sasl has only its client).
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if len(resp) > 0 {
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(resp)
		l.step++
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

// xoauth2Server checks "user=U\x01auth=Bearer T\x01\x01".
type xoauth2Server struct {
	check  func(user, token string) error
	failed bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.failed {
		return nil, true, errAuthFailed
	}
	parts := bytes.Split(resp, []byte{1})
	var user, token string
	for _, p := range parts {
		switch {
		case bytes.HasPrefix(p, []byte("user=")):
			user = string(p[5:])
		case bytes.HasPrefix(p, []byte("auth=Bearer ")):
			token = string(p[12:])
		}
	}
	if err := x.check(user, token); err != nil {
		// Like Gmail: a JSON challenge, then the failure after the client's empty reply.
		x.failed = true
		return []byte(`{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}`), false, nil
	}
	return nil, true, nil
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
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
