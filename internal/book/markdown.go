package book

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The Markdown a letter may use: paragraphs, *emphasis*, **strong**, # headings,
// - and 1. lists, > block quotes, hard breaks (two trailing spaces or a
// backslash; in a paragraph every line end is one, since a letter's sign-off
// and addresses are set line by line), and *** scene breaks. Everything else — code, links, HTML,
// tables, unmatched markers — is set as plain text; parsing never fails.

type blockKind int

const (
	blockPara blockKind = iota
	blockHeading
	blockQuote
	blockBullets
	blockNumbers
	blockBreak // a scene break: *** or ---
)

type block struct {
	kind   blockKind
	level  int      // heading level 1–6
	spans  []span   // paragraph and heading text
	items  [][]span // list items
	start  int      // first number of a numbered list
	blocks []block  // block quote content
}

type style uint8

const (
	styleEm style = 1 << iota
	styleStrong
)

type span struct {
	text  string
	style style
	br    bool // a hard line break (text empty)
	note  bool // an editorial note (an image that is not included)
}

// maxQuoteDepth bounds nested block quotes ("> > > …") so hostile input cannot
// recurse deeply.
const maxQuoteDepth = 8

// parseMarkdown reads s into blocks, with typography applied to the text.
func parseMarkdown(s string) []block { return parseBlocks(strings.Split(s, "\n"), 0) }

func parseBlocks(lines []string, depth int) []block {
	var out []block
	var para []string
	flush := func() {
		if len(para) > 0 {
			// A letter's line ends are the writer's: "With love,⏎Theo"
			// stays on two lines, so each one is a hard break.
			for j := range para[:len(para)-1] {
				if !strings.HasSuffix(para[j], "\\") {
					para[j] += "\\"
				}
			}
			out = append(out, block{kind: blockPara, spans: parseInline(strings.Join(para, "\n"))})
			para = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t")
		raw := lines[i]
		trim := strings.TrimLeft(line, " \t")
		indent := len(line) - len(trim)
		switch {
		case trim == "":
			flush()
		case indent < 4 && isSceneBreak(trim):
			flush()
			out = append(out, block{kind: blockBreak})
		case indent < 4 && headingLevel(trim) > 0:
			flush()
			lv := headingLevel(trim)
			text := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(trim[lv:]), "#"))
			out = append(out, block{kind: blockHeading, level: lv, spans: parseInline(text)})
		case indent < 4 && strings.HasPrefix(trim, ">"):
			flush()
			var inner []string
			for ; i < len(lines); i++ {
				t := strings.TrimLeft(lines[i], " \t")
				if !strings.HasPrefix(t, ">") {
					if strings.TrimSpace(t) == "" {
						break
					}
					inner = append(inner, t) // a lazy continuation line
					continue
				}
				t = strings.TrimPrefix(t[1:], " ")
				inner = append(inner, t)
			}
			i--
			if depth >= maxQuoteDepth {
				out = append(out, block{kind: blockPara, spans: parseInline(strings.Join(inner, "\n"))})
			} else {
				out = append(out, block{kind: blockQuote, blocks: parseBlocks(inner, depth+1)})
			}
		case indent < 4 && listMarker(trim) != "":
			flush()
			numbered := listMarker(trim) != "-"
			b := block{kind: blockBullets}
			if numbered {
				b.kind = blockNumbers
				b.start = listNumber(trim)
			}
			var item []string
			for ; i < len(lines); i++ {
				t := strings.TrimRight(lines[i], " \t")
				tt := strings.TrimLeft(t, " \t")
				if tt == "" {
					// A blank line ends the list unless another item follows.
					if i+1 < len(lines) && sameList(strings.TrimLeft(lines[i+1], " \t"), numbered) {
						continue
					}
					break
				}
				if m := listMarker(tt); m != "" && (m != "-") == numbered && len(t)-len(tt) < 4 {
					if item != nil {
						b.items = append(b.items, parseInline(strings.Join(item, "\n")))
					}
					item = []string{strings.TrimSpace(tt[len(listPrefix(tt)):])}
					continue
				}
				if indent := len(t) - len(tt); indent >= 2 || !startsBlock(tt) {
					item = append(item, tt+trailingBreak(lines[i]))
					continue
				}
				break
			}
			if item != nil {
				b.items = append(b.items, parseInline(strings.Join(item, "\n")))
			}
			i--
			out = append(out, b)
		default:
			para = append(para, trim+trailingBreak(raw))
		}
	}
	flush()
	return out
}

// trailingBreak keeps a Markdown hard break (two trailing spaces) that
// TrimRight would lose, as the backslash form.
func trailingBreak(raw string) string {
	if strings.HasSuffix(raw, "  ") && strings.TrimSpace(raw) != "" {
		return "\\"
	}
	return ""
}

func startsBlock(t string) bool {
	return isSceneBreak(t) || headingLevel(t) > 0 || strings.HasPrefix(t, ">") || listMarker(t) != ""
}

