package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/os1ai/os1/internal/calendar/radicaletest"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestBrowserPeople (issue 13): the People view in a real browser against
// a real os1. A person added in the page (a name, another name, a
// relation, a birthday, an email) shows with all of it; editing her
// changes the email and adds a phone, which the API then holds; a .vcf
// file imported in the page adds its good card and names the broken one;
// another user sees none of it.
func TestBrowserPeople(t *testing.T) {
	b := newBrowser(t)
	model := llmtest.NewServer(t)
	scriptMemory(model)
	model.Handle(func(r llmtest.Request) llmtest.Reply {
		if strings.Contains(r.System, "You choose your own name") {
			return llmtest.Reply{Chunks: []string{`{"name": "Samantha"}`}}
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
	b.do(tab, "sign in and open People from the sidebar",
		chromedp.Navigate(p.URL+"/#/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#login-username`), user),
		chromedp.SendKeys(css(`#login-password`), pw),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		screen("chat"),
		chromedp.Click(css(`#nav-people`)),
		screen("contacts"),
		chromedp.WaitVisible(css(`#ppl-list`)),
	)
	poll[bool](b, tab, "the empty list says so", `document.querySelector('#ppl-list').textContent.includes('No one yet')`)

	b.do(tab, "add a person",
		chromedp.Click(css(`#ppl-add`)),
		chromedp.WaitVisible(css(`#ppl-form-new`)),
		chromedp.SendKeys(css(`#ppl-form-new .ppl-name`), "Catherine Lima"),
		chromedp.SendKeys(css(`#ppl-form-new .ppl-other`), "Cathy, Cat"),
		chromedp.SendKeys(css(`#ppl-form-new .ppl-relation-input`), "sister"),
		chromedp.SendKeys(css(`#ppl-form-new .ppl-birthday-input`), "1990-04-12"),
		chromedp.SendKeys(css(`#ppl-form-new .ppl-handle .ppl-value-input`), "cathy@example.org"),
		chromedp.SendKeys(css(`#ppl-form-new .ppl-handle .ppl-label`), "home"),
		chromedp.Click(css(`#ppl-form-new .ppl-save`)),
	)
	shown := poll[string](b, tab, "the person is listed", `(() => { const li = [...document.querySelectorAll('#ppl-list .ppl-item')].find((l) => l.textContent.includes('Catherine Lima')); return li && li.textContent; })()`)
	for _, want := range []string{"sister", "Also: Cathy, Cat", "Birthday: 12 April 1990", "cathy@example.org", "email · home"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the person shows %q, without %q", shown, want)
		}
	}
	if hidden := eval[bool](b, tab, "the add form closed", `document.querySelector('#ppl-form-new').hidden`); !hidden {
		t.Error("the add form stays open after adding")
	}

	b.do(tab, "edit her handles",
		chromedp.Click(css(`#ppl-list .ppl-item .ppl-edit`)),
		chromedp.WaitVisible(css(`#ppl-list .ppl-item .ppl-form`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#ppl-list .ppl-form .ppl-handle .ppl-value-input').value = ''`),
		chromedp.SendKeys(css(`#ppl-list .ppl-form .ppl-handle .ppl-value-input`), "cathy@new.example"),
		chromedp.Click(css(`#ppl-list .ppl-form .ppl-add-handle`)),
		chromedp.SetValue(css(`#ppl-list .ppl-form .ppl-handle:nth-child(2) .ppl-kind`), "phone"),
		chromedp.SendKeys(css(`#ppl-list .ppl-form .ppl-handle:nth-child(2) .ppl-value-input`), "+34 600 111 222"),
		chromedp.Click(css(`#ppl-list .ppl-form .ppl-save`)),
	)
	shown = poll[string](b, tab, "the edit shows", `(() => { const li = document.querySelector('#ppl-list .ppl-item'); return li && !li.querySelector('form') && li.textContent.includes('+34 600 111 222') && li.textContent; })()`)
	if !strings.Contains(shown, "cathy@new.example") || strings.Contains(shown, "cathy@example.org") {
		t.Errorf("after the edit the person shows %q", shown)
	}
	var got struct {
		Contacts []struct {
			Name    string `json:"name"`
			Handles []struct{ Kind, Value string }
		} `json:"contacts"`
	}
	c.login(user, pw)
	c.must("GET", "/api/contacts", nil, &got)
	if len(got.Contacts) != 1 || len(got.Contacts[0].Handles) != 2 || got.Contacts[0].Handles[0].Value != "cathy@new.example" ||
		got.Contacts[0].Handles[1].Kind != "phone" {
		t.Fatalf("the API holds %+v", got)
	}

	// A .vcf file: its good card is added, the broken one named.
	file := filepath.Join(t.TempDir(), "friends.vcf")
	vcf := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:ana-1\r\nFN:Ana Souza\r\nEMAIL:ana@example.org\r\nBDAY:--07-04\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:nameless@example.org\r\nEND:VCARD\r\n"
	if err := os.WriteFile(file, []byte(vcf), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do(tab, "import a .vcf file", chromedp.SetUploadFiles(css(`#ppl-import-file`), []string{file}))
	res := poll[string](b, tab, "the import says what it did", `(() => { const r = document.querySelector('#ppl-result'); return r && !r.hidden && r.textContent; })()`)
	if !strings.Contains(res, "Imported 1 contact from friends.vcf") || !strings.Contains(res, "card 2") {
		t.Errorf("the import says %q", res)
	}
	poll[bool](b, tab, "the imported person is listed", `document.querySelector('#ppl-list').textContent.includes('Birthday: 4 July')`)
	b.screenshot(tab, "people")

	// A CardDAV address book on radicale, through Theo's calendar account:
	// "Sync now" brings its card in; a person added "in" it reaches it.
	dav := radicaletest.Start(t)
	dav.AddUser("theo", "dav-pass")
	dav.MakeCalendar("theo", "work", "Work")
	mkcol := `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:set><D:prop>` +
		`<D:resourcetype><D:collection/><C:addressbook/></D:resourcetype><D:displayname>Contacts</D:displayname></D:prop></D:set></D:mkcol>`
	if resp := dav.Do("MKCOL", "theo", "/theo/contacts/", "application/xml", mkcol); resp.StatusCode != http.StatusCreated {
		t.Fatalf("MKCOL: %s", resp.Status)
	}
	if resp := dav.Do("PUT", "theo", "/theo/contacts/mum.vcf", "text/vcard",
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:mum-1\r\nFN:Helen Moss\r\nX-OS1-RELATION:mother\r\nTEL:+44 20 7946 0000\r\nEND:VCARD\r\n"); resp.StatusCode >= 300 {
		t.Fatalf("PUT: %s", resp.Status)
	}
	c.must("POST", "/api/calendar/accounts", map[string]string{"name": "Home DAV", "url": dav.URL, "username": "theo", "password": "dav-pass"}, nil)
	b.do(tab, "sync now", chromedp.Click(css(`#ppl-sync`)))
	res = poll[string](b, tab, "the sync says what it did", `(() => { const r = document.querySelector('#ppl-result'); return r && !r.hidden && r.textContent.startsWith('Synced') && r.textContent; })()`)
	if !strings.Contains(res, "Synced 1 address book: 1 in") {
		t.Errorf("the sync says %q", res)
	}
	poll[bool](b, tab, "her card is listed", `document.querySelector('#ppl-list').textContent.includes('Helen Moss')`)
	b.do(tab, "add a person to the address book",
		chromedp.Click(css(`#ppl-add`)),
		chromedp.WaitVisible(css(`#ppl-form-new .ppl-book`)),
		chromedp.SendKeys(css(`#ppl-form-new .ppl-name`), "Jonah Park"),
		chromedp.SendKeys(css(`#ppl-form-new .ppl-handle .ppl-value-input`), "jonah@example.org"),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#ppl-form-new .ppl-book'); s.value = s.options[1].value; })()`),
		chromedp.Click(css(`#ppl-form-new .ppl-save`)),
	)
	poll[bool](b, tab, "he is listed", `document.querySelector('#ppl-list').textContent.includes('Jonah Park')`)
	b.do(tab, "sync again", chromedp.Click(css(`#ppl-sync`)))
	poll[bool](b, tab, "the sync sent him", `document.querySelector('#ppl-result').textContent.includes('1 out')`)
	var listed struct {
		Contacts []struct {
			ID, Name, Source string
		} `json:"contacts"`
	}
	c.must("GET", "/api/contacts", nil, &listed)
	found := false
	for _, ct := range listed.Contacts {
		if ct.Name != "Jonah Park" {
			continue
		}
		found = ct.Source == "carddav"
		if resp := dav.Do("GET", "theo", "/theo/contacts/"+ct.ID+".vcf", "", ""); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("X-Test-Body"), "jonah@example.org") {
			t.Errorf("radicale has %s %q", resp.Status, resp.Header.Get("X-Test-Body"))
		}
	}
	if !found {
		t.Errorf("no synced contact Jonah Park: %+v", listed.Contacts)
	}

	// Another user sees none of Theo's people.
	var inv struct {
		URL string `json:"url"`
	}
	c.must(http.MethodPost, "/api/invites", nil, &inv)
	_, token, _ := strings.Cut(inv.URL, "/#/invite/")
	ana := newClient(t, p.URL)
	ana.must(http.MethodPost, "/api/invites/accept", map[string]string{"token": token, "username": "ana", "password": "another horse", "display_name": "Ana"}, nil)
	var theirs struct {
		People []any `json:"people"`
	}
	ana.must("GET", "/api/contacts", nil, &theirs)
	if len(theirs.People) != 0 {
		t.Errorf("ana sees theo's people: %v", theirs.People)
	}
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page:\n%s", strings.Join(ex, "\n"))
	}
}
