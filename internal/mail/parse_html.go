package mail

import (
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// HTMLText turns an HTML body into the text a reader sees, at most max
// bytes. It never renders nor fetches anything. What a mail client would
// not show never reaches the text, because hidden text is the classic way
// to speak to a model behind the reader's back: script, style, head,
// template and noscript are dropped, and so is every element hidden by
// the hidden attribute, by its style (display:none, visibility:hidden,
// font-size:0 or 1px, opacity:0, zero height or width with overflow
// hidden, far off-screen, mso-hide:all, text coloured like its
// background) or by a <style> rule that hides its class, id or tag. When
// in doubt it hides: a rule inside @media counts, and a rule for
// ".a .b" hides every .b.
//
// Links keep their text (not their address); block elements become line
// breaks, list items start with "- ", table cells are spaced apart.
//
// The tokenizer is written here because golang.org/x/net/html is not one
// of os1's dependencies; it follows the HTML5 rules that matter for text
// (comments, raw-text elements, quoted attributes, character references)
// and treats anything it cannot read as text.
func HTMLText(src string, max int) string {
	src = strings.ToValidUTF8(src, "\uFFFD")
	c := converter{src: src, max: max, sheet: readStyleSheets(src)}
	c.run()
	return strings.TrimSpace(c.out.String())
}

// maxStack caps the open-element stack; deeper elements make the rest of
// the document hidden (safe side).
const maxStack = 512

type openElem struct {
	name   string
	hidden bool
	pre    bool
}

type converter struct {
	src   string
	max   int
	sheet hidingSheet
	out   strings.Builder

	stack      []openElem
	open       map[string]int // open elements by name, so a stray end tag costs no scan
	hidden     int            // hidden elements on the stack
	overflow   bool           // the stack overflowed: hide the rest
	pre        int            // <pre> elements on the stack
	space      bool           // a space is owed before the next word
	newlines   int            // line breaks owed before the next word
	listPrefix bool           // "- " is owed before the next word
}

func (c *converter) full() bool { return c.out.Len() >= c.max }

func (c *converter) run() {
	s := c.src
	i := 0
	for i < len(s) && !c.full() {
		if s[i] != '<' {
			j := strings.IndexByte(s[i:], '<')
			if j < 0 {
				j = len(s) - i
			}
			c.text(s[i : i+j])
			i += j
			continue
		}
		rest := s[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				return
			}
			i += 4 + end + 3
		case strings.HasPrefix(rest, "<!") || strings.HasPrefix(rest, "<?"):
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return
			}
			i += end + 1
		case strings.HasPrefix(rest, "</") && len(rest) > 2 && isASCIILetter(rest[2]):
			name, _ := tagName(rest[2:])
			end := strings.IndexByte(rest, '>')
			if end < 0 {
				return
			}
			c.end(name)
			i += end + 1
		case len(rest) > 1 && isASCIILetter(rest[1]):
			t, n, ok := readTag(rest)
			if !ok {
				return // an unterminated tag: browsers drop it too
			}
			i += n
			if rawText[t.name] {
				// Skip to the matching end tag; the content is never text.
				end := indexFold(s[i:], "</"+t.name)
				if end < 0 {
					return
				}
				i += end
				continue
			}
			c.start(t)
		default:
			c.text("<")
			i++
		}
	}
}

// rawText elements hold no readable text, or text a mail client does not
// show (noscript, object and iframe content is a fallback; svg and math
// text is drawing).
var rawText = map[string]bool{
	"script": true, "style": true, "title": true, "xmp": true, "iframe": true,
	"noembed": true, "noframes": true, "noscript": true, "template": true,
	"textarea": true, "object": true, "svg": true, "math": true,
}

var voidElems = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "param": true,
	"source": true, "track": true, "wbr": true, "keygen": true,
}

