package e2e

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserMemorySearch (issue 10): searching the memory page for a name
// lists only the messages that hold it, each with the name in a <mark>;
// "hello" and "A fresh start." (which the meaning side finds close to any
// one-word query) do not appear. With the embedding model installed
// (scripts/assets.sh model) os1 searches by meaning too, the case that
// listed every message; without it, full text only.
func TestBrowserMemorySearch(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		return llmtest.Reply{Chunks: []string{"Okay."}}
	})
	env := []string{"OS1_LLM_URL=" + model.OpenAIBaseURL(), "OS1_LLM_MODEL=" + llmtest.DefaultModel}
	if home, err := os.UserHomeDir(); err == nil && fileExists(filepath.Join(home, ".cache", "os1", "models", "use-lite", "model.json")) {
		env = append(env, "OS1_CACHE_DIR="+filepath.Join(home, ".cache", "os1"))
		t.Log("searching with the embedding model (full text and meaning)")
	} else {
		t.Log("no embedding model: searching full text only")
	}
	p := startOS1(t, env...)
	const user, pw = "theo", "correct horse"
	c := newClient(t, p.URL)
	c.setup(p.SetupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()
	conv := c.newConversation()
	said := []string{"hello", "A fresh start.", "My sister Maya moved to Lisbon.", "Pasta again for dinner.", "Maya called me today!"}
	for _, text := range said {
		evs := c.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": text}).rest()
		if !strings.Contains(types(evs), "assistant_done") {
			t.Fatalf("the turn %q: %s", text, types(evs))
		}
	}
	// The memory worker indexes the messages in the background.
	eventually(t, "the messages are indexed", func() (bool, string) {
		var res struct {
			Results []struct{ ID, Text string } `json:"results"`
		}
		if code, body := c.call("GET", "/api/memory?q="+url.QueryEscape("dinner"), nil, &res); code != 200 {
			return false, body
		}
		raw, _ := json.Marshal(res)
		return len(res.Results) > 0, string(raw)
	})

	tab := b.ctx
	b.do(tab, "sign in and search the memory page for Maya",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.Navigate(p.URL+"/#/memory"),
		chromedp.WaitVisible(css(`#memory-q`)),
		chromedp.SendKeys(css(`#memory-q`), "Maya"),
		chromedp.Click(css(`#memory-search button[type="submit"]`)),
	)
	type shownHit struct {
		Text  string   `json:"text"`
		Marks []string `json:"marks"`
	}
	status := poll[string](b, tab, "the search answers", `(() => {
		const s = document.querySelector('.memory-page p.hint[role="status"]');
		return location.hash.includes('q=Maya') && s && /found|Nothing/.test(s.textContent) ? s.textContent : '';
	})()`)
	hits := eval[[]shownHit](b, tab, "read the hits", `[...document.querySelectorAll('#memory-list .mem-hit, #memory-list .mem-item')].map((li) => {
		const t = li.querySelector('.mem-text');
		return { text: t ? t.textContent : '', marks: t ? [...t.querySelectorAll('mark')].map((m) => m.textContent) : [] };
	})`)
	b.screenshot(tab, "memory-search-maya")

	var texts []string
	for _, h := range hits {
		// A message hit carries the turn before it: "(before: …) text".
		if _, after, ok := strings.Cut(h.Text, ") "); ok && strings.HasPrefix(h.Text, "(before: ") {
			h.Text = after
		}
		texts = append(texts, h.Text)
		if !strings.Contains(strings.ToLower(h.Text), "maya") {
			t.Errorf("search Maya shows %q, which does not match", h.Text)
			continue
		}
		// Maya's other names count: "My sister Maya…" introduces her as the
		// sister, so "sister" is marked too (recall's names.go).
		if !slices.ContainsFunc(h.Marks, func(m string) bool { return strings.EqualFold(m, "Maya") }) ||
			slices.ContainsFunc(h.Marks, func(m string) bool { return !strings.EqualFold(m, "Maya") && !strings.EqualFold(m, "sister") }) {
			t.Errorf("hit %q marks %q, want <mark>Maya</mark> (and her other names)", h.Text, h.Marks)
		}
	}
	slices.Sort(texts)
	if want := []string{"Maya called me today!", "My sister Maya moved to Lisbon."}; !slices.Equal(texts, want) {
		t.Errorf("search Maya lists %q, want only %q", texts, want)
	}
	if status != "2 found" {
		t.Errorf("the search says %q, want \"2 found\"", status)
	}
	// The marked text is the message's own text, as text: nothing the
	// user wrote became markup.
	if html := eval[string](b, tab, "read the first hit's markup", `(document.querySelector('#memory-list .mem-text') || {}).innerHTML || ''`); !strings.Contains(html, "<mark>Maya</mark>") {
		t.Errorf("first hit's markup is %q, want Maya in a <mark>", html)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
