// Package webpush delivers notifications to a user's browsers while no tab
// of os1 is open: Web Push (RFC 8030) with messages encrypted for each
// browser (RFC 8291, the aes128gcm content coding of RFC 8188) and the
// server identified by VAPID (RFC 8292). Reminders call Notifier.Notify.
//
// A subscription belongs to one user and is only ever read, listed or
// removed through that user's ID. This package must never post to an
// address that is not https, nor (unless a test allows it) to a loopback,
// private or link-local address: a push endpoint is a URL the browser
// handed us, so it is treated like any URL from outside. It must never log
// or return the VAPID private key or a subscription's auth secret.
package webpush

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// ErrNotFound means no such subscription of this user (or no VAPID key yet).
var ErrNotFound = errors.New("not found")

// ErrConflict means a subscription ID is taken.
var ErrConflict = errors.New("already exists")

// InputError is a subscription the browser sent that os1 refuses; Msg says
// why in words a user (or a developer) can act on.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }

// Subscription is one browser's push subscription (the PushSubscription the
// browser's pushManager made), kept for one user.
type Subscription struct {
	ID       string
	UserID   string
	Endpoint string // the push service's https URL for this browser
	// P256dh is the browser's ECDH public key (uncompressed P-256 point) and
	// Auth its 16-byte authentication secret, both base64url without padding
	// as the browser gives them.
	P256dh    string
	Auth      string
	CreatedAt time.Time
}

// Subscriptions keeps each user's push subscriptions.
type Subscriptions interface {
	// PutSubscription stores s, or, when the user already has one for
	// s.Endpoint, replaces its keys and keeps its ID. It returns what is stored.
	PutSubscription(ctx context.Context, s Subscription) (Subscription, error)
	// Subscriptions lists a user's subscriptions, oldest first.
	Subscriptions(ctx context.Context, userID string) ([]Subscription, error)
	// DeleteSubscription removes one of userID's subscriptions; ErrNotFound
	// when userID has none with that ID.
	DeleteSubscription(ctx context.Context, userID, id string) error
}

// Keys keeps the server's one VAPID key pair, sealed.
type Keys interface {
	// VAPIDKey returns the sealed private key; ErrNotFound before the first.
	VAPIDKey(ctx context.Context) (string, error)
	// InitVAPIDKey stores sealed unless a key is already stored, and returns
	// the stored one: two processes racing to create it agree on one key.
	InitVAPIDKey(ctx context.Context, sealed string) (string, error)
}

// Store is what the Notifier keeps; sqlitewebpush is its backend and
// webpushtest its contract suite.
type Store interface {
	Subscriptions
	Keys
}

// Limits on what a browser may send.
const (
	MaxEndpointBytes = 2048
	uaPublicKeySize  = 65 // an uncompressed P-256 point
	authSecretSize   = 16
)

// SubscriptionInput is the JSON of the browser's PushSubscription
// (pushSubscription.toJSON()).
type SubscriptionInput struct {
	Endpoint       string `json:"endpoint"`
	ExpirationTime *int64 `json:"expirationTime"` // not used: push services expire by answering 404/410
	Keys           struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// b64 decodes base64url with or without padding (browsers send it without).
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// checkEndpoint refuses an endpoint os1 will not post to: not https, with
// credentials, too long, or a literal address that is not public (unless
// allow lets it through, in tests). Names are checked again on the address
// actually dialled (guard.go).
func checkEndpoint(endpoint string, allow func(netip.Addr) bool) error {
	if endpoint == "" {
		return inputErr("the subscription has no endpoint")
	}
	if len(endpoint) > MaxEndpointBytes {
		return inputErr("the subscription's endpoint is longer than %d bytes", MaxEndpointBytes)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return inputErr("the subscription's endpoint is not a URL")
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return inputErr("the subscription's endpoint must be an https URL, not %s:", u.Scheme)
	}
	if u.User != nil {
		return inputErr("the subscription's endpoint may not carry a user name or password")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && blocked(ip, allow) {
		return inputErr("the subscription's endpoint %s is a private or local address, not a push service", u.Host)
	}
	return nil
}

// checkKeys validates the browser's keys: p256dh a point on P-256 and auth
// 16 bytes, both base64url.
func checkKeys(p256dh, auth string) error {
	pub, err := b64(p256dh)
	if err != nil {
		return inputErr("the subscription's p256dh key is not base64url")
	}
	if len(pub) != uaPublicKeySize || pub[0] != 4 {
		return inputErr("the subscription's p256dh key must be an uncompressed P-256 point (%d bytes), not %d bytes", uaPublicKeySize, len(pub))
	}
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return inputErr("the subscription's p256dh key is not a point on P-256")
	}
	a, err := b64(auth)
	if err != nil {
		return inputErr("the subscription's auth secret is not base64url")
	}
	if len(a) != authSecretSize {
		return inputErr("the subscription's auth secret must be %d bytes, not %d", authSecretSize, len(a))
	}
	return nil
}
