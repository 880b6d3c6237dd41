package mail

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
)

// OneClick posts RFC 8058 one-click unsubscribes. The address comes from an
// email, so from a stranger: it is posted to only over https, without
// cookies, with a timeout, following no redirect to another host, and only
// to public addresses: a host that resolves to loopback, a private network
// or link-local (the user's router, a cloud metadata service) is refused,
// checked on the address actually dialled so DNS cannot be switched
// between the check and the connection.
type OneClick struct {
	// Resolver finds a host's addresses; nil: net.DefaultResolver.
	Resolver interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	}
	// Allow lets through an address the guard would refuse. Tests only
	// (an httptest server on 127.0.0.1); os1 never sets it.
	Allow func(netip.Addr) bool
	// TLS configures the https client (tests: the httptest server's roots).
	TLS *tls.Config
	// Timeout bounds one unsubscribe, connection to answer (default 15s).
	Timeout time.Duration
}

// ErrBlockedAddress means an unsubscribe address resolves to an address
// os1 does not contact for an email (loopback, private, link-local).
var ErrBlockedAddress = errors.New("points at a private or local network address")

// OneClickBody is the body RFC 8058 asks for.
const OneClickBody = "List-Unsubscribe=One-Click"

// Post sends the one-click unsubscribe to target.
func (o *OneClick) Post(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" || u.User != nil {
		return fmt.Errorf("%q is not an https address os1 will post to", target)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us, past the guard
		DialContext:            o.dial,
		TLSClientConfig:        o.TLS,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 64 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: timeout, // no Jar: no cookies
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("it redirected too many times")
			}
			if !strings.EqualFold(req.URL.Scheme, "https") || !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
				return fmt.Errorf("it redirected to another host (%s), which os1 does not follow", req.URL.Host)
			}
			return nil
		}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(OneClickBody))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "os1 (RFC 8058 one-click unsubscribe)")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("posting to %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s answered %s", u.Host, resp.Status)
	}
	return nil
}

// dial connects to the first allowed address of the host.
func (o *OneClick) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		var r interface {
			LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
		} = net.DefaultResolver
		if o.Resolver != nil {
			r = o.Resolver
		}
		if ips, err = r.LookupNetIP(ctx, "ip", host); err != nil {
			return nil, fmt.Errorf("looking up %s: %w", host, err)
		}
	}
	var blocked []string
	var lastErr error
	d := net.Dialer{Timeout: 10 * time.Second}
	for _, ip := range ips {
		ip = ip.Unmap()
		if PrivateAddr(ip) && (o.Allow == nil || !o.Allow(ip)) {
			blocked = append(blocked, ip.String())
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
	if len(blocked) > 0 {
		return nil, fmt.Errorf("%s %w (%s); os1 posts only to public addresses for an email", host, ErrBlockedAddress, strings.Join(blocked, ", "))
	}
	return nil, fmt.Errorf("%s has no address", host)
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("::/128"),          // unspecified
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// PrivateAddr reports whether ip is one os1 must not contact on an email's
// behalf: loopback, private, link-local, multicast, unspecified, or
// reserved; a NAT64 address is judged by the IPv4 address inside it.
func PrivateAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	if nat64.Contains(ip) {
		b := ip.As16()
		return PrivateAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
