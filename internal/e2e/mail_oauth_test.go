package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserMailOAuth: a provider configured by the owner ([[mail.oauth]])
// shows as "Sign in with …" in Settings → Mail; the browser goes to the
// provider (a local authorization server here, which checks PKCE), comes
// back without a session cookie (SameSite=Strict), and the page finishes
// the sign-in with its own session: the account is listed, signed in with
// XOAUTH2, and no token ever reaches the page.
func TestBrowserMailOAuth(t *testing.T) {
	b := newBrowser(t)
	var mu sync.Mutex
	challenges := map[string]string{}
	var authorized int
	as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch r.URL.Path {
		case "/authorize": // the user agrees at once
			q := r.URL.Query()
			if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != "os1-e2e" {
				http.Error(w, "bad request", 400)
				return
			}
			authorized++
			challenges["code-e2e"] = q.Get("code_challenge")
			back, _ := url.Parse(q.Get("redirect_uri"))
			v := back.Query()
			v.Set("code", "code-e2e")
			v.Set("state", q.Get("state"))
			back.RawQuery = v.Encode()
			http.Redirect(w, r, back.String(), http.StatusFound)
		case "/token":
			r.ParseForm()
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			w.Header().Set("Content-Type", "application/json")
			if challenges[r.PostForm.Get("code")] != base64.RawURLEncoding.EncodeToString(sum[:]) {
				w.WriteHeader(400)
				w.Write([]byte(`{"error":"invalid_grant"}`))
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"access_token": "access-e2e-secret", "refresh_token": "refresh-e2e-secret",
				"expires_in": 3600, "token_type": "Bearer"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(as.Close)

	cfg := filepath.Join(t.TempDir(), "config.toml")
	toml := "[[mail.oauth]]\nname = \"google\"\nclient_id = \"os1-e2e\"\nclient_secret = \"s\"\n" +
		"auth_url = \"" + as.URL + "/authorize\"\ntoken_url = \"" + as.URL + "/token\"\nimap_host = \"127.0.0.1\"\nsmtp_host = \"127.0.0.1\"\n"
	if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		return llmtest.Reply{Chunks: []string{"Okay."}}
	})
	p := startOS1(t, "OS1_CONFIG="+cfg, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel,
		"OS1_MAIL_SYNC_EVERY=0s")
	const user, pw = "theo", "correct horse"
	c := newClient(t, p.URL)
	c.setup(p.SetupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()

	tab := b.ctx
	b.do(tab, "sign in and open Settings → Mail",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.Navigate(p.URL+"/#/settings/mail"),
		chromedp.WaitVisible(css(`.mail-oauth-buttons button[data-provider="google"]`)),
	)
	// Without an address she says what to type first.
	b.do(tab, "sign in with no address", chromedp.Click(css(`.mail-oauth-buttons button[data-provider="google"]`)))
	if got := poll[string](b, tab, "the hint shows", `(() => { const a = document.querySelector('.mail-oauth .alert-error'); return a && !a.hidden && a.textContent; })()`); !strings.Contains(got, "address") {
		t.Errorf("signing in with no address says %q", got)
	}
	b.do(tab, "sign in with Google",
		chromedp.SetValue(css(`#mail-address`), "theo@gmail.example"),
		chromedp.Click(css(`.mail-oauth-buttons button[data-provider="google"]`)),
		chromedp.WaitVisible(css(`.mail-account`)),
	)
	shown := poll[string](b, tab, "the account is listed", `(() => { const li = document.querySelector('.mail-account'); return li && li.textContent; })()`)
	if !strings.Contains(shown, "theo@gmail.example") {
		t.Errorf("after the sign-in the account shows %q", shown)
	}
	hash := eval[string](b, tab, "read the address", `location.hash`)
	if !strings.HasPrefix(hash, "#/settings/mail") || strings.Contains(hash, "code-e2e") {
		t.Errorf("after the sign-in the address is %q: the code must not stay in it", hash)
	}
	if html := eval[string](b, tab, "read the page", `document.documentElement.outerHTML`); strings.Contains(html, "e2e-secret") {
		t.Error("a token reached the page")
	}
	mu.Lock()
	n := authorized
	mu.Unlock()
	if n != 1 {
		t.Errorf("the provider's sign-in page was opened %d times, want 1", n)
	}
	_, accounts := c.call(http.MethodGet, "/api/mail/accounts", nil, nil)
	if !strings.Contains(accounts, `"auth":"xoauth2"`) || strings.Contains(accounts, "e2e-secret") {
		t.Errorf("GET /api/mail/accounts: %s", accounts)
	}
}
