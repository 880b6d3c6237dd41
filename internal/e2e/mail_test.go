package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
)

// mailRow is an inbox row as the mail page shows it.
type mailRow struct {
	ID       string `json:"id"`
	Day      string `json:"day"`
	Category string `json:"category"`
	Badge    string `json:"badge"`
	From     string `json:"from"`
	Subject  string `json:"subject"`
	Summary  string `json:"summary"`
	Reason   string `json:"reason"`
}

// apiMail is a message as GET /api/mail/messages answers it.
type apiMail struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	From    struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"from"`
	Triage struct {
		Category   string  `json:"category"`
		Importance float64 `json:"importance"`
		Reason     string  `json:"reason"`
		Summary    string  `json:"summary"`
	} `json:"triage"`
}

var mailBadges = map[string]string{
	"needs_reply": "Needs your reply", "waiting": "Waiting on others", "fyi": "FYI", "newsletter": "Newsletter",
	"receipt": "Receipt", "notification": "Notification", "spam": "Probably spam",
}

// TestBrowserMail (issue 12): a user connects their account in Settings →
// Mail against a real dovecot, watches the first sync end, and finds the
// triaged inbox at #/mail: every message with its category and her stated
// reason, the most important first within a day. A hostile HTML email's
// subject, sender, attachment name and body show as text: no element of
// its markup reaches the page and nothing it points at is fetched (a
// beacon server counts requests). Search finds a message by a word of its
// body. "Ask her to draft a reply" opens the chat with the request written
// out.
func TestBrowserMail(t *testing.T) {
	b := newBrowser(t)
	f := startMailServers(t)

	model := llmtest.NewServer(t)
	// She learns of Maya from the chat: memory keeps her with her address,
	// so triage knows who wrote.
	model.Route(func(r llmtest.Request) bool {
		return strings.Contains(r.System, "deciding what to remember") && len(r.Messages) > 0 &&
			strings.Contains(r.Messages[len(r.Messages)-1].Content, mayaSays)
	}, func(r llmtest.Request) llmtest.Reply {
		id := ""
		for _, line := range strings.Split(r.Messages[len(r.Messages)-1].Content, "\n") {
			if strings.Contains(line, mayaSays) && strings.HasPrefix(line, "[") {
				id = line[1:strings.Index(line, "]")]
			}
		}
		return llmtest.Reply{Chunks: []string{`{"operations":[{"op":"add","kind":"person","text":"Maya Lind is Theo's sister; she writes from maya@example.net.","sources":["` + id +
			`"],"people":["Maya Lind"],"event_time":"","confidence":0.95,"importance":0.8}]}`}}
	})
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		return llmtest.Reply{Chunks: []string{"Okay."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel)
	browseMail(t, b, p.URL, p.SetupToken, f, model)
}

// mayaSays is what the user tells her about Maya before connecting mail.
const mayaSays = "My sister Maya Lind writes to me from maya@example.net."

// mailServers are the servers of a mail journey: dovecot with the user's
// INBOX delivered, the SMTP sink, and a beacon the hostile email points at.
type mailServers struct {
	imap       *dovecottest.Server
	smtp       *smtptest.Sink
	beacon     *atomic.Int64
	address    string
	password   string
	deliveries []string
}

func startMailServers(t *testing.T) *mailServers {
	imap := dovecottest.Start(t)
	const address, mailPW = "theo@example.org", "imap-secret-9"
	imap.AddUser(address, mailPW)
	smtp := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{address: mailPW}})

	// Anything the hostile email points at; nothing may ever ask for it.
	var beacon atomic.Int64
	bs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		beacon.Add(1)
		t.Errorf("the hostile email's %s was fetched (by %s)", r.URL, r.UserAgent())
	}))
	t.Cleanup(bs.Close)

	now := time.Now()
	date := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC1123Z) }
	deliveries := []string{
		"From: Maya Lind <maya@example.net>\r\nTo: Theo <" + address + ">\r\nSubject: Dinner on Friday?\r\n" +
			"Date: " + date(time.Hour) + "\r\nMessage-ID: <dinner-1@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			"Hi Theo,\r\n\r\nAre you coming to dinner on Friday? Let me know by Thursday.\r\n\r\nMaya\r\n",
		"From: Crag Club <news@crag.example>\r\nTo: " + address + "\r\nSubject: December at the crag\r\n" +
			"Date: " + date(2*time.Hour) + "\r\nMessage-ID: <news-12@crag.example>\r\nList-Id: Crag Club news <news.crag.example>\r\n" +
			"List-Unsubscribe: <mailto:leave@crag.example>\r\nPrecedence: bulk\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			"This month: new quickdraws on the north wall, and the winter schedule.\r\n",
		"From: \"<b>Support</b> <img src=x onerror=alert(1)>\" <support@bank.example>\r\nTo: " + address + "\r\n" +
			"Subject: <img src=" + bs.URL + "/subject.png onerror=\"document.title='pwned'\"> Account locked\r\n" +
			"Date: " + date(3*time.Hour) + "\r\nMessage-ID: <hostile-1@bank.example>\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=XX\r\n\r\n" +
			"--XX\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
			"<html><head><style>.x{display:none}</style><script>document.title='pwned'</script></head><body>" +
			"<p>Your account is locked. <a href=\"" + bs.URL + "/click\">Unlock it here</a>.</p>" +
			"<img src=\"" + bs.URL + "/pixel.png\" width=1 height=1>" +
			"<iframe src=\"" + bs.URL + "/frame\"></iframe></body></html>\r\n" +
			"--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"<b>statement</b>.pdf\"\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcTl8uXrCg==\r\n--XX--\r\n",
	}
	for _, raw := range deliveries {
		imap.Deliver(address, []byte(raw))
	}
	return &mailServers{imap: imap, smtp: smtp, beacon: &beacon, address: address, password: mailPW, deliveries: deliveries}
}

