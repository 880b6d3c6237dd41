package book

import "testing"

func TestSmarten(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"double quotes", `She said "hello" to me.`, "She said “hello” to me."},
		{"quote at start and end", `"Yes."`, "“Yes.”"},
		{"quote after paren", `("really")`, "(“really”)"},
		{"single quotes", `the 'best' day`, "the ‘best’ day"},
		{"apostrophes", `don't, it's, Chris' pen, we'll`, "don’t, it’s, Chris’ pen, we’ll"},
		{"elisions", `'tis 'twas rock 'n' roll 'em`, "’tis ’twas rock ’n’ roll ’em"},
		{"decades", `the '90s and '80s`, "the ’90s and ’80s"},
		{"nested", `"She said 'go' then"`, "“She said ‘go’ then”"},
		{"en dash", "pages 10--20", "pages 10–20"},
		{"em dash", "wait---what", "wait—what"},
		{"spaced hyphen", "this - and that", "this – and that"},
		{"hyphen in word stays", "well-known, 1990-1995", "well-known, 1990-1995"},
		{"leading hyphen stays", "- item", "- item"},
		{"four hyphens stay", "a ---- b", "a ---- b"},
		{"ellipsis", "and then...", "and then…"},
		{"spaced ellipsis", "and . . . then", "and … then"},
		{"two dots stay", "a.. b", "a.. b"},
		{"idempotent", "“Don’t” – she said…", "“Don’t” – she said…"},
		{"accents and emoji untouched", `"Zürich" 😊`, "“Zürich” 😊"},
		{"quote after dash", `yes—"no"`, "yes—“no”"},
	} {
		if got := Smarten(c.in); got != c.want {
			t.Errorf("%s: Smarten(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestSmartenAcrossStyles(t *testing.T) {
	// A quote next to emphasis still opens and closes by its neighbours.
	spans := parseInline(`"*Hello*," she said, "it's **you**"`)
	if got := plainText(spans); got != "“Hello,” she said, “it’s you”" {
		t.Errorf("got %q", got)
	}
}
