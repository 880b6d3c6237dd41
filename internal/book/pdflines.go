package book

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
)

// run is text in one font that can be drawn in one go. A character no
// embedded font has (an emoji beyond the Basic Multilingual Plane, Chinese) is
// drawn as a placeholder glyph whose actual text, for copying and extraction,
// is the character itself.
type run struct {
	text, family, style string
	size                float64
	actual              string // set for a placeholder
}

type word struct {
	runs  []run
	width float64
}

type line struct {
	words []word
	width float64 // natural width, with single spaces
	last  bool    // a paragraph's last line (or before a hard break): not justified
	inset float64 // first-line indent
	space float64 // the width of a space in the line's size
}

type align int

const (
	justify align = iota
	center
	flushLeft
)

const placeholder = "◇"

// runs splits s into runs by the font that can draw each character: the serif
// in the wanted style, else the regular serif, else the fallback sans.
func (t *typesetter) runs(s, family, style string, size float64) []run {
	var out []run
	add := func(r run) {
		if n := len(out); n > 0 && out[n-1].actual == "" && r.actual == "" && out[n-1].family == r.family && out[n-1].style == r.style {
			out[n-1].text += r.text
			return
		}
		out = append(out, r)
	}
	primary := t.fonts.regular
	switch style {
	case "I":
		primary = t.fonts.italic
	case "B":
		primary = t.fonts.bold
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		ch := string(r)
		if isArabicLetter(r) {
			// A run of Arabic letters (and their marks) is shaped and drawn
			// in the fallback, with the letters as typed as its actual text.
			j := i
			for j < len(rs) && (isArabicLetter(rs[j]) || (unicode.Is(unicode.Mn, rs[j]) && rs[j] >= 0x0600 && rs[j] <= 0x06FF)) {
				j++
			}
			orig := string(rs[i:j])
			out = append(out, run{text: shapeArabic(orig), family: "sans", size: size * 0.92, actual: orig})
			i = j - 1
			continue
		}
		switch {
		case r > 0xFFFF:
			// fpdf encodes text as UTF-16 without surrogates: beyond the
			// BMP, only a placeholder can be drawn.
			add(run{text: placeholder, family: "sans", size: size, actual: ch})
		case unicode.Is(unicode.Mn, r) && len(out) > 0 && out[len(out)-1].actual == "":
			// A combining mark stays with its base character's font.
			out[len(out)-1].text += ch
		case primary.has(r) || r == ' ':
			add(run{text: ch, family: "serif", style: style, size: size})
		case t.fonts.regular.has(r):
			add(run{text: ch, family: "serif", size: size})
		case t.fonts.fallback.has(r):
			add(run{text: ch, family: "sans", size: size * 0.92})
		default:
			add(run{text: placeholder, family: "sans", size: size, actual: ch})
		}
	}
	return out
}

func (t *typesetter) width(s, family, style string, size float64) float64 {
	k := wkey{family + style, s, size}
	if w, ok := t.widths[k]; ok {
		return w
	}
	t.f.SetFont(family, style, size)
	w := t.f.GetStringWidth(s)
	if len(t.widths) < 1<<16 {
		t.widths[k] = w
	}
	return w
}

func (t *typesetter) runsWidth(rs []run) float64 {
	w := 0.0
	for _, r := range rs {
		w += t.width(r.text, r.family, r.style, r.size)
	}
	return w
}

// lineBreak marks a hard break in a word list.
var lineBreak = word{width: -1}

// words cuts styled spans into words (split at spaces), each a list of runs.
func (t *typesetter) words(spans []span, family string, size float64) []word {
	var out []word
	var cur []run
	end := func() {
		if len(cur) > 0 {
			out = append(out, word{runs: cur, width: t.runsWidth(cur)})
			cur = nil
		}
	}
	for _, s := range spans {
		if s.br {
			end()
			out = append(out, lineBreak)
			continue
		}
		st := ""
		switch {
		case s.style&styleStrong != 0:
			st = "B"
		case s.style&styleEm != 0 || s.note:
			st = "I"
		}
		var b strings.Builder
		text := func() {
			if b.Len() > 0 {
				cur = append(cur, t.runs(b.String(), family, st, size)...)
				b.Reset()
			}
		}
		for _, r := range s.text {
			if r == ' ' || r == '\t' {
				text()
				end()
				continue
			}
			b.WriteRune(r)
		}
		text() // a word may go on in the next span: "*Chris*,"
	}
	end()
	return out
}

