package smtpsend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/os1ai/os1/internal/mail"
)

// ErrInsecure means the account asks for an unencrypted connection to a
// server that is not on this machine.
var ErrInsecure = errors.New("an unencrypted SMTP connection is allowed only to a loopback address")

// Sender submits messages. The zero Sender uses the system's roots and a
// 30-second timeout; tests set TLS to trust their own server.
type Sender struct {
	// TLS is the base TLS configuration (RootCAs); ServerName is set per call.
	TLS *tls.Config
	// Timeout bounds one whole submission (0: 30 s); ctx may end it sooner.
	Timeout time.Duration
}

// Send submits raw with the zero Sender.
func Send(ctx context.Context, acct mail.Account, creds mail.Credentials, raw []byte, from string, rcpts []string) error {
	return (&Sender{}).Send(ctx, acct, creds, raw, from, rcpts)
}

// Send submits raw to the account's SMTP server: envelope sender from,
// recipients rcpts. A refused login is an error wrapping mail.ErrAuth that
// names the account; no byte of the message is sent then.
func (s *Sender) Send(ctx context.Context, acct mail.Account, creds mail.Credentials, raw []byte, from string, rcpts []string) error {
	ep := acct.SMTP
	where := fmt.Sprintf("account %q (%s) at %s", acct.Name, acct.Address, net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port)))
	if len(rcpts) == 0 {
		return fmt.Errorf("send with %s: no recipient", where)
	}
	for _, a := range append([]string{from}, rcpts...) {
		if err := checkAddress("envelope", mail.Address{Email: a}); err != nil {
			return fmt.Errorf("send with %s: %w", where, err)
		}
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := s.dial(ctx, ep)
	if err != nil {
		return fmt.Errorf("send with %s: %w", where, err)
	}
	defer c.Close()
	if err := authenticate(c, acct, creds); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && (se.Code == 535 || se.Code == 534 || se.Code == 530) {
			return fmt.Errorf("send with %s: %w (server said: %s)", where, mail.ErrAuth, se.Message)
		}
		return fmt.Errorf("send with %s: sign in: %w", where, err)
	}
	if err := c.SendMail(from, rcpts, strings.NewReader(string(raw))); err != nil {
		return fmt.Errorf("send with %s: %w", where, err)
	}
	_ = c.Quit() // the message was accepted at the end of DATA; a failed QUIT loses nothing
	return nil
}

// dial connects as the endpoint's security says, the connection bound to ctx.
func (s *Sender) dial(ctx context.Context, ep mail.Endpoint) (*smtp.Client, error) {
	addr := net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port))
	if ep.Security == mail.Plain && !loopback(ep.Host) {
		return nil, fmt.Errorf("%w (host %s)", ErrInsecure, ep.Host)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A cancelled ctx closes the connection (Send's deferred cancel always
	// does, after the client is closed).
	context.AfterFunc(ctx, func() { conn.Close() })
	cfg := &tls.Config{}
	if s.TLS != nil {
		cfg = s.TLS.Clone()
	}
	cfg.ServerName = ep.Host
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	switch ep.Security {
	case mail.TLS:
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS: %w", err)
		}
		return smtp.NewClient(tc), nil
	case mail.StartTLS:
		c, err := smtp.NewClientStartTLS(conn, cfg)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS: %w", err)
		}
		return c, nil
	case mail.Plain:
		return smtp.NewClient(conn), nil
	default:
		conn.Close()
		return nil, fmt.Errorf("unknown security %q", ep.Security)
	}
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// authenticate signs in with the account's kind of credentials.
func authenticate(c *smtp.Client, acct mail.Account, creds mail.Credentials) error {
	user := acct.Username
	if user == "" {
		user = acct.Address
	}
	switch acct.Auth {
	case mail.AuthOAuth2:
		if creds.AccessToken == "" {
			return fmt.Errorf("%w: no OAuth access token", mail.ErrAuth)
		}
		return c.Auth(xoauth2{user: user, token: creds.AccessToken})
	default:
		if c.SupportsAuth("PLAIN") || !c.SupportsAuth("LOGIN") {
			return c.Auth(sasl.NewPlainClient("", user, creds.Password))
		}
		return c.Auth(sasl.NewLoginClient(user, creds.Password))
	}
}

// xoauth2 is Google's and Microsoft's XOAUTH2 SASL mechanism, which go-sasl
// does not carry (it has the standard OAUTHBEARER).
type xoauth2 struct{ user, token string }

func (x xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next answers the server's error challenge (a JSON status) with an empty
// response, after which the server sends its failure code.
func (x xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }
