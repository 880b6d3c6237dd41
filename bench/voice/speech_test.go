package main

import (
	"math"
	"testing"
)

func TestWordErrors(t *testing.T) {
	for _, tc := range []struct {
		said, heard string
		want        float64
	}{
		{"Remind me to call my sister tonight.", "remind me to call my sister tonight", 0},
		{"Remind me to call my sister tonight.", "remind me to tell my sister tonight", 1.0 / 7},
		{"How was your day today?", "alistair day to day", 4.0 / 5},
		{"What's the weather?", "what's the the weather", 1.0 / 3},
		{"What's the weather?", "", 1},
		{"", "anything", 0},
	} {
		if got := wordErrors(tc.said, tc.heard); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("wordErrors(%q, %q) = %.3f, want %.3f", tc.said, tc.heard, got, tc.want)
		}
	}
}