// breakLines fills lines greedily up to width. A word wider than a line is cut.
func (t *typesetter) breakLines(ws []word, width, indent, size float64) []line {
	space := t.width(" ", "serif", "", size)
	var out []line
	cur := line{inset: indent, space: space}
	for _, w := range ws {
		if w.width < 0 {
			cur.last = true
			out = append(out, cur)
			cur = line{space: space}
			continue
		}
		avail := width - cur.inset
		need := w.width
		if len(cur.words) > 0 {
			need += space
		}
		if cur.width+need > avail && len(cur.words) > 0 {
			out = append(out, cur)
			cur = line{space: space}
			avail = width
		}
		for w.width > avail {
			head, rest := t.cut(w, avail)
			out = append(out, line{words: []word{head}, width: head.width, inset: cur.inset, space: space})
			cur = line{space: space}
			w = rest
		}
		if len(cur.words) > 0 {
			cur.width += space
		}
		cur.words = append(cur.words, w)
		cur.width += w.width
	}
	cur.last = true
	if len(cur.words) > 0 || len(out) == 0 {
		out = append(out, cur)
	} else if len(out) > 0 {
		out[len(out)-1].last = true
	}
	return out
}

// cut splits a word too wide for a line at the last character that fits.
func (t *typesetter) cut(w word, avail float64) (word, word) {
	var head []run
	used := 0.0
	for i, r := range w.runs {
		rw := t.width(r.text, r.family, r.style, r.size)
		if used+rw <= avail || r.actual != "" && used == 0 {
			head = append(head, r)
			used += rw
			continue
		}
		// Split this run by characters.
		var b strings.Builder
		for _, c := range r.text {
			cw := t.width(string(c), r.family, r.style, r.size)
			if used+cw > avail && (b.Len() > 0 || len(head) > 0) {
				break
			}
			b.WriteRune(c)
			used += cw
		}
		h := r
		h.text = b.String()
		rest := r
		rest.text = r.text[len(h.text):]
		if h.text != "" {
			head = append(head, h)
		}
		tail := append([]run{}, w.runs[i+1:]...)
		if rest.text != "" {
			tail = append([]run{rest}, tail...)
		}
		return word{runs: head, width: used}, word{runs: tail, width: t.runsWidth(tail)}
	}
	return word{runs: head, width: used}, word{}
}

// drawLine draws l at baseline t.y from x, justified to width unless it is a
// last line (or centred).
func (t *typesetter) drawLine(l line, x, width float64, a align) {
	if t.dry || len(l.words) == 0 {
		return
	}
	space := l.space
	gap := space
	switch {
	case a == center:
		x += (width - l.width) / 2
	case a == justify && !l.last && len(l.words) > 1:
		extra := (width - l.inset - l.width) / float64(len(l.words)-1)
		if extra < 3*space {
			gap += extra
		}
		x += l.inset
	default:
		x += l.inset
	}
	for i, w := range t.visualOrder(l.words) {
		if i > 0 {
			x += gap
		}
		t.drawRuns(w.runs, x, t.y)
		x += w.width
	}
}

func (t *typesetter) drawRuns(rs []run, x, y float64) {
	if t.dry {
		return
	}
	for _, r := range rs {
		if r.actual != "" {
			t.f.RawWriteStr("/Span <</ActualText <" + utf16hex(r.actual) + ">>> BDC")
		}
		t.draw(r.text, r.family, r.style, r.size, x, y)
		if r.actual != "" {
			t.f.RawWriteStr("EMC")
		}
		x += t.width(r.text, r.family, r.style, r.size)
	}
}

func (t *typesetter) draw(s, family, style string, size, x, y float64) {
	if t.dry {
		return
	}
	t.f.SetFont(family, style, size)
	t.f.Text(x, y, s)
}

