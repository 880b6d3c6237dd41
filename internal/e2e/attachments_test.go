package e2e

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserAttachments (issue 10): a text file and a PNG picked with the
// attach button go out with a message, show as chips under it (the image
// as a thumbnail) before and after a reload, and reach the model as the
// quoted file under its name and an image part. A pasted image and a
// dropped file land in the tray too. The send button is enabled by a file
// alone. A file that is too big or of the wrong type is
// refused in the composer with a sentence naming it, and nothing is sent.
func TestBrowserAttachments(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	const answer = "A shopping list and a small red square."
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		return llmtest.Reply{Chunks: []string{"A shopping list", " and a small red square."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	const user, pw = "theo", "correct horse"
	owner := newClient(t, p.URL)
	owner.setup(p.SetupToken, user, pw, "Theo")
	owner.waitModel()
	owner.onboard()

	dir := t.TempDir()
	const notes = "Buy oat milk.\nCall Maya at six.\n"
	img := image.NewRGBA(image.Rect(0, 0, 6, 4))
	for i := range img.Pix {
		if i%4 == 0 || i%4 == 3 {
			img.Pix[i] = 0xff // opaque red
		}
	}
	img.Set(0, 0, color.RGBA{0, 0, 0xff, 0xff})
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}
	file := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	notesPath := file("notes.txt", []byte(notes))
	dotPath := file("dot.png", pngBytes.Bytes())
	bigPath := file("big.txt", bytes.Repeat([]byte("all work and no play\n"), 300<<10/21+1)) // just over 300 KB
	binPath := file("tool.exe", append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 64)...))
	fakePath := file("fake.png", []byte("\x89PNG\r\n cut short")) // named .png, not one

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
	const sendDisabled = `document.querySelector('#send').disabled`
	if !eval[bool](b, tab, "look at the send button", sendDisabled) {
		t.Error("the send button is enabled with nothing to send")
	}

	// Pick both files with the attach button's file input.
	b.do(tab, "attach a text file and an image",
		chromedp.WaitReady(css(`#attach`)),
		chromedp.SetUploadFiles(css(`#attach-input`), []string{notesPath, dotPath}))
	tray := poll[string](b, tab, "both files are in the tray", `(() => {
		const c = [...document.querySelectorAll('.attach-tray .attach-chip')];
		return c.length === 2 && !document.querySelector('.attach-tray').hidden && c.map((x) => x.querySelector('.attach-name').textContent + (x.querySelector('img.attach-thumb') ? '+thumb' : '')).join(', '); })()`)
	if tray != "notes.txt, dot.png+thumb" {
		t.Errorf("the tray shows %q, want notes.txt and dot.png with a thumbnail", tray)
	}
	if eval[bool](b, tab, "look at the send button", sendDisabled) {
		t.Error("the send button is disabled with two files attached and no text")
	}
	// Typing and deleting the text leaves the files to send.
	b.do(tab, "type and delete a word", chromedp.SendKeys(css(`#composer`), "x"))
	eval[bool](b, tab, "clear the box", `(() => { const c = document.querySelector('#composer'); c.value = ''; c.dispatchEvent(new Event('input')); return true; })()`)
	if eval[bool](b, tab, "look at the send button", sendDisabled) {
		t.Error("after typing and deleting text the send button is disabled, though two files are attached")
	}
	b.screenshot(tab, "attach-tray")

	const text = "What do you make of these?"
	b.do(tab, "send the message with its files",
		chromedp.SendKeys(css(`#composer`), text),
		chromedp.Click(css(`#send`)),
		chromedp.WaitReady(css(`#messages .msg[data-role="assistant"][data-status="complete"]`)))
	if got := eval[string](b, tab, "read her reply", `document.querySelector('#messages .msg[data-role="assistant"] .msg-text').textContent`); got != answer {
		t.Errorf("her reply reads %q, want %q", got, answer)
	}
	if eval[bool](b, tab, "look at the tray", `!document.querySelector('.attach-tray').hidden || document.querySelectorAll('.attach-tray .attach-chip').length > 0`) {
		t.Error("the tray still holds files after sending")
	}
	// chips is what the user message shows under its bubble: each chip's
	// name, whether it is a loaded thumbnail, and its link.
	const chips = `(() => {
		const m = document.querySelector('#messages .msg[data-role="user"]');
		return m ? [...m.querySelectorAll('.msg-attachments .attach-chip')].map((c) => {
			const img = c.querySelector('img.attach-thumb');
			return {name: c.querySelector('.attach-name').textContent, thumb: !!img, loaded: !!img && img.complete && img.naturalWidth === 6, href: c.getAttribute('href') || ''};
		}) : []; })()`
	type chip struct {
		Name   string `json:"name"`
		Thumb  bool   `json:"thumb"`
		Loaded bool   `json:"loaded"`
		Href   string `json:"href"`
	}
	checkChips := func(when string, got []chip, links bool) {
		t.Helper()
		if len(got) != 2 || got[0].Name != "notes.txt" || got[0].Thumb || got[1].Name != "dot.png" || !got[1].Thumb || !got[1].Loaded {
			t.Errorf("%s the message shows the files %+v, want notes.txt as a chip and dot.png as a loaded 6×4 thumbnail", when, got)
			return
		}
		for _, c := range got {
			if links && !strings.HasPrefix(c.Href, "/api/attachments/") {
				t.Errorf("%s the chip of %s links to %q, want /api/attachments/ID", when, c.Name, c.Href)
			}
		}
	}
	poll[bool](b, tab, "the thumbnail loads", `(() => { const i = document.querySelector('#messages .msg[data-role="user"] img.attach-thumb'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	checkChips("after sending", eval[[]chip](b, tab, "read the chips", chips), false)

	b.do(tab, "reload",
		chromedp.Reload(),
		screen("chat"),
		chromedp.WaitReady(css(`#messages .msg[data-role="assistant"][data-status="complete"]`)))
	poll[bool](b, tab, "the stored thumbnail loads", `(() => { const i = document.querySelector('#messages .msg[data-role="user"] img.attach-thumb'); return !!i && i.complete && i.naturalWidth > 0; })()`)
	after := eval[[]chip](b, tab, "read the chips after reload", chips)
	checkChips("after a reload", after, true)
	b.screenshot(tab, "attach-sent")
	if got := eval[string](b, tab, "read the message", `document.querySelector('#messages .msg[data-role="user"] .msg-text').textContent`); got != text {
		t.Errorf("after a reload the message reads %q, want %q", got, text)
	}
	// The links serve the stored files to their owner.
	if len(after) == 2 {
		if code, body := owner.call(http.MethodGet, after[0].Href, nil, nil); code != http.StatusOK || body != notes {
			t.Errorf("GET %s: HTTP %d %q, want the text file", after[0].Href, code, body)
		}
		if code, body := owner.call(http.MethodGet, after[1].Href, nil, nil); code != http.StatusOK || body != pngBytes.String() {
			t.Errorf("GET %s: HTTP %d and %d bytes, want the PNG's %d", after[1].Href, code, len(body), pngBytes.Len())
		}
	}

	// The model got the text file quoted under its name and the image as
	// an image part of the same user message.
	reqs := chatRequestList(model)
	var last llmtest.Request
	for _, r := range reqs {
		if !strings.Contains(r.System, "You choose your own name") {
			last = r
		}
	}
	if len(last.Messages) == 0 {
		t.Fatalf("the model got no chat request for the message")
	}
	um := last.Messages[len(last.Messages)-1]
	for _, want := range []string{text, "File notes.txt:\n```\n" + notes + "```", "[Image attached: dot.png]"} {
		if !strings.Contains(um.Content, want) {
			t.Errorf("the model's user message lacks %q:\n%s", want, um.Content)
		}
	}
	if len(um.Images) != 1 || um.Images[0].MIME != "image/png" || !bytes.Equal(um.Images[0].Data, pngBytes.Bytes()) {
		t.Errorf("the model's user message has %d images, want the PNG as one image part", len(um.Images))
	}
	sentBefore := len(chatRequestList(model))
	convID := eval[string](b, tab, "read the conversation id", `decodeURIComponent((location.hash.match(/^#\/c\/([^/?]+)/) || [])[1] || '')`)

	// Refused files: a sentence that names the file, an empty tray, and
	// nothing to send.
	for _, tc := range []struct{ path, want string }{
		{bigPath, "File big.txt is 300 KB; text files can be at most 256 KB."},
		{binPath, "File tool.exe is neither a text file nor a PNG, JPEG, GIF or WebP image."},
		{fakePath, "File fake.png is neither a text file nor a PNG, JPEG, GIF or WebP image."},
	} {
		name := filepath.Base(tc.path)
		eval[bool](b, tab, "clear the last error", `(() => { const e = document.querySelector('.composer-error'); e.hidden = true; e.textContent = ''; return true; })()`)
		b.do(tab, "attach "+name, chromedp.SetUploadFiles(css(`#attach-input`), []string{tc.path}))
		got := poll[string](b, tab, "the composer says why "+name+" is refused", `(() => { const e = document.querySelector('.composer-error'); return !e.hidden && e.textContent; })()`)
		if got != tc.want {
			t.Errorf("attaching %s says %q, want %q", name, got, tc.want)
		}
		if n := eval[int](b, tab, "count the tray", `document.querySelectorAll('.attach-tray .attach-chip').length`); n != 0 {
			t.Errorf("after refusing %s the tray holds %d files", name, n)
		}
		if !eval[bool](b, tab, "look at the send button", sendDisabled) {
			t.Errorf("after refusing %s the send button is enabled with nothing to send", name)
		}
	}
	b.screenshot(tab, "attach-refused")

	// A pasted image and a dropped file land in the tray too; × takes each
	// out again.
	eval[bool](b, tab, "paste an image and drop a text file", `(() => {
		const png = Uint8Array.from(atob('`+base64.StdEncoding.EncodeToString(pngBytes.Bytes())+`'), (c) => c.charCodeAt(0));
		const pasted = new DataTransfer();
		pasted.items.add(new File([png], 'shot.png', {type: 'image/png'}));
		document.querySelector('#composer').dispatchEvent(new ClipboardEvent('paste', {clipboardData: pasted, bubbles: true, cancelable: true}));
		const dropped = new DataTransfer();
		dropped.items.add(new File(['dropped words'], 'drop.md', {type: 'text/markdown'}));
		document.querySelector('form.composer').dispatchEvent(new DragEvent('drop', {dataTransfer: dropped, bubbles: true, cancelable: true}));
		return true; })()`)
	got := poll[string](b, tab, "the pasted and dropped files are in the tray", `(() => {
		const c = [...document.querySelectorAll('.attach-tray .attach-chip')];
		return c.length === 2 && c.map((x) => x.querySelector('.attach-name').textContent + (x.querySelector('img.attach-thumb') ? '+thumb' : '')).sort().join(', '); })()`)
	if got != "drop.md, shot.png+thumb" {
		t.Errorf("after a paste and a drop the tray shows %q, want drop.md and shot.png with a thumbnail", got)
	}
	if eval[bool](b, tab, "look at the send button", sendDisabled) {
		t.Error("with a pasted and a dropped file the send button is disabled")
	}
	b.do(tab, "remove both files",
		chromedp.Click(css(`.attach-tray .chip-remove`)),
		chromedp.Click(css(`.attach-tray .chip-remove`)))
	poll[bool](b, tab, "the tray empties", `document.querySelector('.attach-tray').hidden && !document.querySelector('.attach-tray .attach-chip')`)
	if !eval[bool](b, tab, "look at the send button", sendDisabled) {
		t.Error("after removing every file the send button is enabled with nothing to send")
	}
	b.do(tab, "press Enter in the empty box", chromedp.SendKeys(css(`#composer`), "\r"))
	if n := len(chatRequestList(model)); n != sentBefore {
		t.Errorf("the model got %d more chat requests after refused files", n-sentBefore)
	}
	if v := owner.conversation(convID); len(v.Messages) != 2 {
		t.Errorf("after refused files the conversation holds %d messages, want the 2 from before", len(v.Messages))
	}
	if n := eval[int](b, tab, "count the messages", `document.querySelectorAll('#messages .msg').length`); n != 2 {
		t.Errorf("after refused files the transcript shows %d messages, want 2", n)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page: %v", ex)
	}
}
