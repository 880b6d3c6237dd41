package webpush

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/mail"
)

// ErrBlockedAddress means a push endpoint resolves to an address os1 does
// not post to: loopback, private, link-local (the user's router, a cloud
// metadata service).
var ErrBlockedAddress = errors.New("points at a private or local network address")

// blocked reports whether ip is one os1 refuses, unless allow lets it through.
func blocked(ip netip.Addr, allow func(netip.Addr) bool) bool {
	ip = ip.Unmap()
	return mail.PrivateAddr(ip) && (allow == nil || !allow(ip))
}

// guardedClient posts only over https, to public addresses checked on the
// address actually dialled (so DNS cannot switch between a check and the
// connection), through no proxy, following no redirect, without cookies.
func guardedClient(allow func(netip.Addr) bool, tlsConfig *tls.Config, timeout time.Duration) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
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
			if blocked(ip, allow) {
				refused = append(refused, ip.Unmap().String())
				continue
			}
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			lastErr = err
		}
		if lastErr != nil {
			return nil, lastErr
		}
		if len(refused) > 0 {
			return nil, fmt.Errorf("%s %w (%s); os1 posts push messages only to public addresses", host, ErrBlockedAddress, strings.Join(refused, ", "))
		}
		return nil, fmt.Errorf("%s has no address", host)
	}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us, past the guard
		DialContext:            dial,
		TLSClientConfig:        tlsConfig,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
