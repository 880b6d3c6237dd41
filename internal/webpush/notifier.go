package webpush

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/httpretry"
)

// Notifier keeps users' push subscriptions and sends them notifications.
// It is safe for concurrent use once built.
type Notifier struct {
	Store Store
	VAPID *VAPID
	// Subject is the contact push services may use (RFC 8292 "sub"): a
	// mailto: address or the server's https URL.
	Subject string
	Clock   clock.Clock // nil: clock.System
	IDs     clock.IDs   // nil: clock.RandomIDs
	// Retry repeats a push a push service answered 429 or 5xx (honouring
	// Retry-After up to Retry.MaxWait). Zero MaxRetries and MaxWait are
	// DefaultRetries and DefaultRetryWait; a negative MaxRetries never repeats.
	Retry httpretry.Policy
	// TTL is how long a push service keeps a message for a browser that is
	// offline (RFC 8030 Section 5.2). Zero: DefaultTTL.
	TTL time.Duration
	// Allow lets through an address the guard refuses. Tests only (an
	// httptest push service on 127.0.0.1); os1 never sets it.
	Allow func(netip.Addr) bool
	// TLS configures the https client (tests: the httptest server's roots).
	TLS *tls.Config
	Log *slog.Logger

	once   sync.Once
	client *http.Client
}

// Defaults for the Notifier's zero fields.
const (
	DefaultTTL = 24 * time.Hour
	// pushTimeout bounds one post to a push service.
	pushTimeout = 15 * time.Second
)

// A push is tried three times in all, waiting at most a minute for a push
// service that asked for time (Retry's zero fields).
const (
	DefaultRetries   = 2
	DefaultRetryWait = time.Minute
)

func (n *Notifier) now() time.Time {
	if n.Clock == nil {
		return time.Now()
	}
	return n.Clock.Now()
}

// PublicKey is the VAPID public key browsers subscribe with.
func (n *Notifier) PublicKey() string { return n.VAPID.PublicKey() }

// Subscribe validates the browser's subscription and keeps it for userID;
// an *InputError says what is wrong with it. Subscribing the same endpoint
// again replaces its keys and keeps its ID.
func (n *Notifier) Subscribe(ctx context.Context, userID string, in SubscriptionInput) (Subscription, error) {
	in.Endpoint = strings.TrimSpace(in.Endpoint)
	if err := checkEndpoint(in.Endpoint, n.Allow); err != nil {
		return Subscription{}, err
	}
	if err := checkKeys(in.Keys.P256dh, in.Keys.Auth); err != nil {
		return Subscription{}, err
	}
	ids := n.IDs
	if ids == nil {
		ids = clock.RandomIDs{}
	}
	s := Subscription{ID: ids.NewID("wps"), UserID: userID, Endpoint: in.Endpoint,
		P256dh: strings.TrimRight(in.Keys.P256dh, "="), Auth: strings.TrimRight(in.Keys.Auth, "="), CreatedAt: n.now().UTC()}
	return n.Store.PutSubscription(ctx, s)
}

// Subscriptions lists userID's subscriptions.
func (n *Notifier) Subscriptions(ctx context.Context, userID string) ([]Subscription, error) {
	return n.Store.Subscriptions(ctx, userID)
}

// Unsubscribe removes one of userID's subscriptions (ErrNotFound: none).
func (n *Notifier) Unsubscribe(ctx context.Context, userID, id string) error {
	return n.Store.DeleteSubscription(ctx, userID, id)
}

// Message is what the service worker (static/sw.js) shows.
type Message struct {
	Title string `json:"title"`
	Body  string `json:"body,omitempty"`
	// URL is the app page a click opens: a path on this server ("/#/c/…").
	URL string `json:"url,omitempty"`
}

// Urgency is RFC 8030's Urgency header: how soon the browser's device
// should wake for the message.
const urgency = "high" // reminders and wake-ups are why os1 pushes at all

