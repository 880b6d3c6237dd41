package proofread

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// speller is Debian's en_US dictionary (hunspell-en-us); tests that need it
// skip when it is not installed, and TestMissingDictionary covers that case.
func speller(t testing.TB) *Speller {
	t.Helper()
	s := &Speller{}
	if _, err := s.Dictionary(); err != nil {
		t.Skipf("hunspell-en-us is not installed (scripts/deps.sh test): %v", err)
	}
	return s
}

var shared = &Speller{}

func dict(t testing.TB) *Dictionary {
	t.Helper()
	d, err := shared.Dictionary()
	if err != nil {
		t.Skipf("hunspell-en-us is not installed (scripts/deps.sh test): %v", err)
	}
	return d
}

func TestDictionaryAcceptsInflectedForms(t *testing.T) {
	d := dict(t)
	for _, w := range []string{
		"house", "houses", "walked", "walking", "happier", "happiest", "cities", "unhappy",
		"reread", "children", "Chris's", "don't", "don’t", "Paris", "PARIS", "House", "HOUSE",
		"I", "a", "quickly", "undo", "carried", "carrying", "iPhone",
	} {
		if !d.Check(w) {
			t.Errorf("Check(%q) = false, want true", w)
		}
	}
	for _, w := range []string{"recieve", "teh", "paris", "happyest", "walkd", "wierd", "housse", "hOUSE"} {
		if d.Check(w) {
			t.Errorf("Check(%q) = true, want false", w)
		}
	}
	if d.Len() < 100_000 {
		t.Errorf("the dictionary expanded to %d forms; the affix rules were not applied", d.Len())
	}
}

func TestSuggestions(t *testing.T) {
	d := dict(t)
	for word, want := range map[string]string{
		"recieve": "receive", "teh": "the", "wierd": "weird", "Freind": "Friend",
		"HAPPPY": "HAPPY", "alot": "a lot", "beleive": "believe", "definately": "definitely",
	} {
		got := d.Suggest(word, 5)
		if !slices.Contains(got, want) {
			t.Errorf("Suggest(%q) = %q, want it to hold %q", word, got, want)
		}
	}
	if got := d.Suggest("wonderfull", 5); slices.Contains(got, "wonderful l") || got[0] != "wonderful" {
		t.Errorf("Suggest(wonderfull) = %q: want wonderful first and no split off single letter", got)
	}
	if got := d.Suggest(strings.Repeat("x", 200), 5); len(got) != 0 {
		t.Errorf("a 200-letter word got suggestions %q", got)
	}
}

func TestCheckSkipsCodeLinksAndNumbers(t *testing.T) {
	s := speller(t)
	text := "Dear Chris,\n\nI recieve your note 🙂 — thank you. Visit https://exampel.org/wierd or mail me at theo@exampel.org.\n" +
		"The file notes.md has `fmt.Prinln` in it and [a lnk](http://x.y/qqq).\n```\nfunc mian() {}\n```\nSee you on the 3rd, and 42 timez.\nwith <span class=\"kk\">love</span>, Chris"
	got, err := s.Check(text)
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for _, m := range got {
		words = append(words, m.Word)
		u := utf16.Encode([]rune(text))
		if string(utf16.Decode(u[m.Start:m.End])) != m.Word {
			t.Errorf("span %d..%d is %q in UTF-16, not %q", m.Start, m.End, string(utf16.Decode(u[m.Start:m.End])), m.Word)
		}
	}
	if want := []string{"recieve", "lnk", "timez"}; !slices.Equal(words, want) {
		t.Errorf("misspelled = %q, want %q", words, want)
	}
	if len(got) > 0 && !slices.Contains(got[0].Suggestions, "receive") {
		t.Errorf("suggestions for recieve: %q", got[0].Suggestions)
	}
}

func TestMissingDictionary(t *testing.T) {
	s := &Speller{Dir: t.TempDir()}
	_, err := s.Check("hello wrold")
	if !errors.Is(err, ErrNoDictionary) || !strings.Contains(err.Error(), "hunspell-en-us") {
		t.Fatalf("Check without a dictionary: %v, want ErrNoDictionary naming the package", err)
	}
}

func TestAffixConditions(t *testing.T) {
	aff := "SET UTF-8\nSFX D Y 4\nSFX D   0     d          e\nSFX D   y     ied        [^aeiou]y\nSFX D   0     ed         [^ey]\nSFX D   0     ed         [aeiou]y\n" +
		"PFX U Y 1\nPFX U   0     un         .\nSFX N N 1\nSFX N 0 ness .\nNOSUGGEST !\nKEEPCASE K\n"
	a, err := parseAff(strings.NewReader(aff))
	if err != nil {
		t.Fatal(err)
	}
	d, err := readDic(strings.NewReader("5\nlove/DU\ncarry/D\nplay/DUN\nwork/D!\npdf/K\n"), a)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"love", "loved", "unloved", "unlove", "carried", "played", "unplayed", "playness", "worked", "pdf", "Love", "LOVED"} {
		if !d.Check(w) {
			t.Errorf("%q not accepted", w)
		}
	}
	for _, w := range []string{"carryed", "loveed", "uncarried", "unplayness", "playd", "Pdf", "PDF", "lOVE"} {
		if d.Check(w) {
			t.Errorf("%q accepted", w)
		}
	}
	if got := d.Suggest("workd", 3); slices.Contains(got, "worked") {
		t.Errorf("a NOSUGGEST word was suggested: %q", got)
	}
}

