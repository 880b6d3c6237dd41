// Package mailoauth signs os1 in to mail providers that want OAuth 2.0
// (XOAUTH2 over IMAP and SMTP): the authorization-code flow with PKCE (S256)
// and a redirect back to os1 itself, and refreshing an access token before it
// expires. The client id and secret come from the operator's config; os1
// ships none.
//
// It must never log a token, and never accept a callback whose state it did
// not issue to the same user, or that is older than StateTTL.
package mailoauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
)

// Provider is one OAuth-enabled mail provider, from [[mail.oauth]] in the
// config. The IMAP and SMTP endpoints pre-fill the account.
type Provider struct {
	Name         string
	ClientID     string
	ClientSecret string
	AuthURL      string
	TokenURL     string
	Scopes       []string
	IMAP         mail.Endpoint
	SMTP         mail.Endpoint
}

// Known providers' endpoints and scopes; the operator adds the client id
// and secret of an app registered with them.
var Known = map[string]Provider{
	"google": {Name: "google", AuthURL: "https://accounts.google.com/o/oauth2/auth", TokenURL: "https://oauth2.googleapis.com/token",
		Scopes: []string{"https://mail.google.com/"},
		IMAP:   mail.Endpoint{Host: "imap.gmail.com", Port: 993, Security: mail.TLS},
		SMTP:   mail.Endpoint{Host: "smtp.gmail.com", Port: 587, Security: mail.StartTLS}},
	"microsoft": {Name: "microsoft", AuthURL: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
		TokenURL: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
		Scopes: []string{"https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send",
			"offline_access"},
		IMAP: mail.Endpoint{Host: "outlook.office365.com", Port: 993, Security: mail.TLS},
		SMTP: mail.Endpoint{Host: "smtp.office365.com", Port: 587, Security: mail.StartTLS}},
}

// StateTTL is how long a started sign-in waits for its callback.
const StateTTL = 10 * time.Minute

// Errors of the flow.
var (
	ErrUnknownProvider = errors.New("no such OAuth provider is configured")
	ErrBadState        = errors.New("this sign-in link is unknown or expired; start again")
	// ErrReconnect means the refresh token was refused: the user must
	// connect the account again.
	ErrReconnect = errors.New("the provider refused to renew access; reconnect the account")
)

// Flow runs sign-ins. It is safe for concurrent use.
type Flow struct {
	providers map[string]Provider
	clock     clock.Clock
	ids       clock.IDs
	client    *http.Client

	mu      sync.Mutex
	pending map[string]pending // by state
}

type pending struct {
	userID, provider, verifier, redirect, data string
	expires                                    time.Time
}

// New returns a flow over the configured providers; client may be nil
// (http.DefaultClient).
func New(providers []Provider, c clock.Clock, ids clock.IDs, client *http.Client) *Flow {
	f := &Flow{providers: map[string]Provider{}, clock: c, ids: ids, client: client, pending: map[string]pending{}}
	for _, p := range providers {
		f.providers[p.Name] = p
	}
	return f
}

// Providers lists the configured providers' names, sorted.
func (f *Flow) Providers() []string {
	var out []string
	for n := range f.providers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Provider returns a configured provider.
func (f *Flow) Provider(name string) (Provider, error) {
	p, ok := f.providers[name]
	if !ok {
		return Provider{}, fmt.Errorf("%q: %w", name, ErrUnknownProvider)
	}
	return p, nil
}

func (p Provider) config(redirect string) *oauth2.Config {
	return &oauth2.Config{ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: redirect, Scopes: p.Scopes,
		Endpoint: oauth2.Endpoint{AuthURL: p.AuthURL, TokenURL: p.TokenURL}}
}

// Start begins a sign-in for userID: it returns the provider's URL to send
// the user to. redirect is os1's callback URL, which the provider sends the
// user back to with a code and the state. data (the account's address and
// label, say) comes back from Finish.
func (f *Flow) Start(userID, provider, redirect, data string) (string, error) {
	p, err := f.Provider(provider)
	if err != nil {
		return "", err
	}
	state := f.ids.Token(24)
	verifier := oauth2.GenerateVerifier()
	now := f.clock.Now()
	f.mu.Lock()
	for s, pe := range f.pending { // forget abandoned sign-ins
		if now.After(pe.expires) {
			delete(f.pending, s)
		}
	}
	f.pending[state] = pending{userID: userID, provider: provider, verifier: verifier, redirect: redirect, data: data, expires: now.Add(StateTTL)}
	f.mu.Unlock()
	return p.config(redirect).AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(verifier)), nil
}

