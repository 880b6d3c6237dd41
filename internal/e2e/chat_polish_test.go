package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserChatPolish checks, on a phone-sized screen, what a new user
// meets (issue 10): a used invite link says so before the form, the chat
// header shows her name, a failed reply shows a plain sentence with the
// technical details folded away under "Details", and the memory import
// picker is styled like the rest.
func TestBrowserChatPolish(t *testing.T) {
	b := newBrowser(t)
	phone := chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile) // an iPhone's width, below the 26rem layout
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		if len(r.Messages) > 0 && strings.Contains(r.Messages[len(r.Messages)-1].Content, "please fail") {
			// A 400 is not retried: the turn fails at once.
			return llmtest.Reply{Status: http.StatusBadRequest, Error: "model 'tiny' does not exist"}
		}
		return llmtest.Reply{Chunks: []string{"Hello."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	const user, pw = "theo", "correct horse"
	owner := newClient(t, p.URL)
	owner.setup(p.SetupToken, user, pw, "Theo")
	owner.waitModel()
	if name := owner.onboard(); name != "Samantha" {
		t.Fatalf("she chose %q", name)
	}
	invite := func() string {
		var inv struct {
			URL string `json:"url"`
		}
		owner.must(http.MethodPost, "/api/invites", nil, &inv)
		_, token, _ := strings.Cut(inv.URL, "/#/invite/")
		return token
	}

	// A used invite link says so, and no form is shown.
	used := invite()
	newClient(t, p.URL).must(http.MethodPost, "/api/invites/accept", map[string]string{"token": used, "username": "amy", "password": "another password", "display_name": "Amy"}, nil)
	guest := b.incognito()
	b.do(guest, "open the used invite link", phone, chromedp.Navigate(p.URL+"/#/invite/"+used), screen("invite"))
	said := poll[string](b, guest, "the page says the link cannot be used",
		`(() => { const e = document.querySelector('.invite-unusable'); return e ? e.textContent : ''; })()`)
	if !strings.Contains(said, "This invite link was used or has expired") {
		t.Errorf("the used link's page says %q", said)
	}
	if eval[bool](b, guest, "look for the form", `!!document.querySelector('#invite-form')`) {
		t.Error("the form is shown for a used invite link")
	}
	b.screenshot(guest, "invite-used")
	// A fresh link shows the form, and no warning.
	b.do(guest, "open a fresh invite link", chromedp.Navigate(p.URL+"/#/invite/"+invite()), chromedp.Reload(), chromedp.WaitVisible(css(`#invite-form`)))
	if eval[bool](b, guest, "look for a warning", `!!document.querySelector('.invite-unusable')`) {
		t.Error("a fresh invite link is called unusable")
	}

	// The phone header shows her name, whole.
	tab := b.ctx
	b.do(tab, "sign in",
		phone,
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.WaitVisible(css(`#composer`)),
	)
	if w := eval[int](b, tab, "read the viewport width", `window.innerWidth`); w > 416 {
		t.Fatalf("the viewport is %d px wide; the phone layout starts at 416", w)
	}
	header := eval[string](b, tab, "read the header's name", `(() => {
		const e = document.querySelector('.topbar .companion-title');
		if (!e || getComputedStyle(e).display === 'none' || e.getBoundingClientRect().width === 0) return 'hidden';
		if (e.scrollWidth > e.clientWidth) return 'cut: ' + e.textContent;
		return e.textContent; })()`)
	if header != "Samantha" {
		t.Errorf("the phone header shows %q, want her name, Samantha", header)
	}
	b.screenshot(tab, "phone-header")

	// A failed reply: a sentence, with the provider's words behind Details.
	b.do(tab, "send a message the model fails",
		chromedp.SendKeys(css(`#composer`), "please fail"),
		chromedp.Click(css(`#send`)),
		chromedp.WaitVisible(css(`#messages .msg[data-role="assistant"][data-status="failed"] .msg-error`)),
	)
	type bubble struct {
		Sentence string `json:"sentence"`
		Summary  string `json:"summary"`
		Details  string `json:"details"`
		Open     bool   `json:"open"`
		Shown    bool   `json:"shown"`
	}
	const readBubble = `(() => {
		const m = document.querySelector('#messages .msg[data-role="assistant"][data-status="failed"]');
		const d = m.querySelector('details.error-details');
		const pre = d && d.querySelector('pre');
		return { sentence: m.querySelector('.msg-error').textContent, summary: d ? d.querySelector('summary').textContent : '',
			details: pre ? pre.textContent : '', open: !!(d && d.open), shown: !!(pre && pre.checkVisibility()) }; })()`
	got := eval[bubble](b, tab, "read the failed bubble", readBubble)
	if !strings.HasPrefix(got.Sentence, "The model could not take this request.") || strings.Contains(got.Sentence, "openai") || strings.Contains(got.Sentence, "400") {
		t.Errorf("the bubble says %q, want a plain sentence", got.Sentence)
	}
	if got.Summary != "Details" || got.Open || got.Shown {
		t.Errorf("the details are not folded away under Details: %+v", got)
	}
	if !strings.Contains(got.Details, "does not exist") || !strings.Contains(got.Details, "400") {
		t.Errorf("the details %q lost the provider's error", got.Details)
	}
	b.do(tab, "open the details", chromedp.Click(css(`#messages .msg[data-status="failed"] details.error-details summary`)))
	if got = eval[bubble](b, tab, "read the opened bubble", readBubble); !got.Open || !got.Shown {
		t.Errorf("Details did not open: %+v", got)
	}
	b.screenshot(tab, "failed-bubble")
	// After a reload the stored failure reads the same.
	b.do(tab, "reload", chromedp.Reload(), screen("chat"),
		chromedp.WaitVisible(css(`#messages .msg[data-status="failed"] details.error-details`)))
	if again := eval[bubble](b, tab, "read the bubble after a reload", readBubble); again.Sentence != got.Sentence || again.Details != got.Details {
		t.Errorf("after a reload the bubble reads %+v, before %+v", again, got)
	}
	// The memory import picker is styled like the rest: a rounded button.
	b.do(tab, "open the memory page", chromedp.Navigate(p.URL+"/#/memory"), chromedp.WaitReady(css(`#memory-import-file`)))
	picker := eval[string](b, tab, "read the import picker's style", `(() => {
		const f = document.querySelector('#memory-import-file');
		const s = getComputedStyle(f, '::file-selector-button');
		return getComputedStyle(f).borderTopStyle + ' ' + s.borderTopLeftRadius + ' ' + s.fontWeight; })()`)
	if picker != "dashed 999px 600" {
		t.Errorf("the import picker is not styled like the page (border, button radius, weight): %q", picker)
	}
	eval[bool](b, tab, "scroll to the picker", `(document.querySelector('#memory-import-file').scrollIntoView(), true)`)
	b.screenshot(tab, "memory-import")
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
