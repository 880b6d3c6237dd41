package webpush

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// VAPID (RFC 8292): the server signs a short-lived JWT (ES256) for each
// push service's origin with one key pair, made once per server and kept
// sealed; browsers subscribe with its public key, so push services take
// messages for them only from this server.

// Sealer seals secrets at rest (internal/secret's Box).
type Sealer interface {
	Seal(plaintext string) (string, error)
	Open(sealed string) (string, error)
}

// VAPID is the server's key pair.
type VAPID struct {
	key *ecdsa.PrivateKey
	pub string // base64url of the uncompressed public point
}

// JWTLifetime is how long one VAPID token is valid; RFC 8292 allows at
// most 24 hours.
const JWTLifetime = 12 * time.Hour

var b64url = base64.RawURLEncoding

// LoadVAPID returns the server's VAPID key pair, creating and storing it
// (sealed) the first time.
func LoadVAPID(ctx context.Context, ks Keys, sealer Sealer) (*VAPID, error) {
	sealed, err := ks.VAPIDKey(ctx)
	if errors.Is(err, ErrNotFound) {
		k, gerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if gerr != nil {
			return nil, fmt.Errorf("make the VAPID key: %w", gerr)
		}
		raw, gerr := k.Bytes()
		if gerr != nil {
			return nil, fmt.Errorf("make the VAPID key: %w", gerr)
		}
		if sealed, err = sealer.Seal(b64url.EncodeToString(raw)); err != nil {
			return nil, fmt.Errorf("seal the VAPID key: %w", err)
		}
		sealed, err = ks.InitVAPIDKey(ctx, sealed)
	}
	if err != nil {
		return nil, fmt.Errorf("load the VAPID key: %w", err)
	}
	plain, err := sealer.Open(sealed)
	if err != nil {
		return nil, fmt.Errorf("open the VAPID key (was secret.key replaced?): %w", err)
	}
	raw, err := b64url.DecodeString(plain)
	if err != nil {
		return nil, errors.New("the stored VAPID key is damaged")
	}
	return NewVAPID(raw)
}

// NewVAPID makes a VAPID from a raw P-256 private key (32 bytes).
func NewVAPID(raw []byte) (*VAPID, error) {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	if err != nil {
		return nil, fmt.Errorf("VAPID key: %w", err)
	}
	pub, err := k.PublicKey.Bytes()
	if err != nil {
		return nil, fmt.Errorf("VAPID key: %w", err)
	}
	return &VAPID{key: k, pub: b64url.EncodeToString(pub)}, nil
}

// PublicKey is the applicationServerKey browsers subscribe with: the
// uncompressed P-256 point, base64url without padding.
func (v *VAPID) PublicKey() string { return v.pub }

// Authorization is the Authorization header for a push to endpoint: a JWT
// for the endpoint's origin signed with ES256, expiring after
// JWTLifetime, naming subject (a mailto: or https: contact), and the
// public key ("vapid t=…, k=…", RFC 8292 Section 3).
func (v *VAPID) Authorization(endpoint, subject string, now time.Time) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("push endpoint %q is not a URL", endpoint)
	}
	header := b64url.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))
	claims, err := json.Marshal(map[string]any{
		"aud": u.Scheme + "://" + u.Host,
		"exp": now.Add(JWTLifetime).Unix(),
		"sub": subject,
	})
	if err != nil {
		return "", err
	}
	input := header + "." + b64url.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, v.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("sign the VAPID token: %w", err)
	}
	// JWS wants r and s as two 32-byte big-endian numbers, not ASN.1.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return "vapid t=" + input + "." + b64url.EncodeToString(sig) + ", k=" + v.pub, nil
}
