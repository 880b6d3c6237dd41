package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/mail/dovecottest"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
)

// tidyRow is a Tidy up row as the page shows it.
type tidyRow struct {
	Sender  string `json:"sender"`
	Name    string `json:"name"`
	Ticked  bool   `json:"ticked"`
	Counts  string `json:"counts"`
	Newest  string `json:"newest"`
	How     string `json:"how"`
	Warning string `json:"warning"`
	Status  string `json:"status"`
	Result  string `json:"result"`
	URL     string `json:"url"`
}

// readTidyRows is the script that reads the rows of one Tidy up list.
func readTidyRows(list string) string {
	return `[...document.querySelectorAll('#` + list + ` .tidy-row')].map((li) => {
		const text = (sel) => (li.querySelector(sel) || {}).textContent || '';
		const cb = li.querySelector('input[type="checkbox"]');
		return { sender: li.dataset.sender, name: text('.tidy-name'), ticked: !!(cb && cb.checked),
			counts: text('.tidy-counts'), newest: text('.tidy-newest'), how: text('.tidy-how'), warning: text('.tidy-warning'),
			status: li.dataset.status || '', result: text('.tidy-message'), url: text('.tidy-url') };
	})`
}

// TestBrowserMailTidy (issue 12): Mail → Tidy up proposes the lists to
// leave, never-read ones ticked, each with "N of M read", its newest mail
// and how os1 would do it; a list whose mail failed the sender checks
// shows its warning and is not ticked. One confirmation names every
// target; only then is anything sent: the mailto: unsubscribes reach the
// SMTP sink, the one-click address on loopback is refused by the SSRF
// guard (never fetched) and the list is left by mail instead, the forged
// list's page is handed to the user as text to copy. The sender the user
// never reads is archived in one batch, and dovecot's Archive holds their
// mail. Replies shows the question the user owes an answer to and the one
// they wait on, each with its nudge and a link to the message; a stranger's
// sales pitch is marked as a cold email in the inbox.
func TestBrowserMailTidy(t *testing.T) {
	b := newBrowser(t)
	imap := dovecottest.Start(t)
	const address, mailPW = "theo@example.org", "imap-secret-9"
	imap.AddUser(address, mailPW)
	smtp := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{address: mailPW}})

	// The one-click address is on loopback: the guard must refuse it.
	var fetched atomic.Int64
	oneClick := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		t.Errorf("the one-click address %s was fetched", r.URL)
	}))
	t.Cleanup(oneClick.Close)
	oneClickHost := strings.TrimPrefix(oneClick.URL, "https://")

	now := time.Now()
	date := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC1123Z) }
	day := 24 * time.Hour
	msg := func(from, to, subject string, ago time.Duration, id, extra, body string) []byte {
		return []byte("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nDate: " + date(ago) +
			"\r\nMessage-ID: <" + id + ">\r\n" + extra + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	}
	// Sent: Theo wrote to Ana before (so her question needs his reply), and
	// asked Sam something five days ago that Sam never answered.
	imap.DeliverTo(address, "Sent", msg("Theo <"+address+">", "Ana Berg <ana@example.net>", "Photos from the trip", 10*day,
		"photos-1@example.org", "", "Here are the photos from the trip."))
	imap.DeliverTo(address, "Sent", msg("Theo <"+address+">", "Sam Ortiz <sam@example.com>", "The hut in January", 5*day,
		"hut-1@example.org", "", "Did you book the hut for January? Let me know."))
	// INBOX: Ana's question three days ago; a cold pitch; lists.
	imap.Deliver(address, msg("Ana Berg <ana@example.net>", address, "Climbing on Saturday?", 3*day,
		"climb-1@example.net", "", "Are you free to climb on Saturday? Let me know by Thursday."))
	imap.Deliver(address, msg("Jordan Pike <jordan@growthly.example>", address, "Quick question about your pipeline", 2*time.Hour,
		"pitch-1@growthly.example", "", "Hi Theo, I came across your company and would love to book a demo. Are you the right person to talk to?"))
	for i := range 5 {
		imap.Deliver(address, msg("Gear Deals <deals@gear.example>", address, fmt.Sprintf("Deal of the week %d", i+1), time.Duration(i+1)*day,
			fmt.Sprintf("deal-%d@gear.example", i), "List-Id: Gear Deals <deals.gear.example>\r\nList-Unsubscribe: <mailto:leave@gear.example?subject=unsubscribe>\r\nPrecedence: bulk\r\n",
			"Half price on ropes this week."))
	}
	for i := range 2 {
		imap.Deliver(address, msg("Crag Club <news@crag.example>", address, fmt.Sprintf("Crag news %d", i+1), time.Duration(i+1)*day+time.Hour,
			fmt.Sprintf("crag-%d@crag.example", i), "List-Id: Crag Club news <news.crag.example>\r\n"+
				"List-Unsubscribe: <"+oneClick.URL+"/unsub?u=theo>, <mailto:leave@crag.example>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
			"New routes on the north wall."))
	}
	imap.Deliver(address, msg("Prize Club <win@prize.example>", address, "You won", 4*time.Hour, "prize-1@prize.example",
		"List-Id: Prize news <news.prize.example>\r\nList-Unsubscribe: <https://prize.example/out?u=1>, <mailto:out@prize.example>\r\n"+
			"Authentication-Results: mx.example.org; spf=fail smtp.mailfrom=prize.example; dkim=fail; dmarc=fail\r\n",
		"Claim it now."))
	// A list Theo reads: not ticked.
	deliverSeen(t, imap, address, msg("Book Club <club@books.example>", address, "This month's book", 6*day, "book-1@books.example",
		"List-Id: Book Club <club.books.example>\r\nList-Unsubscribe: <mailto:bye@books.example>\r\n", "We read Middlemarch."))

	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		return llmtest.Reply{Chunks: []string{"Okay."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel, "OS1_MAIL_TRIAGE=rules", "OS1_MAIL_SYNC_EVERY=0s")
	const user, pw = "theo", "correct horse"
	c := newClient(t, p.URL)
	c.setup(p.SetupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()

	imapHost, imapPort := splitHostPort(t, imap.Addr)
	var port int
	fmt.Sscan(imapPort, &port)
	var acct struct {
		ID string `json:"id"`
	}
	c.must(http.MethodPost, "/api/mail/accounts", map[string]any{
		"address": address, "password": mailPW, "sync_days": 90,
		"imap": map[string]any{"host": imapHost, "port": port, "security": "none"},
		"smtp": map[string]any{"host": smtp.Host, "port": smtp.Port, "security": "none"},
	}, &acct)
	eventually(t, "the first sync ends", func() (bool, string) {
		var pr struct {
			Phase string `json:"phase"`
			Error string `json:"error"`
		}
		c.must(http.MethodGet, "/api/mail/accounts/"+acct.ID+"/sync", nil, &pr)
		if pr.Phase == "failed" {
			t.Fatalf("the first sync failed: %s", pr.Error)
		}
		return pr.Phase == "done", pr.Phase
	})

	tab := b.ctx
	b.do(tab, "sign in and open Mail → Tidy up",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.Navigate(p.URL+"/#/mail"),
		chromedp.WaitVisible(css(`#mail-tab-tidy`)),
	)

	// The inbox marks the cold pitch, and nothing else.
	cold := poll[[]string](b, tab, "the inbox lists the mail", `(() => {
		const rows = [...document.querySelectorAll('#mail-list .mail-item')];
		return rows.length >= 10 && rows.filter((li) => li.querySelector('.mail-cold')).map((li) =>
			li.dataset.cold + '|' + li.querySelector('.mail-subject').textContent + '|' + li.querySelector('.mail-reason').textContent);
	})()`)
	if len(cold) != 1 || !strings.HasPrefix(cold[0], "1|Quick question about your pipeline|cold email") {
		t.Errorf("rows marked cold: %q, want only the pitch, with its reason", cold)
	}

	b.do(tab, "open Tidy up", chromedp.Click(css(`#mail-tab-tidy`)), chromedp.WaitVisible(css(`#tidy-unsub-review`)))
	rows := poll[[]tidyRow](b, tab, "the unsubscribe proposal", `(() => { const r = `+readTidyRows("tidy-unsub-list")+`; return r.length >= 4 && r; })()`)
	b.screenshot(tab, "mail-tidy")
	by := map[string]tidyRow{}
	for _, r := range rows {
		by[r.Sender] = r
	}
	if len(rows) != 4 {
		t.Errorf("the proposal lists %d lists, want 4: %+v", len(rows), rows)
	}
	type want struct {
		ticked      bool
		counts, how string
		warning     bool
	}
	for sender, w := range map[string]want{
		"deals.gear.example": {true, "0 of 5 messages read", "By mail to leave@gear.example", false},
		"news.crag.example":  {true, "0 of 2 messages read", "One-click unsubscribe at " + oneClickHost, false},
		"news.prize.example": {false, "0 of 1 message read", "open it yourself (prize.example)", true},
		"club.books.example": {false, "1 of 1 message read", "By mail to bye@books.example", false},
	} {
		r, ok := by[sender]
		if !ok {
			t.Errorf("%s is not proposed: %+v", sender, rows)
			continue
		}
		if r.Ticked != w.ticked || r.Counts != w.counts || !strings.Contains(r.How, w.how) || !strings.HasPrefix(r.Newest, "newest ") || (r.Warning != "") != w.warning {
			t.Errorf("%s shows %+v, want ticked %v, %q, how %q, a newest date, warning %v", sender, r, w.ticked, w.counts, w.how, w.warning)
		}
	}
	if w := by["news.prize.example"].Warning; !strings.Contains(w, "sender checks") {
		t.Errorf("the forged list's warning says %q", w)
	}

	// Tick the forged list too (its page is only handed over), review, and
	// read the one confirmation before anything is sent.
	b.do(tab, "tick the forged list and review",
		chromedp.Click(css(`#tidy-unsub-list .tidy-row[data-sender="news.prize.example"] input[type="checkbox"]`)),
		chromedp.Click(css(`#tidy-unsub-review`)),
		chromedp.WaitVisible(css(`#tidy-unsub-confirm`)),
	)
	type confirmView struct {
		Title   string   `json:"title"`
		Targets []string `json:"targets"`
	}
	conf := eval[confirmView](b, tab, "read the confirmation", `({
		title: document.querySelector('#tidy-unsub-confirm h2').textContent,
		targets: [...document.querySelectorAll('#tidy-unsub-confirm .tidy-target')].map((li) => li.textContent) })`)
	b.screenshot(tab, "mail-tidy-confirm")
	if conf.Title != "Unsubscribe from 3 lists?" || len(conf.Targets) != 3 {
		t.Errorf("the confirmation says %q with targets %q, want 3 lists", conf.Title, conf.Targets)
	}
	joined := strings.Join(conf.Targets, "\n")
	for _, w := range []string{"mail to leave@gear.example", "one-click request to " + oneClickHost, "you open https://prize.example/out?u=1 yourself"} {
		if !strings.Contains(joined, w) {
			t.Errorf("the confirmation's targets %q lack %q", conf.Targets, w)
		}
	}
	if strings.Contains(joined, "books.example") {
		t.Errorf("the confirmation names the unticked Book Club: %q", conf.Targets)
	}
	if n := len(smtp.Deliveries()); n != 0 {
		t.Fatalf("%d mails left before the user confirmed", n)
	}

	b.do(tab, "confirm", chromedp.Click(css(`#tidy-unsub-go`)))
	done := poll[[]tidyRow](b, tab, "the per-row results", `(() => { const r = `+readTidyRows("tidy-unsub-list")+`;
		return r.filter((x) => x.status).length === 3 && r; })()`)
	b.screenshot(tab, "mail-tidy-results")
	by = map[string]tidyRow{}
	for _, r := range done {
		by[r.Sender] = r
	}
	for _, r := range done {
		if r.Ticked {
			t.Errorf("%s is still ticked after the batch: %+v", r.Sender, r)
		}
	}
	if got := eval[string](b, tab, "read the review button", `(() => { const b = document.querySelector('#tidy-unsub-review'); return b.disabled + ' ' + b.textContent; })()`); got != "true Tick the lists to leave" {
		t.Errorf("after the batch the review button is %q, want disabled until lists are ticked again", got)
	}
	if r := by["deals.gear.example"]; r.Status != "done" || !strings.Contains(r.Result, "leave@gear.example") {
		t.Errorf("Gear Deals: %+v, want done by mail to leave@gear.example", r)
	}
	// The one-click address is refused (loopback): the row says it failed,
	// or that os1 left by mail instead.
	if r := by["news.crag.example"]; !(r.Status == "failed" || r.Status == "done" && strings.Contains(r.Result, "leave@crag.example")) {
		t.Errorf("Crag Club: %+v, want failed or done by mail to leave@crag.example", r)
	}
	if r := by["news.prize.example"]; r.Status != "manual" || r.URL != "https://prize.example/out?u=1" {
		t.Errorf("Prize Club: %+v, want manual with its page to open", r)
	}
	if r := by["club.books.example"]; r.Status != "" {
		t.Errorf("the unticked Book Club got a result: %+v", r)
	}
	rcpts := map[string]int{}
	for _, d := range smtp.Deliveries() {
		if d.From != address {
			t.Errorf("an unsubscribe went out from %q, want %s", d.From, address)
		}
		for _, r := range d.Rcpts {
			rcpts[r]++
		}
	}
	if rcpts["leave@gear.example"] != 1 || rcpts["leave@crag.example"] != 1 || len(rcpts) != 2 {
		t.Errorf("the SMTP sink got unsubscribes for %v, want one each to leave@gear.example and leave@crag.example", rcpts)
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("the one-click address on loopback was fetched %d times", n)
	}
	if n := eval[int](b, tab, "links out of the page", `document.querySelectorAll('main a[href^="http"], main img, main iframe').length`); n != 0 {
		t.Errorf("%d links or loads from the mail are on the page", n)
	}

	// Archive the sender Theo never reads: one batch, dovecot's Archive
	// gets their five messages.
	arch := poll[[]tidyRow](b, tab, "the archive suggestions", `(() => { const r = `+readTidyRows("tidy-archive-list")+`; return r.length > 0 && r; })()`)
	if len(arch) != 1 || arch[0].Sender != "deals@gear.example" || !arch[0].Ticked || arch[0].Counts != "5 unread in a row" {
		t.Fatalf("archive suggestions: %+v, want Gear Deals, ticked, 5 unread", arch)
	}
	b.do(tab, "review the archive batch",
		chromedp.Click(css(`#tidy-archive-review`)),
		chromedp.WaitVisible(css(`#tidy-archive-confirm`)),
	)
	if got := eval[string](b, tab, "read the archive confirmation", `document.querySelector('#tidy-archive-confirm').textContent`); !strings.Contains(got, "Archive mail from 1 sender?") || !strings.Contains(got, "deals@gear.example") || !strings.Contains(got, "5 messages") {
		t.Errorf("the archive confirmation says %q", got)
	}
	b.do(tab, "archive", chromedp.Click(css(`#tidy-archive-go`)))
	archived := poll[tidyRow](b, tab, "the archive result", `(() => { const r = `+readTidyRows("tidy-archive-list")+`; return r[0] && r[0].status && r[0]; })()`)
	if archived.Status != "done" || !strings.Contains(archived.Result, "Archived 5 messages") {
		t.Errorf("the archive row says %+v, want done, 5 messages", archived)
	}
	eventually(t, "dovecot's Archive holds Gear Deals' mail", func() (bool, string) {
		n, err := filepath.Glob(filepath.Join(imap.Maildir(address, "Archive"), "*", "*"))
		var gear int
		for _, f := range n {
			if data, err := os.ReadFile(f); err == nil && strings.Contains(string(data), "deals@gear.example") {
				gear++
			}
		}
		return err == nil && gear == 5, fmt.Sprint(len(n), " files, ", gear, " from Gear Deals ", err)
	})

	// Replies: the question Theo owes Ana, the one he waits on Sam for.
	b.do(tab, "open Replies", chromedp.Click(css(`#mail-tab-replies`)), chromedp.WaitVisible(css(`#replies-owed`)))
	type replyRow struct {
		ID      string `json:"id"`
		Who     string `json:"who"`
		Subject string `json:"subject"`
		Age     string `json:"age"`
		Nudge   string `json:"nudge"`
		Href    string `json:"href"`
	}
	type repliesView struct {
		Owed     []replyRow `json:"owed"`
		Awaiting []replyRow `json:"awaiting"`
	}
	rv := poll[repliesView](b, tab, "the replies", `(() => {
		const read = (sel) => [...document.querySelectorAll(sel + ' .reply-item')].map((li) => ({
			id: li.dataset.id, who: li.querySelector('.reply-who').textContent, subject: li.querySelector('.mail-subject').textContent,
			age: li.querySelector('.reply-age').textContent, nudge: (li.querySelector('.reply-nudge') || {}).textContent || '',
			href: li.querySelector('a').getAttribute('href') }));
		const v = { owed: read('#replies-owed'), awaiting: read('#replies-awaiting') };
		return (v.owed.length || v.awaiting.length) && v;
	})()`)
	b.screenshot(tab, "mail-replies")
	if len(rv.Owed) != 1 || rv.Owed[0].Subject != "Climbing on Saturday?" || rv.Owed[0].Who != "Ana Berg" || rv.Owed[0].Age != "3 days ago" ||
		!strings.Contains(rv.Owed[0].Nudge, "haven't answered") || rv.Owed[0].Href != "#/mail/"+rv.Owed[0].ID {
		t.Errorf("owed replies: %+v, want Ana's question, 3 days old, with a nudge and a link to it", rv.Owed)
	}
	if len(rv.Awaiting) != 1 || rv.Awaiting[0].Subject != "The hut in January" || !strings.Contains(rv.Awaiting[0].Who, "Sam Ortiz") || rv.Awaiting[0].Nudge == "" {
		t.Errorf("awaited replies: %+v, want the question to Sam, with a nudge", rv.Awaiting)
	}
	if len(rv.Owed) == 1 {
		b.do(tab, "open the owed message", chromedp.Click(css(`#replies-owed .reply-item a`)), chromedp.WaitVisible(css(`#mail-body`)))
		if got := eval[string](b, tab, "read the message", `document.querySelector('#mail-body').textContent`); !strings.Contains(got, "free to climb on Saturday") {
			t.Errorf("the owed reply's link opens %q", got)
		}
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("page exceptions: %v", ex)
	}
}

// deliverSeen delivers raw to the user's INBOX as a message they read: the
// file moves to cur/ with the Seen flag (maildir's ":2,S").
func deliverSeen(t *testing.T, imap *dovecottest.Server, user string, raw []byte) {
	t.Helper()
	dir := imap.Maildir(user, "INBOX")
	before, _ := filepath.Glob(filepath.Join(dir, "new", "*"))
	imap.Deliver(user, raw)
	after, _ := filepath.Glob(filepath.Join(dir, "new", "*"))
	for _, f := range after {
		if !slices.Contains(before, f) {
			if err := os.Rename(f, filepath.Join(dir, "cur", filepath.Base(f)+":2,S")); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("the delivered message is not in new/")
}
