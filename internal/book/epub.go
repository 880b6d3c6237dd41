package book

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"html"
	"io"
	"strings"
	"time"
	"unicode"
)

// EPUB writes m as an EPUB 3 book to w: a title page, the dedication and
// foreword when given, a table of contents and a chapter per letter, set in
// the embedded EB Garamond. p (may be nil) hears after each letter; ctx is
// checked between letters. Nothing is written to w unless the whole book is
// made.
func EPUB(ctx context.Context, m Manuscript, w io.Writer, p Progress) error {
	m, err := check(m)
	if err != nil {
		return err
	}
	fonts, err := loadFonts()
	if err != nil {
		return err
	}
	if err := canceled(ctx); err != nil {
		return err
	}
	// The book is built in memory and written at the end, so a failed or
	// canceled compilation writes nothing to w.
	var out bytes.Buffer
	z := zip.NewWriter(&out)
	// The mimetype entry comes first, stored, without extra fields.
	mw, err := z.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		return fmt.Errorf("book: writing the EPUB: %w", err)
	}
	io.WriteString(mw, "application/epub+zip")
	put := func(name, body string) error {
		f, err := z.Create(name)
		if err == nil {
			_, err = io.WriteString(f, body)
		}
		if err != nil {
			return fmt.Errorf("book: writing the EPUB (%s): %w", name, err)
		}
		return nil
	}
	putBytes := func(name string, body []byte) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store}) // fonts barely compress
		if err == nil {
			_, err = f.Write(body)
		}
		if err != nil {
			return fmt.Errorf("book: writing the EPUB (%s): %w", name, err)
		}
		return nil
	}
	if err := put("META-INF/container.xml", containerXML); err != nil {
		return err
	}

	type item struct{ id, href, title string }
	var front []item
	lang := xmlEsc(m.Language)
	front = append(front, item{"title", "title.xhtml", "Title page"})
	if err := put("OEBPS/title.xhtml", page(lang, m.Title, titleBody(m))); err != nil {
		return err
	}
	if strings.TrimSpace(m.Dedication) != "" {
		front = append(front, item{"dedication", "dedication.xhtml", "Dedication"})
		body := `<section epub:type="dedication" class="dedication">` + blocksHTML(parseMarkdown(m.Dedication)) + `</section>`
		if err := put("OEBPS/dedication.xhtml", page(lang, "Dedication", body)); err != nil {
			return err
		}
	}
	if strings.TrimSpace(m.Foreword) != "" {
		front = append(front, item{"foreword", "foreword.xhtml", "Foreword"})
		body := `<section epub:type="foreword"><h1 class="chapter">Foreword</h1>` + blocksHTML(parseMarkdown(m.Foreword)) + `</section>`
		if err := put("OEBPS/foreword.xhtml", page(lang, "Foreword", body)); err != nil {
			return err
		}
	}
	var chapters []item
	for i, l := range m.Letters {
		if err := canceled(ctx); err != nil {
			return err
		}
		it := item{fmt.Sprintf("letter%d", i+1), fmt.Sprintf("letter%04d.xhtml", i+1), Smarten(l.Title)}
		var b strings.Builder
		b.WriteString(`<section epub:type="chapter" role="doc-chapter"><h1 class="chapter">`)
		b.WriteString(inlineHTML([]span{{text: it.title}}))
		b.WriteString("</h1>")
		if d := dateLine(l.Date); d != "" {
			fmt.Fprintf(&b, `<p class="date"><time datetime="%s">%s</time></p>`, l.Date.Format("2006-01-02"), d)
		}
		b.WriteString(blocksHTML(parseMarkdown(l.Body)))
		b.WriteString("</section>")
		if err := put("OEBPS/"+it.href, page(lang, it.title, b.String())); err != nil {
			return err
		}
		chapters = append(chapters, it)
		if p != nil {
			p(i+1, len(m.Letters))
		}
	}

	// Navigation: the contents page is also in the reading order, after the
	// front matter.
	var nav strings.Builder
	nav.WriteString(`<nav epub:type="toc" id="toc" role="doc-toc"><h1 class="chapter">Contents</h1><ol class="toc">`)
	for _, c := range chapters {
		fmt.Fprintf(&nav, `<li><a href="%s">%s</a></li>`, c.href, inlineHTML([]span{{text: c.title}}))
	}
	nav.WriteString(`</ol></nav><nav epub:type="landmarks" hidden=""><h2>Landmarks</h2><ol>`)
	fmt.Fprintf(&nav, `<li><a epub:type="titlepage" href="title.xhtml">Title page</a></li>`)
	fmt.Fprintf(&nav, `<li><a epub:type="toc" href="nav.xhtml">Contents</a></li>`)
	fmt.Fprintf(&nav, `<li><a epub:type="bodymatter" href="%s">%s</a></li>`, chapters[0].href, inlineHTML([]span{{text: chapters[0].title}}))
	nav.WriteString(`</ol></nav>`)
	if err := put("OEBPS/nav.xhtml", page(lang, "Contents", nav.String())); err != nil {
		return err
	}
	if err := put("OEBPS/style.css", css); err != nil {
		return err
	}
	for _, f := range []*fontFace{fonts.regular, fonts.italic, fonts.bold} {
		if err := putBytes("OEBPS/fonts/"+f.file, f.data); err != nil {
			return err
		}
	}

	// The package document.
	var opf strings.Builder
	fmt.Fprintf(&opf, `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="bookid" xml:lang="%s">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier id="bookid">urn:uuid:%s</dc:identifier>
<dc:title>%s</dc:title>
`, lang, bookUUID(m), xmlEsc(Smarten(m.Title)))
	if m.Author != "" {
		fmt.Fprintf(&opf, "<dc:creator>%s</dc:creator>\n", xmlEsc(m.Author))
	}
	fmt.Fprintf(&opf, "<dc:language>%s</dc:language>\n", lang)
	if m.Subtitle != "" {
		fmt.Fprintf(&opf, "<dc:description>%s</dc:description>\n", xmlEsc(Smarten(m.Subtitle)))
	}
	// dcterms:modified is required; the book's content decides it (the latest
	// letter date, else a fixed epoch) so the same manuscript gives the same file.
	fmt.Fprintf(&opf, "<meta property=\"dcterms:modified\">%s</meta>\n</metadata>\n<manifest>\n", modified(m).UTC().Format("2006-01-02T15:04:05Z"))
	opf.WriteString(`<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>` + "\n")
	opf.WriteString(`<item id="css" href="style.css" media-type="text/css"/>` + "\n")
	for i, f := range []*fontFace{fonts.regular, fonts.italic, fonts.bold} {
		fmt.Fprintf(&opf, `<item id="font%d" href="fonts/%s" media-type="font/ttf"/>`+"\n", i, f.file)
	}
	for _, it := range append(front, chapters...) {
		fmt.Fprintf(&opf, `<item id="%s" href="%s" media-type="application/xhtml+xml"/>`+"\n", it.id, it.href)
	}
	opf.WriteString("</manifest>\n<spine>\n")
	for _, it := range front {
		fmt.Fprintf(&opf, `<itemref idref="%s"/>`+"\n", it.id)
	}
	opf.WriteString(`<itemref idref="nav"/>` + "\n")
	for _, it := range chapters {
		fmt.Fprintf(&opf, `<itemref idref="%s"/>`+"\n", it.id)
	}
	opf.WriteString("</spine>\n</package>\n")
	if err := put("OEBPS/content.opf", opf.String()); err != nil {
		return err
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("book: writing the EPUB: %w", err)
	}
	if _, err := out.WriteTo(w); err != nil {
		return fmt.Errorf("book: writing the EPUB: %w", err)
	}
	return nil
}

