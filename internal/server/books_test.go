package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/books/bookwire"
	"github.com/os1ai/os1/internal/books/sqlitebooks"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/documents/sqlitedocs"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/mailtools"
	"github.com/os1ai/os1/internal/mail/smtpsend/smtptest"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

func newBooksEnv(t *testing.T) *env {
	t.Helper()
	r := testrig.New(t)
	mm := r.Models(true)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	docs := documents.New(sqlitedocs.New(r.DB), r.Clock, clock.RandomIDs{})
	bs := &books.Service{Store: sqlitebooks.New(r.DB), Letters: bookwire.Letters{Docs: docs}, Typesetter: bookwire.Typesetter{},
		Models: mm, Clock: r.Clock, IDs: clock.RandomIDs{}}
	t.Cleanup(func() { bs.Close() })
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Documents: docs, Books: bs})
	return &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
}

func waitBuilt(t *testing.T, c *client, id, format string) map[string]any {
	t.Helper()
	var st map[string]any
	testrig.Eventually(t, 60*time.Second, format+" built", func() (bool, string) {
		st = c.want(http.StatusOK, "GET", "/api/books/"+id+"/build?format="+format, nil)
		return st["state"] == "done", st["state"].(string) + " " + str(st["error"])
	})
	return st
}

func str(v any) string { s, _ := v.(string); return s }

