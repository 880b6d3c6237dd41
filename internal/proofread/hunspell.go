package proofread

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Hunspell dictionary (.dic word list plus .aff affix rules) read into a
// set of every word form it accepts. Only what plain spell checking needs
// is implemented: SET (UTF-8 only), FLAG (single characters, "long" and
// "num"), TRY, ICONV, NOSUGGEST, ONLYINCOMPOUND, NEEDAFFIX, FORBIDDENWORD,
// KEEPCASE, and PFX/SFX rules with strip, add and condition, cross products
// of one prefix with one suffix. Compounding, continuation classes on
// affixes, REP/MAP/PHONE tables and morphology are not: a word that only a
// compound rule builds (en_US's ordinals, "1st") is not in the set, which
// is why the tokenizer never checks words with digits.

// flagMode says how the .aff file writes flags.
type flagMode int

const (
	flagChar flagMode = iota // one character per flag (the default)
	flagLong                 // two characters per flag
	flagNum                  // decimal numbers separated by commas
)

type affix struct {
	strip, add string
	cond       []condPart
	prefix     bool
	cross      bool
}

// condPart is one position of an affix condition: a set of characters,
// negated or not, or any character.
type condPart struct {
	any   bool
	neg   bool
	chars string
}

type affixFile struct {
	mode         flagMode
	try          string
	iconv        [][2]string
	noSuggest    string
	onlyCompound string
	needAffix    string
	forbidden    string
	keepCase     string
	affixes      map[string][]affix // by flag
}

// parseFlags splits a .dic or .aff flag field into flags.
func (a *affixFile) parseFlags(s string) []string {
	switch a.mode {
	case flagLong:
		var out []string
		rs := []rune(s)
		for i := 0; i+1 < len(rs); i += 2 {
			out = append(out, string(rs[i:i+2]))
		}
		return out
	case flagNum:
		var out []string
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
		return out
	}
	out := make([]string, 0, len(s))
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}