const containerXML = `<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>
`

const css = `@font-face { font-family: "EB Garamond"; font-style: normal; font-weight: normal; src: url(fonts/EBGaramond12-Regular.ttf); }
@font-face { font-family: "EB Garamond"; font-style: italic; font-weight: normal; src: url(fonts/EBGaramond12-Italic.ttf); }
@font-face { font-family: "EB Garamond"; font-style: normal; font-weight: bold; src: url(fonts/EBGaramond12-Bold.ttf); }
body { font-family: "EB Garamond", Garamond, Georgia, serif; line-height: 1.4; margin: 0 5%; hyphens: auto; -epub-hyphens: auto; }
p { margin: 0; text-indent: 1.2em; text-align: justify; orphans: 2; widows: 2; }
h1 + p, h2 + p, h3 + p, .date + p, hr + p, blockquote p:first-child, li p { text-indent: 0; }
h1.chapter { font-weight: normal; font-size: 1.6em; text-align: center; margin: 3em 0 0.5em; page-break-before: always; }
h2, h3, h4, h5, h6 { font-weight: normal; font-style: italic; font-size: 1.1em; margin: 1.2em 0 0.4em; }
.date { text-align: center; font-style: italic; margin-bottom: 2em; text-indent: 0; }
.title { text-align: center; margin-top: 30%; }
.title h1 { font-size: 2.2em; font-weight: normal; margin: 0; }
.title .subtitle { font-style: italic; font-size: 1.2em; margin-top: 0.6em; text-indent: 0; text-align: center; }
.title .author { font-size: 1.2em; margin-top: 3em; text-indent: 0; text-align: center; letter-spacing: 0.08em; }
.dedication { margin-top: 30%; text-align: center; font-style: italic; }
.dedication p { text-align: center; text-indent: 0; }
blockquote { margin: 1em 1.5em; font-size: 0.95em; }
hr { border: none; margin: 1.2em 0; text-align: center; }
hr:after { content: "⁂"; }
.scene { text-align: center; text-indent: 0; margin: 1em 0; }
.note { font-style: italic; font-size: 0.9em; }
ol.toc { list-style: none; padding: 0; }
ol.toc li { margin: 0.3em 0; }
`

