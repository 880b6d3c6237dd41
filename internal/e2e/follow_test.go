package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserFollowsAnotherDevice: a chat open in the browser shows, live,
// a turn that another device started in the same conversation (the page
// subscribes to the user's events), without a reload or polling; and the
// composer's message limit is the one the server publishes in /api/status.
func TestBrowserFollowsAnotherDevice(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		if len(r.Messages) > 0 && strings.Contains(r.Messages[len(r.Messages)-1].Content, "from my phone") {
			return llmtest.Reply{Chunks: []string{"I see you ", "on your phone, ", "Theo."}}
		}
		return llmtest.Reply{Chunks: []string{"Hello."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	const user, pw = "theo", "correct horse"
	phone := newClient(t, p.URL)
	phone.setup(p.SetupToken, user, pw, "Theo")
	phone.waitModel()
	phone.onboard()
	conv := phone.newConversation()

	tab := b.ctx
	b.do(tab, "sign in and open the conversation",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.Navigate(p.URL+"/#/c/"+conv),
		chromedp.WaitVisible(css(`#composer`)),
	)
	poll[bool](b, tab, "the page follows the user's events (the server answered subscribed)", `document.body.dataset.live === 'true'`)

	evs := phone.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": "Hello from my phone"}).rest()
	if !strings.Contains(types(evs), "assistant_done") {
		t.Fatalf("the phone's turn: %s", types(evs))
	}
	got := poll[string](b, tab, "the browser shows the phone's turn without a reload",
		`(() => { const a = [...document.querySelectorAll('#messages .msg[data-role="assistant"][data-status="complete"] .msg-text')].map((e) => e.textContent).join('|');
		          const u = [...document.querySelectorAll('#messages .msg[data-role="user"] .msg-text')].map((e) => e.textContent).join('|');
		          return a.includes('on your phone') && u.includes('from my phone') ? a : ''; })()`)
	if !strings.Contains(got, "I see you on your phone, Theo.") {
		t.Errorf("the followed reply reads %q", got)
	}
	b.screenshot(tab, "followed")

	// The composer refuses what the server would, with the server's number.
	var st struct {
		Limits map[string]int `json:"limits"`
	}
	if err := getJSON(p.URL+"/api/status", &st); err != nil || st.Limits["message_bytes"] != 1<<20 {
		t.Fatalf("/api/status limits = %v (%v), want message_bytes %d", st.Limits, err, 1<<20)
	}
	eval[bool](b, tab, "type a message over the limit",
		`(() => { const c = document.querySelector('#composer'); c.value = 'x'.repeat(1048577); c.dispatchEvent(new Event('input')); return true; })()`)
	b.do(tab, "send it", chromedp.Click(css(`#send`)))
	msg := poll[string](b, tab, "the composer says why", `(() => { const e = document.querySelector('.composer-error'); return e && !e.hidden ? e.textContent : ''; })()`)
	if !strings.Contains(msg, "1 MiB") {
		t.Errorf("composer error %q does not give the limit", msg)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
