package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserWakeupCall (issue 13): a wake-up call that fires while the page
// shows another view rings like a call (an incoming-call screen, the ring
// repeated until answered); Answer starts her turn on the server with the
// morning briefing (and today's agenda) in its prompt, opens that conversation and speaks her
// reply (the browser's voice here: the server runs without one). A second
// wake-up is snoozed from the call screen: it is pending again ten minutes
// on. Sound and speech are counted by stubs put in the page before it rings.
func TestBrowserWakeupCall(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		switch {
		case strings.Contains(r.System, "You choose your own name"):
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		case strings.Contains(r.System, "## Morning briefing") && strings.Contains(r.System, "The user just answered your wake-up call") &&
			strings.Contains(r.System, "- all day: “Pottery class”") && strings.Contains(r.System, "## Today's calendar"):
			return llmtest.Reply{Chunks: []string{"Good morning, Theo. Today is your pottery class, so take it slow."}}
		}
		return llmtest.Reply{Chunks: []string{"Rise and shine!"}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel, "OS1_TTS=off", "OS1_STT=off")
	const user, pw = "theo", "correct horse"
	c := newClient(t, p.URL)
	c.setup(p.SetupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()
	// Today (in Berlin, the user's zone) holds one event: the briefing and
	// the agenda prompt slot both name it.
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := c.call("POST", "/api/calendar/events", map[string]any{"summary": "Pottery class", "date": time.Now().In(berlin).Format("2006-01-02")}, nil); code != 201 {
		t.Fatalf("add today's event: %d %s", code, body)
	}

	tab := b.ctx
	b.do(tab, "sign in and open the memory page",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.WaitReady(css(`body[data-live="true"]`)),
		chromedp.Navigate(p.URL+"/#/memory"), screen("memory"),
	)
	eval[bool](b, tab, "stub sound and speech", `(() => {
		window.__audio = 0; window.__rings = 0; window.__spoken = [];
		window.addEventListener('os1:ring', () => window.__rings++);
		const node = () => ({ connect: (x) => x || node(), start() {}, stop() {}, type: '', frequency: { value: 0 },
			gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} } });
		window.AudioContext = class { constructor() { window.__audio++; this.currentTime = 0; this.destination = {}; }
			createOscillator() { return node(); } createGain() { return node(); } close() {} };
		window.SpeechSynthesisUtterance = class { constructor(t) { this.text = t; this.onend = null; } };
		Object.defineProperty(window, 'speechSynthesis', { configurable: true,
			value: { speak: (u) => { window.__spoken.push(u.text); if (u.onend) setTimeout(u.onend, 10); }, cancel() {} } });
		return true;
	})()`)

	var wake reminderJSON
	at := time.Now().Add(3 * time.Second).Format(time.RFC3339)
	if code, body := c.call("POST", "/api/reminders", map[string]any{"text": "up you get", "at": at, "wake": true}, &wake); code != 201 {
		t.Fatalf("add a wake-up call: %d %s", code, body)
	}
	status := poll[string](b, tab, "the wake-up call rings", `(() => {
		const el = document.querySelector('#wakeup-call[data-state="ringing"] #wakeup-status');
		return el && window.__rings >= 2 ? el.textContent : '';
	})()`)
	b.screenshot(tab, "wakeup-ringing")
	if status != "Incoming wake-up call" {
		t.Errorf("the call screen says %q", status)
	}
	if text := eval[string](b, tab, "read the call's words", `document.querySelector('#wakeup-text').textContent`); text != "up you get" {
		t.Errorf("the call screen shows %q, want the wake-up's words", text)
	}
	if n := eval[int](b, tab, "count audio contexts", `window.__audio`); n != 1 {
		t.Errorf("the ring made %d audio contexts, want one reused", n)
	}
	if said := eval[[]string](b, tab, "nothing spoken while ringing", `window.__spoken`); len(said) != 0 {
		t.Errorf("spoken while ringing: %q", said)
	}

	b.do(tab, "answer", chromedp.Click(css(`#wakeup-answer`)))
	spoken := poll[string](b, tab, "her briefing is spoken", `window.__spoken.join(' ')`)
	if !strings.Contains(spoken, "your pottery class") {
		t.Errorf("spoken %q, want her morning briefing", spoken)
	}
	poll[bool](b, tab, "the call shows it is done", `!!document.querySelector('#wakeup-call[data-state="done"] #wakeup-talk:not([hidden])')`)
	b.screenshot(tab, "wakeup-answered")
	if rings := eval[int](b, tab, "count rings", `window.__rings`); rings < 2 {
		t.Errorf("rang %d times", rings)
	}
	hash := eval[string](b, tab, "read the view", `location.hash`)
	if !strings.HasPrefix(hash, "#/c/") {
		t.Fatalf("after answering the page shows %q, want the briefing's conversation", hash)
	}
	poll[bool](b, tab, "her reply is in the conversation", `[...document.querySelectorAll('#messages .msg[data-role="assistant"]')].some((m) => m.textContent.includes('take it slow'))`)
	b.do(tab, "close the call", chromedp.Click(css(`#wakeup-hangup`)))
	poll[bool](b, tab, "the call screen goes", `!document.querySelector('#wakeup-call')`)

	// A second wake-up, snoozed from the call screen.
	var second reminderJSON
	at = time.Now().Add(3 * time.Second).Format(time.RFC3339)
	if code, body := c.call("POST", "/api/reminders", map[string]any{"text": "really, get up", "at": at, "wake": true}, &second); code != 201 {
		t.Fatalf("add a second wake-up call: %d %s", code, body)
	}
	poll[bool](b, tab, "it rings", `!!document.querySelector('#wakeup-call[data-state="ringing"]') && document.querySelector('#wakeup-text').textContent === 'really, get up'`)
	b.do(tab, "snooze it", chromedp.Click(css(`#wakeup-snooze`)))
	poll[bool](b, tab, "the call screen goes", `!document.querySelector('#wakeup-call')`)
	eventually(t, "the wake-up is pending ten minutes on", func() (bool, string) {
		var r reminderJSON
		c.call("GET", "/api/reminders/"+second.ID, nil, &r)
		left := time.Until(r.Due)
		return r.State == "pending" && left > 8*time.Minute && left < 11*time.Minute, r.State + " " + r.Due.String()
	})
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
