package proofread

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// DefaultDictionaryDir is where Debian's hunspell-en-us puts en_US.aff and
// en_US.dic.
const DefaultDictionaryDir = "/usr/share/hunspell"

// ErrNoDictionary means the spelling dictionary is not installed.
var ErrNoDictionary = errors.New("no spelling dictionary")

// Speller checks spelling with a Hunspell dictionary, loaded on first use
// (about a second) and kept. It is safe for concurrent use.
type Speller struct {
	Dir  string // DefaultDictionaryDir when empty
	Lang string // "en_US" when empty

	once sync.Once
	dict *Dictionary
	err  error
}

// Dictionary loads the dictionary once; an absent one is ErrNoDictionary
// with the paths it looked for and the package that brings them.
func (s *Speller) Dictionary() (*Dictionary, error) {
	s.once.Do(func() {
		dir, lang := s.Dir, s.Lang
		if dir == "" {
			dir = DefaultDictionaryDir
		}
		if lang == "" {
			lang = "en_US"
		}
		aff, dic := filepath.Join(dir, lang+".aff"), filepath.Join(dir, lang+".dic")
		for _, p := range []string{aff, dic} {
			if _, err := os.Stat(p); err != nil {
				s.err = fmt.Errorf("%w: %s is missing; install Debian's hunspell-en-us (apt-get install hunspell-en-us)", ErrNoDictionary, p)
				return
			}
		}
		s.dict, s.err = loadDictionary(aff, dic)
		if s.err != nil {
			s.err = fmt.Errorf("%w: %s could not be read: %v", ErrNoDictionary, lang, s.err)
		}
	})
	return s.dict, s.err
}

// Misspelling is one word the dictionary does not know, with its span in
// the checked text in UTF-16 code units (what JavaScript strings index).
type Misspelling struct {
	Start       int      `json:"start"`
	End         int      `json:"end"`
	Word        string   `json:"word"`
	Suggestions []string `json:"suggestions"`
}

// MaxMisspellings caps one answer: a text in another language would
// otherwise list every word.
const MaxMisspellings = 500

// MaxSuggested is how many different misspelled words of one text get
// suggestions (each costs up to a few tens of milliseconds); the rest are
// underlined with none, so a long foreign text is answered in seconds.
const MaxSuggested = 30

// Check lists the misspelled words of text (Markdown or plain), in order,
// with up to five suggestions each (worked out once per word, for the
// first MaxSuggested different words).
func (s *Speller) Check(text string) ([]Misspelling, error) {
	d, err := s.Dictionary()
	if err != nil {
		return nil, err
	}
	out := []Misspelling{}
	sugg := map[string][]string{}
	conv := newUTF16(text)
	for _, t := range Words(text) {
		if d.Check(t.Word) {
			continue
		}
		sg, ok := sugg[t.Word]
		if !ok {
			if len(sugg) < MaxSuggested {
				sg = d.Suggest(t.Word, 5)
			}
			if sg == nil {
				sg = []string{}
			}
			sugg[t.Word] = sg
		}
		out = append(out, Misspelling{Start: conv.at(t.Start), End: conv.at(t.End), Word: t.Word, Suggestions: sg})
		if len(out) == MaxMisspellings {
			break
		}
	}
	return out, nil
}

// Token is one word of a text: its byte span and the word.
type Token struct {
	Start, End int // byte offsets; text[Start:End] == Word
	Word       string
}

// Words splits Markdown or plain text into the words spell checking looks
// at. It skips code (fenced blocks and `spans`), link targets, HTML tags,
// URLs, e-mail addresses, domain and file names, and any word with a
// digit; hyphenated words are checked part by part, and apostrophes count
// inside a word ("don't") but not around it ('quoted').
func Words(text string) []Token {
	var out []Token
	inFence := false
	lineStart := 0
	for lineStart <= len(text) {
		end := strings.IndexByte(text[lineStart:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += lineStart
		}
		line := text[lineStart:end]
		trim := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~") {
			inFence = !inFence
		} else if !inFence {
			out = lineWords(text, lineStart, end, out)
		}
		lineStart = end + 1
	}
	return out
}