// Finish exchanges the callback's code for tokens. The state must be one
// Start issued to the same user, within StateTTL; it is used once. The
// credentials name their provider; data is what Start was given.
func (f *Flow) Finish(ctx context.Context, userID, state, code string) (Provider, mail.Credentials, string, error) {
	f.mu.Lock()
	pe, ok := f.pending[state]
	if ok && pe.userID == userID {
		delete(f.pending, state)
	}
	f.mu.Unlock()
	if !ok || pe.userID != userID || f.clock.Now().After(pe.expires) {
		return Provider{}, mail.Credentials{}, "", ErrBadState
	}
	if code == "" {
		return Provider{}, mail.Credentials{}, "", errors.New("the provider sent no authorization code back")
	}
	p, err := f.Provider(pe.provider)
	if err != nil {
		return Provider{}, mail.Credentials{}, "", err
	}
	tok, err := p.config(pe.redirect).Exchange(f.ctx(ctx), code, oauth2.VerifierOption(pe.verifier))
	if err != nil {
		return p, mail.Credentials{}, "", fmt.Errorf("%s refused the sign-in: %s", p.Name, tokenError(err))
	}
	if tok.RefreshToken == "" {
		return p, mail.Credentials{}, "", fmt.Errorf("%s gave no refresh token, so os1 could not stay signed in; check the app's offline access", p.Name)
	}
	c := credentials(tok)
	c.Provider = p.Name
	return p, c, pe.data, nil
}

func (f *Flow) ctx(ctx context.Context) context.Context {
	if f.client != nil {
		return context.WithValue(ctx, oauth2.HTTPClient, f.client)
	}
	return ctx
}

func credentials(t *oauth2.Token) mail.Credentials {
	return mail.Credentials{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, Expiry: t.Expiry.UTC()}
}

// Early is how long before expiry an access token is renewed.
const Early = time.Minute

// Fresh returns c with a usable access token, renewing it with the refresh
// token when it expires within Early; changed says whether c must be saved.
// A refused refresh is ErrReconnect.
func (f *Flow) Fresh(ctx context.Context, provider string, c mail.Credentials) (mail.Credentials, bool, error) {
	if c.AccessToken != "" && (c.Expiry.IsZero() || f.clock.Now().Add(Early).Before(c.Expiry)) {
		return c, false, nil
	}
	p, err := f.Provider(provider)
	if err != nil {
		return c, false, err
	}
	if c.RefreshToken == "" {
		return c, false, ErrReconnect
	}
	// An expired token makes the library ask for a new one now.
	old := &oauth2.Token{RefreshToken: c.RefreshToken, Expiry: time.Unix(1, 0)}
	tok, err := p.config("").TokenSource(f.ctx(ctx), old).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode >= 400 && re.Response.StatusCode < 500 {
			return c, false, fmt.Errorf("%w (%s)", ErrReconnect, tokenError(err))
		}
		return c, false, fmt.Errorf("renew the %s access token: %s", p.Name, tokenError(err))
	}
	out := credentials(tok)
	out.Provider = c.Provider
	if out.RefreshToken == "" {
		out.RefreshToken = c.RefreshToken // providers may not rotate it
	}
	return out, true, nil
}

// tokenError is the provider's error code and description, never a token.
func tokenError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		s := strings.TrimSpace(re.ErrorCode + " " + re.ErrorDescription)
		if s != "" {
			return s
		}
		if re.Response != nil {
			return re.Response.Status
		}
	}
	return err.Error()
}
