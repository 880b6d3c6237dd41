package book

import (
	"context"
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"
)

// The printed book: 5.5 × 8.5 inches (digest, a common trade size), in points.
const (
	pageW, pageH = 396.0, 612.0
	marginInner  = 54.0 // the gutter side
	marginOuter  = 45.0
	marginTop    = 58.0
	marginBottom = 62.0
	bodySize     = 11.0
	bodyLead     = 14.5
	indentEm     = 1.2
)

// PDF writes m as a print-ready PDF to w: title page, dedication, contents
// with page numbers, foreword, and each letter opening on a new right-hand
// page, with running heads and page numbers, justified text, and no paragraph
// leaving a single line alone at the foot or head of a page. The serif (EB
// Garamond) and the fallback (DejaVu Sans, for Hebrew, Arabic and symbols) are
// embedded as subsets.
//
// The book is typeset twice: a measuring pass learns on which page each letter
// begins, so the contents can print page numbers; the second pass draws. p (may
// be nil) hears after each letter of each pass; ctx is checked between blocks.
func PDF(ctx context.Context, m Manuscript, w io.Writer, p Progress) error {
	m, err := check(m)
	if err != nil {
		return err
	}
	fonts, err := loadFonts()
	if err != nil {
		return err
	}
	n := len(m.Letters)
	step := func(done int) {
		if p != nil {
			p(done, 2*n)
		}
	}
	measure := newTypesetter(m, fonts, true, nil)
	if err := measure.book(ctx, func(i int) { step(i) }); err != nil {
		return err
	}
	final := newTypesetter(m, fonts, false, measure.starts)
	if err := final.book(ctx, func(i int) { step(n + i) }); err != nil {
		return err
	}
	if err := final.f.Error(); err != nil {
		return fmt.Errorf("book: making the PDF: %w", err)
	}
	if err := final.f.Output(w); err != nil {
		return fmt.Errorf("book: writing the PDF: %w", err)
	}
	return nil
}

// typesetter lays out the book page by page. In a dry run it measures but
// draws nothing, only counting pages.
type typesetter struct {
	f      *fpdf.Fpdf
	fonts  *fontSet
	m      Manuscript
	dry    bool
	page   int     // physical page number, 1 = the title page
	y      float64 // baseline of the next line
	head   string  // running head for right-hand pages (the letter's title)
	starts []int   // the page each letter begins on (known in the second pass)
	widths map[wkey]float64
	placed []placement // every piece of a paragraph put on a page
	paraN  int
}

// placement records lines of one paragraph set on one page, so tests can see
// that no paragraph leaves a lone line at a page's foot or head.
type placement struct{ para, page, lines, total int }

type wkey struct {
	font, text string
	size       float64
}

func newTypesetter(m Manuscript, fonts *fontSet, dry bool, starts []int) *typesetter {
	f := fpdf.NewCustom(&fpdf.InitType{UnitStr: "pt", Size: fpdf.SizeType{Wd: pageW, Ht: pageH}})
	f.SetAutoPageBreak(false, 0)
	f.SetMargins(0, 0, 0)
	f.AddUTF8FontFromBytes("serif", "", fonts.regular.data)
	f.AddUTF8FontFromBytes("serif", "I", fonts.italic.data)
	f.AddUTF8FontFromBytes("serif", "B", fonts.bold.data)
	f.AddUTF8FontFromBytes("sans", "", fonts.fallback.data)
	f.SetTitle(bmpOnly(Smarten(m.Title)), true)
	f.SetAuthor(bmpOnly(m.Author), true)
	f.SetCreator("os1", true)
	f.SetProducer("os1 book (fpdf)", true)
	f.SetLang(m.Language)
	f.SetCreationDate(modified(m))
	f.SetModificationDate(modified(m))
	f.SetCatalogSort(true)
	f.SetDisplayMode("fullpage", "TwoPageRight")
	t := &typesetter{f: f, fonts: fonts, m: m, dry: dry, starts: starts, widths: map[wkey]float64{}}
	if starts == nil {
		t.starts = make([]int, len(m.Letters))
	}
	return t
}

