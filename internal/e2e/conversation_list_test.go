package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserConversationList walks the owner through the sidebar and the
// header: the first reply's conversation gets the model's title live; a
// search finds a conversation by a word of a message; pinning moves one to
// the top; archiving hides one under "Archived"; the header's model picker
// lists the server's models and the pick survives a reload and is used by
// the next turn.
func TestBrowserConversationList(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	model.SetModels(llmtest.DefaultModel, "big-model")
	// Title requests: the tomato conversation gets one; others keep theirs
	// (this route comes before scriptMemory's, which answers nothing).
	model.Route(isTitleRequest, func(r llmtest.Request) llmtest.Reply {
		if len(r.Messages) > 0 && strings.Contains(r.Messages[0].Content, "tomatoes") {
			return llmtest.Reply{Chunks: []string{"Tomato", " garden plans"}}
		}
		return llmtest.Reply{}
	})
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		last := ""
		if n := len(r.Messages); n > 0 {
			last = r.Messages[n-1].Content
		}
		switch {
		case strings.Contains(last, "Lisbon"):
			return llmtest.Reply{Chunks: []string{"Try the pastéis ", "in Belém."}}
		case strings.Contains(last, "tomatoes"):
			return llmtest.Reply{Chunks: []string{"Lovely! ", "Which kind?"}}
		}
		return llmtest.Reply{Chunks: []string{"Noted."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	const user, pw = "theo", "correct horse"
	phone := newClient(t, p.URL)
	phone.setup(p.SetupToken, user, pw, "Theo")
	phone.waitModel()
	phone.onboard()

	// Two conversations from another device, titled by the user.
	talk := func(title, text string) string {
		id := phone.newConversation()
		phone.must(http.MethodPatch, "/api/conversations/"+id, map[string]string{"title": title}, nil)
		if evs := phone.stream("/api/conversations/"+id+"/messages", map[string]string{"text": text}).rest(); !strings.Contains(types(evs), "assistant_done") {
			t.Fatalf("the phone's turn in %q: %s", title, types(evs))
		}
		return id
	}
	lisbon := talk("Trip planning", "Where should we eat in Lisbon?")
	groceries := talk("Groceries", "Milk, eggs and bread.")

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
	poll[bool](b, tab, "the page follows the user's events", `document.body.dataset.live === 'true'`)

	// The first reply, then the model's title replaces the first message's, live.
	b.do(tab, "send a first message",
		chromedp.SendKeys(css(`#composer`), "I planted tomatoes today."),
		chromedp.Click(css(`#send`)),
		chromedp.WaitReady(css(`#messages .msg[data-role="assistant"][data-status="complete"]`)),
	)
	garden := eval[string](b, tab, "read the conversation id", `decodeURIComponent((location.hash.match(/^#\/c\/([^/?]+)/) || [])[1] || '')`)
	if garden == "" {
		t.Fatal("the URL names no conversation after the first message")
	}
	title := poll[string](b, tab, "the sidebar shows the model's title without a reload",
		`(() => { const e = document.querySelector('#conversations .conv[data-id="`+garden+`"] .conv-title'); return e && e.textContent !== 'I planted tomatoes today.' ? e.textContent : ''; })()`)
	if title != "Tomato garden plans" {
		t.Errorf("the sidebar title is %q, want the model's %q", title, "Tomato garden plans")
	}
	if got := phone.conversation(garden).Conversation.Title; got != "Tomato garden plans" {
		t.Errorf("the stored title is %q, want the model's", got)
	}
	b.screenshot(tab, "list-titled")

	listed := func(step string) string {
		return eval[string](b, tab, step, `[...document.querySelectorAll('#conversations .conv')].map((e) => e.dataset.id).join(',')`)
	}
	waitList := func(step, want string) {
		t.Helper()
		poll[bool](b, tab, step, `[...document.querySelectorAll('#conversations .conv')].map((e) => e.dataset.id).join(',') === '`+want+`'`)
	}
	waitList("newest first", strings.Join([]string{garden, groceries, lisbon}, ","))

	// Search finds a conversation by a word of her reply in it.
	b.do(tab, "search for a word of a message", chromedp.SendKeys(css(`#conv-search`), "pastéis"))
	waitList("the search lists only the conversation with that word", lisbon)
	b.screenshot(tab, "list-search")
	eval[bool](b, tab, "clear the search", `(() => { const s = document.querySelector('#conv-search'); s.value = ''; s.dispatchEvent(new Event('input')); return true; })()`)
	waitList("the whole list is back", strings.Join([]string{garden, groceries, lisbon}, ","))

	// Pinning moves the oldest to the top.
	b.do(tab, "pin the Lisbon conversation", chromedp.Click(css(`#conversations .conv[data-id="`+lisbon+`"] .conv-pin`)))
	waitList("the pinned conversation comes first", strings.Join([]string{lisbon, garden, groceries}, ","))

	// Archiving hides one under the Archived toggle.
	b.do(tab, "archive the groceries", chromedp.Click(css(`#conversations .conv[data-id="`+groceries+`"] .conv-archive`)))
	waitList("the archived conversation is hidden", strings.Join([]string{lisbon, garden}, ","))
	toggle := eval[string](b, tab, "read the archive toggle", `(document.querySelector('#archived-toggle') || {}).textContent || ''`)
	if toggle != "Archived (1)" {
		t.Errorf("the archive toggle says %q, want %q", toggle, "Archived (1)")
	}
	b.do(tab, "show the archived ones", chromedp.Click(css(`#archived-toggle`)))
	waitList("the archived conversation shows under the toggle", strings.Join([]string{lisbon, garden, groceries}, ","))
	b.screenshot(tab, "list-archived")

	// Pin and archive survive a reload.
	b.do(tab, "reload", chromedp.Reload(), screen("chat"), chromedp.WaitVisible(css(`#composer`)))
	waitList("after a reload: pinned first, archived hidden", strings.Join([]string{lisbon, garden}, ","))

	// The owner's model picker lists the server's models; the pick is kept.
	poll[bool](b, tab, "the model picker shows for the open conversation", `(() => { const p = document.querySelector('#model-picker'); return !!p && !p.hidden && p.options.length > 1; })()`)
	options := eval[string](b, tab, "read the picker's models", `[...document.querySelector('#model-picker').options].map((o) => o.value).join(',')`)
	if options != ","+llmtest.DefaultModel+",big-model" {
		t.Errorf("the picker offers %q, want the default and the listed models", options)
	}
	eval[bool](b, tab, "pick big-model", `(() => { const p = document.querySelector('#model-picker'); p.value = 'big-model'; p.dispatchEvent(new Event('change')); return true; })()`)
	eventually(t, "the pick is saved on the conversation", func() (bool, string) {
		var c struct {
			Conversation struct {
				Model string `json:"model"`
			} `json:"conversation"`
		}
		phone.must(http.MethodGet, "/api/conversations/"+garden, nil, &c)
		return c.Conversation.Model == "big-model", c.Conversation.Model
	})
	b.do(tab, "reload", chromedp.Reload(), screen("chat"), chromedp.WaitVisible(css(`#composer`)))
	if got := poll[string](b, tab, "the picker shows the pick after a reload", `(() => { const p = document.querySelector('#model-picker'); return p && !p.hidden ? p.value : ''; })()`); got != "big-model" {
		t.Errorf("after a reload the picker shows %q, want big-model", got)
	}
	before := len(model.Requests())
	b.do(tab, "send a second message",
		chromedp.SendKeys(css(`#composer`), "Cherry ones."),
		chromedp.Click(css(`#send`)),
	)
	poll[bool](b, tab, "the reply arrives", `document.querySelectorAll('#messages .msg[data-role="assistant"][data-status="complete"]').length === 2`)
	var asked []string
	for _, r := range model.Requests()[before:] {
		if !isMemoryRequest(r) {
			asked = append(asked, r.Model)
		}
	}
	if len(asked) != 1 || asked[0] != "big-model" {
		t.Errorf("the turn after the pick asked for %v, want big-model", asked)
	}
	if got := listed("the list at the end"); !strings.HasPrefix(got, lisbon+",") {
		t.Errorf("the list is %s, want the pinned conversation still first", got)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