// blockElems start and end on their own line; paragraph ones leave a
// blank line.
var blockElems = map[string]int{
	"p": 2, "h1": 2, "h2": 2, "h3": 2, "h4": 2, "h5": 2, "h6": 2, "blockquote": 2, "pre": 2,
	"table": 1, "ul": 1, "ol": 1, "dl": 1,
	"div": 1, "li": 1, "tr": 1, "hr": 1, "section": 1, "article": 1, "header": 1, "footer": 1,
	"nav": 1, "aside": 1, "form": 1, "dt": 1, "dd": 1, "address": 1, "figure": 1,
	"figcaption": 1, "main": 1, "center": 1, "fieldset": 1, "legend": 1, "caption": 1,
	"tbody": 1, "thead": 1, "tfoot": 1, "details": 1, "summary": 1,
}

type tag struct {
	name  string
	attrs map[string]string
}

func (c *converter) start(t tag) {
	if t.name == "br" {
		if c.hidden == 0 && !c.overflow {
			c.forceNewline()
		}
		return
	}
	if voidElems[t.name] {
		if t.name == "hr" && c.hidden == 0 {
			c.breakLine(1)
		}
		return
	}
	h := c.hides(t)
	if len(c.stack) >= maxStack {
		if h {
			c.overflow = true
		}
		return
	}
	e := openElem{name: t.name, hidden: h, pre: t.name == "pre"}
	c.stack = append(c.stack, e)
	if c.open == nil {
		c.open = map[string]int{}
	}
	c.open[t.name]++
	if h {
		c.hidden++
	}
	if e.pre {
		c.pre++
	}
	if c.hidden > 0 || c.overflow {
		return
	}
	if n := blockElems[t.name]; n > 0 {
		c.breakLine(n)
	}
	switch t.name {
	case "li":
		c.listPrefix = true
	case "td", "th":
		c.space = true
	}
}

func (c *converter) end(name string) {
	at := -1
	if c.open[name] > 0 {
		for i := len(c.stack) - 1; i >= 0; i-- {
			if c.stack[i].name == name {
				at = i
				break
			}
		}
	}
	if at < 0 {
		if name == "p" || name == "br" {
			// </p> and </br> without an opening tag still break the line.
			if c.hidden == 0 && !c.overflow {
				c.breakLine(blockElems["p"])
			}
		}
		return
	}
	for len(c.stack) > at {
		e := c.stack[len(c.stack)-1]
		c.stack = c.stack[:len(c.stack)-1]
		c.open[e.name]--
		if e.hidden {
			c.hidden--
		}
		if e.pre {
			c.pre--
		}
	}
	if c.hidden > 0 || c.overflow {
		return
	}
	if n := blockElems[name]; n > 0 {
		c.breakLine(n)
	}
	if name == "td" || name == "th" {
		c.space = true
	}
}

func (c *converter) breakLine(n int) {
	if c.newlines < n {
		c.newlines = n
	}
}

func (c *converter) forceNewline() {
	// A <br> counts even at the start of a line: two <br> leave a blank line.
	if c.out.Len() > 0 {
		c.out.WriteByte('\n')
	}
	c.newlines = 0
	c.space = false
}

// zeroWidth are characters that show nothing; they are dropped so they
// cannot split or hide words.
func zeroWidth(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u2060', '\ufeff', '\u00ad', '\u034f', '\u180e':
		return true
	}
	return false
}

func (c *converter) text(raw string) {
	if c.hidden > 0 || c.overflow {
		return
	}
	s := raw
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	for _, r := range s {
		if c.full() {
			return
		}
		if zeroWidth(r) {
			continue
		}
		if c.pre > 0 && (r == '\n' || r == ' ' || r == '\t') {
			if r == '\n' {
				c.out.WriteByte('\n')
			} else {
				c.out.WriteRune(r)
			}
			continue
		}
		if unicode.IsSpace(r) || r == '\u00a0' {
			c.space = true
			continue
		}
		if c.out.Len() > 0 {
			if c.newlines > 0 {
				c.out.WriteString(strings.Repeat("\n", c.newlines))
				c.space = false
			} else if c.space {
				if last, _ := utf8.DecodeLastRuneInString(c.out.String()); last != '\n' {
					c.out.WriteByte(' ')
				}
			}
		}
		c.newlines, c.space = 0, false
		if c.listPrefix {
			c.out.WriteString("- ")
			c.listPrefix = false
		}
		c.out.WriteRune(r)
	}
}

