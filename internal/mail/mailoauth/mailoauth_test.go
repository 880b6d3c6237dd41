package mailoauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/mailoauth"
)

// authServer is a small OAuth 2.0 authorization server: it hands out a code
// for a PKCE challenge, checks the verifier at the token endpoint, and
// renews access tokens unless the refresh token was revoked.
type authServer struct {
	t  *testing.T
	mu sync.Mutex
	// code → challenge
	codes    map[string]string
	revoked  map[string]bool
	issued   int
	requests []url.Values
}

func newAuthServer(t *testing.T) (*authServer, *httptest.Server) {
	a := &authServer{t: t, codes: map[string]string{}, revoked: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(a.token))
	t.Cleanup(srv.Close)
	return a, srv
}

// authorize is what the provider's sign-in page does once the user agrees:
// it remembers the challenge under a new code.
func (a *authServer) authorize(authURL string) (state, code string) {
	u, err := url.Parse(authURL)
	if err != nil {
		a.t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		a.t.Fatalf("the sign-in URL carries no S256 PKCE challenge: %s", authURL)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	code = "code-" + q.Get("state")[:6]
	a.codes[code] = q.Get("code_challenge")
	return q.Get("state"), code
}

func (a *authServer) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, r.PostForm)
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": "refused by the test server"})
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		challenge, ok := a.codes[r.PostForm.Get("code")]
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			fail("invalid_grant")
			return
		}
		delete(a.codes, r.PostForm.Get("code"))
	case "refresh_token":
		if a.revoked[r.PostForm.Get("refresh_token")] {
			fail("invalid_grant")
			return
		}
	default:
		fail("unsupported_grant_type")
		return
	}
	a.issued++
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": "access-" + string(rune('0'+a.issued)),
		"refresh_token": "refresh-1", "token_type": "Bearer", "expires_in": 3600})
}

func newFlow(t *testing.T, srv *httptest.Server, c clock.Clock) *mailoauth.Flow {
	p := mailoauth.Known["google"]
	p.ClientID, p.ClientSecret = "os1-test", "s3cret"
	p.AuthURL, p.TokenURL = srv.URL+"/authorize", srv.URL+"/token"
	return mailoauth.New([]mailoauth.Provider{p}, c, clock.RandomIDs{}, srv.Client())
}

func TestSignInWithPKCE(t *testing.T) {
	as, srv := newAuthServer(t)
	f := newFlow(t, srv, clock.System{})
	authURL, err := f.Start("usr_ana", "google", "http://127.0.0.1:7810/api/mail/oauth/callback", "ana@gmail.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"client_id=os1-test", "access_type=offline", "redirect_uri=http%3A%2F%2F127.0.0.1%3A7810", "scope=https%3A%2F%2Fmail.google.com%2F"} {
		if !strings.Contains(authURL, want) {
			t.Errorf("sign-in URL lacks %s: %s", want, authURL)
		}
	}
	state, code := as.authorize(authURL)
	p, creds, data, err := f.Finish(context.Background(), "usr_ana", state, code)
	if err != nil {
		t.Fatal(err)
	}
	if p.IMAP.Host != "imap.gmail.com" || creds.AccessToken != "access-1" || creds.RefreshToken != "refresh-1" || creds.Expiry.IsZero() ||
		creds.Provider != "google" || data != "ana@gmail.com" {
		t.Fatalf("got %+v, %+v", p, creds)
	}
	// The state is spent: a replayed callback is refused.
	if _, _, _, err := f.Finish(context.Background(), "usr_ana", state, code); !errors.Is(err, mailoauth.ErrBadState) {
		t.Fatalf("a replayed callback: %v", err)
	}
}

func TestCallbackChecks(t *testing.T) {
	as, srv := newAuthServer(t)
	fake := clock.NewFake(time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC))
	f := newFlow(t, srv, fake)
	ctx := context.Background()

	authURL, _ := f.Start("usr_ana", "google", "http://127.0.0.1/cb", "")
	state, code := as.authorize(authURL)
	if _, _, _, err := f.Finish(ctx, "usr_bob", state, code); !errors.Is(err, mailoauth.ErrBadState) {
		t.Fatalf("another user's callback: %v", err)
	}
	// Ana's own sign-in is still waiting after Bob's try, until it expires.
	fake.Advance(mailoauth.StateTTL + time.Second)
	if _, _, _, err := f.Finish(ctx, "usr_ana", state, code); !errors.Is(err, mailoauth.ErrBadState) {
		t.Fatalf("an expired sign-in: %v", err)
	}

	authURL, _ = f.Start("usr_ana", "google", "http://127.0.0.1/cb", "")
	state, _ = as.authorize(authURL)
	_, _, _, err := f.Finish(ctx, "usr_ana", state, "code-forged")
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("a code the provider never issued: %v", err)
	}
	if _, err := f.Start("usr_ana", "yahoo", "http://127.0.0.1/cb", ""); !errors.Is(err, mailoauth.ErrUnknownProvider) {
		t.Fatalf("an unconfigured provider: %v", err)
	}
}

func TestFreshRenewsBeforeExpiry(t *testing.T) {
	as, srv := newAuthServer(t)
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	f := newFlow(t, srv, clock.NewFake(now))
	ctx := context.Background()

	live := mail.Credentials{Provider: "google", AccessToken: "access-live", RefreshToken: "refresh-1", Expiry: now.Add(30 * time.Minute)}
	got, changed, err := f.Fresh(ctx, "google", live)
	if err != nil || changed || got != live || len(as.requests) != 0 {
		t.Fatalf("a live token was renewed: %+v %v %v (%d requests)", got, changed, err, len(as.requests))
	}
	soon := live
	soon.Expiry = now.Add(30 * time.Second)
	got, changed, err = f.Fresh(ctx, "google", soon)
	if err != nil || !changed || got.AccessToken == "access-live" || got.RefreshToken != "refresh-1" || got.Provider != "google" {
		t.Fatalf("a token about to expire: %+v %v %v", got, changed, err)
	}
	if r := as.requests[len(as.requests)-1]; r.Get("grant_type") != "refresh_token" || r.Get("refresh_token") != "refresh-1" {
		t.Fatalf("renewal request: %v", r)
	}

	as.revoked["refresh-1"] = true
	_, _, err = f.Fresh(ctx, "google", soon)
	if !errors.Is(err, mailoauth.ErrReconnect) {
		t.Fatalf("a revoked refresh token: %v, want ErrReconnect", err)
	}
	if strings.Contains(err.Error(), "refresh-1") || strings.Contains(err.Error(), "access-") {
		t.Fatalf("the error shows a token: %v", err)
	}
}