// lineWords adds the words of text[from:to] (one line).
func lineWords(text string, from, to int, out []Token) []Token {
	i := from
	for i < to {
		r, n := utf8.DecodeRuneInString(text[i:to])
		switch {
		case r == '`':
			// A code span runs to the next backtick on the line.
			if j := strings.IndexByte(text[i+1:to], '`'); j >= 0 {
				i += j + 2
				continue
			}
			i += n
		case r == '<':
			// An HTML tag or <autolink>.
			if j := strings.IndexByte(text[i+1:to], '>'); j > 0 && j < 200 && looksLikeTag(text[i+1:i+1+j]) {
				i += j + 2
				continue
			}
			i += n
		case r == ']' && i+1 < to && text[i+1] == '(':
			// A link's target: [text](target).
			if j := strings.IndexByte(text[i+2:to], ')'); j >= 0 {
				i += j + 3
				continue
			}
			i += n
		case unicode.IsSpace(r):
			i += n
		default:
			// A chunk up to the next space: skipped whole when it is a URL,
			// an address or a name with dots.
			j := i
			for j < to {
				r2, n2 := utf8.DecodeRuneInString(text[j:to])
				if unicode.IsSpace(r2) || r2 == '`' || r2 == '<' || (r2 == ']' && j+1 < to && text[j+1] == '(') {
					break
				}
				j += n2
			}
			if j == i {
				j = i + n
			}
			if !skipChunk(text[i:j]) {
				out = chunkWords(text, i, j, out)
			}
			i = j
		}
	}
	return out
}

func looksLikeTag(s string) bool {
	if s == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r == '/' || r == '!' || unicode.IsLetter(r)
}

// skipChunk is true for text between spaces that is not prose: a URL, an
// e-mail address, a domain or file name ("example.com", "notes.md").
func skipChunk(c string) bool {
	if strings.Contains(c, "://") || strings.Contains(c, "@") || strings.HasPrefix(strings.ToLower(c), "www.") {
		return true
	}
	// A dot between two letters: "example.com", but not "end.Next" after
	// a missing space (a capital follows) nor "e.g." (short abbreviation).
	rs := []rune(strings.Trim(c, ".,;:!?\"'()[]*_“”‘’"))
	for k := 1; k+1 < len(rs); k++ {
		if rs[k] == '.' && unicode.IsLetter(rs[k-1]) && unicode.IsLower(rs[k+1]) && len(rs) > 4 {
			return true
		}
		if rs[k] == '/' && unicode.IsLetter(rs[k-1]) && unicode.IsLetter(rs[k+1]) && strings.Count(string(rs), "/") > 1 {
			return true // a path
		}
	}
	return false
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || unicode.IsDigit(r)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' }

// chunkWords adds the words of one chunk (text[from:to], no spaces).
func chunkWords(text string, from, to int, out []Token) []Token {
	i := from
	for i < to {
		r, n := utf8.DecodeRuneInString(text[i:to])
		if !isWordRune(r) {
			i += n
			continue
		}
		start := i
		digit := false
		for i < to {
			r, n := utf8.DecodeRuneInString(text[i:to])
			if isWordRune(r) {
				digit = digit || unicode.IsDigit(r)
				i += n
				continue
			}
			if isApostrophe(r) && i+n < to {
				if r2, _ := utf8.DecodeRuneInString(text[i+n : to]); isWordRune(r2) {
					i += n
					continue
				}
			}
			break
		}
		if !digit {
			out = append(out, Token{Start: start, End: i, Word: text[start:i]})
		}
	}
	return out
}

// utf16Conv turns increasing byte offsets of s into UTF-16 offsets in one
// pass.
type utf16Conv struct {
	s    string
	b, u int
}

func newUTF16(s string) *utf16Conv { return &utf16Conv{s: s} }

func (c *utf16Conv) at(b int) int {
	if b < c.b {
		c.b, c.u = 0, 0
	}
	for c.b < b && c.b < len(c.s) {
		r, n := utf8.DecodeRuneInString(c.s[c.b:])
		c.b += n
		if r >= 0x10000 {
			c.u += 2
		} else {
			c.u++
		}
	}
	return c.u
}

// UTF16Len is the length of s in UTF-16 code units.
func UTF16Len(s string) int { return newUTF16(s).at(len(s)) }
