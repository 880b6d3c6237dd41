package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func errMessage(t *testing.T, r resp) string {
	t.Helper()
	var m struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("%d %s is not an error answer", r.Status, r.Body)
	}
	return m.Error.Message
}

// A version a document does not have is named as such, not "no such
// document"; a document that does not exist still is.
func TestDocumentsMissingVersionMessage(t *testing.T) {
	e := newDocumentsEnv(t)
	o := e.owner()
	d := o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "T", "body": "one"})
	id := d["id"].(string)
	for _, path := range []string{"/api/documents/" + id + "/versions/9", "/api/documents/" + id + "/diff?from=1&to=9"} {
		r := o.do("GET", path, nil)
		if r.Status != http.StatusNotFound || !strings.Contains(errMessage(t, r), "no such version") {
			t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	if r := o.do("POST", "/api/documents/"+id+"/versions/9/restore", nil); r.Status != http.StatusNotFound || !strings.Contains(errMessage(t, r), "no such version") {
		t.Errorf("restore 9: %d %s", r.Status, r.Body)
	}
	if r := o.do("GET", "/api/documents/doc_nope", nil); r.Status != http.StatusNotFound || errMessage(t, r) != "No such document." {
		t.Errorf("GET doc_nope: %d %s", r.Status, r.Body)
	}
}

// A build without a format says which to give; the books' input errors
// are sentences.
func TestBooksBuildFormatMessage(t *testing.T) {
	e := newBooksEnv(t)
	o := e.owner()
	b := o.want(http.StatusCreated, "POST", "/api/books", map[string]any{"title": "Letters"})
	id := b["id"].(string)
	r := o.do("POST", "/api/books/"+id+"/build", nil)
	if msg := errMessage(t, r); r.Status != http.StatusBadRequest || !strings.Contains(msg, "format=epub or format=pdf") || !strings.HasSuffix(msg, ".") {
		t.Errorf("build without a format: %d %s", r.Status, r.Body)
	}
	r = o.do("POST", "/api/books", map[string]any{})
	if msg := errMessage(t, r); r.Status != http.StatusBadRequest || msg != "A book needs a title." {
		t.Errorf("no title: %d %s", r.Status, r.Body)
	}
}