func (a *affixFile) oneFlag(s string) string {
	if f := a.parseFlags(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

func parseAff(r io.Reader) (*affixFile, error) {
	a := &affixFile{affixes: map[string][]affix{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	cross := map[string]bool{}
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "SET":
			if len(f) > 1 && !strings.EqualFold(f[1], "UTF-8") {
				return nil, fmt.Errorf("line %d: encoding %s is not supported (only UTF-8)", line, f[1])
			}
		case "FLAG":
			if len(f) > 1 {
				switch f[1] {
				case "long":
					a.mode = flagLong
				case "num":
					a.mode = flagNum
				case "UTF-8":
					a.mode = flagChar
				}
			}
		case "TRY":
			if len(f) > 1 {
				a.try = f[1]
			}
		case "ICONV":
			if len(f) == 3 {
				a.iconv = append(a.iconv, [2]string{f[1], f[2]})
			}
		case "NOSUGGEST":
			if len(f) > 1 {
				a.noSuggest = a.oneFlag(f[1])
			}
		case "ONLYINCOMPOUND":
			if len(f) > 1 {
				a.onlyCompound = a.oneFlag(f[1])
			}
		case "NEEDAFFIX", "PSEUDOROOT":
			if len(f) > 1 {
				a.needAffix = a.oneFlag(f[1])
			}
		case "FORBIDDENWORD":
			if len(f) > 1 {
				a.forbidden = a.oneFlag(f[1])
			}
		case "KEEPCASE":
			if len(f) > 1 {
				a.keepCase = a.oneFlag(f[1])
			}
		case "PFX", "SFX":
			// The header "SFX V N 2" comes before its rules; a rule line
			// has at least five fields where the header has four.
			if len(f) == 4 {
				if _, err := strconv.Atoi(f[3]); err == nil {
					flag := f[1]
					if a.mode == flagChar {
						flag = a.oneFlag(flag)
					}
					cross[flag] = f[2] == "Y"
				}
				continue
			}
			if len(f) < 5 {
				return nil, fmt.Errorf("line %d: %s rule needs flag, strip, add and condition", line, f[0])
			}
			flag := f[1]
			if a.mode == flagChar {
				flag = a.oneFlag(flag)
			}
			strip := f[2]
			if strip == "0" {
				strip = ""
			}
			add, _, _ := strings.Cut(f[3], "/") // continuation classes are ignored
			if add == "0" {
				add = ""
			}
			cond, err := parseCond(f[4])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			a.affixes[flag] = append(a.affixes[flag], affix{strip: strip, add: add, cond: cond, prefix: f[0] == "PFX", cross: cross[flag]})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return a, nil
}

func parseCond(s string) ([]condPart, error) {
	if s == "." {
		return nil, nil
	}
	var out []condPart
	for i := 0; i < len(s); {
		if s[i] == '[' {
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("condition %q has an unclosed [", s)
			}
			body := s[i+1 : i+j]
			p := condPart{}
			if strings.HasPrefix(body, "^") {
				p.neg, body = true, body[1:]
			}
			p.chars = body
			out = append(out, p)
			i += j + 1
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '.' {
			out = append(out, condPart{any: true})
		} else {
			out = append(out, condPart{chars: string(r)})
		}
		i += n
	}
	return out, nil
}

func (p condPart) match(r rune) bool {
	if p.any {
		return true
	}
	return strings.ContainsRune(p.chars, r) != p.neg
}

// matches reports whether word meets the condition: at its start for a
// prefix, at its end for a suffix.
func (x affix) matches(word string) bool {
	if len(x.cond) == 0 {
		return true
	}
	rs := []rune(word)
	if len(rs) < len(x.cond) {
		return false
	}
	if x.prefix {
		for i, p := range x.cond {
			if !p.match(rs[i]) {
				return false
			}
		}
		return true
	}
	off := len(rs) - len(x.cond)
	for i, p := range x.cond {
		if !p.match(rs[off+i]) {
			return false
		}
	}
	return true
}

// apply makes the affixed form, or false when the stem does not allow it.
func (x affix) apply(word string) (string, bool) {
	if !x.matches(word) {
		return "", false
	}
	if x.prefix {
		if !strings.HasPrefix(word, x.strip) {
			return "", false
		}
		return x.add + word[len(x.strip):], true
	}
	if !strings.HasSuffix(word, x.strip) {
		return "", false
	}
	return word[:len(word)-len(x.strip)] + x.add, true
}

// wordFlags are a form's properties in the set.
type wordFlags uint8

const (
	wNoSuggest wordFlags = 1 << iota
	wKeepCase
)

// loadDictionary reads .aff and .dic files into the set of accepted forms.
func loadDictionary(affPath, dicPath string) (*Dictionary, error) {
	af, err := os.Open(affPath)
	if err != nil {
		return nil, err
	}
	defer af.Close()
	a, err := parseAff(af)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", affPath, err)
	}
	df, err := os.Open(dicPath)
	if err != nil {
		return nil, err
	}
	defer df.Close()
	return readDic(df, a)
}

func readDic(r io.Reader, a *affixFile) (*Dictionary, error) {
	d := &Dictionary{words: make(map[string]wordFlags, 200_000), try: a.try, iconv: a.iconv}
	forbidden := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	first := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			first = false
			if _, err := strconv.Atoi(line); err == nil {
				continue // the approximate word count
			}
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// Morphological fields follow a tab or space; "\/" is a slash in the word.
		if i := strings.IndexAny(line, "\t "); i >= 0 {
			line = line[:i]
		}
		word, flagField := line, ""
		for i := 0; i < len(line); i++ {
			if line[i] == '/' && (i == 0 || line[i-1] != '\\') {
				word, flagField = line[:i], line[i+1:]
				break
			}
		}
		word = strings.ReplaceAll(word, `\/`, "/")
		flags := a.parseFlags(flagField)
		has := func(f string) bool {
			if f == "" {
				return false
			}
			for _, x := range flags {
				if x == f {
					return true
				}
			}
			return false
		}
		if has(a.forbidden) {
			forbidden[word] = true
			continue
		}
		if has(a.onlyCompound) {
			continue
		}
		var wf wordFlags
		if has(a.noSuggest) {
			wf |= wNoSuggest
		}
		if has(a.keepCase) {
			wf |= wKeepCase
		}
		if !has(a.needAffix) {
			d.add(word, wf)
		}
		var prefixed []struct {
			form string
			x    affix
		}
		for _, f := range flags {
			for _, x := range a.affixes[f] {
				if !x.prefix {
					continue
				}
				if form, ok := x.apply(word); ok {
					d.add(form, wf)
					if x.cross {
						prefixed = append(prefixed, struct {
							form string
							x    affix
						}{form, x})
					}
				}
			}
		}
		for _, f := range flags {
			for _, x := range a.affixes[f] {
				if x.prefix {
					continue
				}
				form, ok := x.apply(word)
				if !ok {
					continue
				}
				d.add(form, wf)
				if !x.cross {
					continue
				}
				for _, p := range prefixed {
					// The suffix's condition is on the stem; the prefix's on
					// the word start, which the suffix leaves alone.
					if both, ok := p.x.apply(form); ok {
						d.add(both, wf)
					}
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for w := range forbidden {
		delete(d.words, w)
	}
	d.buildIndex()
	return d, nil
}
