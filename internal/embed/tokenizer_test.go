package embed

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files from the JS reference (needs scripts/assets.sh test)")

// tokenizerTexts stress the tokenizer beyond the parity sentences: Unicode
// normalization, unknown symbols and their merging, null-score pieces, ties.
var tokenizerTexts = []string{
	"",
	" ",
	"  ",
	"hello world",
	"Hello, World!",
	"x\ty",
	"line one\nline two",
	"😀 emoji",
	"😀😀😀 three unknowns in a row merge into one",
	"🇫🇷🇩🇪 flags",
	"ｆｕｌｌｗｉｄｔｈ ﬁ",
	"e\u0301 (e + combining acute) vs \u00e9",
	"①②③ ™ ℃ Ⅻ ㎏",
	"http://x.com :) :-) :( ): ://",
	"::::: ::: :",
	"”5 ”55 \"5",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
	"The year 1999, the year 2000 and 3.14e-10",
	"ÀÉÎÕÜ àéîõü ß ẞ Ø ø Æ æ",
	"Ελληνικά and עברית and हिन्दी",
	"\u200b zero\u200bwidth \u00a0no-break\u00a0space",
	"\x00\x01 control characters \x7f",
	"\xff\xfe invalid UTF-8 \xc3",
	strings.Repeat("long text with many words ", 100),
}

type goldenTokens struct {
	Text string  `json:"text"`
	IDs  []int32 `json:"ids"`
}

// TestTokenizerGolden compares Encode with ids the JS tokenizer produced,
// kept in testdata so this runs without node. -update rewrites them.
func TestTokenizerGolden(t *testing.T) {
	texts := slices.Concat(tokenizerTexts, paritySentences)
	path := filepath.Join("testdata", "tokenizer_golden.json")
	if *update {
		var ids [][]int32
		reference(t, "tokenize", texts, &ids)
		golden := make([]goldenTokens, len(texts))
		for i := range texts {
			golden[i] = goldenTokens{texts[i], ids[i]}
			if golden[i].IDs == nil {
				golden[i].IDs = []int32{}
			}
		}
		var b strings.Builder // one text per line, for readable diffs
		b.WriteString("[\n")
		for i, g := range golden {
			line, err := json.Marshal(g)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(line)
			if i < len(golden)-1 {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString("]\n")
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var golden []goldenTokens
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	tok, err := LoadTokenizer(filepath.Join(modelDir(t), "vocab.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(golden) < len(tokenizerTexts) {
		t.Fatalf("golden file has %d texts, want at least %d (run with -update)", len(golden), len(tokenizerTexts))
	}
	for _, g := range golden {
		if got := tok.Encode(g.Text); !slices.Equal(got, g.IDs) {
			t.Errorf("Encode(%q):\n got  %v\n want %v", g.Text, got, g.IDs)
		}
	}
}

// TestTokenizerRules checks the JS quirks on a tiny vocabulary.
func TestTokenizerRules(t *testing.T) {
	pieces := []string{"\uFFFD", "<s>", "</s>", "r3", "r4", "r5", "▁a", "b", "▁ab", "c", "▁", "a", "bc"}
	scores := []float64{0, 0, 0, 0, 0, 0, -1, -2, -2.5, -1, -3, -4, -2}
	tok, err := newTokenizer(pieces, scores)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		want []int32
	}{
		{"", nil},
		{"ab", []int32{8}},              // "▁ab" (-2.5) beats "▁a"+"b" (-3)
		{"abc", []int32{6, 12}},         // "▁a"+"bc" (-3) beats "▁ab"+"c" (-3.5)
		{"a  b", []int32{6, 10, 10, 7}}, // ASCII spaces become "▁"
		{"a?!b", []int32{6, 0, 7}},      // unknown "?" and "!" merge into one id 0
		{"?", []int32{10, 0}},
		{"ａ", []int32{6}}, // NFKC folds the full-width letter
	} {
		if got := tok.Encode(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Encode(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
	if _, err := newTokenizer(pieces[:4], scores[:4]); err == nil {
		t.Error("a vocabulary with only reserved pieces loaded")
	}
}

func TestLoadTokenizerErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadTokenizer(filepath.Join(dir, "vocab.json")); !errors.Is(err, ErrModelMissing) {
		t.Errorf("missing vocab: got %v, want ErrModelMissing", err)
	}
	for name, body := range map[string]string{
		"not json":      "{",
		"not pairs":     `{"a": 1}`,
		"bad piece":     `[[1, 2]]`,
		"bad score":     `[["a", "b"]]`,
		"too small":     `[["a", 0]]`,
		"null score ok": `[["<unk>",0],["<s>",0],["</s>",0],["x",0],["y",0],["z",0],[":",null]]`,
	} {
		path := filepath.Join(dir, "v.json")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadTokenizer(path)
		if name == "null score ok" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if !errors.Is(err, ErrBadModel) {
			t.Errorf("%s: got %v, want ErrBadModel", name, err)
		}
	}
}