// fit shortens s with an ellipsis until it fits width.
func (t *typesetter) fit(s, family, style string, size, width float64) string {
	if t.runsWidth(t.runs(s, family, style, size)) <= width {
		return s
	}
	rs := []rune(s)
	for len(rs) > 1 {
		rs = rs[:len(rs)-1]
		c := strings.TrimSpace(string(rs)) + "…"
		if t.runsWidth(t.runs(c, family, style, size)) <= width {
			return c
		}
	}
	return s
}

func utf16hex(s string) string {
	var b strings.Builder
	b.WriteString("FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	return b.String()
}

// bmpOnly drops characters beyond the Basic Multilingual Plane, which fpdf
// cannot encode in metadata and bookmarks.
func bmpOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 0xFFFF {
			return -1
		}
		return r
	}, s)
}

// visualOrder puts right-to-left words (a Hebrew or Arabic name) in the order
// they are seen: the letters of each word reversed, and a run of such words
// reversed, within a left-to-right line. Text extraction (pdftotext) reads
// them back in logical order. Arabic letters are not joined (fpdf does no
// shaping); see docs/book.md.
func (t *typesetter) visualOrder(ws []word) []word {
	rtl := func(w word) bool {
		has := false
		for _, r := range w.runs {
			for _, c := range r.text {
				if isRTL(c) {
					has = true
				} else if unicode.IsLetter(c) {
					return false
				}
			}
		}
		return has
	}
	any := false
	for _, w := range ws {
		if rtl(w) {
			any = true
			break
		}
	}
	if !any {
		return ws
	}
	out := make([]word, len(ws))
	copy(out, ws)
	for i := 0; i < len(out); {
		if !rtl(out[i]) {
			i++
			continue
		}
		j := i
		for j < len(out) && rtl(out[j]) {
			out[j] = mirrorWord(out[j])
			j++
		}
		// Punctuation after the run ("דוד כהן,") stays at its visual end.
		core, tail := splitTail(out[j-1].runs)
		if j-1 > i && len(tail) > 0 {
			out[j-1] = word{runs: core, width: t.runsWidth(core)}
		} else {
			tail = nil
		}
		for a, b := i, j-1; a < b; a, b = a+1, b-1 {
			out[a], out[b] = out[b], out[a]
		}
		if len(tail) > 0 {
			rs := append(append([]run{}, out[j-1].runs...), tail...)
			out[j-1] = word{runs: rs, width: t.runsWidth(rs)}
		}
		i = j
	}
	return out
}

// mirrorWord reverses the right-to-left core of a word, keeping combining
// marks after their letters and leading or trailing punctuation (runs without
// right-to-left letters) where it is.
func mirrorWord(w word) word {
	lead := 0
	for lead < len(w.runs) && !strings.ContainsFunc(w.runs[lead].text, isRTL) {
		lead++
	}
	core, tail := splitTail(w.runs[lead:])
	rs := append([]run{}, w.runs[:lead]...)
	for i := len(core) - 1; i >= 0; i-- {
		r := core[i]
		r.text = reverseClusters(r.text)
		if r.actual != "" {
			// Extraction reverses right-to-left text it meets in a line;
			// the actual text goes in visual order too, to come back logical.
			r.actual = reverseClusters(r.actual)
		}
		rs = append(rs, r)
	}
	rs = append(rs, tail...)
	return word{runs: rs, width: w.width}
}

// splitTail separates the trailing runs without right-to-left letters.
func splitTail(rs []run) (core, tail []run) {
	n := len(rs)
	for n > 0 && !strings.ContainsFunc(rs[n-1].text, isRTL) {
		n--
	}
	return rs[:n], rs[n:]
}

func reverseClusters(s string) string {
	var clusters [][]rune
	for _, c := range s {
		if unicode.Is(unicode.Mn, c) && len(clusters) > 0 {
			clusters[len(clusters)-1] = append(clusters[len(clusters)-1], c)
			continue
		}
		clusters = append(clusters, []rune{c})
	}
	var b strings.Builder
	for i := len(clusters) - 1; i >= 0; i-- {
		b.WriteString(string(clusters[i]))
	}
	return b.String()
}
