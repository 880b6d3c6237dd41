package e2e

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserReasoning (issue 10): a reply that came with reasoning shows
// it in a closed "Thought for N s" disclosure above the answer (never in
// the answer), during the reply, when it is done and after a reload; a
// reply the length limit cut off says so and offers Continue, which sends
// a turn whose reply appears, and is then no longer offered. At phone
// width the memory page fits the screen.
func TestBrowserReasoning(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	const (
		askTea      = "Which tea should I try?"
		thought     = "The user likes tea. They drank black tea last week, so something lighter."
		answer      = "Try a green tea, a sencha."
		askStory    = "Tell me a long story."
		cutOff      = "Once upon a time there was"
		continueMsg = "Please continue where you left off." // what Continue sends (chat-transcript.js)
		rest        = "a kettle that sang."
	)
	gate := llmtest.NewGate()
	t.Cleanup(gate.Release)
	var mu sync.Mutex
	var asked []string
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		last := ""
		if len(r.Messages) > 0 {
			last = r.Messages[len(r.Messages)-1].Content
		}
		mu.Lock()
		asked = append(asked, last)
		mu.Unlock()
		switch last {
		case askTea:
			// Held after the first words, so the page is seen mid-reply.
			return llmtest.Reply{Reasoning: []string{"The user likes tea. ", "They drank black tea last week,", " so something lighter."},
				ReasoningAs: llmtest.ReasoningContent, Chunks: []string{"Try a green tea,", " a sencha."}, Hold: gate, HoldAfter: 1}
		case askStory:
			return llmtest.Reply{Chunks: []string{"Once upon a time", " there was"}, StopReason: "length"}
		case continueMsg:
			return llmtest.Reply{Chunks: []string{"a kettle", " that sang."}}
		}
		return llmtest.Reply{Chunks: []string{"Okay."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	const user, pw = "theo", "correct horse"
	owner := newClient(t, p.URL)
	owner.setup(p.SetupToken, user, pw, "Theo")
	owner.waitModel()
	owner.onboard()

	tab := b.ctx
	b.do(tab, "sign in",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.WaitVisible(css(`#composer`)),
	)

	// shownThought is her reply at index i as the page shows it.
	type shownThought struct {
		Has     bool   `json:"has"`
		Open    bool   `json:"open"`
		Summary string `json:"summary"`
		Thought string `json:"thought"`
		Before  bool   `json:"before"` // the disclosure comes before the answer's bubble
		Answer  string `json:"answer"`
		Status  string `json:"status"`
	}
	read := func(step string, i int) shownThought {
		return eval[shownThought](b, tab, step, `(() => {
			const m = document.querySelectorAll('#messages .msg[data-role="assistant"]')[`+strconv.Itoa(i)+`];
			if (!m) return {};
			const d = m.querySelector('details.msg-thought'), bubble = m.querySelector('.msg-bubble');
			return {has: !!d, open: !!d && d.open, summary: d ? d.querySelector('summary').textContent : '',
				thought: d ? d.querySelector('.msg-thought-text').textContent : '',
				before: !!d && !!bubble && !!(d.compareDocumentPosition(bubble) & Node.DOCUMENT_POSITION_FOLLOWING) && !bubble.contains(d),
				answer: bubble ? bubble.textContent : '', status: m.dataset.status || ''}; })()`)
	}
	doneSummary := regexp.MustCompile(`^Thought for [1-9][0-9]* s$`)
	checkDone := func(when string, got shownThought) {
		t.Helper()
		if !got.Has || got.Open || !doneSummary.MatchString(got.Summary) || got.Thought != thought || !got.Before {
			t.Errorf("%s her reply shows the reasoning as %+v, want a closed 'Thought for N s' disclosure above the answer holding %q", when, got, thought)
		}
		if got.Answer != answer || strings.Contains(got.Answer, "black tea") {
			t.Errorf("%s her answer reads %q, want %q without the reasoning", when, got.Answer, answer)
		}
	}

	b.do(tab, "ask something she thinks about",
		chromedp.SendKeys(css(`#composer`), askTea),
		chromedp.Click(css(`#send`)))
	<-gate.Reached()
	mid := poll[shownThought](b, tab, "the reasoning shows while she replies", `(() => {
		const m = document.querySelector('#messages .msg[data-role="assistant"][data-status="streaming"]');
		const d = m && m.querySelector('details.msg-thought');
		return !!d && d.querySelector('.msg-thought-text').textContent.includes('lighter.') && m.querySelector('.msg-text').textContent.includes('green') &&
			{has: true, open: d.open, summary: d.querySelector('summary').textContent, thought: d.querySelector('.msg-thought-text').textContent,
			 answer: m.querySelector('.msg-bubble').textContent, status: m.dataset.status}; })()`)
	if mid.Open || mid.Summary != "Thinking…" || mid.Thought != thought || strings.Contains(mid.Answer, "black tea") {
		t.Errorf("while she replies the reasoning shows as %+v, want a closed 'Thinking…' disclosure with the whole reasoning, apart from the answer", mid)
	}
	gate.Release()
	poll[bool](b, tab, "her reply is done", `!!document.querySelector('#messages .msg[data-role="assistant"][data-status="complete"]')`)
	checkDone("when done", read("read her reply", 0))
	b.do(tab, "open the disclosure", chromedp.Click(css(`#messages details.msg-thought summary`)))
	if !eval[bool](b, tab, "the disclosure opens", `document.querySelector('#messages details.msg-thought').open`) {
		t.Error("clicking 'Thought for N s' does not open it")
	}
	b.screenshot(tab, "reasoning-open")

	b.do(tab, "reload",
		chromedp.Reload(),
		screen("chat"),
		chromedp.WaitReady(css(`#messages .msg[data-role="assistant"][data-status="complete"]`)))
	checkDone("after a reload", read("read her reply after reload", 0))

	// The stored message carries the reasoning apart from the content.
	convID := eval[string](b, tab, "read the conversation id", `decodeURIComponent((location.hash.match(/^#\/c\/([^/?]+)/) || [])[1] || '')`)
	var view struct {
		Messages []struct {
			Role         string `json:"role"`
			Content      string `json:"content"`
			Reasoning    string `json:"reasoning"`
			ThoughtForMS int64  `json:"thought_for_ms"`
			Finish       string `json:"finish"`
		} `json:"messages"`
	}
	owner.must("GET", "/api/conversations/"+convID, nil, &view)
	if n := len(view.Messages); n != 2 || view.Messages[1].Reasoning != thought || view.Messages[1].Content != answer || view.Messages[1].ThoughtForMS <= 0 {
		t.Errorf("the stored conversation is %+v, want her answer with the reasoning apart and a positive thought_for_ms", view.Messages)
	}

	// A reply the length limit cut off.
	b.do(tab, "ask for a long story",
		chromedp.SendKeys(css(`#composer`), askStory),
		chromedp.Click(css(`#send`)))
	const cutNote = `(() => {
		const m = [...document.querySelectorAll('#messages .msg[data-role="assistant"]')][1];
		const n = m && m.querySelector('.msg-foot .msg-note');
		return !!n && m.dataset.status === 'complete' && n.textContent + ' | ' + m.querySelector('.msg-text').textContent + ' | ' + [...document.querySelectorAll('#messages .msg-continue')].map((c) => c.textContent).join(','); })()`
	const wantCut = "Cut off by the length limit | " + cutOff + " | Continue"
	if got := poll[string](b, tab, "the cut-off reply says so", cutNote); got != wantCut {
		t.Errorf("the cut-off reply shows %q, want %q", got, wantCut)
	}
	if got := read("read the cut-off reply", 1); got.Has {
		t.Errorf("a reply without reasoning shows a disclosure: %+v", got)
	}
	b.do(tab, "reload",
		chromedp.Reload(),
		screen("chat"),
		chromedp.WaitReady(css(`#messages .msg-continue`)))
	if got := eval[string](b, tab, "the cut-off note after reload", cutNote); got != wantCut {
		t.Errorf("after a reload the cut-off reply shows %q, want %q", got, wantCut)
	}
	b.screenshot(tab, "reasoning-cut-off")

	b.do(tab, "continue", chromedp.Click(css(`#messages .msg-continue`)))
	const texts = `[...document.querySelectorAll('#messages .msg')].map((m) => m.dataset.role + ':' + m.querySelector('.msg-text').textContent).join(' | ')`
	want := "user:" + askTea + " | assistant:" + answer + " | user:" + askStory + " | assistant:" + cutOff + " | user:" + continueMsg + " | assistant:" + rest
	poll[bool](b, tab, "the continued reply appears", `!document.querySelector('#messages .msg[data-status="streaming"]') && (`+texts+`) === `+jsString(want))
	if n := eval[int](b, tab, "count Continue buttons", `document.querySelectorAll('#messages .msg-continue').length`); n != 0 {
		t.Errorf("after continuing, %d Continue buttons are still shown", n)
	}
	b.do(tab, "reload",
		chromedp.Reload(),
		screen("chat"),
		chromedp.WaitReady(css(`#messages .msg[data-role="assistant"][data-status="complete"]`)))
	if got := poll[string](b, tab, "the transcript after reload", `document.querySelectorAll('#messages .msg').length === 6 && (`+texts+`)`); got != want {
		t.Errorf("after a reload the transcript is %q, want %q", got, want)
	}
	if n := eval[int](b, tab, "count Continue buttons", `document.querySelectorAll('#messages .msg-continue').length`); n != 0 {
		t.Errorf("after a reload, %d Continue buttons are shown on a reply that was continued", n)
	}
	mu.Lock()
	got := strings.Join(asked, " / ")
	mu.Unlock()
	if got != askTea+" / "+askStory+" / "+continueMsg {
		t.Errorf("the model was asked %q, want the two questions and the continuation, once each", got)
	}

	// At phone width the memory page fits: nothing reaches past the right
	// edge (the search button was cut off).
	b.do(tab, "open the memory page on a phone",
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(p.URL+"/#/memory"),
		chromedp.WaitVisible(css(`.mem-search button`)))
	over := eval[string](b, tab, "measure the memory page", `(() => {
		const w = document.documentElement.clientWidth;
		const out = [...document.querySelectorAll('body *')].filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.right > w + 0.5; })
			.map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '') + ' right=' + Math.round(e.getBoundingClientRect().right));
		return (document.documentElement.scrollWidth > w ? 'page scrolls sideways (' + document.documentElement.scrollWidth + ' > ' + w + '); ' : '') + out.join(', '); })()`)
	b.screenshot(tab, "memory-phone")
	if over != "" {
		t.Errorf("at 360 px the memory page overflows: %s", over)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page: %v", ex)
	}
}