func page(lang, title, body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="` + lang + `" xml:lang="` + lang + `">
<head><meta charset="UTF-8"/><title>` + xmlEsc(title) + `</title><link rel="stylesheet" type="text/css" href="style.css"/></head>
<body>` + body + "</body>\n</html>\n"
}

func titleBody(m Manuscript) string {
	var b strings.Builder
	b.WriteString(`<section epub:type="titlepage" class="title"><h1>`)
	b.WriteString(inlineHTML([]span{{text: Smarten(m.Title)}}))
	b.WriteString("</h1>")
	if m.Subtitle != "" {
		b.WriteString(`<p class="subtitle">` + inlineHTML([]span{{text: Smarten(m.Subtitle)}}) + "</p>")
	}
	if m.Author != "" {
		b.WriteString(`<p class="author">` + inlineHTML([]span{{text: m.Author}}) + "</p>")
	}
	b.WriteString("</section>")
	return b.String()
}

func blocksHTML(bs []block) string {
	var b strings.Builder
	for _, bl := range bs {
		switch bl.kind {
		case blockPara:
			b.WriteString("<p" + dirAttr(bl.spans) + ">" + inlineHTML(bl.spans) + "</p>\n")
		case blockHeading:
			lv := min(bl.level+1, 6) // the letter's title is the h1
			fmt.Fprintf(&b, "<h%d%s>%s</h%d>\n", lv, dirAttr(bl.spans), inlineHTML(bl.spans), lv)
		case blockQuote:
			b.WriteString("<blockquote>" + blocksHTML(bl.blocks) + "</blockquote>\n")
		case blockBullets, blockNumbers:
			tag := "ul"
			start := ""
			if bl.kind == blockNumbers {
				tag = "ol"
				if bl.start != 1 {
					start = fmt.Sprintf(` start="%d"`, bl.start)
				}
			}
			b.WriteString("<" + tag + start + ">")
			for _, it := range bl.items {
				b.WriteString("<li" + dirAttr(it) + ">" + inlineHTML(it) + "</li>")
			}
			b.WriteString("</" + tag + ">\n")
		case blockBreak:
			b.WriteString(`<p class="scene" role="separator">⁂</p>` + "\n")
		}
	}
	return b.String()
}

// dirAttr sets a right-to-left direction on a block written mostly in Hebrew
// or Arabic (a whole letter in it); a name in an English letter is isolated
// with <bdi> instead.
func dirAttr(spans []span) string {
	rtl, ltr := 0, 0
	for _, s := range spans {
		for _, r := range s.text {
			if isRTL(r) {
				rtl++
			} else if unicode.IsLetter(r) {
				ltr++
			}
		}
	}
	if rtl > ltr {
		return ` dir="rtl"`
	}
	return ""
}

func inlineHTML(spans []span) string {
	var b strings.Builder
	for _, s := range spans {
		if s.br {
			b.WriteString("<br/>")
			continue
		}
		open, close := "", ""
		if s.style&styleStrong != 0 {
			open, close = open+"<strong>", "</strong>"+close
		}
		if s.style&styleEm != 0 {
			open, close = open+"<em>", "</em>"+close
		}
		if s.note {
			open, close = open+`<span class="note">`, "</span>"+close
		}
		b.WriteString(open + isolateRTL(s.text) + close)
	}
	return b.String()
}

// isolateRTL escapes text and wraps each run of right-to-left words (a Hebrew
// or Arabic name in an English letter) in <bdi>, so its direction neither
// leaks into nor takes from the surrounding text. A run goes from its first
// right-to-left letter to its last, over spaces and neutral characters but
// not over a left-to-right letter.
func isolateRTL(s string) string {
	if !strings.ContainsFunc(s, isRTL) {
		return xmlEsc(s)
	}
	var b strings.Builder
	i := 0
	for i < len(s) {
		start := strings.IndexFunc(s[i:], isRTL)
		if start < 0 {
			break
		}
		start += i
		end := start
		for j, r := range s[start:] {
			if isRTL(r) {
				end = start + j + len(string(r))
			} else if unicode.IsLetter(r) {
				break
			}
		}
		b.WriteString(xmlEsc(s[i:start]) + "<bdi>" + xmlEsc(s[start:end]) + "</bdi>")
		i = end
	}
	b.WriteString(xmlEsc(s[i:]))
	return b.String()
}

func isRTL(r rune) bool {
	return (r >= 0x0590 && r <= 0x08FF) || (r >= 0xFB1D && r <= 0xFDFF) || (r >= 0xFE70 && r <= 0xFEFF)
}

func xmlEsc(s string) string { return html.EscapeString(s) }

// bookUUID derives a stable identifier from the manuscript's title, author
// and letter titles: the same book keeps its identity across rebuilds.
func bookUUID(m Manuscript) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", m.Title, m.Author)
	for _, l := range m.Letters {
		fmt.Fprintf(h, "%s\x00", l.Title)
	}
	s := h.Sum(nil)
	s[6] = s[6]&0x0f | 0x50 // version 5 (name-based)
	s[8] = s[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

func modified(m Manuscript) time.Time {
	var t time.Time
	for _, l := range m.Letters {
		if l.Date.After(t) {
			t = l.Date
		}
	}
	if t.IsZero() {
		t = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return t
}