// browseMail is the journey through Settings → Mail and the mail page, on
// the os1 at base whose owner is not set up yet.
func browseMail(t *testing.T, b *browser, base, setupToken string, f *mailServers, model *llmtest.Server) {
	imap, smtp, beacon, address, mailPW, deliveries := f.imap, f.smtp, f.beacon, f.address, f.password, f.deliveries
	const user, pw = "theo", "correct horse"
	c := newClient(t, base)
	c.setup(setupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()
	conv := c.newConversation()
	if evs := c.stream("/api/conversations/"+conv+"/messages", map[string]string{"text": mayaSays}).rest(); !strings.Contains(types(evs), "assistant_done") {
		t.Fatalf("telling her about Maya: %s", types(evs))
	}
	eventually(t, "she remembers Maya", func() (bool, string) {
		_, body := c.call(http.MethodGet, "/api/people", nil, nil)
		return strings.Contains(body, "Maya Lind"), body
	})

	tab := b.ctx
	b.do(tab, "sign in and open Settings → Mail",
		chromedp.Navigate(base+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.WaitVisible(css(`#nav-mail`)),
		chromedp.Navigate(base+"/#/settings/mail"),
		chromedp.WaitVisible(css(`#mail-form`)),
	)
	if got := eval[string](b, tab, "the list says no account", `document.querySelector('#mail-accounts').textContent`); !strings.Contains(got, "No mail accounts yet") {
		t.Errorf("with no account the list says %q", got)
	}

	// A wrong password: the server's sentence, the password field emptied.
	imapHost, imapPort := splitHostPort(t, imap.Addr)
	fill := func(step, password string) {
		b.do(tab, step,
			chromedp.SetValue(css(`#mail-address`), address),
			chromedp.SetValue(css(`#mail-imap-host`), imapHost),
			chromedp.SetValue(css(`#mail-imap-security`), "none"),
			chromedp.SetValue(css(`#mail-imap-port`), imapPort),
			chromedp.SetValue(css(`#mail-smtp-host`), smtp.Host),
			chromedp.SetValue(css(`#mail-smtp-security`), "none"),
			chromedp.SetValue(css(`#mail-smtp-port`), strconv.Itoa(smtp.Port)),
			chromedp.SendKeys(css(`#mail-password`), password),
			chromedp.Click(css(`#mail-connect`)),
		)
	}
	fill("connect with a wrong password", "not-the-password")
	refused := poll[string](b, tab, "the refusal shows", `(() => {
		const a = document.querySelector('#mail-form .alert-error');
		return a && !a.hidden && a.textContent;
	})()`)
	if !strings.Contains(refused, address) || !strings.HasSuffix(refused, ".") {
		t.Errorf("a wrong password says %q, want a sentence naming %s", refused, address)
	}
	if v := eval[string](b, tab, "read the password field", `document.querySelector('#mail-password').value`); v != "" {
		t.Errorf("the password field still holds %q after the form was sent", v)
	}

	fill("connect the account", mailPW)
	b.do(tab, "the account is listed", chromedp.WaitVisible(css(`.mail-account`)))
	if v := eval[string](b, tab, "read the password field", `document.querySelector('#mail-password').value`); v != "" {
		t.Errorf("the password field still holds %q after connecting", v)
	}
	synced := poll[string](b, tab, "the first sync ends", `(() => {
		const li = document.querySelector('.mail-account');
		return li && (li.dataset.phase === 'done' || li.dataset.phase === 'failed') && (li.dataset.phase + ': ' + li.textContent);
	})()`)
	b.screenshot(tab, "mail-settings-synced")
	if !strings.HasPrefix(synced, "done: ") || !strings.Contains(synced, "Synced") || !strings.Contains(synced, "last synced") {
		t.Fatalf("after the first sync the account shows %q, want done, Synced and its last sync", synced)
	}
	if n := eval[int](b, tab, "no progress bar is left", `document.querySelectorAll('.mail-account progress:not([hidden])').length`); n != 0 {
		t.Errorf("%d progress bars still show after the sync ended", n)
	}
	// A rule in plain words: tried on recent mail, then kept; how mail is
	// triaged is said.
	if got := eval[string](b, tab, "read the triage line", `document.querySelector('#mail-triage').textContent`); !strings.Contains(got, "by rules") {
		t.Errorf("the triage line says %q", got)
	}
	b.do(tab, "try a rule",
		chromedp.SendKeys(css(`#mail-rule-text`), "archive anything from news@crag.example"),
		chromedp.Click(css(`#mail-rule-try`)),
	)
	tried := poll[string](b, tab, "the dry run answers", `(() => { const p = document.querySelector('#mail-rule-preview'); return p && p.textContent.includes('would change') && p.textContent; })()`)
	if !strings.Contains(tried, "would change 1") || !strings.Contains(tried, "December at the crag") || !strings.Contains(tried, "archived") {
		t.Errorf("the dry run shows %q", tried)
	}
	if n := len(eval[[]string](b, tab, "rules before adding", `[...document.querySelectorAll('#mail-rules .mail-rule')].map((li) => li.textContent)`)); n != 0 {
		t.Errorf("a rule was kept by trying it (%d)", n)
	}
	b.do(tab, "add the rule", chromedp.Click(css(`#mail-rule-add`)), chromedp.WaitVisible(css(`#mail-rules .mail-rule`)))
	var rules struct {
		Rules []struct {
			Text string `json:"text"`
		} `json:"rules"`
	}
	c.must(http.MethodGet, "/api/mail/rules", nil, &rules)
	if len(rules.Rules) != 1 || rules.Rules[0].Text != "archive anything from news@crag.example" {
		t.Errorf("rules after adding: %+v", rules)
	}

	// The account as the API gives it: no password, ever.
	_, accounts := c.call(http.MethodGet, "/api/mail/accounts", nil, nil)
	if strings.Contains(accounts, mailPW) || strings.Contains(strings.ToLower(accounts), `"password":`) {
		t.Errorf("GET /api/mail/accounts shows the password: %s", accounts)
	}

	// The inbox: every message with its category and reason, as the
	// server triaged it, the most important first within a day.
	var listed struct {
		Messages []apiMail `json:"messages"`
	}
	c.must(http.MethodGet, "/api/mail/messages?folder=INBOX", nil, &listed)
	if len(listed.Messages) != len(deliveries) {
		t.Fatalf("the API lists %d messages in INBOX, want %d", len(listed.Messages), len(deliveries))
	}
	byID := map[string]apiMail{}
	for _, m := range listed.Messages {
		byID[m.ID] = m
	}
	b.do(tab, "open the inbox from the chat's sidebar",
		chromedp.Navigate(base+"/#/"),
		screen("chat"),
		chromedp.Click(css(`#nav-mail`)),
		screen("mail"),
	)
	rows := poll[[]mailRow](b, tab, "the inbox lists the messages", `(() => {
		const rows = [...document.querySelectorAll('#mail-list .mail-item')].map((li) => ({
			id: li.dataset.id, category: li.dataset.category,
			day: li.closest('.mail-day').querySelector('.mail-day-title').textContent,
			badge: (li.querySelector('.mail-category') || {}).textContent || '',
			from: (li.querySelector('.mail-from') || {}).textContent || '',
			subject: (li.querySelector('.mail-subject') || {}).textContent || '',
			summary: (li.querySelector('.mail-summary') || {}).textContent || '',
			reason: (li.querySelector('.mail-reason') || {}).textContent || '',
		}));
		return rows.length === `+strconv.Itoa(len(deliveries))+` && rows;
	})()`)
	b.screenshot(tab, "mail-inbox")
	lastDay, lastImp := "", 2.0
	for _, r := range rows {
		m, ok := byID[r.ID]
		if !ok {
			t.Errorf("the inbox shows %q (%s), which the API does not list", r.Subject, r.ID)
			continue
		}
		if m.Triage.Category == "" || m.Triage.Reason == "" {
			t.Errorf("message %q was not triaged with a reason: %+v", m.Subject, m.Triage)
		}
		if r.Category != m.Triage.Category || r.Badge != mailBadges[m.Triage.Category] {
			t.Errorf("row %q shows category %q / badge %q, want %q / %q", m.Subject, r.Category, r.Badge, m.Triage.Category, mailBadges[m.Triage.Category])
		}
		if r.Reason != m.Triage.Reason || r.Summary != m.Triage.Summary || r.Subject != m.Subject {
			t.Errorf("row shows subject %q, reason %q, summary %q; the message has %q, %q, %q", r.Subject, r.Reason, r.Summary, m.Subject, m.Triage.Reason, m.Triage.Summary)
		}
		if r.Day != lastDay {
			lastDay, lastImp = r.Day, 2
		}
		if m.Triage.Importance > lastImp {
			t.Errorf("on %s, %q (importance %.2f) comes after a less important message (%.2f)", r.Day, m.Subject, m.Triage.Importance, lastImp)
		}
		lastImp = m.Triage.Importance
	}
	var maya, hostile mailRow
	for _, r := range rows {
		switch {
		case strings.Contains(r.Subject, "Dinner on Friday"):
			maya = r
		case strings.Contains(r.Subject, "Account locked"):
			hostile = r
		}
	}
	// Memory knows Maya: her question needs a reply, and the reason says who.
	if maya.Category != "needs_reply" || !strings.Contains(maya.Reason, "from Maya Lind") {
		t.Errorf("Maya's question is %q (%s), want needs_reply, from Maya Lind", maya.Category, maya.Reason)
	}
	if hostile.ID == "" {
		t.Fatalf("the hostile message is not in the inbox: %+v", rows)
	}
	if !strings.Contains(hostile.From, "<b>Support</b>") || !strings.Contains(hostile.Subject, "<img src=") {
		t.Errorf("the hostile sender and subject show as %q / %q, want their markup as text", hostile.From, hostile.Subject)
	}

	// New mail while the inbox is open: pushed by IDLE, synced, triaged,
	// and shown without a reload (mail_changed on the user's stream).
	imap.Deliver(address, []byte("From: Maya Lind <maya@example.net>\r\nTo: "+address+"\r\nSubject: Bring the cake?\r\n"+
		"Date: "+time.Now().Format(time.RFC1123Z)+"\r\nMessage-ID: <cake-1@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"Could you bring the cake on Friday?\r\n"))
	pushed := poll[string](b, tab, "the new mail appears in the open inbox", `(() => {
		const li = [...document.querySelectorAll('#mail-list .mail-item')].find((li) => li.textContent.includes('Bring the cake?'));
		return li && li.dataset.category;
	})()`)
	if pushed != "needs_reply" {
		t.Errorf("the pushed mail shows as %q, want needs_reply", pushed)
	}

	// The hostile message: headers and text as text, nothing rendered,
	// nothing fetched.
	b.do(tab, "open the hostile message",
		chromedp.Click(css(`.mail-item[data-id="`+hostile.ID+`"] a`)),
		chromedp.WaitVisible(css(`#mail-body`)),
	)
	b.screenshot(tab, "mail-hostile")
	type shownMail struct {
		Title    string   `json:"title"`
		Body     string   `json:"body"`
		Headers  string   `json:"headers"`
		Parts    []string `json:"parts"`
		Elements []string `json:"elements"`
		DocTitle string   `json:"docTitle"`
	}
	shown := eval[shownMail](b, tab, "read the message", `(() => {
		const art = document.querySelector('.mail-message');
		const text = (sel) => (document.querySelector(sel) || {}).textContent || '';
		return {
			title: text('h1.page-title'), body: text('#mail-body'), headers: text('#mail-headers'),
			parts: [...document.querySelectorAll('#mail-parts li')].map((li) => li.textContent),
			// Elements an email's markup could have made: none may exist.
			elements: [...document.querySelectorAll('main script, main style, main iframe, main img, main b, main a[href^="http"], main [onerror]')].map((e) => e.outerHTML),
			docTitle: document.title,
		};
	})()`)
	if len(shown.Elements) > 0 {
		t.Errorf("the hostile message put elements on the page: %q", shown.Elements)
	}
	if !strings.Contains(shown.Title, "<img src=") || !strings.Contains(shown.Headers, "<b>Support</b>") {
		t.Errorf("title %q, headers %q: want the markup in subject and sender as text", shown.Title, shown.Headers)
	}
	if shown.DocTitle == "pwned" {
		t.Errorf("the hostile message ran script: document.title = %q", shown.DocTitle)
	}
	if !strings.Contains(shown.Body, "Your account is locked") || strings.Contains(shown.Body, "<script") || strings.Contains(shown.Body, "document.title") {
		t.Errorf("the body shows %q, want the email's readable text without its markup or script", shown.Body)
	}
	if len(shown.Parts) != 1 || !strings.Contains(shown.Parts[0], "<b>statement</b>.pdf") {
		t.Errorf("attachments show %q, want <b>statement</b>.pdf by name, as text", shown.Parts)
	}

	// Search by a word of the newsletter's body.
	b.do(tab, "search for quickdraws",
		chromedp.Navigate(base+"/#/mail"),
		chromedp.WaitVisible(css(`#mail-q`)),
		chromedp.SendKeys(css(`#mail-q`), "quickdraws"),
		chromedp.Click(css(`#mail-search button[type="submit"]`)),
	)
	found := poll[[]string](b, tab, "the search answers", `(() => {
		const s = document.querySelector('#mail-status');
		if (!location.hash.includes('q=quickdraws') || !s || !/found|Nothing/.test(s.textContent)) return null;
		return [s.textContent, ...[...document.querySelectorAll('#mail-list .mail-subject')].map((e) => e.textContent)];
	})()`)
	if want := []string{"1 found", "December at the crag"}; fmt.Sprint(found) != fmt.Sprint(want) {
		t.Errorf("searching quickdraws shows %q, want %q", found, want)
	}

	// Memory's search finds the email too, with where it lives, and links
	// to it.
	var memHits struct {
		Results []struct {
			Kind string `json:"kind"`
			ID   string `json:"id"`
			Mail *struct {
				Folder    string `json:"folder"`
				UID       uint32 `json:"uid"`
				MessageID string `json:"message_id"`
				AccountID string `json:"account_id"`
			} `json:"mail"`
		} `json:"results"`
	}
	c.must(http.MethodGet, "/api/memory?q=quickdraws", nil, &memHits)
	if len(memHits.Results) != 1 || memHits.Results[0].Kind != "mail" || memHits.Results[0].Mail == nil ||
		memHits.Results[0].Mail.MessageID != "news-12@crag.example" || memHits.Results[0].Mail.Folder != "INBOX" ||
		memHits.Results[0].Mail.UID == 0 || memHits.Results[0].Mail.AccountID == "" {
		t.Fatalf("memory search for quickdraws: %+v", memHits)
	}
	b.do(tab, "find the email from the memory page",
		chromedp.Navigate(base+"/#/memory"),
		chromedp.WaitVisible(css(`#memory-q`)),
		chromedp.SendKeys(css(`#memory-q`), "quickdraws"),
		chromedp.Click(css(`#memory-search button[type="submit"]`)),
		chromedp.WaitVisible(css(`#memory-list .mem-mail a.mem-source-link`)),
		chromedp.Click(css(`#memory-list .mem-mail a.mem-source-link`)),
		chromedp.WaitVisible(css(`#mail-body`)),
	)
	if body := eval[string](b, tab, "read the email", `document.querySelector('#mail-body').textContent`); !strings.Contains(body, "quickdraws") {
		t.Errorf("the memory page's link opened %q", body)
	}

	// A category tab lists only that kind.
	b.do(tab, "show what needs a reply",
		chromedp.Navigate(base+"/#/mail"),
		chromedp.WaitVisible(css(`#mail-cat-needs_reply`)),
		chromedp.Click(css(`label[for="mail-cat-needs_reply"]`)),
	)
	cats := poll[[]string](b, tab, "the needs-reply list", `document.querySelector('#mail-list[data-shows*="category=needs_reply"]') &&
		(document.querySelector('#mail-list .mail-item, #mail-list .mail-empty')) &&
		[...document.querySelectorAll('#mail-list .mail-item')].map((li) => li.dataset.category)`)
	if len(cats) == 0 {
		t.Errorf("the Needs your reply tab lists nothing")
	}
	for _, c := range cats {
		if c != "needs_reply" {
			t.Errorf("the Needs your reply tab lists a %q message", c)
		}
	}

	// Ask her to draft a reply: the chat opens with the request written out.
	b.do(tab, "ask her to draft a reply to Maya",
		chromedp.Navigate(base+"/#/mail/"+url.PathEscape(maya.ID)),
		chromedp.WaitVisible(css(`#mail-draft`)),
		chromedp.Click(css(`#mail-draft`)),
		screen("chat"),
	)
	composer := poll[string](b, tab, "the composer holds the request", `document.querySelector('#composer') && document.querySelector('#composer').value`)
	if want := `Draft a reply to Maya Lind's email "Dinner on Friday?" (from maya@example.net, mail id ` + maya.ID + `)`; composer != want {
		t.Errorf("the composer holds %q, want %q", composer, want)
	}

	// She drafts it with her mail tools (the scripted model reads the
	// draft, then proposes mail_send); the send waits for the approval
	// card, and once approved the SMTP server has it, threaded, and the
	// account's Sent folder keeps a copy.
	const body = "Yes, I'll be there on Friday. Shall I bring dessert?\nTheo"
	model.Route(func(r llmtest.Request) bool { return draftStep(r) >= 0 }, func(r llmtest.Request) llmtest.Reply {
		switch draftStep(r) {
		case 0:
			return llmtest.Reply{ToolCalls: []llm.ToolCall{toolCall("d1", "mail_draft_reply", map[string]any{"id": maya.ID, "instructions": "say yes"})}}
		case 1:
			return llmtest.Reply{ToolCalls: []llm.ToolCall{toolCall("s1", "mail_send", map[string]any{
				"to": []string{"Maya Lind <maya@example.net>"}, "subject": "Re: Dinner on Friday?", "body": body, "in_reply_to": maya.ID})}}
		default:
			return llmtest.Reply{Chunks: []string{"Sent. I told Maya you'll be there."}}
		}
	})
	b.do(tab, "send the request", chromedp.Click(css(`#send`)))
	card := poll[string](b, tab, "the approval card for the email", `(() => {
		const c = document.querySelector('.action-card[data-status="pending"] .action-summary');
		return c && c.textContent;
	})()`)
	b.screenshot(tab, "mail-approve-send")
	for _, want := range []string{"maya@example.net", "Subject: Re: Dinner on Friday?", "Yes, I'll be there on Friday.", address} {
		if !strings.Contains(card, want) {
			t.Errorf("the approval card says %q, which lacks %q", card, want)
		}
	}
	// The user named Maya's address (the request carries it), so no
	// stranger warning; the turn read her email, so that warning shows.
	if strings.Contains(card, "never written to this address") || !strings.Contains(card, "read 1 email") {
		t.Errorf("the approval card's warnings: %q", card)
	}
	if n := len(smtp.Deliveries()); n != 0 {
		t.Fatalf("%d emails left before the user approved", n)
	}
	b.do(tab, "approve the email", chromedp.Click(css(`.action-card[data-status="pending"] .action-approve`)))
	eventually(t, "the email is delivered", func() (bool, string) {
		return len(smtp.Deliveries()) > 0, fmt.Sprint(len(smtp.Deliveries()))
	})
	d := smtp.Deliveries()
	if len(d) != 1 || d[0].From != address || strings.Join(d[0].Rcpts, ",") != "maya@example.net" {
		t.Fatalf("deliveries after approval: %+v", d)
	}
	raw := string(d[0].Data)
	for _, want := range []string{"In-Reply-To: <dinner-1@example.net>", "Subject: Re: Dinner on Friday?", "Yes, I'll be there on Friday."} {
		if !strings.Contains(raw, want) {
			t.Errorf("the delivered email lacks %q:\n%s", want, raw)
		}
	}
	eventually(t, "the sent copy is in the account's Sent folder", func() (bool, string) {
		n, err := filepath.Glob(filepath.Join(imap.Maildir(address, "Sent"), "*", "*"))
		return err == nil && len(n) > 0, fmt.Sprint(n, err)
	})
	poll[string](b, tab, "her answer after the send", `(() => {
		const m = [...document.querySelectorAll('#messages .msg[data-role="assistant"] .msg-text')].map((e) => e.textContent).join(' ');
		return m.includes('Sent.') && m;
	})()`)

	if n := beacon.Load(); n != 0 {
		t.Errorf("%d requests reached what the hostile email points at", n)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}

// draftStep is where a chat request stands in the "draft a reply" turn: -1
// when it is not that turn, else how many tool results follow the request.
func draftStep(r llmtest.Request) int {
	step := -1
	for _, m := range r.Messages {
		switch {
		case m.Role == llm.RoleUser && strings.Contains(m.Content, "Draft a reply to Maya Lind's email"):
			step = 0
		case m.Role == llm.RoleTool && step >= 0:
			step++
		}
	}
	return step
}

func toolCall(id, name string, args any) llm.ToolCall {
	b, _ := json.Marshal(args)
	return llm.ToolCall{ID: id, Name: name, Arguments: b}
}

func splitHostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}
