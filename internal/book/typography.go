package book

import (
	"strings"
	"unicode"
)

// Smarten applies book typography to plain text: straight quotes become
// curly (“ ” ‘ ’, with apostrophes as ’), -- an en dash, --- an em dash, a
// hyphen with a space on both sides a spaced en dash, and three dots an
// ellipsis. It is idempotent: text already set is left as it is.
func Smarten(s string) string { return smarten(s, ' ', ' ') }

// smarten is Smarten with the characters that stand before and after s (for
// text split into styled runs, so `"*hello*"` still opens and closes right).
func smarten(s string, before, after rune) string {
	if !strings.ContainsAny(s, "\"'-.") {
		return s
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	prev := before
	at := func(i int) rune {
		if i < len(rs) {
			return rs[i]
		}
		return after
	}
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch r {
		case '.':
			if at(i+1) == '.' && at(i+2) == '.' && i+2 < len(rs) {
				out = append(out, '…')
				i += 2
				prev = '…'
				continue
			}
			if at(i+1) == ' ' && at(i+2) == '.' && at(i+3) == ' ' && at(i+4) == '.' && i+4 < len(rs) {
				out = append(out, '…')
				i += 4
				prev = '…'
				continue
			}
		case '-':
			n := 1
			for i+n < len(rs) && rs[i+n] == '-' {
				n++
			}
			switch {
			case n == 3:
				out = append(out, '—')
				i += 2
				prev = '—'
				continue
			case n == 2:
				out = append(out, '–')
				i++
				prev = '–'
				continue
			case n == 1 && isSpace(prev) && isSpace(at(i+1)) && i > 0 && i+1 < len(rs):
				// "word - word": a spaced hyphen is a dash, not a hyphen. A
				// hyphen opening a line is a list marker or a minus: left alone.
				out = append(out, '–')
				prev = '–'
				continue
			}
			out = append(out, rs[i:i+n]...)
			i += n - 1
			prev = '-'
			continue
		case '"':
			if opens(prev) {
				r = '“'
			} else {
				r = '”'
			}
		case '\'':
			r = single(prev, rs, i, after)
		}
		out = append(out, r)
		prev = r
	}
	return string(out)
}

// opens reports whether a quote after prev opens a quotation.
func opens(prev rune) bool {
	return isSpace(prev) || strings.ContainsRune("([{<“‘—–/", prev)
}

// single chooses between ‘ (opening) and ’ (closing, apostrophe).
func single(prev rune, rs []rune, i int, after rune) rune {
	if !opens(prev) {
		return '’' // don't, Chris', it's
	}
	next := func(k int) rune {
		if i+k < len(rs) {
			return rs[i+k]
		}
		return after
	}
	// Elisions at a word start: ’tis, ’twas, ’em, ’n’, ’90s.
	rest := strings.ToLower(string(rs[i+1 : min(len(rs), i+5)]))
	for _, e := range []string{"tis", "twas", "em ", "n'", "cause"} {
		if strings.HasPrefix(rest+" ", e) {
			return '’'
		}
	}
	if unicode.IsDigit(next(1)) && unicode.IsDigit(next(2)) && !unicode.IsDigit(next(3)) {
		return '’'
	}
	if isSpace(next(1)) {
		return '’'
	}
	return '‘'
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }
