package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserSecurity: in Settings → Security the owner sees where they are
// signed in, signs another session out (it stops working at once), and
// changes the password (the old one stops working, this browser stays in).
func TestBrowserSecurity(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		return llmtest.Reply{Chunks: []string{"Hello."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	const user, oldPW, newPW = "theo", "correct horse", "a much newer password"
	other := newClient(t, p.URL) // another device, signed in first
	other.setup(p.SetupToken, user, oldPW, "Theo")
	other.waitModel()
	other.onboard()

	tab := b.ctx
	b.do(tab, "sign in",
		chromedp.Navigate(p.URL+"/#/login"),
		screen("login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), oldPW),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
	)
	b.do(tab, "open Settings → Security",
		chromedp.Navigate(p.URL+"/#/settings/security"),
		screen("settings"),
		chromedp.WaitVisible(css(`#sessions li.session[data-current="1"]`)),
		chromedp.WaitVisible(css(`#sessions li.session:not([data-current="1"]) .session-end`)),
	)
	if n := eval[int](b, tab, "count sessions", `document.querySelectorAll('#sessions li.session').length`); n != 2 {
		t.Errorf("the session list shows %d sessions, want 2 (this browser and the other device)", n)
	}
	if used := eval[string](b, tab, "read this session's line", `document.querySelector('#sessions li.session[data-current="1"]').textContent`); !strings.Contains(used, "last used") || !strings.Contains(used, "(this one)") {
		t.Errorf("this session's line %q does not say it is this one and when it was last used", used)
	}
	b.screenshot(tab, "security")

	b.do(tab, "sign the other device out", chromedp.Click(css(`#sessions .session-end`)))
	poll[bool](b, tab, "the other session leaves the list", `!document.querySelector('#sessions .session-end')`)
	if status, _ := other.call(http.MethodGet, "/api/me", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("the signed-out device still works: HTTP %d", status)
	}

	b.do(tab, "change the password",
		chromedp.SendKeys(css(`#password-current`), oldPW),
		chromedp.SendKeys(css(`#password-new`), newPW),
		chromedp.SendKeys(css(`#password-new2`), newPW),
		chromedp.Click(css(`#password-save`)),
	)
	poll[bool](b, tab, "the page says the password changed",
		`(document.querySelector('#settings-security .ok-note:not([hidden])')?.textContent || '').includes('Password changed')`)
	if status, _ := newClient(t, p.URL).call(http.MethodPost, "/api/login", map[string]string{"username": user, "password": oldPW}, nil); status != http.StatusUnauthorized {
		t.Errorf("the old password still signs in: HTTP %d", status)
	}
	newClient(t, p.URL).login(user, newPW)
	b.do(tab, "this browser stays signed in", chromedp.Navigate(p.URL+"/#/settings"), screen("settings"))
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