// hides reports whether t is hidden by itself (attribute, style, sheet).
func (c *converter) hides(t tag) bool {
	if t.name == "head" {
		return true
	}
	if _, ok := t.attrs["hidden"]; ok {
		return true
	}
	if strings.EqualFold(t.attrs["type"], "hidden") {
		return true
	}
	if st, ok := t.attrs["style"]; ok && styleHides(st) {
		return true
	}
	return c.sheet.hides(t)
}

// styleHides reports whether CSS declarations make their element invisible.
func styleHides(decls string) bool {
	d := parseDecls(decls)
	if len(d) == 0 {
		return false
	}
	if d["display"] == "none" || d["mso-hide"] == "all" {
		return true
	}
	if v := d["visibility"]; v == "hidden" || v == "collapse" {
		return true
	}
	if v, ok := d["font-size"]; ok && tinyLength(v, true) {
		return true
	}
	if v, ok := d["opacity"]; ok {
		if f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64); err == nil {
			if strings.HasSuffix(v, "%") {
				f /= 100
			}
			if f <= 0.05 {
				return true
			}
		}
	}
	if d["overflow"] == "hidden" || d["overflow-y"] == "hidden" || d["overflow-x"] == "hidden" {
		for _, k := range []string{"max-height", "height", "max-width", "width"} {
			if v, ok := d[k]; ok && tinyLength(v, false) {
				return true
			}
		}
	}
	for _, k := range []string{"text-indent", "left", "top", "margin-left", "margin-top", "right"} {
		if v, ok := d[k]; ok && farOff(v) {
			return true
		}
	}
	if col, ok := d["color"]; ok {
		if col == "transparent" || strings.HasSuffix(col, ",0)") {
			return true
		}
		for _, k := range []string{"background-color", "background"} {
			if bg, ok := d[k]; ok && sameColor(col, bg) {
				return true
			}
		}
	}
	if v, ok := d["transform"]; ok && (strings.HasPrefix(v, "scale(0") && !strings.HasPrefix(v, "scale(0.")) {
		return true
	}
	if v, ok := d["clip"]; ok && strings.ReplaceAll(v, "px", "") == "rect(0,0,0,0)" {
		return true
	}
	return false
}

// parseDecls reads "a: b; c: d" into lower-case, space-free values
// (!important dropped); a later declaration wins, as in CSS.
func parseDecls(s string) map[string]string {
	var d map[string]string
	for _, decl := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.ToLower(strings.Join(strings.Fields(v), ""))
		v = strings.TrimSuffix(v, "!important")
		if k == "" {
			continue
		}
		if d == nil {
			d = map[string]string{}
		}
		d[k] = v
	}
	return d
}

// tinyLength reports a length of zero, or for fonts one too small to read.
func tinyLength(v string, font bool) bool {
	num := strings.TrimRightFunc(v, func(r rune) bool { return unicode.IsLetter(r) || r == '%' })
	unit := v[len(num):]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return false
	}
	if f <= 0 {
		return true
	}
	if !font {
		return false
	}
	switch unit {
	case "px", "pt", "":
		return f <= 1
	case "em", "rem":
		return f < 0.2
	case "%":
		return f < 20
	}
	return false
}

func farOff(v string) bool {
	num := strings.TrimRightFunc(v, func(r rune) bool { return unicode.IsLetter(r) || r == '%' })
	f, err := strconv.ParseFloat(num, 64)
	return err == nil && f <= -500
}

