package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// reminderJSON is a reminder as GET /api/reminders/{id} answers it.
type reminderJSON struct {
	ID    string    `json:"id"`
	Text  string    `json:"text"`
	State string    `json:"state"`
	Due   time.Time `json:"due"`
	Local string    `json:"local"`
}

// TestBrowserReminders (issue 13): Settings → Reminders lists what is
// scheduled, snoozes, cancels (after asking again) and saves quiet hours;
// and a reminder that fires while the page shows another view appears in
// a banner with its words, beeps (Web Audio) and, with "read aloud" on, is
// spoken (speechSynthesis); a wake-up call while the tab is hidden shows a
// system notification. Sound, speech and notifications are counted through
// stubs put in the page before it fires; the headless browser plays none.
func TestBrowserReminders(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		return llmtest.Reply{Chunks: []string{"Time to water the basil!"}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	const user, pw = "theo", "correct horse"
	c := newClient(t, p.URL)
	c.setup(p.SetupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()

	// One far off, to snooze and cancel in the page.
	var later reminderJSON
	if code, body := c.call("POST", "/api/reminders", map[string]any{"text": "call mum", "in_minutes": 120}, &later); code != 201 {
		t.Fatalf("add a reminder: %d %s", code, body)
	}

	tab := b.ctx
	b.do(tab, "sign in and open Settings → Reminders",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.WaitReady(css(`body[data-live="true"]`)),
		chromedp.Navigate(p.URL+"/#/settings/reminders"),
		chromedp.WaitVisible(css(`#settings-reminders #reminders-list .reminder-item`)),
	)
	b.screenshot(tab, "settings-reminders")
	shown := eval[string](b, tab, "read the list", `document.querySelector('#reminders-list').textContent`)
	if !strings.Contains(shown, "call mum") || !strings.Contains(shown, "Reminder · "+later.Local) {
		t.Errorf("the list shows %q, want “call mum” due %q", shown, later.Local)
	}

	// Snooze 10 minutes: due again about 10 minutes from now.
	b.do(tab, "snooze it", chromedp.Click(css(`#reminders-list .reminder-item[data-id="`+later.ID+`"] .reminder-snooze`)))
	eventually(t, "the snooze is stored", func() (bool, string) {
		var r reminderJSON
		c.call("GET", "/api/reminders/"+later.ID, nil, &r)
		left := time.Until(r.Due)
		return r.State == "pending" && left > 8*time.Minute && left < 11*time.Minute, r.Due.String() + " " + r.State
	})

	// Cancel asks once more; the first click cancels nothing.
	cancelBtn := `#reminders-list .reminder-item[data-id="` + later.ID + `"] .reminder-cancel`
	b.do(tab, "ask to cancel", chromedp.WaitVisible(css(cancelBtn)), chromedp.Click(css(cancelBtn)))
	if asks := eval[string](b, tab, "read the button", `document.querySelector('`+cancelBtn+`').textContent`); !strings.Contains(asks, "?") {
		t.Errorf("the first Cancel click shows %q, want a question", asks)
	}
	var r reminderJSON
	if c.call("GET", "/api/reminders/"+later.ID, nil, &r); r.State != "pending" {
		t.Fatalf("after one click on Cancel the reminder is %q, want still pending", r.State)
	}
	b.do(tab, "confirm the cancel", chromedp.Click(css(cancelBtn)))
	eventually(t, "the cancel is stored", func() (bool, string) {
		var r reminderJSON
		c.call("GET", "/api/reminders/"+later.ID, nil, &r)
		return r.State == "skipped", r.State
	})
	poll[bool](b, tab, "the list empties", `!document.querySelector('#reminders-list .reminder-item')`)

	// Quiet hours, saved from the form.
	eval[bool](b, tab, "fill quiet hours", `(() => {
		document.querySelector('#quiet-from').value = '22:30';
		document.querySelector('#quiet-to').value = '06:45';
		document.querySelector('#quiet-form button[type="submit"]').click();
		return true;
	})()`)
	eventually(t, "quiet hours are saved", func() (bool, string) {
		var q struct {
			QuietHours string `json:"quiet_hours"`
		}
		c.call("GET", "/api/reminders/quiet-hours", nil, &q)
		return q.QuietHours == "22:30-06:45", q.QuietHours
	})
	// Quiet hours would hold the next one if it is now 22:30–06:45 in Berlin.
	c.must("PUT", "/api/reminders/quiet-hours", map[string]string{"quiet_hours": "off"}, nil)

	// Read aloud on; sound and speech counted by stubs.
	eval[bool](b, tab, "stub sound and speech", `(() => {
		const box = document.querySelector('#reminders-speak');
		if (!box.checked) box.click();
		window.__beeps = 0;
		window.__spoken = [];
		const node = () => ({ connect: (x) => x || node(), start() {}, stop() {}, type: '', frequency: { value: 0 },
			gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} } });
		window.AudioContext = class { constructor() { window.__beeps++; this.currentTime = 0; this.destination = {}; }
			createOscillator() { return node(); } createGain() { return node(); } close() {} };
		window.SpeechSynthesisUtterance = window.SpeechSynthesisUtterance || class { constructor(t) { this.text = t; } };
		Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: { speak: (u) => window.__spoken.push(u.text), cancel() {} } });
		return localStorage.getItem('os1.reminders.speak') === '1';
	})()`)

	// One due in a few seconds, asked for in chat: the scripted model calls
	// reminders_add (no consent needed to add), then answers.
	model.Route(func(r llmtest.Request) bool {
		for _, m := range r.Messages {
			if m.Role == llm.RoleUser && strings.Contains(m.Content, "water the basil") {
				return true
			}
		}
		return false
	}, func(r llmtest.Request) llmtest.Reply {
		if last := r.Messages[len(r.Messages)-1]; last.Role == llm.RoleTool {
			return llmtest.Reply{Chunks: []string{"Okay, in a few seconds."}}
		}
		at := time.Now().Add(10 * time.Second).Format(time.RFC3339)
		return llmtest.Reply{ToolCalls: []llm.ToolCall{toolCall("r1", "reminders_add", map[string]any{"text": "water the basil", "at": at})}}
	})
	b.do(tab, "ask her in chat",
		chromedp.Navigate(p.URL+"/#/"), screen("chat"),
		chromedp.WaitVisible(css(`#composer`)),
		chromedp.SendKeys(css(`#composer`), "Remind me to water the basil in a few seconds."),
		chromedp.Click(css(`#send`)),
		chromedp.WaitReady(css(`#messages .msg[data-role="assistant"][data-status="complete"]`)),
	)
	var list struct {
		Reminders []reminderJSON `json:"reminders"`
	}
	c.must("GET", "/api/reminders", nil, &list)
	if len(list.Reminders) != 1 || list.Reminders[0].Text != "water the basil" {
		t.Fatalf("after asking in chat the reminders are %+v, want one to water the basil", list.Reminders)
	}
	soon := list.Reminders[0]
	// Settings lists it; the page moves to another view before it fires.
	b.do(tab, "open Settings, the list shows it",
		chromedp.Navigate(p.URL+"/#/settings/reminders"),
		chromedp.WaitVisible(css(`#reminders-list .reminder-item[data-id="`+soon.ID+`"]`)),
		chromedp.Navigate(p.URL+"/#/memory"), screen("memory"),
	)
	line := poll[string](b, tab, "the reminder fires", `(document.querySelector('#reminder-banners .reminder-text') || {}).textContent || ''`)
	b.screenshot(tab, "reminder-banner")
	if line != "Reminder: water the basil" {
		t.Errorf("the banner says %q, want %q", line, "Reminder: water the basil")
	}
	if n := eval[int](b, tab, "count beeps", `window.__beeps`); n != 1 {
		t.Errorf("the page beeped %d times, want 1", n)
	}
	if said := eval[[]string](b, tab, "read what was spoken", `window.__spoken`); len(said) != 1 || said[0] != line {
		t.Errorf("the page spoke %q, want [%q]", said, line)
	}
	// The banner's text is text, and Dismiss removes it.
	if html := eval[string](b, tab, "read the banner markup", `document.querySelector('#reminder-banners .reminder-text').innerHTML`); html != line {
		t.Errorf("the banner's markup is %q", html)
	}
	b.do(tab, "dismiss it", chromedp.Click(css(`#reminder-banners .reminder-dismiss`)))
	poll[bool](b, tab, "the banner goes", `!document.querySelector('#reminder-banners .reminder-banner')`)
	if c.call("GET", "/api/reminders/"+soon.ID, nil, &r); r.State != "done" {
		t.Errorf("the reminder that fired is %q, want done", r.State)
	}

	// A wake-up call while the tab is hidden: a system notification too.
	eval[bool](b, tab, "hide the tab and stub notifications", `(() => {
		window.__notes = [];
		Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
		window.Notification = class { static permission = 'granted'; constructor(title, o) { window.__notes.push(o.body); } close() {} };
		return true;
	})()`)
	at := time.Now().Add(3 * time.Second).Format(time.RFC3339)
	if code, body := c.call("POST", "/api/reminders", map[string]any{"text": "stretch", "at": at, "wake": true}, &soon); code != 201 {
		t.Fatalf("add a wake-up call: %d %s", code, body)
	}
	line = poll[string](b, tab, "the wake-up call fires", `(document.querySelector('#reminder-banners .reminder-text') || {}).textContent || ''`)
	if line != "Wake-up call: stretch" {
		t.Errorf("the banner says %q, want %q", line, "Wake-up call: stretch")
	}
	if notes := eval[[]string](b, tab, "read the notifications", `window.__notes`); len(notes) != 1 || notes[0] != line {
		t.Errorf("the page notified %q, want [%q]", notes, line)
	}
	if n := eval[int](b, tab, "count beeps", `window.__beeps`); n != 2 {
		t.Errorf("the page beeped %d times after two reminders, want 2", n)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
