package server_test

import (
	"net/http"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/documents/sqlitedocs"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/metrics"
	"github.com/os1ai/os1/internal/proofread"
	"github.com/os1ai/os1/internal/server"
	"github.com/os1ai/os1/internal/testrig"
)

func newProofreadEnv(t *testing.T, withModel bool, sp *proofread.Speller) *env {
	t.Helper()
	r := testrig.New(t)
	mm := r.Models(withModel)
	met := metrics.New()
	comp := r.Companion(companion.Deps{Models: mm, Observer: met}, companion.Options{})
	docs := documents.New(sqlitedocs.New(r.DB), r.Clock, clock.RandomIDs{})
	srv := r.Server(server.Deps{Companion: comp, Models: mm, Metrics: met, Documents: docs,
		Proofreader: &proofread.Proofreader{Models: mm}, Speller: sp})
	return &env{t: t, db: r.DB, llm: r.LLM, clock: r.Clock, srv: srv.Server, http: srv.HTTP, models: mm, setup: srv.SetupToken}
}

func utf16Slice(s string, a, b float64) string {
	u := utf16.Encode([]rune(s))
	if int(a) < 0 || int(b) > len(u) || a > b {
		return "<out of range>"
	}
	return string(utf16.Decode(u[int(a):int(b)]))
}

// TestProofreadOverHTTP: suggestions from the scripted model for the
// user's own document (current or an older version), anchored in UTF-16;
// another user's document is 404 and never reaches the model.
func TestProofreadOverHTTP(t *testing.T) {
	e := newProofreadEnv(t, true, &proofread.Speller{})
	o := e.owner()
	body := "Dear Chris 🎂, I hope you has a wonderfull day."
	d := o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "For Chris", "body": body})
	id := d["id"].(string)
	o.want(http.StatusOK, "PUT", "/api/documents/"+id, map[string]any{"body": body + "\nLove, Sam", "base_version": 1})

	e.llm.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: []string{`{"edits":[{"original":"has","replacement":"have","kind":"grammar","reason":"you have","start":26},` +
			`{"original":"wonderfull","replacement":"wonderful","kind":"spelling","reason":"misspelled","start":32},` +
			`{"original":"Bob","replacement":"Rob","kind":"spelling","reason":"not there","start":3}]}`}}
	})
	got := o.want(http.StatusOK, "POST", "/api/documents/"+id+"/proofread", map[string]any{"version": 1})
	last := e.llm.Requests()[len(e.llm.Requests())-1]
	prompt := last.Messages[len(last.Messages)-1].Content
	if got["version"] != 1.0 || got["dropped"] != 1.0 || strings.Contains(prompt, "Love, Sam") || !strings.Contains(prompt, "wonderfull") {
		t.Fatalf("proofread version 1: %v (prompt %q)", got, prompt)
	}
	ss := got["suggestions"].([]any)
	if len(ss) != 2 {
		t.Fatalf("suggestions: %v", ss)
	}
	for _, x := range ss {
		s := x.(map[string]any)
		if span := utf16Slice(body, s["start"].(float64), s["end"].(float64)); span != s["original"] {
			t.Errorf("suggestion %v spans %q in UTF-16", s, span)
		}
	}

	m := e.member(o, "ana")
	if r := m.do("POST", "/api/documents/"+id+"/proofread", map[string]any{}); r.Status != http.StatusNotFound {
		t.Fatalf("another user's proofread: %d %s", r.Status, r.Body)
	}
	if n := len(e.llm.Requests()); n != 1 {
		t.Fatalf("the model got %d requests, want 1 (none for another user's document)", n)
	}
	if r := o.do("POST", "/api/documents/"+id+"/proofread", map[string]any{"version": 9}); r.Status != http.StatusNotFound {
		t.Fatalf("a missing version: %d %s", r.Status, r.Body)
	}
}

// TestSpellingWithoutModel: with no model connected, proofreading is a
// clear 503 and spelling still underlines words; without a dictionary,
// spelling says what to install.
func TestSpellingWithoutModel(t *testing.T) {
	sp := &proofread.Speller{}
	if _, err := sp.Dictionary(); err != nil {
		t.Skipf("hunspell-en-us is not installed: %v", err)
	}
	e := newProofreadEnv(t, false, sp)
	o := e.owner()
	d := o.want(http.StatusCreated, "POST", "/api/documents", map[string]any{"title": "Note", "body": "I recieve it."})
	r := o.do("POST", "/api/documents/"+d["id"].(string)+"/proofread", nil)
	if r.Status != http.StatusServiceUnavailable || r.code() != "no_model" || !strings.Contains(string(r.Body), "Spelling is still checked") {
		t.Fatalf("proofread without a model: %d %s", r.Status, r.Body)
	}
	text := "Héllo 👋 I recieve https://exampel.org teh note"
	got := o.want(http.StatusOK, "POST", "/api/spelling", map[string]any{"text": text})["misspelled"].([]any)
	var words []string
	for _, x := range got {
		m := x.(map[string]any)
		words = append(words, m["word"].(string))
		if span := utf16Slice(text, m["start"].(float64), m["end"].(float64)); span != m["word"] {
			t.Errorf("%v spans %q", m, span)
		}
	}
	if strings.Join(words, ",") != "Héllo,recieve,teh" {
		t.Errorf("misspelled %q", words)
	}

	none := newProofreadEnv(t, false, &proofread.Speller{Dir: t.TempDir()})
	r = none.owner().do("POST", "/api/spelling", map[string]any{"text": "wrold"})
	if r.Status != http.StatusServiceUnavailable || r.code() != "spelling_unavailable" || !strings.Contains(string(r.Body), "hunspell-en-us") {
		t.Fatalf("spelling without a dictionary: %d %s", r.Status, r.Body)
	}
	if r := e.client().do("POST", "/api/spelling", map[string]any{"text": "x"}); r.Status != http.StatusUnauthorized {
		t.Fatalf("spelling signed out: %d", r.Status)
	}
}