func sameList(t string, numbered bool) bool {
	m := listMarker(t)
	return m != "" && (m != "-") == numbered
}

func isSceneBreak(t string) bool {
	t = strings.ReplaceAll(t, " ", "")
	if len(t) < 3 {
		return false
	}
	c := t[0]
	if c != '*' && c != '-' && c != '_' {
		return false
	}
	return strings.Count(t, string(c)) == len(t)
}

func headingLevel(t string) int {
	n := 0
	for n < len(t) && t[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(t) && t[n] != ' ' && t[n] != '\t') {
		return 0
	}
	return n
}

// listMarker is "-" for a bullet item, "1" for a numbered one, "" otherwise.
func listMarker(t string) string {
	if p := listPrefix(t); p != "" {
		if p[0] == '-' || p[0] == '*' || p[0] == '+' {
			return "-"
		}
		return "1"
	}
	return ""
}

func listPrefix(t string) string {
	if len(t) >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') && t[1] == ' ' {
		return t[:2]
	}
	n := 0
	for n < len(t) && n < 9 && t[n] >= '0' && t[n] <= '9' {
		n++
	}
	if n > 0 && n+1 < len(t) && (t[n] == '.' || t[n] == ')') && t[n+1] == ' ' {
		return t[:n+2]
	}
	return ""
}

func listNumber(t string) int {
	n := 0
	for i := 0; i < len(t) && t[i] >= '0' && t[i] <= '9'; i++ {
		n = n*10 + int(t[i]-'0')
	}
	return n
}

// parseInline reads emphasis, strong, hard breaks and the plain-text forms of
// code, links and images, then applies typography across the runs.
func parseInline(s string) []span {
	var out []span
	p := inlineParser{src: s}
	p.parse(0, "", &out)
	out = mergeSpans(out)
	// Typography, with the neighbouring runs as context.
	for i := range out {
		if out[i].br || out[i].note {
			continue
		}
		before, after := ' ', ' '
		if i > 0 && out[i-1].text != "" {
			before, _ = utf8.DecodeLastRuneInString(out[i-1].text)
		}
		if i+1 < len(out) && out[i+1].text != "" {
			after, _ = utf8.DecodeRuneInString(out[i+1].text)
		}
		out[i].text = smarten(out[i].text, before, after)
	}
	return out
}

type inlineParser struct {
	src     string
	pos     int
	closers map[string][]int // where each delimiter run could close, ascending
}

// closerAfter reports whether d could close somewhere at or after pos. An
// opener without one is plain text at once: no backtracking scan, so text
// full of stray asterisks stays linear.
func (p *inlineParser) closerAfter(d string, pos int) bool {
	if p.closers == nil {
		p.closers = map[string][]int{}
		save := p.pos
		for i := 1; i < len(p.src); i++ {
			c := p.src[i]
			if c != '*' && c != '_' {
				continue
			}
			n := 1
			for i+n < len(p.src) && p.src[i+n] == c && n < 4 {
				n++
			}
			// Only a whole run can close: the scan meets a run at its start,
			// and canClose refuses a delimiter followed by more of itself.
			if n <= 3 {
				p.pos = i
				if d := p.src[i : i+n]; p.canClose(d) {
					p.closers[d] = append(p.closers[d], i)
				}
			}
			i += n - 1
		}
		p.pos = save
	}
	list := p.closers[d]
	j := sort.SearchInts(list, pos)
	return j < len(list)
}

