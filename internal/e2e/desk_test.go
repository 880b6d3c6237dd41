package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// deskDoc is a document as GET /api/documents/{id} answers it.
type deskDoc struct {
	ID      string `json:"id"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Version int    `json:"version"`
	Source  string `json:"source"`
}

// Blocking and restoring the page's fetch of the API: the network drop
// the desk must survive (api.js looks fetch up on every call).
const (
	dropNetworkJS = `(() => { window.__realFetch = window.__realFetch || window.fetch;
		window.fetch = (u, i) => String(u).startsWith('/api/') ? Promise.reject(new TypeError('Failed to fetch')) : window.__realFetch(u, i);
		return true; })()`
	restoreNetworkJS = `(() => { window.fetch = window.__realFetch; window.dispatchEvent(new Event('online')); return true; })()`
	caretToEndJS     = `(() => { const t = document.querySelector('#desk-body'); t.focus(); t.setSelectionRange(t.value.length, t.value.length); return true; })()`
)

// TestBrowserDesk (issue 14): the writing desk in a real browser against a
// real os1 and the scripted model. A letter is written in the page
// (autosaved, spelling underlined from Debian's dictionary), proofread:
// four suggestions shown inline, one dropped when its words are edited,
// two accepted and one rejected, the result
// saved with source "suggestions"; the version history lists the saves and
// shows a diff. Autosave survives a network drop (the draft stays on the
// device and is saved when the network is back), a reload while offline
// (the draft is put back and saved), leaving and reopening the document
// offline (it opens from the draft), and a save from elsewhere meanwhile
// (both texts shown; the user keeps theirs as a new version).
func TestBrowserDesk(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	const letter = "Dear Chris,\n\nI hope you has a wonderfull birthday. Their is cake for everyone.\n\nLove, Sam"
	var mu sync.Mutex
	var proofreads []string // what the model was given to proofread
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		if strings.Contains(r.System, "careful proofreader") {
			doc := r.Messages[len(r.Messages)-1].Content
			mu.Lock()
			proofreads = append(proofreads, doc)
			mu.Unlock()
			edit := func(orig, repl, kind, reason string) string {
				b, _ := json.Marshal(map[string]any{"original": orig, "replacement": repl, "kind": kind, "reason": reason,
					"start": strings.Index(letter, orig)})
				return string(b)
			}
			return llmtest.Reply{Chunks: []string{`{"edits":[`,
				edit("has", "have", "grammar", "you have") + ",",
				edit("wonderfull", "wonderful", "spelling", "misspelled") + ",",
				edit("Their is", "There is", "grammar", "there, not their") + ",",
				edit("Love, Sam", "With love, Sam", "tone", "warmer"),
				`]}`}}
		}
		return llmtest.Reply{Chunks: []string{"Noted."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	const user, pw = "theo", "correct horse"
	c := newClient(t, p.URL)
	c.setup(p.SetupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()

	tab := b.ctx
	b.do(tab, "sign in and open the writing desk from the sidebar",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.Click(css(`#nav-desk`)),
		screen("desk"),
		chromedp.WaitVisible(css(`#desk-new`)),
		chromedp.Click(css(`#desk-new`)),
		chromedp.WaitVisible(css(`#desk-body`)),
	)
	id := eval[string](b, tab, "read the document's id", `decodeURIComponent(location.hash.split('/')[2] || '')`)
	if id == "" {
		t.Fatal("the new letter did not open under #/desk/ID")
	}
	get := func() deskDoc {
		var d deskDoc
		if code, body := c.call("GET", "/api/documents/"+id, nil, &d); code != 200 {
			t.Fatalf("GET the document: %d %s", code, body)
		}
		return d
	}

	eval[bool](b, tab, "name the letter", `(() => { const t = document.querySelector('#desk-title'); t.value = 'For Chris'; t.dispatchEvent(new Event('input')); return true; })()`)
	b.do(tab, "write the letter", chromedp.SendKeys(css(`#desk-body`), letter))
	poll[bool](b, tab, "the letter is saved", `document.querySelector('#desk-status').dataset.state === 'saved'`)
	eventually(t, "the server holds the letter", func() (bool, string) {
		d := get()
		return d.Body == letter && d.Title == "For Chris", fmt.Sprintf("%q %q", d.Title, d.Body)
	})
	under := poll[[]string](b, tab, "spelling is underlined",
		`(() => { const m = [...document.querySelectorAll('#desk-marks .desk-mark-spell')].map((x) => x.textContent); return m.length ? m : null; })()`)
	if strings.Join(under, ",") != "wonderfull" {
		t.Errorf("underlined %q, want only “wonderfull”", under)
	}
	b.screenshot(tab, "desk-letter")
	b.do(tab, "ignore the misspelled word", chromedp.Click(css(`#desk-spelling .desk-miss[data-word="wonderfull"] .desk-ignore`)),
		chromedp.WaitNotPresent(css(`#desk-marks .desk-mark-spell`)))

	// Proofread: three suggestions, shown inline and in the list.
	b.do(tab, "proofread", chromedp.Click(css(`#desk-proofread`)),
		chromedp.WaitVisible(css(`#desk-suggestions .desk-sugg[data-id="s4"]`)))
	mu.Lock()
	asked := append([]string(nil), proofreads...)
	mu.Unlock()
	if len(asked) != 1 || !strings.Contains(asked[0], "wonderfull birthday") || !strings.Contains(asked[0], "<<<DOCUMENT ") {
		t.Fatalf("the model was asked %d times, with %q", len(asked), asked)
	}
	inline := eval[[]string](b, tab, "read the inline suggestions", `[...document.querySelectorAll('#desk-marks .desk-mark-sugg')].map((x) => x.textContent)`)
	if strings.Join(inline, "|") != "has|wonderfull|Their is|Love, Sam" {
		t.Errorf("inline suggestions %q", inline)
	}
	b.screenshot(tab, "desk-suggestions")
	// Editing inside a suggested span drops that suggestion: it is never
	// applied to text it was not made for (the name is typed back after).
	eval[bool](b, tab, "put the caret at the end", caretToEndJS)
	b.do(tab, "edit the signature", chromedp.SendKeys(css(`#desk-body`), kb.Backspace),
		chromedp.WaitNotPresent(css(`#desk-suggestions .desk-sugg[data-id="s4"]`)),
		chromedp.SendKeys(css(`#desk-body`), "m"))
	if note := eval[string](b, tab, "read the note", `document.querySelector('#desk-sugg-note').textContent`); !strings.Contains(note, "dropped") {
		t.Errorf("the page says %q after the signature changed, want that the suggestion was dropped", note)
	}
	b.do(tab, "accept two, reject one",
		chromedp.Click(css(`#desk-suggestions .desk-sugg[data-id="s1"] .desk-accept`)),
		chromedp.WaitNotPresent(css(`#desk-suggestions .desk-sugg[data-id="s1"]`)),
		chromedp.Click(css(`#desk-suggestions .desk-sugg[data-id="s3"] .desk-reject`)),
		chromedp.WaitNotPresent(css(`#desk-suggestions .desk-sugg[data-id="s3"]`)),
		chromedp.Click(css(`#desk-suggestions .desk-sugg[data-id="s2"] .desk-accept`)),
		chromedp.WaitNotPresent(css(`#desk-suggestions .desk-sugg`)),
	)
	want := "Dear Chris,\n\nI hope you have a wonderful birthday. Their is cake for everyone.\n\nLove, Sam"
	if got := eval[string](b, tab, "read the editor", `document.querySelector('#desk-body').value`); got != want {
		t.Errorf("after accepting two: %q, want %q", got, want)
	}
	poll[bool](b, tab, "the accepted suggestions are saved", `document.querySelector('#desk-status').dataset.state === 'saved'`)
	eventually(t, "the server holds the accepted edits, saved as suggestions", func() (bool, string) {
		d := get()
		return d.Body == want && d.Source == "suggestions", fmt.Sprintf("%q (%s)", d.Body, d.Source)
	})

	// History: the versions, a diff between the first save of the letter and now.
	b.do(tab, "open the history and compare",
		chromedp.Click(css(`#desk-history`)),
		chromedp.WaitVisible(css(`#desk-versions .desk-version`)),
	)
	var versions struct {
		Versions []struct {
			N      int    `json:"n"`
			Source string `json:"source"`
		} `json:"versions"`
	}
	c.must("GET", "/api/documents/"+id+"/versions", nil, &versions)
	shownN := eval[int](b, tab, "count the versions shown", `document.querySelectorAll('#desk-versions .desk-version').length`)
	if shownN != len(versions.Versions) || versions.Versions[0].Source != "suggestions" {
		t.Errorf("the page lists %d versions, the server %d (newest %+v)", shownN, len(versions.Versions), versions.Versions[0])
	}
	var first int // the first version holding the whole letter
	for _, v := range versions.Versions {
		var full deskDoc
		c.must("GET", fmt.Sprintf("/api/documents/%s/versions/%d", id, v.N), nil, &full)
		if full.Body == letter {
			first = v.N
		}
	}
	if first == 0 {
		t.Fatalf("no version holds the letter as written: %+v", versions.Versions)
	}
	b.do(tab, "compare it with the current version",
		chromedp.SetValue(css(`#desk-diff-from`), fmt.Sprint(first)),
		chromedp.Click(css(`#desk-diff-show`)),
		chromedp.WaitVisible(css(`#desk-diff .desk-diff-add`)),
	)
	added := eval[string](b, tab, "read the diff", `document.querySelector('#desk-diff .desk-diff-add').textContent`)
	removed := eval[string](b, tab, "read the diff", `document.querySelector('#desk-diff .desk-diff-del').textContent`)
	if !strings.Contains(added, "you have a wonderful birthday") || !strings.Contains(removed, "you has a wonderfull birthday") {
		t.Errorf("diff shows + %q − %q", added, removed)
	}
	b.screenshot(tab, "desk-history")

	// A network drop: typing goes on, the draft stays on the device, and
	// is saved when the network is back.
	before := get().Version
	eval[bool](b, tab, "drop the network", dropNetworkJS)
	eval[bool](b, tab, "put the caret at the end", caretToEndJS)
	b.do(tab, "type offline", chromedp.SendKeys(css(`#desk-body`), "\nPS: see you Sunday"))
	poll[bool](b, tab, "the page says it is offline", `document.querySelector('#desk-status').dataset.state === 'offline'`)
	draft := eval[string](b, tab, "read the local draft", `Object.keys(localStorage).filter((k) => k.startsWith('os1.desk.draft.')).map((k) => JSON.parse(localStorage.getItem(k)).body).join('')`)
	if !strings.HasSuffix(draft, "PS: see you Sunday") {
		t.Fatalf("the draft on the device is %q", draft)
	}
	if get().Version != before {
		t.Fatal("a save reached the server while the network was down")
	}
	eval[bool](b, tab, "the network is back", restoreNetworkJS)
	eventually(t, "the text typed offline is saved", func() (bool, string) {
		d := get()
		return d.Body == want+"\nPS: see you Sunday", d.Body
	})
	poll[bool](b, tab, "the page says saved", `document.querySelector('#desk-status').dataset.state === 'saved'`)

	// Offline again, then the page is reloaded before the network came
	// back: the draft is put back and saved.
	eval[bool](b, tab, "drop the network", dropNetworkJS)
	eval[bool](b, tab, "put the caret at the end", caretToEndJS)
	b.do(tab, "type offline", chromedp.SendKeys(css(`#desk-body`), " and Monday"))
	poll[bool](b, tab, "the draft holds the new words", `Object.keys(localStorage).some((k) => k.startsWith('os1.desk.draft.') && JSON.parse(localStorage.getItem(k)).body.endsWith(' and Monday'))`)
	b.do(tab, "reload", chromedp.Reload(), chromedp.WaitVisible(css(`#desk-body`)))
	eventually(t, "the draft kept over the reload is saved", func() (bool, string) {
		d := get()
		return strings.HasSuffix(d.Body, "see you Sunday and Monday"), d.Body
	})

	// Offline, the page leaves the document and opens it again: it opens
	// from the draft on the device, and saves it when the network is back.
	eval[bool](b, tab, "drop the network", dropNetworkJS)
	eval[bool](b, tab, "put the caret at the end", caretToEndJS)
	b.do(tab, "type offline", chromedp.SendKeys(css(`#desk-body`), " too"))
	poll[bool](b, tab, "the draft holds the words", `Object.keys(localStorage).some((k) => k.startsWith('os1.desk.draft.') && JSON.parse(localStorage.getItem(k)).body.endsWith(' too'))`)
	eval[bool](b, tab, "go to the list", `(() => { location.hash = '#/desk'; return true; })()`)
	b.do(tab, "the list fails offline", chromedp.WaitVisible(css(`#desk-new`)))
	eval[bool](b, tab, "open the letter again", `(() => { location.hash = '#/desk/`+id+`'; return true; })()`)
	b.do(tab, "it opens from the draft", chromedp.WaitVisible(css(`#desk-body`)))
	if got := eval[string](b, tab, "read the editor", `document.querySelector('#desk-body').value`); !strings.HasSuffix(got, "Monday too") {
		t.Errorf("opened offline, the editor holds %q", got)
	}
	poll[bool](b, tab, "it says offline", `document.querySelector('#desk-status').dataset.state === 'offline'`)
	eval[bool](b, tab, "the network is back", restoreNetworkJS)
	eventually(t, "the draft opened offline is saved", func() (bool, string) {
		d := get()
		return strings.HasSuffix(d.Body, "see you Sunday and Monday too"), d.Body
	})
	poll[bool](b, tab, "the page says saved", `document.querySelector('#desk-status').dataset.state === 'saved'`)

	// A save from elsewhere while this page is offline: both are shown;
	// keeping mine makes a new version with my text.
	eval[bool](b, tab, "drop the network", dropNetworkJS)
	eval[bool](b, tab, "put the caret at the end", caretToEndJS)
	b.do(tab, "type offline once more", chromedp.SendKeys(css(`#desk-body`), "!"))
	poll[bool](b, tab, "offline again", `document.querySelector('#desk-status').dataset.state === 'offline'`)
	cur := get()
	var other deskDoc
	if code, body := c.call("PUT", "/api/documents/"+id, map[string]any{"body": cur.Body + "\n(edited on the phone)", "base_version": cur.Version}, &other); code != 200 {
		t.Fatalf("save from elsewhere: %d %s", code, body)
	}
	eval[bool](b, tab, "the network is back", restoreNetworkJS)
	b.do(tab, "both texts are shown", chromedp.WaitVisible(css(`#desk-conflict #desk-keep-mine`)))
	theirs := eval[string](b, tab, "read the saved text", `document.querySelector('#desk-conflict-theirs').textContent`)
	mine := eval[string](b, tab, "read my text", `document.querySelector('#desk-conflict-mine').textContent`)
	if !strings.HasSuffix(theirs, "(edited on the phone)") || !strings.HasSuffix(mine, "Monday too!") {
		t.Errorf("conflict shows theirs %q, mine %q", theirs, mine)
	}
	b.screenshot(tab, "desk-conflict")
	b.do(tab, "keep mine", chromedp.Click(css(`#desk-keep-mine`)), chromedp.WaitNotVisible(css(`#desk-conflict`)))
	d := get()
	if !strings.HasSuffix(d.Body, "Monday too!") || d.Version != other.Version+1 {
		t.Errorf("after keeping mine: version %d %q (the phone's was %d)", d.Version, d.Body, other.Version)
	}
	if left := eval[int](b, tab, "count drafts", `Object.keys(localStorage).filter((k) => k.startsWith('os1.desk.draft.')).length`); left != 0 {
		t.Errorf("%d drafts left on the device after everything was saved", left)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}