func (t *typesetter) book(ctx context.Context, step func(int)) error {
	m := t.m
	// Title page, and its blank back.
	t.newPage(false)
	t.centered(Smarten(m.Title), "serif", "", 26, pageH*0.32, 32)
	if m.Subtitle != "" {
		t.centered(Smarten(m.Subtitle), "serif", "I", 14, t.y+6, 18)
	}
	if m.Author != "" {
		t.centered(m.Author, "serif", "", 14, pageH*0.72, 18)
	}
	if strings.TrimSpace(m.Dedication) != "" {
		t.recto(false)
		t.y = pageH * 0.3
		t.blocks(ctx, parseMarkdown(m.Dedication), blockStyle{size: bodySize, style: "I", center: true})
	}
	// Contents.
	t.head = "Contents"
	t.recto(false)
	t.chapterTitle("Contents")
	t.contents()
	if strings.TrimSpace(m.Foreword) != "" {
		t.head = "Foreword"
		t.recto(true)
		t.chapterTitle("Foreword")
		if err := t.blocks(ctx, parseMarkdown(m.Foreword), blockStyle{size: bodySize}); err != nil {
			return err
		}
	}
	for i, l := range m.Letters {
		if err := canceled(ctx); err != nil {
			return err
		}
		title := Smarten(l.Title)
		t.head = title
		t.recto(true)
		t.starts[i] = t.page
		if !t.dry {
			t.f.Bookmark(bmpOnly(title), 0, 0)
		}
		t.chapterTitle(title)
		if d := dateLine(l.Date); d != "" {
			t.centered(d, "serif", "I", 10.5, t.y, 14)
			t.y += 10
		}
		t.y += bodyLead
		if err := t.blocks(ctx, parseMarkdown(l.Body), blockStyle{size: bodySize}); err != nil {
			return err
		}
		step(i + 1)
	}
	return nil
}

// recto starts the next right-hand (odd) page, leaving a blank back page when
// needed. A chapter opening has no running head but a page number.
func (t *typesetter) recto(folio bool) {
	if t.page%2 == 1 {
		t.newBlank()
	}
	t.newPage(folio)
	t.y = marginTop + pageH*0.16
}

func (t *typesetter) newBlank() {
	t.page++
	if !t.dry {
		t.f.AddPage()
	}
}

// newPage adds a page; folio prints its number at the foot.
func (t *typesetter) newPage(folio bool) {
	t.page++
	t.y = marginTop + bodySize
	if t.dry {
		return
	}
	t.f.AddPage()
	if folio {
		t.draw(fmt.Sprint(t.page), "serif", "", 9.5, pageW/2-t.width(fmt.Sprint(t.page), "serif", "", 9.5)/2, pageH-marginBottom/2)
	}
}

// continuePage turns to the next page inside a chapter: with a running head
// (the book's title on the left, the letter's on the right) and a number.
func (t *typesetter) continuePage() {
	t.newPage(true)
	if t.dry {
		return
	}
	head := Smarten(t.m.Title)
	if t.page%2 == 1 {
		head = t.head
	}
	head = t.fit(head, "serif", "I", 9, pageW-marginInner-marginOuter)
	w := t.width(head, "serif", "I", 9)
	t.drawRuns(t.runs(head, "serif", "I", 9), (pageW-w)/2, marginTop-24)
}

func (t *typesetter) left() float64 {
	if t.page%2 == 1 {
		return marginInner
	}
	return marginOuter
}

func (t *typesetter) measure() float64 { return pageW - marginInner - marginOuter }

func (t *typesetter) bottom() float64 { return pageH - marginBottom }

func (t *typesetter) chapterTitle(title string) {
	size := 18.0
	lines := t.breakLines(t.words([]span{{text: title}}, "serif", size), t.measure()-40, 0, size)
	for _, l := range lines {
		t.drawLine(l, t.left()+20, t.measure()-40, center)
		t.y += 24
	}
	// An ornament under the title.
	t.centered("❧", "serif", "", 14, t.y+2, 14)
	t.y += 18
}

// centered sets one short line (wrapped if it must) centred at baseline y.
func (t *typesetter) centered(s, family, style string, size, y, lead float64) {
	t.y = y
	for _, l := range t.breakLines(t.words([]span{{text: s, style: styleOf(style)}}, family, size), t.measure(), 0, size) {
		t.drawLine(l, t.left(), t.measure(), center)
		t.y += lead
	}
}

func styleOf(s string) style {
	switch s {
	case "I":
		return styleEm
	case "B":
		return styleStrong
	}
	return 0
}

