// Package icsfeed fetches calendar subscriptions' .ics files over HTTP(S)
// for calendar.Service: a conditional GET (If-None-Match, If-Modified-Since)
// so an unchanged file costs a 304, a size cap, and an address guard.
//
// A subscription's address is typed by a user, so the fetch must never
// reach what only the os1 host can: every address dialled (after DNS, on
// every redirect) is checked with mail.PrivateAddr, and loopback, private,
// link-local and reserved addresses are refused unless Allow lets one
// through (tests; os1 serve never sets it). No proxy (it would dial past
// the guard), no cookies, no credentials.
package icsfeed

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/mail"
)

// Errors of a fetch; test them with errors.Is.
var (
	// ErrBlockedAddress: the address resolves to a loopback, private,
	// link-local or reserved address.
	ErrBlockedAddress = errors.New("points at a private or local network address")
	// ErrTooBig: the file is larger than MaxBytes.
	ErrTooBig = errors.New("the calendar file is too large")
)

// DefaultMaxBytes caps a subscription's file.
const DefaultMaxBytes = 8 << 20

// Fetcher fetches subscriptions. The zero value is ready: public
// addresses only, DefaultMaxBytes, 30 s per fetch.
type Fetcher struct {
	// Allow lets a blocked address through (tests: an httptest server on
	// 127.0.0.1); nil in os1.
	Allow func(netip.Addr) bool
	// TLS configures https (tests: the httptest server's roots).
	TLS *tls.Config
	// MaxBytes caps the file (0: DefaultMaxBytes).
	MaxBytes int64
	// Timeout bounds one fetch, connection to the last byte (0: 30 s).
	Timeout time.Duration
}

var _ calendar.FeedFetcher = (*Fetcher)(nil)

// Fetch gets the file at u, or NotModified when since still matches.
func (f *Fetcher) Fetch(ctx context.Context, u string, since calendar.FeedVersion) (calendar.Feed, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us, past the guard
		DialContext:            f.dial,
		TLSClientConfig:        f.TLS,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: timeout, // no Jar: no cookies
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("it redirected too many times")
			}
			if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
				return fmt.Errorf("it redirected to %s, which is not a web address", req.URL.Scheme)
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme == "http" {
				return errors.New("it redirected from https to plain http, which os1 does not follow")
			}
			return nil // the dial checks the new address
		}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return calendar.Feed{}, err
	}
	req.Header.Set("Accept", "text/calendar, */*;q=0.5")
	req.Header.Set("User-Agent", "os1 (calendar subscription)")
	if since.ETag != "" {
		req.Header.Set("If-None-Match", since.ETag)
	}
	if since.LastModified != "" {
		req.Header.Set("If-Modified-Since", since.LastModified)
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return calendar.Feed{}, fmt.Errorf("fetching from %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		return calendar.Feed{NotModified: true, Version: since}, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return calendar.Feed{}, fmt.Errorf("%s answered %s", req.URL.Host, resp.Status)
	}
	if resp.ContentLength > limit {
		return calendar.Feed{}, fmt.Errorf("%w (%d bytes; os1 takes at most %d)", ErrTooBig, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return calendar.Feed{}, fmt.Errorf("reading from %s: %w", req.URL.Host, err)
	}
	if int64(len(body)) > limit {
		return calendar.Feed{}, fmt.Errorf("%w (over %d bytes)", ErrTooBig, limit)
	}
	return calendar.Feed{Body: body, Version: calendar.FeedVersion{
		ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}}, nil
}

// dial connects to the first allowed address of the host.
func (f *Fetcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else if ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, fmt.Errorf("looking up %s: %w", host, err)
	}
	var refused []string
	var lastErr error
	d := net.Dialer{Timeout: 10 * time.Second}
	for _, ip := range ips {
		ip = ip.Unmap()
		if mail.PrivateAddr(ip) && (f.Allow == nil || !f.Allow(ip)) {
			refused = append(refused, ip.String())
			continue
		}
		c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if len(refused) > 0 {
		return nil, fmt.Errorf("%s %w (%s); os1 fetches subscriptions only from public addresses", host, ErrBlockedAddress, strings.Join(refused, ", "))
	}
	return nil, fmt.Errorf("%s has no address", host)
}
