package webpushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/webpush"
)

// Browser is one browser's push subscription keys, as the browser keeps them.
type Browser struct {
	Priv *ecdh.PrivateKey
	Auth []byte
}

// NewBrowser makes a browser's keys.
func NewBrowser(t testing.TB) Browser {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	return Browser{Priv: k, Auth: auth}
}

// Subscription is what the browser's pushSubscription.toJSON() gives for endpoint.
func (b Browser) Subscription(endpoint string) webpush.SubscriptionInput {
	var in webpush.SubscriptionInput
	in.Endpoint = endpoint
	in.Keys.P256dh = base64.RawURLEncoding.EncodeToString(b.Priv.PublicKey().Bytes())
	in.Keys.Auth = base64.RawURLEncoding.EncodeToString(b.Auth)
	return in
}

// PushService is a local push service (RFC 8030) over https on 127.0.0.1.
// It checks what a real one checks — the VAPID token's ES256 signature
// against the key in the same header (which must be the key browsers
// subscribed with), its audience and expiry, the content coding, TTL and
// Urgency — and, as the browser behind it would, decrypts each message with
// the browser's private key. A check that fails fails the test.
type PushService struct {
	t       testing.TB
	srv     *httptest.Server
	vapid   string
	now     func() time.Time
	mu      sync.Mutex
	answers map[string][]int
	browser map[string]Browser
	got     map[string][]webpush.Message
	hdrs    []http.Header
}

// NewPushService starts a push service for subscriptions made with the
// VAPID public key vapidPublic; now is the clock tokens' expiry is checked on.
func NewPushService(t testing.TB, vapidPublic string, now func() time.Time) *PushService {
	p := &PushService{t: t, vapid: vapidPublic, now: now, answers: map[string][]int{}, browser: map[string]Browser{},
		got: map[string][]webpush.Message{}}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// URL is the service's origin.
func (p *PushService) URL() string { return p.srv.URL }

// TLS is a client configuration that trusts the service's certificate.
func (p *PushService) TLS() *tls.Config {
	return p.srv.Client().Transport.(*http.Transport).TLSClientConfig
}

// Endpoint registers b at path and returns its endpoint URL. A path with
// no browser answers 410 Gone.
func (p *PushService) Endpoint(path string, b Browser) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.browser[path] = b
	return p.srv.URL + path
}

// Answer makes the next pushes to path answer codes, in order, before it
// takes messages again; a 429 comes with "Retry-After: 7".
func (p *PushService) Answer(path string, codes ...int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers[path] = append(p.answers[path], codes...)
}

// Received is what the browser at path decrypted, in order.
func (p *PushService) Received(path string) []webpush.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]webpush.Message(nil), p.got[path]...)
}

// Requests are the headers of every request the service got.
func (p *PushService) Requests() []http.Header {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]http.Header(nil), p.hdrs...)
}

func (p *PushService) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hdrs = append(p.hdrs, r.Header.Clone())
	if q := p.answers[r.URL.Path]; len(q) > 0 {
		p.answers[r.URL.Path] = q[1:]
		if q[0] == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "7")
		}
		http.Error(w, http.StatusText(q[0]), q[0])
		return
	}
	if err := p.checkVAPID(r); err != nil {
		p.t.Errorf("push service: VAPID: %v", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" || r.Header.Get("Urgency") == "" {
		p.t.Errorf("push service: %s with headers %v", r.Method, r.Header)
	}
	b, ok := p.browser[r.URL.Path]
	if !ok {
		http.Error(w, "no such subscription", http.StatusGone)
		return
	}
	body, _ := io.ReadAll(r.Body)
	plain, err := Decrypt(body, b.Priv.Bytes(), b.Auth)
	if err != nil {
		p.t.Errorf("push service: the browser cannot decrypt: %v", err)
		http.Error(w, "undecryptable", http.StatusBadRequest)
		return
	}
	var m webpush.Message
	if err := json.Unmarshal(plain, &m); err != nil {
		p.t.Errorf("push service: payload %q: %v", plain, err)
	}
	p.got[r.URL.Path] = append(p.got[r.URL.Path], m)
	w.WriteHeader(http.StatusCreated)
}

// checkVAPID verifies "vapid t=JWT, k=KEY" (RFC 8292).
func (p *PushService) checkVAPID(r *http.Request) error {
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "vapid ")
	if !ok {
		return errors.New("no vapid Authorization")
	}
	var tok, key string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if s, ok := strings.CutPrefix(part, "t="); ok {
			tok = s
		} else if s, ok := strings.CutPrefix(part, "k="); ok {
			key = s
		}
	}
	if key != p.vapid {
		return errors.New("k is not the key the browser subscribed with")
	}
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return err
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("signature is not 64 bytes of base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("the JWT's signature does not verify")
	}
	var hdr struct{ Alg, Typ string }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "ES256" {
		return errors.New("JWT header " + string(hb))
	}
	var c struct {
		Aud string
		Exp int64
		Sub string
	}
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(cb, &c); err != nil {
		return err
	}
	if c.Aud != p.srv.URL {
		return errors.New("aud " + c.Aud + " is not the push service's origin " + p.srv.URL)
	}
	if exp := time.Unix(c.Exp, 0); !exp.After(p.now()) || exp.Sub(p.now()) > 24*time.Hour {
		return errors.New("exp not within 24 hours: " + exp.String())
	}
	if !strings.HasPrefix(c.Sub, "mailto:") && !strings.HasPrefix(c.Sub, "https://") {
		return errors.New("sub " + c.Sub)
	}
	return nil
}

// Decrypt is the browser's side of RFC 8291 and RFC 8188, written from the
// RFCs apart from the webpush package's code: it reads the header, derives
// the keys with HMAC-SHA-256 by hand, and checks the padding delimiter.
func Decrypt(body, uaPrivate, authSecret []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("short header")
	}
	salt := body[:16]
	rs := binary.BigEndian.Uint32(body[16:20])
	idlen := int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, errors.New("bad key id")
	}
	asPublic := body[21 : 21+idlen]
	ct := body[21+idlen:]
	if uint32(len(ct)) > rs {
		return nil, errors.New("more than one record")
	}
	ua, err := ecdh.P256().NewPrivateKey(uaPrivate)
	if err != nil {
		return nil, err
	}
	asKey, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, err
	}
	shared, err := ua.ECDH(asKey)
	if err != nil {
		return nil, err
	}
	mac := func(key []byte, parts ...[]byte) []byte {
		m := hmac.New(sha256.New, key)
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	prkKey := mac(authSecret, shared)
	ikm := mac(prkKey, []byte("WebPush: info\x00"), ua.PublicKey().Bytes(), asPublic, []byte{1})
	prk := mac(salt, ikm)
	cek := mac(prk, []byte("Content-Encoding: aes128gcm\x00"), []byte{1})[:16]
	nonce := mac(prk, []byte("Content-Encoding: nonce\x00"), []byte{1})[:12]
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, err
	}
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 2 {
		return nil, errors.New("the last record's delimiter is not 2")
	}
	return plain[:i], nil
}
