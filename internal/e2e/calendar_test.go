package e2e

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/calendar/radicaletest"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserCalendar (issue 13): the Calendar view and Settings → Calendar
// in a real browser against a real os1 and Debian's radicale. An event
// added in the page shows in Today; an .ics file imported in the page
// shows its event and names the broken one; a CalDAV account connected in
// Settings → Calendar and synced with "Sync now" brings the server's
// events in (a daily series as three occurrences, a two-day all-day
// event), each marked with its calendar, and a conflict (removed in os1's
// agenda, changed on the server) is shown with the rule applied; a subscription to an address
// feeds_allow does not name is refused with the reason on the page, and one it names is
// added, refreshed (a 304), read in the agenda as read-only, and removed.
func TestBrowserCalendar(t *testing.T) {
	dav := radicaletest.Start(t)
	dav.AddUser("theo", "dav-pass")
	work := dav.MakeCalendar("theo", "work", "Work")
	berlin, err := time.LoadLocation("Europe/Berlin") // c.onboard's zone
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(berlin)
	day := func(n int) string { return now.AddDate(0, 0, n).Format("20060102") }
	put := func(name, body string) {
		ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//os1 test//EN\r\n" + body + "END:VCALENDAR\r\n"
		if resp := dav.Do("PUT", "theo", work+name, "text/calendar", ics); resp.StatusCode/100 != 2 {
			t.Fatalf("put %s on radicale: %s\n%s", name, resp.Status, dav.Log())
		}
	}
	put("retro.ics", "BEGIN:VEVENT\r\nUID:retro@dav\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Team retro\r\nDTSTART:"+day(1)+"T140000Z\r\nDTEND:"+day(1)+"T150000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n")
	put("offsite.ics", "BEGIN:VEVENT\r\nUID:offsite@dav\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:Offsite\r\nDTSTART;VALUE=DATE:"+day(2)+"\r\nDTEND;VALUE=DATE:"+day(4)+"\r\nEND:VEVENT\r\n")

	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
		}
		return llmtest.Reply{Chunks: []string{"Noted."}}
	})
	p := startOS1(t, "OS1_LLM_URL="+model.OpenAIBaseURL(), "OS1_LLM_MODEL="+llmtest.DefaultModel, "OS1_CALENDAR_FEEDS_ALLOW=127.0.0.1")
	const user, pw = "theo", "correct horse"
	c := newClient(t, p.URL)
	c.setup(p.SetupToken, user, pw, "Theo")
	c.waitModel()
	c.onboard()

	tab := b.ctx
	b.do(tab, "sign in and open the calendar from the sidebar",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.Click(css(`#nav-calendar`)),
		screen("calendar"),
		chromedp.WaitVisible(css(`#cal-agenda #cal-today`)),
	)
	if z := eval[string](b, tab, "read the zone", `document.querySelector('.cal-zone').textContent`); z != "Times in Europe/Berlin." {
		t.Errorf("the agenda says %q, want the user's zone", z)
	}

	// Add an event for late today: it is in Today, at its time, in "Personal".
	b.do(tab, "add an event",
		chromedp.Click(css(`#cal-add`)),
		chromedp.WaitVisible(css(`#cal-form`)),
		chromedp.SendKeys(css(`#cal-summary`), "Call the plumber"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#cal-time').value = '22:00'`),
		chromedp.Click(css(`#cal-save`)),
	)
	today := poll[string](b, tab, "the event is in Today", `(() => { const s = document.querySelector('#cal-today'); return s && s.textContent.includes('Call the plumber') && s.textContent; })()`)
	if !strings.Contains(today, "22:00–23:00") || !strings.Contains(today, "Personal") {
		t.Errorf("Today shows %q, want the plumber at 22:00–23:00 in Personal", today)
	}
	if date := eval[string](b, tab, "the form's day", `document.querySelector('#cal-date').value`); date != now.Format("2006-01-02") {
		t.Errorf("the form's day is %q, want today in Berlin %s", date, now.Format("2006-01-02"))
	}

	// Import an .ics file: its event shows, the broken one is named.
	dir := t.TempDir()
	file := filepath.Join(dir, "concert.ics")
	ics := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n" +
		"BEGIN:VEVENT\r\nUID:concert@t\r\nSUMMARY:Concert\r\nDTSTART:" + day(5) + "T180000Z\r\nDTEND:" + day(5) + "T200000Z\r\nEND:VEVENT\r\n" +
		"BEGIN:VEVENT\r\nUID:nostart@t\r\nSUMMARY:Mystery\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	if err := os.WriteFile(file, []byte(ics), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do(tab, "import an .ics file", chromedp.SetUploadFiles(css(`#cal-import-file`), []string{file}))
	res := poll[string](b, tab, "the import says what it did", `(() => { const r = document.querySelector('#cal-import-result'); return r && !r.hidden && r.textContent; })()`)
	if !strings.Contains(res, "Imported 1 event from concert.ics") || !strings.Contains(res, "1 could not be read") || !strings.Contains(res, "Mystery") {
		t.Errorf("the import says %q", res)
	}
	poll[bool](b, tab, "the imported event is in the agenda", `document.querySelector('#cal-agenda').textContent.includes('Concert')`)
	b.screenshot(tab, "calendar-agenda")

	// Settings → Calendar: connect radicale, sync now.
	b.do(tab, "connect a CalDAV account",
		chromedp.Click(css(`#nav-settings`)),
		screen("settings"),
		chromedp.WaitVisible(css(`#settings-calendar #cal-account-form`)),
		chromedp.SendKeys(css(`#cal-account-url`), dav.URL),
		chromedp.SendKeys(css(`#cal-account-user`), "theo"),
		chromedp.SendKeys(css(`#cal-account-password`), "wrong"),
		chromedp.Click(css(`#cal-account-add`)),
	)
	refused := poll[string](b, tab, "a wrong password is refused", `(() => { const e = document.querySelector('#cal-account-form .alert'); return e && !e.hidden && e.textContent; })()`)
	if !strings.Contains(refused, "refused the username or password") {
		t.Errorf("a wrong password says %q", refused)
	}
	if v := eval[string](b, tab, "the password field", `document.querySelector('#cal-account-password').value`); v != "" {
		t.Errorf("the password stays in the page: %q", v)
	}
	b.do(tab, "connect with the right password",
		chromedp.SendKeys(css(`#cal-account-password`), "dav-pass"),
		chromedp.SendKeys(css(`#cal-account-name`), "Home DAV"),
		chromedp.Click(css(`#cal-account-add`)),
		chromedp.WaitVisible(css(`#cal-accounts .cal-account .cal-sync`)),
		chromedp.Click(css(`#cal-accounts .cal-account .cal-sync`)),
	)
	line := poll[string](b, tab, "the sync says what it did", `(() => { const l = document.querySelector('.cal-sync-line'); return l && l.textContent; })()`)
	if line != "Synced 1 calendar: 2 in, 0 out, 0 deleted." {
		t.Errorf("the sync says %q", line)
	}
	if shown := eval[string](b, tab, "the account", `document.querySelector('#cal-accounts').textContent`); !strings.Contains(shown, "Home DAV") || strings.Contains(shown, "dav-pass") {
		t.Errorf("the account shows %q", shown)
	}

	// A conflict: the offsite removed in os1 (in the agenda: a CalDAV event
	// may be removed) and changed on the server; Sync now keeps the
	// server's version and says so.
	offsite := `[...document.querySelectorAll('#cal-agenda .cal-item')].find((i) => i.querySelector('.cal-summary').textContent === 'Offsite')`
	b.do(tab, "open the agenda", chromedp.Navigate(p.URL+"/#/calendar"), screen("calendar"))
	poll[bool](b, tab, "the offsite is in the agenda", `!!(`+offsite+`)`)
	b.do(tab, "remove the offsite", chromedp.Evaluate[chromedp.Void](`(`+offsite+`).querySelector('.cal-remove').click()`))
	if ask := eval[string](b, tab, "the remove button asks", `(`+offsite+`).querySelector('.cal-remove').textContent`); ask != "Remove it, also on the server?" {
		t.Errorf("the remove button says %q", ask)
	}
	b.do(tab, "confirm", chromedp.Evaluate[chromedp.Void](`(`+offsite+`).querySelector('.cal-remove').click()`))
	poll[bool](b, tab, "the offsite is gone", `!(`+offsite+`)`)
	put("offsite.ics", "BEGIN:VEVENT\r\nUID:offsite@dav\r\nDTSTAMP:20260102T000000Z\r\nSUMMARY:Offsite\r\nLOCATION:Lake house\r\nDTSTART;VALUE=DATE:"+day(2)+"\r\nDTEND;VALUE=DATE:"+day(4)+"\r\nEND:VEVENT\r\n")
	b.do(tab, "back to Settings → Calendar", chromedp.Navigate(p.URL+"/#/settings/calendar"), screen("settings"),
		chromedp.WaitVisible(css(`#cal-accounts .cal-account .cal-sync`)))
	b.do(tab, "sync again", chromedp.Click(css(`#cal-accounts .cal-account .cal-sync`)))
	conflict := poll[string](b, tab, "the sync shows the conflict", `(() => { const l = document.querySelector('.cal-conflicts'); return l && l.textContent; })()`)
	if !strings.Contains(conflict, "“Offsite”: deleted in os1 but changed on the server: the server's version is kept") {
		t.Errorf("the conflict shows as %q", conflict)
	}
	if line := eval[string](b, tab, "the second sync's line", `document.querySelector('.cal-sync-line').textContent`); !strings.Contains(line, "1 conflict (both versions kept)") {
		t.Errorf("the second sync says %q", line)
	}

	// Subscriptions: os1 runs with [calendar] feeds_allow = 127.0.0.1, so a
	// feed on 127.0.0.2 is refused, with the reason, without being asked.
	var asked atomic.Int32
	serve := func(addr string, body string) *httptest.Server {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s: %v", addr, err)
		}
		s := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked.Add(1)
			if r.Header.Get("If-None-Match") == `"h1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", `"h1"`)
			fmt.Fprint(w, body)
		})}}
		s.Start()
		t.Cleanup(s.Close)
		return s
	}
	blocked := serve("127.0.0.2:0", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nEND:VCALENDAR\r\n")
	b.do(tab, "subscribe to an address that is not allowed",
		chromedp.SendKeys(css(`#cal-sub-url`), blocked.URL+"/holidays.ics"),
		chromedp.Click(css(`#cal-sub-add`)),
	)
	why := poll[string](b, tab, "the subscription is refused", `(() => { const e = document.querySelector('#cal-sub-form .alert'); return e && !e.hidden && e.textContent; })()`)
	if !strings.Contains(why, "private or local network") || asked.Load() != 0 {
		t.Errorf("the refused subscription says %q (the server was asked %d times)", why, asked.Load())
	}
	// One on the allowed address: added with what the fetch did, refreshed (a 304).
	feed := serve("127.0.0.1:0", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n"+
		"BEGIN:VEVENT\r\nUID:fest@h\r\nSUMMARY:Town festival\r\nDTSTART;VALUE=DATE:"+day(3)+"\r\nEND:VEVENT\r\n"+
		"BEGIN:VEVENT\r\nUID:bad@h\r\nSUMMARY:Garbled\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	b.do(tab, "subscribe to the allowed address",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#cal-sub-url').value = ''`),
		chromedp.SendKeys(css(`#cal-sub-url`), feed.URL+"/town.ics"),
		chromedp.SendKeys(css(`#cal-sub-name`), "Town"),
		chromedp.Click(css(`#cal-sub-add`)),
		chromedp.WaitVisible(css(`#cal-subscriptions .cal-sub .cal-sub-refresh`)),
	)
	if r := eval[string](b, tab, "what the subscription did", `document.querySelector('#cal-sub-result').textContent`); r != "Subscribed to Town. Fetched: 1 new, 0 updated, 0 removed." {
		t.Errorf("subscribing says %q", r)
	}
	if sub := eval[string](b, tab, "the subscription", `document.querySelector('#cal-subscriptions .cal-sub').textContent`); !strings.Contains(sub, "Read-only") || !strings.Contains(sub, "Garbled") {
		t.Errorf("the subscription shows %q, want it read-only with the unreadable event named", sub)
	}
	b.do(tab, "refresh it", chromedp.Click(css(`#cal-subscriptions .cal-sub .cal-sub-refresh`)))
	poll[bool](b, tab, "the refresh says nothing changed", `(() => { const l = document.querySelector('.cal-sub-line'); return !!l && l.textContent === 'Unchanged since the last fetch.'; })()`)
	if asked.Load() != 2 {
		t.Errorf("the feed was asked %d times, want 2", asked.Load())
	}
	b.screenshot(tab, "settings-calendar")

	// Back in the agenda: the series' three days and the all-day event, from "Work".
	b.do(tab, "open the agenda", chromedp.Navigate(p.URL+"/#/calendar"), screen("calendar"))
	got := poll[string](b, tab, "the synced events are in the agenda", `(() => {
		const items = [...document.querySelectorAll('#cal-agenda .cal-item')];
		const retro = items.filter((i) => i.querySelector('.cal-summary').textContent === 'Team retro');
		const off = items.find((i) => i.querySelector('.cal-summary').textContent === 'Offsite');
		return retro.length === 3 && off && JSON.stringify({
			retro: retro.map((i) => i.querySelector('.cal-time').textContent + ' ' + i.querySelector('.cal-meta').textContent),
			off: off.querySelector('.cal-time').textContent + ' ' + off.querySelector('.cal-meta').textContent });
	})()`)
	want15 := time.Date(now.Year(), now.Month(), now.Day()+1, 14, 0, 0, 0, time.UTC).In(berlin).Format("15:04") // 15:00 in winter, 16:00 in summer
	if strings.Count(got, want15) != 3 || strings.Count(got, "WorkRepeats") != 3 || !strings.Contains(got, "All day, until") {
		t.Errorf("the synced events show as %s", got)
	}
	if where := eval[string](b, tab, "the offsite's place", `[...document.querySelectorAll('#cal-agenda .cal-item')].map((i) => i.textContent).find((x) => x.includes('Offsite')) || ''`); !strings.Contains(where, "Lake house") {
		t.Errorf("the server's version of the offsite is not shown: %q", where)
	}
	fest := eval[string](b, tab, "the subscription's event", `(() => { const i = [...document.querySelectorAll('#cal-agenda .cal-item')].find((x) => x.textContent.includes('Town festival')); return i ? i.dataset.calendar + '|' + i.querySelector('.cal-meta').textContent + '|' + !!i.querySelector('.cal-remove') : ''; })()`)
	if fest != "subscription|Town|false" {
		t.Errorf("the subscription's event shows as %q, want from Town, read-only (no Remove)", fest)
	}

	// Unsubscribe (asks once more): its events leave the agenda.
	b.do(tab, "unsubscribe",
		chromedp.Navigate(p.URL+"/#/settings/calendar"), screen("settings"),
		chromedp.WaitVisible(css(`#cal-subscriptions .cal-sub .cal-sub-remove`)),
		chromedp.Click(css(`#cal-subscriptions .cal-sub .cal-sub-remove`)),
	)
	if n := eval[int](b, tab, "one click removes nothing", `document.querySelectorAll('#cal-subscriptions .cal-sub').length`); n != 1 {
		t.Errorf("after one click %d subscriptions are shown", n)
	}
	b.do(tab, "confirm", chromedp.Click(css(`#cal-subscriptions .cal-sub .cal-sub-remove`)))
	poll[bool](b, tab, "the subscription is gone", `!document.querySelector('#cal-subscriptions .cal-sub')`)
	b.do(tab, "the agenda again", chromedp.Navigate(p.URL+"/#/calendar"), screen("calendar"))
	poll[bool](b, tab, "the agenda is loaded", `document.querySelector('#cal-agenda').textContent.includes('Team retro')`)
	if strings.Contains(eval[string](b, tab, "the agenda", `document.querySelector('#cal-agenda').textContent`), "Town festival") {
		t.Error("the unsubscribed calendar's event is still in the agenda")
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page:\n%s", strings.Join(ex, "\n"))
	}
}