// contents lists every letter with its page, dot leaders between.
func (t *typesetter) contents() {
	size := 11.0
	numW := t.width("0000", "serif", "", size)
	for i, l := range t.m.Letters {
		words := t.words([]span{{text: Smarten(l.Title)}}, "serif", size)
		lines := t.breakLines(words, t.measure()-numW-12, 0, size)
		if t.y+float64(len(lines)-1)*14 > t.bottom() {
			t.continuePage()
		}
		for j, ln := range lines {
			t.drawLine(ln, t.left(), t.measure()-numW-12, flushLeft)
			if j == len(lines)-1 && !t.dry {
				num := fmt.Sprint(t.starts[i])
				nw := t.width(num, "serif", "", size)
				x0 := t.left() + ln.width + 4
				x1 := t.left() + t.measure() - nw - 4
				dot := t.width(". ", "serif", "", size)
				for x := x1 - dot; x > x0; x -= dot {
					t.draw(".", "serif", "", size, x, t.y)
				}
				t.draw(num, "serif", "", size, t.left()+t.measure()-nw, t.y)
			}
			t.y += 14
		}
		t.y += 2
	}
}

// blockStyle is how a run of blocks is set.
type blockStyle struct {
	size   float64
	style  string // "" or "I": the base style (a dedication is italic)
	center bool
	indent float64 // extra left indent (block quotes, lists)
	right  float64 // extra right indent
}

func (t *typesetter) blocks(ctx context.Context, bs []block, st blockStyle) error {
	first := true
	for _, b := range bs {
		if err := canceled(ctx); err != nil {
			return err
		}
		lead := st.size * bodyLead / bodySize
		switch b.kind {
		case blockPara:
			ind := indentEm * st.size
			if first || st.center {
				ind = 0
			}
			t.paragraph(b.spans, st, ind, "")
			first = false
		case blockHeading:
			t.y += lead * 0.6
			hs := st
			hs.style = "I"
			hs.size = st.size + 1
			// Keep a heading with two lines of what follows.
			if t.y+3*lead > t.bottom() {
				t.continuePage()
			}
			t.paragraph(b.spans, hs, 0, "")
			t.y += lead * 0.2
			first = true
		case blockQuote:
			t.y += lead * 0.4
			qs := st
			qs.size = st.size - 0.8
			qs.indent += 18
			qs.right += 12
			if err := t.blocks(ctx, b.blocks, qs); err != nil {
				return err
			}
			t.y += lead * 0.4
			first = true
		case blockBullets, blockNumbers:
			t.y += lead * 0.3
			for i, it := range b.items {
				marker := "•"
				if b.kind == blockNumbers {
					marker = fmt.Sprintf("%d.", b.start+i)
				}
				ls := st
				ls.indent += 16
				t.paragraph(it, ls, 0, marker)
			}
			t.y += lead * 0.3
			first = true
		case blockBreak:
			if t.y+2*lead > t.bottom() {
				t.continuePage()
			} else {
				t.y += lead * 0.3
				t.centered("⁂", "serif", "", st.size, t.y, lead)
				t.y += lead * 0.3
			}
			first = true
		}
	}
	return nil
}

// paragraph sets spans as justified lines, keeping at least two lines of a
// paragraph together at the foot of a page and at the head of the next.
// A list item's marker is drawn in the margin of its first line.
func (t *typesetter) paragraph(spans []span, st blockStyle, indent float64, marker string) {
	lead := st.size * bodyLead / bodySize
	if st.style == "I" {
		for i := range spans {
			spans[i].style ^= styleEm
		}
	}
	width := t.measure() - st.indent - st.right
	lines := t.breakLines(t.words(spans, "serif", st.size), width, indent, st.size)
	total := len(lines)
	t.paraN++
	for len(lines) > 0 {
		room := int((t.bottom()-t.y)/lead) + 1
		if t.y > t.bottom() {
			room = 0
		}
		k := len(lines)
		if k > room {
			k = room
			if len(lines)-k < 2 {
				k = len(lines) - 2 // no widow: carry two lines over
			}
			if k < 2 {
				k = 0 // no orphan: start the paragraph on the next page
			}
		}
		for _, l := range lines[:k] {
			if marker != "" && !t.dry {
				mw := t.width(marker, "serif", "", st.size)
				t.drawRuns(t.runs(marker, "serif", "", st.size), t.left()+st.indent-4-mw, t.y)
				marker = ""
			}
			a := justify
			if st.center {
				a = center
			}
			t.drawLine(l, t.left()+st.indent, width, a)
			t.y += lead
		}
		if k > 0 {
			t.placed = append(t.placed, placement{t.paraN, t.page, k, total})
		}
		lines = lines[k:]
		if len(lines) > 0 {
			t.continuePage()
		}
	}
}