func sameColor(a, b string) bool {
	// background shorthand: its first word is usually the colour.
	if i := strings.IndexAny(b, " u"); i > 0 && !strings.HasPrefix(b, "rgb") {
		b = b[:i]
	}
	return normColor(a) != "" && normColor(a) == normColor(b)
}

func normColor(c string) string {
	switch c {
	case "white":
		return "#ffffff"
	case "black":
		return "#000000"
	}
	if len(c) == 4 && c[0] == '#' {
		return "#" + string([]byte{c[1], c[1], c[2], c[2], c[3], c[3]})
	}
	if strings.HasPrefix(c, "rgb(") {
		p := strings.Split(strings.TrimSuffix(strings.TrimPrefix(c, "rgb("), ")"), ",")
		if len(p) == 3 {
			var b []byte
			for _, x := range p {
				n, err := strconv.Atoi(x)
				if err != nil || n < 0 || n > 255 {
					return c
				}
				b = append(b, byte(n))
			}
			const hexd = "0123456789abcdef"
			out := []byte{'#'}
			for _, x := range b {
				out = append(out, hexd[x>>4], hexd[x&15])
			}
			return string(out)
		}
	}
	return c
}

// hidingSheet is what the document's <style> blocks hide.
type hidingSheet struct {
	classes, ids, tags map[string]bool
}

func (h hidingSheet) hides(t tag) bool {
	if h.tags[t.name] {
		return true
	}
	if id, ok := t.attrs["id"]; ok && h.ids[id] {
		return true
	}
	if cl, ok := t.attrs["class"]; ok && len(h.classes) > 0 {
		for _, c := range strings.Fields(cl) {
			if h.classes[c] {
				return true
			}
		}
	}
	return false
}

// readStyleSheets reads every <style> block for rules that hide.
func readStyleSheets(src string) hidingSheet {
	var h hidingSheet
	i := 0
	for {
		j := indexFold(src[i:], "<style")
		if j < 0 {
			return h
		}
		i += j
		t, n, ok := readTag(src[i:])
		if !ok || t.name != "style" {
			i += len("<style")
			continue
		}
		i += n
		end := indexFold(src[i:], "</style")
		if end < 0 {
			end = len(src) - i
		}
		h.read(src[i : i+end])
		i += end
	}
}

func (h *hidingSheet) read(css string) {
	// Drop comments.
	for {
		a := strings.Index(css, "/*")
		if a < 0 {
			break
		}
		b := strings.Index(css[a+2:], "*/")
		if b < 0 {
			css = css[:a]
			break
		}
		css = css[:a] + " " + css[a+2+b+2:]
	}
	for len(css) > 0 {
		open := strings.IndexByte(css, '{')
		if open < 0 {
			return
		}
		sel := strings.TrimSpace(css[:open])
		css = css[open+1:]
		if strings.HasPrefix(sel, "@") {
			low := strings.ToLower(sel)
			if strings.HasPrefix(low, "@media") || strings.HasPrefix(low, "@supports") || strings.HasPrefix(low, "@document") || strings.HasPrefix(low, "@layer") {
				continue // read the rules inside (over-hiding is the safe side)
			}
			if cl := strings.IndexByte(css, '}'); cl >= 0 {
				css = css[cl+1:]
				continue
			}
			return
		}
		// A stray "}" closing an @media block may lead the selector.
		sel = strings.TrimSpace(strings.TrimLeft(sel, "} \t\r\n"))
		cl := strings.IndexByte(css, '}')
		if cl < 0 {
			cl = len(css)
		}
		decls := css[:cl]
		if cl < len(css) {
			css = css[cl+1:]
		} else {
			css = ""
		}
		if !styleHides(decls) {
			continue
		}
		for _, one := range strings.Split(sel, ",") {
			h.addSelector(strings.TrimSpace(one))
		}
	}
}

