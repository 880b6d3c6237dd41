package voice

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ChunkerOptions tune how a streamed reply is cut into pieces to speak.
// Zero values take the defaults in brackets.
type ChunkerOptions struct {
	// FirstMin: the first piece may end at a comma once it is this many
	// bytes long, so speech starts early [20].
	FirstMin int
	// LongClause: any piece may end at a comma once it is this long [120].
	LongClause int
	// Max: a piece with no punctuation ends at a space after this long [300].
	Max int
}

func (o ChunkerOptions) withDefaults() ChunkerOptions {
	if o.FirstMin <= 0 {
		o.FirstMin = 20
	}
	if o.LongClause <= 0 {
		o.LongClause = 120
	}
	if o.Max <= 0 {
		o.Max = 300
	}
	return o
}

// chunk is one piece of a reply: Text is Full[Start:End] of the message
// text, trimmed of surrounding space.
type chunk struct {
	Text       string
	Start, End int
}

// chunker cuts a reply into sentences as it streams in: at . ! ? … and line
// breaks (not after "Dr." or "e.g." or inside "3.14"), at a comma for the
// first piece and for long clauses, and at a space when nothing else comes.
// It keeps the whole text, so a piece's offsets point into what was stored.
type chunker struct {
	o     ChunkerOptions
	text  strings.Builder
	pos   int  // start of the piece not yet cut
	first bool // no piece cut yet
}

func newChunker(o ChunkerOptions) *chunker { return &chunker{o: o.withDefaults(), first: true} }

// Full is all the text pushed so far.
func (c *chunker) Full() string { return c.text.String() }

// push adds a delta and returns the pieces it completed.
func (c *chunker) push(delta string) []chunk {
	c.text.WriteString(delta)
	var out []chunk
	for {
		end := c.boundary()
		if end < 0 {
			return out
		}
		if ch, ok := c.cut(end); ok {
			out = append(out, ch)
		}
	}
}

// flush returns what is left, at the end of a message.
func (c *chunker) flush() []chunk {
	if ch, ok := c.cut(c.text.Len()); ok {
		return []chunk{ch}
	}
	return nil
}

// cut ends the pending piece at byte end; whitespace-only pieces are skipped.
func (c *chunker) cut(end int) (chunk, bool) {
	full := c.text.String()
	start := c.pos
	c.pos = end
	seg := full[start:end]
	trimmed := strings.TrimLeftFunc(seg, unicode.IsSpace)
	start += len(seg) - len(trimmed)
	trimmed = strings.TrimRightFunc(trimmed, unicode.IsSpace)
	if trimmed == "" {
		return chunk{}, false
	}
	c.first = false
	return chunk{Text: trimmed, Start: start, End: start + len(trimmed)}, true
}

// boundary finds where the pending piece ends (a byte offset in the full
// text), or -1 when more text is needed to know.
func (c *chunker) boundary() int {
	full := c.text.String()
	p := full[c.pos:]
	lastSpace := -1
	for i, r := range p {
		size := utf8.RuneLen(r)
		next, atEnd := rune(0), i+size >= len(p)
		if !atEnd {
			next, _ = utf8.DecodeRuneInString(p[i+size:])
		}
		if unicode.IsSpace(r) {
			lastSpace = i
		}
		switch r {
		case '\n':
			return c.pos + i + size
		case '!', '?', '…':
			if end, ok := afterClosers(p, i+size); ok {
				return c.pos + end
			}
		case '.':
			if next == '.' {
				continue // part of "...": the last dot decides
			}
			if !atEnd && !unicode.IsSpace(next) && !isCloser(next) {
				continue // 3.14, e.g, example.com
			}
			word := wordBefore(p, i)
			if strings.HasSuffix(word, "..") {
				word = "" // the end of an ellipsis
			}
			if abbreviation(word) {
				continue
			}
			if isDigits(word) && (atEnd || lineStart(p, i-len(word))) {
				continue // "3." may go on as "3.5"; "1. " starts a list item
			}
			if end, ok := afterClosers(p, i+size); ok {
				return c.pos + end
			}
		case ',', ';', ':', '—':
			long := i >= c.o.LongClause || (c.first && i >= c.o.FirstMin)
			if long && !atEnd && unicode.IsSpace(next) {
				return c.pos + i + size
			}
		}
		if i >= c.o.Max && lastSpace > 0 {
			return c.pos + lastSpace
		}
	}
	return -1
}

// afterClosers skips quotes and brackets after sentence punctuation; the
// sentence ends there when space follows or the text ends.
func afterClosers(p string, i int) (int, bool) {
	for i < len(p) {
		r, size := utf8.DecodeRuneInString(p[i:])
		if isCloser(r) {
			i += size
			continue
		}
		return i, unicode.IsSpace(r)
	}
	return i, true
}

func isCloser(r rune) bool { return strings.ContainsRune(`"')]»”’*_`, r) }

// wordBefore is the word that ends at byte i of p (letters, digits, dots).
func wordBefore(p string, i int) string {
	j := i
	for j > 0 {
		r, size := utf8.DecodeLastRuneInString(p[:j])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' {
			break
		}
		j -= size
	}
	return p[j:i]
}

var abbreviations = map[string]bool{}

func init() {
	for _, w := range strings.Fields("mr mrs ms dr prof st jr sr vs no approx dept est fig vol mt ft inc ltd co jan feb mar apr jun jul aug sep sept oct nov dec") {
		abbreviations[w] = true
	}
}

// abbreviation reports whether a period after word does not end a sentence:
// titles ("Dr."), initials ("J."), dotted forms ("e.g.", "U.S.").
func abbreviation(word string) bool {
	if word == "" {
		return false
	}
	if strings.Contains(word, ".") {
		return true
	}
	if utf8.RuneCountInString(word) == 1 && unicode.IsUpper([]rune(word)[0]) {
		return true
	}
	return abbreviations[strings.ToLower(word)]
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// lineStart reports whether only spaces come before byte i on its line.
func lineStart(p string, i int) bool {
	line := p[:i]
	if k := strings.LastIndexByte(line, '\n'); k >= 0 {
		line = line[k+1:]
	}
	return strings.TrimSpace(line) == ""
}

var (
	mdLink   = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	mdMarks  = regexp.MustCompile("[*_`#]+")
	mdBullet = regexp.MustCompile(`(?m)^\s*(?:[-+>]|\d+\.)\s+`)
)

// spoken is a piece as the synthesizer should read it: without markdown.
func spoken(text string) string {
	text = mdLink.ReplaceAllString(text, "$1")
	text = mdBullet.ReplaceAllString(text, "")
	text = mdMarks.ReplaceAllString(text, "")
	return strings.TrimSpace(text)
}