// Books over HTTP: a book of the user's own letters, reordered, built as
// EPUB and PDF in the background, downloaded with a file name, previewed;
// "your best ten" from the scripted model keeps only the user's letters.
// Another user sees, edits, builds and downloads none of it.
func TestBooksOverHTTP(t *testing.T) {
	e := newBooksEnv(t)
	o := e.owner()
	m := e.member(o, "mia")
	var ids []string
	for _, l := range []struct{ title, body string }{
		{"To Chris, at fifty", "Dear Chris,\n\nFifty years of you, and every one a gift."},
		{"To Léa", "Chère Léa,\n\nMerci pour tout — the summer, the songs."},
		{"To my father", "Dad,\n\nThe garden is yours still."},
	} {
		d := o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": l.title, "kind": "letter", "body": l.body})
		ids = append(ids, d["id"].(string))
	}
	mine := m.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "Mia's", "kind": "letter", "body": "Mia's own."})
	if r := o.do("POST", "/api/books", map[string]any{"title": "Letters", "letters": []string{ids[0], mine["id"].(string)}}); r.Status != http.StatusBadRequest {
		t.Fatalf("a book with another user's letter: %d %s", r.Status, r.Body)
	}
	b := o.want(http.StatusCreated, "POST", "/api/books", map[string]any{"title": "Letters to Friends", "author": "Theo", "letters": ids[:2]})
	id := b["id"].(string)
	b = o.want(http.StatusOK, "PATCH", "/api/books/"+id, map[string]any{"letters": []string{ids[2], ids[0], ids[1]}, "dedication": "For Chris"})
	if ls := b["letters"].([]any); len(ls) != 3 || ls[0].(map[string]any)["title"] != "To my father" || b["dedication"] != "For Chris" {
		t.Fatalf("edited: %v", b)
	}
	if r := o.do("POST", "/api/books/"+id+"/build?format=docx", nil); r.Status != http.StatusBadRequest {
		t.Fatalf("docx: %d", r.Status)
	}
	if r := o.do("GET", "/api/books/"+id+"/download.pdf", nil); r.Status != http.StatusNotFound || r.code() != "not_built" {
		t.Fatalf("download before a build: %d %s", r.Status, r.Body)
	}
	// Mia: 404 everywhere.
	for _, req := range []struct{ method, path string }{{"GET", ""}, {"PATCH", ""}, {"DELETE", ""}, {"POST", "/build?format=pdf"},
		{"GET", "/build?format=pdf"}, {"GET", "/download.pdf"}, {"GET", "/download.epub"}, {"GET", "/preview"}, {"POST", "/propose"},
		{"POST", "/foreword"}, {"POST", "/send/preview"}} {
		var body any
		if req.method == "PATCH" {
			body = map[string]any{"title": "Mine"}
		}
		if r := m.do(req.method, "/api/books/"+id+req.path, body); r.Status != http.StatusNotFound {
			t.Errorf("mia %s %s: %d %s", req.method, req.path, r.Status, r.Body)
		}
	}
	if l := m.want(http.StatusOK, "GET", "/api/books", nil); len(l["books"].([]any)) != 0 {
		t.Fatalf("mia's list: %v", l)
	}

	if st := o.want(http.StatusAccepted, "POST", "/api/books/"+id+"/build?format=epub", nil); st["total"] != 7.0 {
		t.Fatalf("build: %v", st)
	}
	o.want(http.StatusAccepted, "POST", "/api/books/"+id+"/build?format=pdf", nil)
	waitBuilt(t, o, id, "epub")
	// A title beyond ASCII is named in RFC 2231 form.
	o.want(http.StatusOK, "PATCH", "/api/books/"+id, map[string]any{"title": "Lettres à Léa"})
	if r := o.do("GET", "/api/books/"+id+"/download.epub", nil); r.Header.Get("Content-Disposition") != `attachment; filename*=utf-8''Lettres-%C3%A0-L%C3%A9a.epub` {
		t.Fatalf("a non-ASCII file name: %q", r.Header.Get("Content-Disposition"))
	}
	o.want(http.StatusOK, "PATCH", "/api/books/"+id, map[string]any{"title": "Letters to Friends"})
	st := waitBuilt(t, o, id, "pdf")
	if st["size"].(float64) < 1000 {
		t.Fatalf("pdf status: %v", st)
	}
	r := o.do("GET", "/api/books/"+id+"/download.epub", nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/epub+zip" ||
		r.Header.Get("Content-Disposition") != `attachment; filename="Letters-to-Friends.epub"` {
		t.Fatalf("epub download: %d %v", r.Status, r.Header)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil || len(zr.File) == 0 || zr.File[0].Name != "mimetype" {
		t.Fatalf("not an EPUB zip: %v", err)
	}
	r = o.do("GET", "/api/books/"+id+"/download.pdf", nil)
	if r.Status != http.StatusOK || !bytes.HasPrefix(r.Body, []byte("%PDF")) || r.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("pdf download: %d %v", r.Status, r.Header)
	}
	if r := o.do("GET", "/api/books/"+id+"/download.pdf?inline=1", nil); r.Header.Get("X-Frame-Options") != "SAMEORIGIN" ||
		!strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline;") {
		t.Fatalf("inline pdf: %v", r.Header)
	}
	pv := o.want(http.StatusOK, "GET", "/api/books/"+id+"/preview", nil)
	var all strings.Builder
	for _, c := range pv["chapters"].([]any) {
		all.WriteString(c.(map[string]any)["text"].(string) + "\n")
	}
	if !strings.Contains(all.String(), "The garden is yours still.") {
		t.Fatalf("preview: %s", all.String())
	}

	// Her best ten: mia's letter and an unknown id are dropped.
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{`{"picks":[{"id":"` + mine["id"].(string) + `","reason":"x"},{"id":"` + ids[1] +
		`","reason":"Warm and exact."},{"id":"doc_nope","reason":"y"}]}`}})
	p := o.want(http.StatusOK, "POST", "/api/books/"+id+"/propose", map[string]any{"n": 10})
	if picks := p["picks"].([]any); len(picks) != 1 || picks[0].(map[string]any)["id"] != ids[1] {
		t.Fatalf("picks: %v", p)
	}
	// Without mail, sending says so and sends nothing.
	if r := o.do("POST", "/api/books/"+id+"/send/preview", map[string]any{"format": "pdf", "to": "ed@press.example", "body": "Hi"}); r.Status != http.StatusConflict || r.code() != "no_mail" {
		t.Fatalf("send without mail: %d %s", r.Status, r.Body)
	}
	if r := o.do("DELETE", "/api/books/"+id, nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.Status)
	}
	if r := o.do("GET", "/api/books/"+id+"/download.pdf", nil); r.Status != http.StatusNotFound {
		t.Fatalf("a deleted book's file: %d", r.Status)
	}
}

type bookAccounts struct{ acct mail.Account }

func (a bookAccounts) Accounts(_ context.Context, userID string) ([]mail.Account, error) {
	if userID == a.acct.UserID {
		return []mail.Account{a.acct}, nil
	}
	return nil, nil
}