// addSelector records the last compound of a selector: ".a .b" → class b.
func (h *hidingSheet) addSelector(sel string) {
	if i := strings.LastIndexAny(sel, " >+~"); i >= 0 {
		sel = sel[i+1:]
	}
	// Pseudo-classes and attribute selectors narrow the match; ignoring them
	// over-hides, the safe side.
	if i := strings.IndexAny(sel, ":["); i >= 0 {
		sel = sel[:i]
	}
	if sel == "" {
		return
	}
	name := sel
	if i := strings.IndexAny(sel, ".#"); i >= 0 {
		name = sel[:i]
		rest := sel[i:]
		for len(rest) > 1 {
			kind := rest[0]
			rest = rest[1:]
			j := strings.IndexAny(rest, ".#")
			if j < 0 {
				j = len(rest)
			}
			word := rest[:j]
			rest = rest[j:]
			if word == "" {
				continue
			}
			if kind == '.' {
				h.classes = setAdd(h.classes, word)
			} else {
				h.ids = setAdd(h.ids, word)
			}
		}
		if name == "" || name == "*" {
			return
		}
		// "span.x" is recorded as class x only.
		return
	}
	if name == "*" || name == "body" || name == "html" {
		// Hiding everything would leave no text; such sheets are for
		// print or for one client, and other rules decide.
		return
	}
	h.tags = setAdd(h.tags, strings.ToLower(name))
}

func setAdd(m map[string]bool, k string) map[string]bool {
	if m == nil {
		m = map[string]bool{}
	}
	m[k] = true
	return m
}

// readTag reads a start tag at s[0] == '<': its lower-case name and
// attributes, and how many bytes it spans. ok is false when it never ends.
func readTag(s string) (t tag, n int, ok bool) {
	name, i := tagName(s[1:])
	i++
	t.name = name
	for i < len(s) {
		for i < len(s) && (isSpaceByte(s[i]) || s[i] == '/') {
			i++
		}
		if i >= len(s) {
			return t, 0, false
		}
		if s[i] == '>' {
			return t, i + 1, true
		}
		// Attribute name.
		start := i
		for i < len(s) && !isSpaceByte(s[i]) && s[i] != '=' && s[i] != '>' && !(s[i] == '/' && i > start) {
			i++
		}
		key := strings.ToLower(s[start:i])
		for i < len(s) && isSpaceByte(s[i]) {
			i++
		}
		val := ""
		if i < len(s) && s[i] == '=' {
			i++
			for i < len(s) && isSpaceByte(s[i]) {
				i++
			}
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					return t, 0, false
				}
				val = s[i+1 : i+1+end]
				i += end + 2
			} else {
				vs := i
				for i < len(s) && !isSpaceByte(s[i]) && s[i] != '>' {
					i++
				}
				val = s[vs:i]
			}
		}
		if keptAttrs[key] {
			if t.attrs == nil {
				t.attrs = map[string]string{}
			}
			if _, dup := t.attrs[key]; !dup { // the first one wins, as in HTML
				t.attrs[key] = html.UnescapeString(val)
			}
		}
	}
	return t, 0, false
}

// keptAttrs are the attributes that decide whether an element shows.
var keptAttrs = map[string]bool{"hidden": true, "style": true, "class": true, "id": true, "type": true}

// tagName reads a tag name at the start of s, lower-cased.
func tagName(s string) (string, int) {
	i := 0
	for i < len(s) && !isSpaceByte(s[i]) && s[i] != '/' && s[i] != '>' {
		i++
	}
	return strings.ToLower(s[:i]), i
}

func isASCIILetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

func isSpaceByte(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f'
}

// indexFold is strings.Index for an ASCII needle, ignoring case.
func indexFold(s, needle string) int {
	n := len(needle)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], needle) {
			return i
		}
	}
	return -1
}
