package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/os1ai/os1/bench/memory/dataset"
	"github.com/os1ai/os1/internal/memory/recall"
)

var start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// Every seed and length the flags allow must pass the generator's own
// fairness check (generate fails otherwise) and ask at least 150
// questions at the default length.
func TestGenerateChecks(t *testing.T) {
	for _, months := range []int{3, 6, 12, 24} {
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprintf("months=%d/seed=%d", months, seed), func(t *testing.T) {
				t.Parallel()
				_, qs, meta, err := generate(seed, months, start)
				if err != nil {
					t.Fatal(err)
				}
				if months == 6 && len(qs) < 149 {
					t.Errorf("%d questions, want about 150 or more", len(qs))
				}
				for _, typ := range dataset.Types {
					if meta.Questions[typ] == 0 {
						t.Errorf("no %s questions", typ)
					}
				}
			})
		}
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	enc := func() []byte {
		tr, qs, meta, err := generate(7, 6, start)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal([]any{tr, qs, meta})
		return b
	}
	if !bytes.Equal(enc(), enc()) {
		t.Fatal("two runs with the same seed differ")
	}
}

// The answers of a temporal question are the messages in the window the
// generator meant; os1 must read the question's words as that same
// window, or the answer ids would be wrong.
func TestTemporalWindowsMatchRecallParser(t *testing.T) {
	for _, months := range []int{6, 24} {
		_, qs, meta, err := generate(1, months, start)
		if err != nil {
			t.Fatal(err)
		}
		wins := windows(meta.Start, meta.Now)
		for _, q := range qs {
			if q.Type != dataset.TypeTemporal {
				if _, from, to, ok := recall.ParseTime(q.Question, meta.Now, time.UTC); ok {
					t.Errorf("%q is not temporal, but recall reads it as %v to %v", q.Question, from, to)
				}
				continue
			}
			_, from, to, ok := recall.ParseTime(q.Question, meta.Now, time.UTC)
			if !ok {
				t.Errorf("recall finds no time in %q", q.Question)
				continue
			}
			found := false
			for _, w := range wins {
				if bytes.Contains([]byte(q.Question), []byte(" "+w.phrase+"?")) {
					found = true
					if !w.from.Equal(from) || !w.to.Equal(to) {
						t.Errorf("%q: generated for %v to %v, recall reads %v to %v", q.Question, w.from, w.to, from, to)
					}
				}
			}
			if !found {
				t.Errorf("%q names no generated window", q.Question)
			}
		}
	}
}

func TestContainsWord(t *testing.T) {
	for _, c := range []struct {
		s, w string
		want bool
	}{
		{"Grandma plays bridge.", "bridge", true},
		{"a podcast about bridges", "bridge", false},
		{"my tuxedo cat", "Tuxedo", true},
		{"Turns 90 next week", "90", true},
		{"in 1990", "90", false},
		{"Rise & Shine opened", "Rise & Shine", true},
	} {
		if got := containsWord(c.s, c.w); got != c.want {
			t.Errorf("containsWord(%q, %q) = %v", c.s, c.w, got)
		}
	}
}
