package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserProactive (issue 13): she promises in chat to ask later
// (followup_later, no approval), speaks first at that time in a new
// conversation that says why, and Settings → Speaking first shows it in
// the log, today's use, and saves the budget and a muted trigger.
func TestBrowserProactive(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Route(func(r llmtest.Request) bool {
		for _, m := range r.Messages {
			if m.Role == llm.RoleUser && strings.Contains(m.Content, "interview tomorrow") {
				return true
			}
		}
		return false
	}, func(r llmtest.Request) llmtest.Reply {
		if last := r.Messages[len(r.Messages)-1]; last.Role == llm.RoleTool {
			return llmtest.Reply{Chunks: []string{"Good luck! I'll ask you how it went."}}
		}
		at := time.Now().Add(4 * time.Second).Format(time.RFC3339)
		return llmtest.Reply{ToolCalls: []llm.ToolCall{toolCall("f1", "followup_later", map[string]any{"text": "how did the interview go?", "at": at})}}
	})
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		return llmtest.Reply{Chunks: []string{"So, how did the interview go?"}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	const user, pw = "theo", "correct horse"
	c := newClient(t, p.URL)
	c.setup(p.SetupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()

	tab := b.ctx
	b.do(tab, "sign in and tell her about the interview",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.WaitReady(css(`body[data-live="true"]`)),
		chromedp.WaitVisible(css(`#composer`)),
		chromedp.SendKeys(css(`#composer`), "I have an interview tomorrow."),
		chromedp.Click(css(`#send`)),
		chromedp.WaitReady(css(`#messages .msg[data-role="assistant"][data-status="complete"]`)),
	)
	type entry struct {
		Trigger, Reason, Outcome string
	}
	var log struct {
		Log []entry `json:"log"`
	}
	eventually(t, "she asks, on her own", func() (bool, string) {
		c.must("GET", "/api/proactive/log", nil, &log)
		var s []string
		for _, e := range log.Log {
			s = append(s, e.Outcome+": "+e.Reason)
		}
		return len(log.Log) == 1 && log.Log[0].Outcome == "sent", strings.Join(s, "; ")
	})
	if e := log.Log[0]; e.Trigger != "followup" || e.Reason != "I said I would ask you: “how did the interview go?”" {
		t.Fatalf("log %+v", log.Log)
	}

	b.do(tab, "open Settings → Speaking first",
		chromedp.Navigate(p.URL+"/#/settings/proactive"),
		chromedp.WaitVisible(css(`#settings-proactive #proactive-log .proactive-entry[data-outcome="sent"]`)),
		chromedp.WaitVisible(css(`#proactive-on-mail`)),
	)
	b.screenshot(tab, "settings-proactive")
	shown := eval[string](b, tab, "read the log", `document.querySelector('#proactive-log').textContent`)
	if !strings.Contains(shown, "how did the interview go?") || !strings.Contains(shown, "Sent") {
		t.Errorf("the log shows %q", shown)
	}
	if u := eval[string](b, tab, "read today's use", `document.querySelector('#proactive-usage').textContent`); !strings.Contains(u, "1 of 3 messages") {
		t.Errorf("today's use shows %q", u)
	}
	eval[bool](b, tab, "mute mail, five a day, save", `(() => {
		document.querySelector('#proactive-on-mail').click();
		document.querySelector('#proactive-count').value = '5';
		document.querySelector('#proactive-form button[type="submit"]').click();
		return true;
	})()`)
	eventually(t, "the settings are saved", func() (bool, string) {
		var s struct {
			DailyCount int      `json:"daily_count"`
			Muted      []string `json:"muted"`
		}
		c.must("GET", "/api/proactive/settings", nil, &s)
		return s.DailyCount == 5 && slices.Equal(s.Muted, []string{"mail"}), strings.Join(s.Muted, ",")
	})
}
