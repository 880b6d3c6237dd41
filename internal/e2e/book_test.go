package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
)

// fetchBase64JS fetches a link of the page with the page's own session and
// leaves its Content-Disposition and body (base64) in window.__dl: how a
// download is checked without a save dialog.
const fetchBase64JS = `(() => { window.__dl = null; (async () => {
	const a = document.querySelector(%q);
	const r = await fetch(a.href, { credentials: 'same-origin' });
	if (!r.ok) return 'HTTP ' + r.status;
	const b = new Uint8Array(await r.arrayBuffer());
	let s = ''; for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
	return r.headers.get('Content-Disposition') + '\n' + btoa(s);
})().then((v) => { window.__dl = v; }, (e) => { window.__dl = 'ERR ' + e; }); return true; })()`

// TestBrowserBook (issue 14): with three letters at the desk (made over
// /api/documents), the Book view makes a book of them — two from her "best
// ten" (the scripted model's, with reasons; an id not the user's dropped),
// one added by hand — orders them with the buttons, takes the foreword she
// drafts, builds the EPUB and the PDF with a progress bar, previews the
// EPUB's text, and downloads both: the EPUB is a zip whose first entry is
// its mimetype, the PDF holds every letter's text in the book's order
// (pdftotext). Sent to a publisher, the page shows the exact message (her
// cover letter) and attachment, and the SMTP sink gets it only after
// "Approve and send", with the PDF. Another user cannot open the book.
func TestBrowserBook(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		if strings.Contains(r.System, "choose the letters for a book") {
			// Her best: the letters about Léa and about Dad, in that
			// order, and one id that is not the user's (dropped).
			prompt := r.Messages[len(r.Messages)-1].Content
			ids := map[string]string{}
			for _, m := range regexp.MustCompile(`id: (\S+)\ntitle: ([^\n]+)`).FindAllStringSubmatch(prompt, -1) {
				ids[m[2]] = m[1]
			}
			return llmtest.Reply{Chunks: []string{`{"picks":[{"id":"` + ids["To Léa"] + `","reason":"Full of a summer."},` +
				`{"id":"doc_not_yours","reason":"x"},{"id":"` + ids["To my father"] + `","reason":"The garden says it all."}]}`}}
		}
		if strings.Contains(r.System, "Write a short cover letter") {
			return llmtest.Reply{Chunks: []string{"Dear editor,\n\nI enclose a book of my letters.\n\nTheo"}}
		}
		if strings.Contains(r.System, "Write the foreword") {
			return llmtest.Reply{Chunks: []string{"These are letters to the people I love.\n\nI kept them."}}
		}
		return llmtest.Reply{Chunks: []string{"Noted."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel, "OS1_MAIL_TRIAGE=rules", "OS1_MAIL_SYNC_EVERY=0s")
	const user, pw = "theo", "correct horse"
	c := newClient(t, p.URL)
	c.setup(p.SetupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()
	// A mail account, for sending the book: dovecot and the SMTP sink.
	const address, mailPW = "theo@example.org", "imap-secret-9"
	imap := dovecottest.Start(t)
	imap.AddUser(address, mailPW)
	smtp := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{address: mailPW}})
	imapHost, imapPort := splitHostPort(t, imap.Addr)
	var port int
	fmt.Sscan(imapPort, &port)
	c.must("POST", "/api/mail/accounts", map[string]any{
		"address": address, "password": mailPW, "sync_days": 90,
		"imap": map[string]any{"host": imapHost, "port": port, "security": "none"},
		"smtp": map[string]any{"host": smtp.Host, "port": smtp.Port, "security": "none"},
	}, nil)
	letters := []struct{ Title, Body string }{
		{"To Chris, at fifty", "Dear Chris,\n\nFifty years of you, and every one of them a gift to us."},
		{"To Léa", "Chère Léa,\n\nMerci for the summer in Lyon and the songs at night."},
		{"To my father", "Dad,\n\nThe garden you planted is still yours; the pear tree bloomed again."},
	}
	for _, l := range letters {
		c.must("POST", "/api/documents", map[string]any{"title": l.Title, "kind": "letter", "body": l.Body}, nil)
	}

	tab := b.ctx
	b.do(tab, "sign in and open the Book from the sidebar",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.Click(css(`#nav-book`)),
		screen("book"),
		chromedp.WaitVisible(css(`#book-new-title`)),
		chromedp.SendKeys(css(`#book-new-title`), "Letters to the People I Love"),
		chromedp.Click(css(`#book-create`)),
		chromedp.WaitVisible(css(`#book-letters`)),
	)
	// Her best ten: two of the three, with reasons; the made-up id is gone.
	b.do(tab, "propose my best ten", chromedp.Click(css(`#book-propose`)))
	picks := poll[string](b, tab, "her picks", `(() => { const p = document.querySelector('#book-picks'); return p && !p.hidden && p.querySelector('#book-take-picks') && p.textContent; })()`)
	if !strings.Contains(picks, "To Léa — Full of a summer.") || !strings.Contains(picks, "To my father — The garden says it all.") ||
		strings.Count(picks, " — ") != 2 {
		t.Errorf("her picks show %q", picks)
	}
	b.do(tab, "use her picks", chromedp.Click(css(`#book-take-picks`)))
	poll[bool](b, tab, "her two letters in the book", `[...document.querySelectorAll('#book-letters .book-letter-title')].map((e) => e.textContent).join('|') === 'To Léa|To my father'`)
	poll[bool](b, tab, "one letter left to add", `document.querySelectorAll('#book-pick .book-add').length === 1`)
	b.do(tab, "add the third letter", chromedp.Click(css(`#book-pick .book-add`)))
	poll[bool](b, tab, "three letters in the book", `document.querySelectorAll('#book-letters .book-letter').length === 3`)
	order := func() string {
		return eval[string](b, tab, "the order", `[...document.querySelectorAll('#book-letters .book-letter-title')].map((e) => e.textContent).join('|')`)
	}
	first := order()
	titles := strings.Split(first, "|")
	// Move the first letter down: the first two swap.
	b.do(tab, "move the first letter down", chromedp.Click(css(`#book-letters .book-letter:first-child .book-down`)))
	want := titles[1] + "|" + titles[0] + "|" + titles[2]
	poll[bool](b, tab, "the new order", `[...document.querySelectorAll('#book-letters .book-letter-title')].map((e) => e.textContent).join('|') === `+jsString(want))
	b.do(tab, "a dedication, and a foreword she drafts",
		chromedp.SendKeys(css(`#book-dedication`), "For everyone I wrote to"),
		chromedp.Click(css(`#book-foreword-draft`)),
	)
	poll[bool](b, tab, "her foreword", `document.querySelector('#book-foreword').value === 'These are letters to the people I love.\n\nI kept them.'`)
	b.do(tab, "save", chromedp.Click(css(`#book-save`)))
	poll[bool](b, tab, "saved", `document.querySelector('#book-saved').textContent === 'Saved.'`)

	// Progress: every state the EPUB's bar and status show is recorded.
	eval[bool](b, tab, "watch the progress", `(() => { window.__seen = [];
		const bar = document.querySelector('#book-progress-epub'), st = document.querySelector('#book-status-epub');
		const note = () => window.__seen.push((bar.hidden ? 'hidden' : 'bar ' + bar.value + '/' + bar.max) + ' ' + st.textContent);
		new MutationObserver(note).observe(st, { childList: true, characterData: true, subtree: true });
		new MutationObserver(note).observe(bar, { attributes: true });
		return true; })()`)
	b.do(tab, "build the EPUB and the PDF",
		chromedp.Click(css(`#book-build-epub`)),
		chromedp.Click(css(`#book-build-pdf`)),
	)
	poll[bool](b, tab, "the EPUB is ready", `!document.querySelector('#book-download-epub').hidden`)
	poll[bool](b, tab, "the PDF is ready", `!document.querySelector('#book-download-pdf').hidden`)
	seen := eval[[]string](b, tab, "progress seen", `window.__seen`)
	var sawBar, sawReady bool
	for _, s := range seen {
		sawBar = sawBar || strings.HasPrefix(s, "bar ") && strings.HasSuffix(strings.Fields(s)[1], "/7")
		sawReady = sawReady || strings.Contains(s, "EPUB ready")
	}
	if !sawBar || !sawReady {
		t.Errorf("the progress shown: %q", seen)
	}
	preview := poll[string](b, tab, "the EPUB preview", `(() => { const p = document.querySelector('#book-preview-epub'); return p && p.textContent.includes('pear tree') && p.textContent; })()`)
	if !strings.Contains(preview, "Lyon") {
		t.Errorf("the preview: %q", preview)
	}
	b.screenshot(tab, "book")

	eval[bool](b, tab, "download the EPUB", fmt.Sprintf(fetchBase64JS, "#book-download-epub"))
	got := poll[string](b, tab, "the EPUB downloaded", `window.__dl`)
	disp, data := splitDownload(t, got)
	if !strings.Contains(disp, `attachment; filename="Letters-to-the-People-I-Love.epub"`) {
		t.Errorf("EPUB Content-Disposition %q", disp)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(zr.File) == 0 || zr.File[0].Name != "mimetype" {
		t.Fatalf("the EPUB is not an EPUB zip: %v", err)
	}
	rc, _ := zr.File[0].Open()
	mt, _ := io.ReadAll(rc)
	rc.Close()
	if string(mt) != "application/epub+zip" {
		t.Errorf("mimetype %q", mt)
	}

	eval[bool](b, tab, "download the PDF", fmt.Sprintf(fetchBase64JS, "#book-download-pdf"))
	got = poll[string](b, tab, "the PDF downloaded", `window.__dl`)
	disp, data = splitDownload(t, got)
	if !bytes.HasPrefix(data, []byte("%PDF")) || !strings.Contains(disp, `filename="Letters-to-the-People-I-Love.pdf"`) {
		t.Fatalf("the PDF download: %q, starts %q", disp, data[:min(8, len(data))])
	}
	if _, err := exec.LookPath("pdftotext"); err == nil {
		file := filepath.Join(t.TempDir(), "book.pdf")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftotext", "-enc", "UTF-8", file, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		text := strings.Join(strings.Fields(string(out)), " ")
		at := 0
		for _, title := range strings.Split(want, "|") {
			var body string
			for _, l := range letters {
				if l.Title == title {
					body = l.Body
				}
			}
			last := strings.Fields(body)
			phrase := strings.Join(last[len(last)-3:], " ")
			i := strings.Index(text[at:], phrase)
			if i < 0 {
				t.Errorf("the PDF lacks %q after offset %d (in the book's order):\n%s", phrase, at, text)
				break
			}
			at += i + len(phrase)
		}
	} else {
		t.Log("pdftotext is not installed; the PDF's text is not checked")
	}

	// Send it: she drafts the cover letter; the page shows the exact
	// message and attachment, and nothing goes before "Approve and send".
	b.do(tab, "prepare the message to a publisher",
		chromedp.SendKeys(css(`#book-send-to`), "editor@press.example"),
		chromedp.SetValue(css(`#book-send-format`), "pdf"),
		chromedp.Click(css(`#book-send-prepare`)),
	)
	card := poll[string](b, tab, "the exact message", `(() => { const c = document.querySelector('#book-send-card'); return c && !c.hidden && c.textContent; })()`)
	for _, want := range []string{"From: " + address, "To: editor@press.example", "Subject: Manuscript: Letters to the People I Love",
		"I enclose a book of my letters.", "Attachment: Letters-to-the-People-I-Love.pdf (application/pdf, "} {
		if !strings.Contains(card, want) {
			t.Errorf("the card lacks %q: %s", want, card)
		}
	}
	if n := len(smtp.Deliveries()); n != 0 {
		t.Fatalf("%d sent before the approval", n)
	}
	b.screenshot(tab, "book-send")
	b.do(tab, "approve and send", chromedp.Click(css(`#book-send-approve`)))
	poll[bool](b, tab, "sent", `document.querySelector('#book-send-done').textContent === 'Sent to editor@press.example.'`)
	ds := smtp.Deliveries()
	if len(ds) != 1 || ds[0].Rcpts[0] != "editor@press.example" || ds[0].From != address {
		t.Fatalf("deliveries: %d", len(ds))
	}
	sent := strings.ReplaceAll(string(ds[0].Data), "\r\n", "")
	if !strings.Contains(sent, "Letters-to-the-People-I-Love.pdf") || !strings.Contains(sent, base64.StdEncoding.EncodeToString(data)) {
		t.Errorf("the email does not carry the PDF downloaded")
	}

	// Another user: the book is not theirs.
	var books struct {
		Books []struct{ ID string } `json:"books"`
	}
	c.login(user, pw)
	c.must("GET", "/api/books", nil, &books)
	if len(books.Books) != 1 {
		t.Fatalf("books: %+v", books)
	}
	inv := map[string]any{}
	c.must("POST", "/api/invites", nil, &inv)
	_, token, _ := strings.Cut(inv["url"].(string), "/#/invite/")
	m := newClient(t, p.URL)
	if code, _ := m.call("POST", "/api/invites/accept", map[string]string{"token": token, "username": "mia", "password": "another horse", "display_name": "Mia"}, nil); code != 201 && code != 200 {
		t.Fatalf("mia's invite: %d", code)
	}
	if code, _ := m.call("GET", "/api/books/"+books.Books[0].ID+"/download.pdf", nil, nil); code != 404 {
		t.Errorf("mia downloads theo's book: %d", code)
	}
}

func splitDownload(t *testing.T, got string) (string, []byte) {
	t.Helper()
	disp, b64, ok := strings.Cut(got, "\n")
	if !ok {
		t.Fatalf("download: %q", got)
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("download body: %v", err)
	}
	return disp, data
}