// parse reads until the closing delimiter close (or the end), appending runs
// in style st to out. It reports whether close was found; if not, the caller
// sets the opening delimiter as literal text.
func (p *inlineParser) parse(st style, close string, out *[]span) bool {
	var text strings.Builder
	emit := func() {
		if text.Len() > 0 {
			*out = append(*out, span{text: text.String(), style: st})
			text.Reset()
		}
	}
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if close != "" && strings.HasPrefix(p.src[p.pos:], close) && p.canClose(close) {
			p.pos += len(close)
			emit()
			return true
		}
		switch {
		case c == '\\' && p.pos+1 < len(p.src) && p.src[p.pos+1] == '\n':
			emit()
			*out = append(*out, span{br: true})
			p.pos += 2
		case c == '\\' && p.pos+1 < len(p.src) && strings.IndexByte("\\`*_{}[]()#+-.!>\"'", p.src[p.pos+1]) >= 0:
			text.WriteByte(p.src[p.pos+1])
			p.pos += 2
		case c == '\n':
			text.WriteByte(' ')
			p.pos++
		case c == '`':
			n := 1
			for p.pos+n < len(p.src) && p.src[p.pos+n] == '`' {
				n++
			}
			fence := p.src[p.pos : p.pos+n]
			if end := strings.Index(p.src[p.pos+n:], fence); end >= 0 {
				text.WriteString(strings.TrimSpace(p.src[p.pos+n : p.pos+n+end]))
				p.pos += n + end + n
			} else {
				text.WriteString(fence)
				p.pos += n
			}
		case c == '!' && strings.HasPrefix(p.src[p.pos:], "!["):
			if alt, n, ok := bracketLink(p.src[p.pos+1:]); ok {
				emit()
				note := "[image not included"
				if alt = strings.TrimSpace(alt); alt != "" {
					note += ": " + alt
				}
				*out = append(*out, span{text: note + "]", style: st, note: true})
				p.pos += 1 + n
			} else {
				text.WriteByte(c)
				p.pos++
			}
		case c == '[':
			if label, n, ok := bracketLink(p.src[p.pos:]); ok {
				text.WriteString(label)
				p.pos += n
			} else {
				text.WriteByte(c)
				p.pos++
			}
		case c == '<' && autolinkEnd(p.src[p.pos:]) > 0:
			n := autolinkEnd(p.src[p.pos:])
			text.WriteString(p.src[p.pos+1 : p.pos+n-1])
			p.pos += n
		case c == '*' || c == '_':
			d := p.delim()
			if d == "" {
				text.WriteByte(c)
				p.pos++
				continue
			}
			add := styleEm
			switch len(d) {
			case 2:
				add = styleStrong
			case 3:
				add = styleEm | styleStrong
			}
			if !p.closerAfter(d, p.pos+len(d)) {
				text.WriteString(d) // never closed: plain text, found without backtracking
				p.pos += len(d)
				continue
			}
			save, saveLen := p.pos, len(*out)
			emit()
			p.pos += len(d)
			if st&add == add || !p.parse(st|add, d, out) {
				// Not closed (or nested in itself): the marker is plain text.
				*out = (*out)[:saveLen]
				p.pos = save
				text.WriteString(d)
				p.pos += len(d)
			}
		default:
			_, size := utf8.DecodeRuneInString(p.src[p.pos:])
			text.WriteString(p.src[p.pos : p.pos+size])
			p.pos += size
		}
	}
	emit()
	return close == ""
}

// delim returns the run of * or _ at pos if it can open emphasis.
func (p *inlineParser) delim() string {
	c := p.src[p.pos]
	n := 1
	for p.pos+n < len(p.src) && p.src[p.pos+n] == c {
		n++
	}
	if n > 3 {
		return ""
	}
	next, _ := utf8.DecodeRuneInString(p.src[p.pos+n:])
	if p.pos+n >= len(p.src) || unicode.IsSpace(next) {
		return ""
	}
	if c == '_' && p.pos > 0 {
		prev, _ := utf8.DecodeLastRuneInString(p.src[:p.pos])
		if unicode.IsLetter(prev) || unicode.IsDigit(prev) {
			return "" // snake_case is not emphasis
		}
	}
	return p.src[p.pos : p.pos+n]
}

// canClose reports whether the delimiter at pos can close: not after a space,
// and for _ not inside a word.
func (p *inlineParser) canClose(d string) bool {
	if p.pos == 0 {
		return false
	}
	prev, _ := utf8.DecodeLastRuneInString(p.src[:p.pos])
	if unicode.IsSpace(prev) {
		return false
	}
	end := p.pos + len(d)
	if end < len(p.src) && p.src[end] == d[0] {
		return false // part of a longer run
	}
	if d[0] == '_' && end < len(p.src) {
		next, _ := utf8.DecodeRuneInString(p.src[end:])
		if unicode.IsLetter(next) || unicode.IsDigit(next) {
			return false
		}
	}
	return true
}

// bracketLink reads "[label](target)" at the start of s: the label, the bytes
// consumed, and whether it was one.
func bracketLink(s string) (string, int, bool) {
	if !strings.HasPrefix(s, "[") {
		return "", 0, false
	}
	close := strings.Index(s, "](")
	if close < 0 || strings.ContainsAny(s[1:close], "[]\n") {
		return "", 0, false
	}
	// The target may hold balanced parentheses (…/wiki/Foo_(bar)).
	depth := 0
	for i := close + 2; i < len(s); i++ {
		switch s[i] {
		case '\n':
			return "", 0, false
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return s[1:close], i + 1, true
			}
			depth--
		}
	}
	return "", 0, false
}

func autolinkEnd(s string) int {
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return 0
	}
	inner := s[1:end]
	if strings.ContainsAny(inner, " \n<") {
		return 0
	}
	if strings.HasPrefix(inner, "http://") || strings.HasPrefix(inner, "https://") || strings.HasPrefix(inner, "mailto:") {
		return end + 1
	}
	return 0
}

func mergeSpans(in []span) []span {
	out := in[:0]
	for _, s := range in {
		if n := len(out); n > 0 && !s.br && !out[n-1].br && !s.note && !out[n-1].note && out[n-1].style == s.style {
			out[n-1].text += s.text
			continue
		}
		if !s.br && s.text == "" {
			continue
		}
		out = append(out, s)
	}
	return out
}

// plainText is the text of spans without styles, for titles and tests.
func plainText(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		if s.br {
			b.WriteByte('\n')
		}
		b.WriteString(s.text)
	}
	return b.String()
}
