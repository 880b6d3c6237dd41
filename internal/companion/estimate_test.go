package companion

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// estimateByRune is estimateText as first written, a rune at a time: the
// table-driven version must count exactly as it does.
func estimateByRune(s string) int {
	letters, n := 0, 0
	flush := func() {
		n += (letters + 3) / 4
		letters = 0
	}
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf && unicode.IsLetter(r):
			letters++
		case unicode.IsSpace(r):
			flush()
		case r < utf8.RuneSelf:
			flush()
			n++
		case unicode.IsLetter(r) && r < 0x250:
			letters++
		default:
			flush()
			n++
		}
	}
	flush()
	return n
}

func TestEstimateTextCountsAsByRune(t *testing.T) {
	fixed := []string{"", " ", "a", "abcd", "abcde", "Hello, world!", "x1y2", "tab\there\nnew\r\v\f",
		"café naïve Ærøskøbing", "日本語のテキスト", "emoji 🙂 mid", "nbsp\u00a0here\u2003em", "\xff\xfe broken \xc3",
		"deadbeef 0x1F2E3D4C", strings.Repeat("word ", 50)}
	for _, s := range fixed {
		if got, want := estimateText(s), estimateByRune(s); got != want {
			t.Errorf("estimateText(%q) = %d, by rune %d", s, got, want)
		}
	}
	// Random mixes of the classes, invalid bytes included.
	pieces := []string{"a", "Z", "é", "ß", "Ω", "日", " ", "\t", "\n", "\u00a0", "\u2003", "1", "!", "_", "🙂", "\xff", "\xc3", "ǅ", "ɐ"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(60) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if got, want := estimateText(s), estimateByRune(s); got != want {
			t.Fatalf("estimateText(%q) = %d, by rune %d", s, got, want)
		}
	}
}

// BenchmarkEstimateText: a 100 KB history, estimated on every turn.
func BenchmarkEstimateText(b *testing.B) {
	s := strings.Repeat("Hello there, I'm writing 42 letters to my grandmother this week; café naïve. ", 1300)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		estimateText(s)
	}
}