// Sending over HTTP: the preview answers the exact message (her cover
// letter when none is given) and sends nothing; the send goes only with
// that message unchanged, and the SMTP sink then gets the built file.
func TestBookSendOverHTTP(t *testing.T) {
	r := testrig.New(t)
	mm := r.Models(true)
	comp := r.Companion(companion.Deps{Models: mm}, companion.Options{})
	docs := documents.New(sqlitedocs.New(r.DB), r.Clock, clock.RandomIDs{})
	sink := smtptest.Start(t, smtptest.Options{Passwords: map[string]string{"theo": "pw"}})
	bs := &books.Service{Store: sqlitebooks.New(r.DB), Letters: bookwire.Letters{Docs: docs}, Typesetter: bookwire.Typesetter{},
		Models: mm, Clock: r.Clock, IDs: clock.RandomIDs{}}
	t.Cleanup(func() { bs.Close() })
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Documents: docs, Books: bs})
	e := &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
	o := e.owner()
	uid := o.user["id"].(string)
	bs.Mail = &books.Mail{Accounts: bookAccounts{mail.Account{ID: "acc_1", UserID: uid, Address: "theo@example.org", Username: "theo",
		SMTP: sink.Endpoint(), Auth: mail.AuthPassword}}, Sender: mailtools.SMTP{SignIn: func(context.Context, mail.Account) (mail.Credentials, error) {
		return mail.Credentials{Password: "pw"}, nil
	}}, Clock: r.Clock, IDs: clock.RandomIDs{}}
	d := o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "To Chris", "kind": "letter", "body": "Dear Chris, thank you."})
	b := o.want(http.StatusCreated, "POST", "/api/books", map[string]any{"title": "Thanks", "author": "Theo", "letters": []string{d["id"].(string)}})
	id := b["id"].(string)
	prev := map[string]any{"format": "pdf", "to": "editor@press.example"}
	if r := o.do("POST", "/api/books/"+id+"/send/preview", prev); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "uild the PDF first") {
		t.Fatalf("before a build: %d %s", r.Status, r.Body)
	}
	o.want(http.StatusAccepted, "POST", "/api/books/"+id+"/build?format=pdf", nil)
	waitBuilt(t, o, id, "pdf")
	e.llm.Enqueue(llmtest.Reply{Chunks: []string{"Dear editor,\n\nPlease find my letters attached.\n\nTheo"}})
	m := o.want(http.StatusOK, "POST", "/api/books/"+id+"/send/preview", prev)
	att := m["attachment"].(map[string]any)
	if m["from"] != "theo@example.org" || m["to"] != "editor@press.example" || m["subject"] != "Manuscript: Thanks" ||
		m["body"] != "Dear editor,\n\nPlease find my letters attached.\n\nTheo\n" || att["name"] != "Thanks.pdf" || att["size"].(float64) < 1000 {
		t.Fatalf("the message: %v", m)
	}
	if n := len(sink.Deliveries()); n != 0 {
		t.Fatalf("the preview sent %d", n)
	}
	// Another user cannot send it; a message whose sender or file is not
	// the one prepared (the book rebuilt since, say) is not sent.
	mia := e.member(o, "mia")
	if r := mia.do("POST", "/api/books/"+id+"/send", m); r.Status != http.StatusNotFound {
		t.Fatalf("mia sending: %d %s", r.Status, r.Body)
	}
	from := maps.Clone(m)
	from["from"] = "someone@else.example"
	if r := o.do("POST", "/api/books/"+id+"/send", from); r.Status != http.StatusConflict || r.code() != "changed" {
		t.Fatalf("another sender than the account's: %d %s", r.Status, r.Body)
	}
	stale := maps.Clone(m)
	stale["attachment"] = map[string]any{"name": att["name"], "mime": att["mime"], "size": att["size"], "sha256": strings.Repeat("0", 64)}
	if r := o.do("POST", "/api/books/"+id+"/send", stale); r.Status != http.StatusConflict || r.code() != "changed" {
		t.Fatalf("another file than approved: %d %s", r.Status, r.Body)
	}
	if n := len(sink.Deliveries()); n != 0 {
		t.Fatalf("a changed message was sent")
	}
	o.want(http.StatusOK, "POST", "/api/books/"+id+"/send", m)
	ds := sink.Deliveries()
	if len(ds) != 1 || ds[0].Rcpts[0] != "editor@press.example" || !strings.Contains(string(ds[0].Data), "Thanks.pdf") {
		t.Fatalf("deliveries: %+v", ds)
	}
}
