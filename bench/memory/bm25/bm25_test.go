package bm25

import (
	"math"
	"slices"
	"testing"
)

func TestTokens(t *testing.T) {
	got := Tokens("Dr. Patel's 2nd visit — in MARCH, café!")
	want := []string{"dr", "patel", "s", "2nd", "visit", "in", "march", "café"}
	if !slices.Equal(got, want) {
		t.Fatalf("Tokens = %q, want %q", got, want)
	}
}

func TestSearchRanksByRarityAndLength(t *testing.T) {
	x := New([]string{"a", "b", "c", "d"}, []string{
		"the cat sat on the mat",
		"the dog",
		"the cat",
		"nothing here matches",
	})
	// "dog" is rarer than "cat"; "the cat" is shorter than the mat line.
	got := x.Search("The dog? The cat!", 10)
	if want := []string{"b", "c", "a"}; !slices.Equal(got, want) {
		t.Fatalf("Search = %q, want %q (d shares no word)", got, want)
	}
	if got := x.Search("cat", 1); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("Search k=1 = %q, want [c]", got)
	}
}

func TestScoreByHand(t *testing.T) {
	x := New([]string{"a", "b"}, []string{"apple apple pear", "pear"})
	// N=2, df(apple)=1: idf = ln(1 + 1.5/1.5) = ln 2; avg length 2.
	if got, want := x.IDF("apple"), math.Ln2; math.Abs(got-want) > 1e-12 {
		t.Fatalf("IDF(apple) = %v, want %v", got, want)
	}
	// doc a: tf 2, length 3, avg length 2: ln2 * 2*2.2 / (2 + 1.2*(0.25 + 0.75*1.5)).
	want := math.Ln2 * 4.4 / (2 + 1.2*1.375)
	if got := x.score(0, []string{"apple", "kiwi"}); math.Abs(got-want) > 1e-12 {
		t.Fatalf("score = %v, want %v", got, want)
	}
	// A word the query says twice counts twice.
	if got := x.score(0, []string{"apple", "apple"}); math.Abs(got-2*want) > 1e-12 {
		t.Fatalf("score of apple twice = %v, want %v", got, 2*want)
	}
}
