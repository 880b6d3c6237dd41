// Package imapsync keeps os1's copy of an IMAP account up to date: a first
// sync of the last SyncDays, newest first and resumable, then incremental
// syncs (new UIDs past UIDNEXT, flag changes by CONDSTORE or a FLAGS
// refetch, deletions by a UID diff, a full resync when UIDVALIDITY
// changes), IDLE to wait for new mail, and the few server-side actions os1
// takes for the user (flags, moves, appending the sent copy).
//
// It speaks IMAP through emersion's go-imap v2 client and reads messages
// with mail.Parse. It never keeps a message's attachments, never sends a
// password over an unencrypted connection except to a loopback address,
// and never acts on what a message says.
package imapsync

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-message/charset"
	"github.com/emersion/go-sasl"

	"github.com/os1ai/os1/internal/mail"
)

// Dialer opens connections; tests swap in proxies. Zero value: net.Dialer
// with a 30 s timeout.
type Dialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// connect opens an authenticated session to acct's IMAP server.
func (e *Engine) connect(ctx context.Context, acct mail.Account, creds mail.Credentials, h *imapclient.UnilateralDataHandler) (*imapclient.Client, error) {
	ep := acct.IMAP
	addr := net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port))
	who := accountName(acct)
	if ep.Host == "" || ep.Port == 0 {
		return nil, fmt.Errorf("mail account %s: no IMAP server set", who)
	}
	if ep.Security == mail.Plain && !isLoopback(ep.Host) {
		return nil, fmt.Errorf("mail account %s: IMAP without TLS is allowed only to a loopback address, not %s", who, ep.Host)
	}
	var d Dialer = &net.Dialer{Timeout: 30 * time.Second}
	if e.Dialer != nil {
		d = e.Dialer
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail account %s: connecting to %s: %w", who, addr, err)
	}
	tlsConf := &tls.Config{ServerName: ep.Host, MinVersion: tls.VersionTLS12}
	if e.TLSConfig != nil {
		tlsConf = e.TLSConfig.Clone()
		if tlsConf.ServerName == "" {
			tlsConf.ServerName = ep.Host
		}
	}
	opts := &imapclient.Options{
		TLSConfig:             tlsConf,
		WordDecoder:           &mime.WordDecoder{CharsetReader: charset.Reader},
		UnilateralDataHandler: h,
	}
	// Dialling and signing in end with ctx: closing the connection unblocks
	// every call. Each use binds its own ctx afterwards (bind).
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var c *imapclient.Client
	switch ep.Security {
	case mail.TLS, "":
		c = imapclient.New(tls.Client(conn, tlsConf), opts)
	case mail.StartTLS:
		c, err = imapclient.NewStartTLS(conn, opts)
	case mail.Plain:
		c = imapclient.New(conn, opts)
	default:
		err = fmt.Errorf("unknown security %q", ep.Security)
	}
	if err == nil {
		err = c.WaitGreeting()
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("mail account %s: connecting to %s (%s): %w", who, addr, ep.Security, ctxErr(ctx, err))
	}
	if err := login(c, acct, creds); err != nil {
		c.Close()
		var ie *imap.Error
		if errors.As(err, &ie) {
			return nil, fmt.Errorf("mail account %s: %w (user %q at %s: %s)", who, mail.ErrAuth, acct.Username, addr, ie.Text)
		}
		return nil, fmt.Errorf("mail account %s: signing in at %s: %w", who, addr, ctxErr(ctx, err))
	}
	return c, nil
}

// bind closes c when ctx ends, until the returned func is called.
func bind(ctx context.Context, c *imapclient.Client) (unbind func() bool) {
	return context.AfterFunc(ctx, func() { c.Close() })
}

// open returns a signed-in client for acct bound to ctx: a kept-open one
// when KeepOpen and it still answers NOOP, else a new one. Give it back
// with release.
func (e *Engine) open(ctx context.Context, acct mail.Account, creds mail.Credentials) (*imapclient.Client, func() bool, error) {
	if e.KeepOpen {
		if c := e.take(poolKey(acct, creds)); c != nil {
			unbind := bind(ctx, c)
			if err := c.Noop().Wait(); err == nil {
				return c, unbind, nil
			}
			unbind()
			c.Close()
		}
	}
	c, err := e.connect(ctx, acct, creds, nil)
	if err != nil {
		return nil, nil, err
	}
	return c, bind(ctx, c), nil
}

// release ends a use of c: kept open for the next use when KeepOpen and
// the use went well, else logged out and closed.
func (e *Engine) release(acct mail.Account, creds mail.Credentials, c *imapclient.Client, unbind func() bool, ok bool) {
	if !unbind() {
		ok = false // ctx ended: c is closed
	}
	select {
	case <-c.Closed():
		ok = false
	default:
	}
	if ok && e.KeepOpen {
		e.put(poolKey(acct, creds), c)
		return
	}
	if ok {
		_ = c.Logout().Wait()
	}
	c.Close()
}

// poolKey is the account and everything it signs in with: changed
// credentials or server never reuse a session.
func poolKey(acct mail.Account, creds mail.Credentials) string {
	h := sha256.Sum256([]byte(strings.Join([]string{acct.ID, acct.IMAP.Host, strconv.Itoa(acct.IMAP.Port),
		string(acct.IMAP.Security), acct.Username, string(acct.Auth), creds.Password, creds.AccessToken}, "\x00")))
	return string(h[:])
}

func (e *Engine) take(key string) *imapclient.Client {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.pool[key]
	delete(e.pool, key)
	return c
}

func (e *Engine) put(key string, c *imapclient.Client) {
	e.mu.Lock()
	old := e.pool[key]
	if e.pool == nil {
		e.pool = map[string]*imapclient.Client{}
	}
	e.pool[key] = c
	e.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// Close closes the sessions kept open.
func (e *Engine) Close() error {
	e.mu.Lock()
	pool := e.pool
	e.pool = nil
	e.mu.Unlock()
	for _, c := range pool {
		_ = c.Logout().Wait()
		c.Close()
	}
	return nil
}

func login(c *imapclient.Client, acct mail.Account, creds mail.Credentials) error {
	if acct.Auth == mail.AuthOAuth2 {
		if creds.AccessToken == "" {
			return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "no OAuth access token: reconnect the account"}
		}
		return c.Authenticate(&xoauth2{user: acct.Username, token: creds.AccessToken})
	}
	if c.Caps().Has(imap.AuthCap(sasl.Plain)) {
		return c.Authenticate(sasl.NewPlainClient("", acct.Username, creds.Password))
	}
	return c.Login(acct.Username, creds.Password).Wait()
}

// xoauth2 is the XOAUTH2 SASL mechanism (Google's and Microsoft's IMAP):
// one initial response "user=…^Aauth=Bearer …^A^A". go-sasl has no client
// for it. On failure the server sends a JSON challenge, answered with an
// empty response so it can finish with NO.
type xoauth2 struct{ user, token string }

func (x *xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

func (x *xoauth2) Next(challenge []byte) ([]byte, error) { return []byte{}, nil }

// accountName names the account in errors the user reads.
func accountName(a mail.Account) string {
	switch {
	case a.Name != "" && a.Address != "":
		return fmt.Sprintf("%q (%s)", a.Name, a.Address)
	case a.Address != "":
		return a.Address
	case a.Name != "":
		return strconv.Quote(a.Name)
	}
	return a.Username
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ctxErr prefers the context's error: a closed connection after a cancel
// is the cancel.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