// FuzzWords: every token is a non-empty word exactly at its byte span,
// tokens are in order, never overlap and hold no digit or space.
func FuzzWords(f *testing.F) {
	f.Add("Dear Chris, don't `code` [link](http://x.y) <b>bold</b> 3rd e.g. a-b 🙂 ’quoted’")
	f.Add("```\nfenced wrod\n```\nafter")
	f.Add("<\x60]((")
	f.Fuzz(func(t *testing.T, text string) {
		last := 0
		for _, tok := range Words(text) {
			if tok.Start < last || tok.End <= tok.Start || tok.End > len(text) || text[tok.Start:tok.End] != tok.Word {
				t.Fatalf("bad token %+v after %d in %q", tok, last, text)
			}
			if strings.ContainsAny(tok.Word, " \t\n0123456789") {
				t.Fatalf("token %q holds a space or digit", tok.Word)
			}
			last = tok.End
		}
		if utf8.ValidString(text) {
			if got, want := UTF16Len(text), len(utf16.Encode([]rune(text))); got != want {
				t.Fatalf("UTF16Len = %d, want %d", got, want)
			}
		}
	})
}

// BenchmarkCheck reports words checked per second over a letter with a few
// misspellings (suggestions included, each misspelled word once).
func BenchmarkCheck(b *testing.B) {
	s := speller(b)
	para := "Dear Chris, I hope you have a wonderful birthday and that the year ahead brings you " +
		"everything you wish for. I recieve your letters with joy, and I remember our walks by the river. "
	text := strings.Repeat(para, 50)
	n := len(Words(text))
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Check(text); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "words/s")
}

// BenchmarkSuggest is one misspelled word's suggestions (edit distance two
// when one finds too few).
func BenchmarkSuggest(b *testing.B) {
	d := dict(b)
	for b.Loop() {
		d.Suggest("definatly", 5)
	}
}

// TestCheckForeignTextIsBounded: a long text of unknown words is answered
// with at most MaxMisspellings spans and suggestions for the first
// MaxSuggested words only.
func TestCheckForeignTextIsBounded(t *testing.T) {
	s := speller(t)
	var b strings.Builder
	for i := range 2000 {
		b.WriteString("qz")
		for n := i; n > 0; n /= 20 {
			b.WriteByte(byte('a' + n%20))
		}
		b.WriteString("x ")
	}
	got, err := s.Check(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != MaxMisspellings {
		t.Fatalf("%d misspellings, want the cap %d", len(got), MaxMisspellings)
	}
	if got[MaxSuggested].Suggestions == nil || len(got[MaxSuggested+5].Suggestions) != 0 {
		t.Errorf("words past the first %d got suggestions: %q", MaxSuggested, got[MaxSuggested+5].Suggestions)
	}
}

// BenchmarkCheckCorrect is the tokenizer and the dictionary alone: a
// correctly spelled text, so no suggestions are worked out.
func BenchmarkCheckCorrect(b *testing.B) {
	s := speller(b)
	para := "Dear Chris, I hope you have a wonderful birthday and that the year ahead brings you " +
		"everything you wish for. I received your letters with joy, and I remember our walks by the river. "
	text := strings.Repeat(para, 50)
	n := len(Words(text))
	b.ResetTimer()
	for b.Loop() {
		if got, err := s.Check(text); err != nil || len(got) != 0 {
			b.Fatal(got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "words/s")
}

// TestLongAndNumericFlags: dictionaries that write flags as two characters
// (FLAG long) or numbers (FLAG num) expand the same way.
func TestLongAndNumericFlags(t *testing.T) {
	for _, c := range []struct{ aff, dic string }{
		{"FLAG long\nSFX Aa Y 1\nSFX Aa 0 s .\nPFX Bb Y 1\nPFX Bb 0 re .\n", "1\ncook/AaBb\n"},
		{"FLAG num\nSFX 12 Y 1\nSFX 12 0 s .\nPFX 7 Y 1\nPFX 7 0 re .\n", "1\ncook/12,7\n"},
	} {
		a, err := parseAff(strings.NewReader(c.aff))
		if err != nil {
			t.Fatal(err)
		}
		d, err := readDic(strings.NewReader(c.dic), a)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"cook", "cooks", "recook", "recooks"} {
			if !d.Check(w) {
				t.Errorf("%q: %q not accepted", c.aff[:9], w)
			}
		}
		if d.Len() != 4 {
			t.Errorf("%q: %d forms, want 4", c.aff[:9], d.Len())
		}
	}
}
