package main

import (
	"encoding/json"
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
