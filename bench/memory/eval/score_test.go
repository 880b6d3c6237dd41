package main

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/os1ai/os1/bench/memory/dataset"
)

func TestScore(t *testing.T) {
	qs := []dataset.Question{
		{Question: "a", Type: dataset.TypeFact, Answers: []string{"m1"}},
		{Question: "b", Type: dataset.TypeTemporal, Answers: []string{"m2", "m3", "m4"}},
		{Question: "c", Type: dataset.TypeFact, Answers: []string{"m5"}},
	}
	var lines []searchLine
	for _, raw := range []string{
		// a message hit is its own source; an item counts for the messages it came from
		`{"query":"a","results":[{"kind":"item","id":"it1","sources":["m8","m1"]},{"kind":"message","id":"m9","sources":["m9"]}]}`,
		`{"query":"b","results":[{"kind":"message","id":"m2","sources":["m2"]},{"kind":"message","id":"m4","sources":["m4"]}]}`,
		// beyond k: does not count
		`{"query":"c","results":[{"kind":"message","id":"m7","sources":["m7"]},{"kind":"message","id":"m5","sources":["m5"]}]}`,
	} {
		var l searchLine
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	got := score(qs, lines, 1)
	if got[0].recall != 1 || got[1].recall != 1.0/3 || got[2].recall != 0 {
		t.Errorf("recall@1 = %v, %v, %v; want 1, 1/3, 0", got[0].recall, got[1].recall, got[2].recall)
	}
	if !slices.Equal(got[1].missed, []string{"m3", "m4"}) {
		t.Errorf("missed = %v, want [m3 m4]", got[1].missed)
	}
	if m, n := mean(got, dataset.TypeFact); m != 0.5 || n != 2 {
		t.Errorf("mean of fact = %v over %d, want 0.5 over 2", m, n)
	}
	if got := score(qs, lines, 10); got[1].recall != 2.0/3 || got[2].recall != 1 {
		t.Errorf("recall@10 = %v, %v; want 2/3, 1", got[1].recall, got[2].recall)
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 100, 6, 7, 8, 9}
	if got := percentile(xs, 0.5); got != 5 {
		t.Errorf("p50 = %v, want 5", got)
	}
	if got := percentile(xs, 0.99); got != 100 {
		t.Errorf("p99 = %v, want 100", got)
	}
	if xs[0] != 5 {
		t.Error("percentile sorted its input")
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
}

func TestTable(t *testing.T) {
	qs := []dataset.Question{
		{Question: "a", Type: "x", Answers: []string{"m1"}},
		{Question: "b", Type: "y", Answers: []string{"m2", "m3"}},
	}
	r := newSetResult("set", qs, []string{"y", "x", "unused"}, []string{"text"})
	hits := func(ids ...string) searchLine {
		var l searchLine
		for _, id := range ids {
			l.Results = append(l.Results, hitLine{ID: id, Sources: []string{id}})
		}
		return l
	}
	// text: m1 at rank 6 (only @10), m2 at 1; bm25: nothing for a, both for b.
	r.lines["text"] = []searchLine{hits("n1", "n2", "n3", "n4", "n5", "m1"), hits("m2")}
	r.lines["bm25"] = []searchLine{hits(), hits("m3", "m2")}
	r.took["text"] = []float64{1, 3}
	got := r.table()
	want := "| set (2 questions) | R@5 | R@10 | y (1) R@5 / R@10 | x (1) R@5 / R@10 | p50 ms | p99 ms |\n" +
		"|---|---|---|---|---|---|---|\n" +
		"| text | 0.250 | 0.750 | 0.500 / 0.500 | 0.000 / 1.000 | 1.0 | 3.0 |\n" +
		"| plain BM25 | 0.500 | 0.500 | 1.000 / 1.000 | 0.000 / 0.000 | 0.0 | 0.0 |\n"
	if got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestPrepareHome(t *testing.T) {
	dir := t.TempDir()
	tr := dir + "/t.json"
	if err := os.WriteFile(tr, []byte(`{"sessions":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	home := dir + "/h"
	if fresh, err := prepareHome(home, tr, true); err != nil || !fresh {
		t.Fatalf("new home: %v %v", fresh, err)
	}
	if err := os.MkdirAll(home+"/data", 0o755); err != nil {
		t.Fatal(err)
	}
	// An unfinished import (no mark): an error for -home, emptied inside eval's own LME home.
	if _, err := prepareHome(home, tr, false); err == nil {
		t.Fatal("unmarked data dir reused")
	}
	if fresh, err := prepareHome(home, tr, true); err != nil || !fresh {
		t.Fatalf("wipe: %v %v", fresh, err)
	}
	if _, err := os.Stat(home + "/data"); !os.IsNotExist(err) {
		t.Fatalf("unfinished import left: %v", err)
	}
	if err := markHome(home, tr); err != nil {
		t.Fatal(err)
	}
	if fresh, err := prepareHome(home, tr, false); err != nil || fresh {
		t.Fatalf("marked home not reused: %v %v", fresh, err)
	}
	// The transcript changed: import again.
	if err := os.WriteFile(tr, []byte(`{"sessions":[{}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareHome(home, tr, false); err == nil {
		t.Fatal("home of another transcript reused")
	}
	if fresh, err := prepareHome(home, tr, true); err != nil || !fresh {
		t.Fatalf("stale LME history not imported again: %v %v", fresh, err)
	}
}

func TestImportable(t *testing.T) {
	dir := t.TempDir()
	tr := dataset.Transcript{Sessions: []dataset.Session{{Messages: []dataset.Message{{ID: "a", Speaker: "user", Text: "hi"}}}}}
	if got, err := importable(tr, "orig.json", dir); err != nil || got != "orig.json" {
		t.Fatalf("no empty messages: %q %v, want the original", got, err)
	}
	tr.Sessions[0].Messages = append(tr.Sessions[0].Messages, dataset.Message{ID: "b", Speaker: "assistant", Text: " \n"})
	got, err := importable(tr, "orig.json", dir)
	if err != nil || got == "orig.json" {
		t.Fatalf("empty message: %q %v, want a copy", got, err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	var back dataset.Transcript
	if err := json.Unmarshal(b, &back); err != nil || len(back.Sessions) != 1 || len(back.Sessions[0].Messages) != 1 || back.Sessions[0].Messages[0].ID != "a" {
		t.Fatalf("copy = %s (%v)", b, err)
	}
}
