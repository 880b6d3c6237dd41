package book

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMarkdownBlocks(t *testing.T) {
	bs := parseMarkdown("# A heading\n\nFirst para\ncontinues here.  \nafter a break\n\n> quoted *line*\n> goes on\n\n- one\n- two\n  more of two\n\n3. three\n4. four\n\n***\n\nlast")
	kinds := []blockKind{blockHeading, blockPara, blockQuote, blockBullets, blockNumbers, blockBreak, blockPara}
	if len(bs) != len(kinds) {
		t.Fatalf("got %d blocks, want %d: %+v", len(bs), len(kinds), bs)
	}
	for i, k := range kinds {
		if bs[i].kind != k {
			t.Errorf("block %d kind %d, want %d", i, bs[i].kind, k)
		}
	}
	if got := plainText(bs[1].spans); got != "First para\ncontinues here.\nafter a break" {
		t.Errorf("paragraph with hard break = %q", got)
	}
	if q := bs[2].blocks; len(q) != 1 || plainText(q[0].spans) != "quoted line\ngoes on" {
		t.Errorf("quote = %+v", q)
	}
	if it := bs[3].items; len(it) != 2 || plainText(it[1]) != "two more of two" {
		t.Errorf("bullets = %+v", it)
	}
	if bs[4].start != 3 || len(bs[4].items) != 2 {
		t.Errorf("numbered = %+v", bs[4])
	}
}

// A letter's sign-off and addresses keep their lines: every line end in a
// paragraph is a break, and one already marked is not doubled.
func TestMarkdownLetterLines(t *testing.T) {
	bs := parseMarkdown("Dear Chris,\n\nSee you soon.\n\nWith love,\nTheo\\\nLisbon")
	if len(bs) != 3 {
		t.Fatalf("blocks %+v", bs)
	}
	if got := plainText(bs[2].spans); got != "With love,\nTheo\nLisbon" {
		t.Errorf("sign-off = %q", got)
	}
}

func TestMarkdownInline(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"*em* and **strong** and ***both***", "[em:em] and [strong:strong] and [both:both]"},
		{"_em_ and __strong__", "[em:em] and [strong:strong]"},
		{"snake_case_name stays", "snake_case_name stays"},
		{"2 * 3 * 4", "2 * 3 * 4"},
		{"**unclosed strong", "**unclosed strong"},
		{"*unclosed em", "*unclosed em"},
		{"a [link](http://x.example) here", "a link here"},
		{"<https://example.com>", "https://example.com"},
		{"`code *not em*`", "code *not em*"},
		{`\*literal\*`, "*literal*"},
		{"line\\\nbreak", "line|break"},
		{"![a cat](cat.png)", "[em:[image not included: a cat]]"},
		{"<b>html</b>", "<b>html</b>"},
	} {
		var b strings.Builder
		for _, s := range parseInline(c.in) {
			switch {
			case s.br:
				b.WriteString("|")
			case s.style == styleEm|styleStrong:
				b.WriteString("[both:" + s.text + "]")
			case s.style == styleStrong:
				b.WriteString("[strong:" + s.text + "]")
			case s.style == styleEm || s.note:
				b.WriteString("[em:" + s.text + "]")
			default:
				b.WriteString(s.text)
			}
		}
		if got := b.String(); got != c.want {
			t.Errorf("parseInline(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzMarkdown: any input parses, without panic, into valid UTF-8 that keeps
// every letter and digit of the input (broken Markdown is plain text).
func FuzzMarkdown(f *testing.F) {
	for _, s := range []string{"", "*", "**a*b**", "> > > >", "- \n- ", "1. \n\n2.", "![x](", "[a](b", "``` code", "# ", "\\", "_a_b_", "***\n---\n___", strings.Repeat("*a ", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = sanitize(s)
		var got strings.Builder
		var walk func([]block)
		walk = func(bs []block) {
			for _, b := range bs {
				got.WriteString(plainText(b.spans))
				for _, it := range b.items {
					got.WriteString(plainText(it))
				}
				walk(b.blocks)
			}
		}
		walk(parseMarkdown(s))
		if !utf8.ValidString(got.String()) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
	})
}

func TestMarkdownBrokenIsText(t *testing.T) {
	in := "**bold never closed and _under [link( <tag> ``` > - 1) \\"
	if got := plainText(parseMarkdown(in)[0].spans); got != "**bold never closed and _under [link( <tag> ``` > – 1) \\" {
		t.Errorf("got %q", got)
	}
}

func TestMarkdownHugeUnclosedIsLinear(t *testing.T) {
	// 1 MB of unclosed markers must not backtrack quadratically.
	in := strings.Repeat("*a **b _c ", 100000)
	if bs := parseMarkdown(in); len(bs) != 1 {
		t.Fatalf("got %d blocks", len(bs))
	}
}