// Notify sends title, body and a link (a path on this server, or "") to
// every browser userID subscribed, and returns how many push services took
// the message. A subscription the push service says is gone (404, 410) is
// removed. The error joins the failures of the others; it is nil when
// every browser was reached or removed. Browsers are reached one after
// another, each retried as Retry says, so Notify may take minutes when push
// services are busy: call it from background work, with ctx's deadline.
func (n *Notifier) Notify(ctx context.Context, userID, title, body, link string) (int, error) {
	if link != "" && (!strings.HasPrefix(link, "/") || strings.HasPrefix(link, "//") || strings.Contains(link, "\\")) {
		return 0, fmt.Errorf("notification link %q must be a path on this server", link)
	}
	payload, err := n.payload(Message{Title: title, Body: body, URL: link})
	if err != nil {
		return 0, err
	}
	subs, err := n.Store.Subscriptions(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("list push subscriptions: %w", err)
	}
	sent := 0
	var errs []error
	for _, s := range subs {
		err := n.send(ctx, s, payload)
		switch {
		case err == nil:
			sent++
		case errors.Is(err, errGone):
			if derr := n.Store.DeleteSubscription(ctx, userID, s.ID); derr != nil && !errors.Is(derr, ErrNotFound) {
				errs = append(errs, fmt.Errorf("remove the expired push subscription %s: %w", s.ID, derr))
			}
			n.log().Info("push subscription removed: the push service no longer knows it", "user", userID, "subscription", s.ID)
		default:
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

func (n *Notifier) log() *slog.Logger {
	if n.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return n.Log
}

// payload encodes m, shortening its body (then its title) so the JSON fits
// in one push message.
func (n *Notifier) payload(m Message) ([]byte, error) {
	if strings.TrimSpace(m.Title) == "" {
		return nil, errors.New("a notification needs a title")
	}
	for {
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		over := len(b) - MaxPlaintext
		if over <= 0 {
			return b, nil
		}
		switch {
		case m.Body != "":
			m.Body = cut(m.Body, len(m.Body)-over-3)
		case len(m.URL) > MaxPlaintext/2:
			return nil, fmt.Errorf("notification link is %d bytes, too long for a push message", len(m.URL))
		default:
			m.Title = cut(m.Title, len(m.Title)-over-3)
		}
	}
}

// cut shortens s to at most n bytes (at a rune boundary) and marks it with "…".
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// errGone marks a subscription the push service no longer knows.
var errGone = errors.New("the push subscription has expired or was removed")

func (n *Notifier) httpClient() *http.Client {
	n.once.Do(func() { n.client = guardedClient(n.Allow, n.TLS, pushTimeout) })
	return n.client
}

// send encrypts payload for s and posts it to its push service (RFC 8030
// Section 5), repeating by n.Retry when the service is busy.
func (n *Notifier) send(ctx context.Context, s Subscription, payload []byte) error {
	host := s.Endpoint
	if u, err := url.Parse(s.Endpoint); err == nil {
		host = u.Host
	}
	ua, err := b64(s.P256dh)
	if err != nil {
		return fmt.Errorf("push subscription %s: its p256dh key is damaged", s.ID)
	}
	auth, err := b64(s.Auth)
	if err != nil {
		return fmt.Errorf("push subscription %s: its auth secret is damaged", s.ID)
	}
	// A fresh sender key and salt for every message (RFC 8291 Section 3.1).
	sender, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	body, err := Encrypt(payload, ua, auth, sender, salt)
	if err != nil {
		return fmt.Errorf("push subscription %s: %w", s.ID, err)
	}
	ttl := n.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	policy := n.Retry
	if policy.MaxRetries == 0 {
		policy.MaxRetries = DefaultRetries
	}
	if policy.MaxWait == 0 {
		policy.MaxWait = DefaultRetryWait
	}
	if policy.Clock == nil {
		policy.Clock = n.Clock
	}
	err = httpretry.Do(ctx, policy, func(ctx context.Context) error {
		authz, err := n.VAPID.Authorization(s.Endpoint, n.Subject, n.now())
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint, bytes.NewReader(body))
		if err != nil {
			return err
		}
		h := req.Header
		h.Set("Authorization", authz)
		h.Set("Content-Encoding", "aes128gcm")
		h.Set("Content-Type", "application/octet-stream")
		h.Set("TTL", strconv.Itoa(int(ttl/time.Second)))
		h.Set("Urgency", urgency)
		resp, err := n.httpClient().Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			return nil
		}
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
			return errGone
		}
		return httpretry.DecodeError(resp, n.now())
	})
	if err != nil && !errors.Is(err, errGone) {
		return fmt.Errorf("push to %s for subscription %s: %w", host, s.ID, err)
	}
	return err
}
