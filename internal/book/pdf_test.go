package book

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// makePDF typesets m and writes it to a temp file.
func makePDF(t *testing.T, m Manuscript) string {
	t.Helper()
	needFonts(t)
	var buf bytes.Buffer
	if err := PDF(context.Background(), m, &buf, nil); err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "book.pdf", buf.Bytes())
}

func poppler(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command(needTool(t, tool, "poppler-utils"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
	return string(out)
}

// squash drops whitespace and the bidi marks pdftotext adds around
// right-to-left text, so text compares by its characters in order.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) || r == 0x200E || r == 0x200F {
			return -1
		}
		return r
	}, s)
}

// pdfPages is the text of each page, without running heads and page numbers.
func pdfPages(t *testing.T, path string, m Manuscript) []string {
	heads := map[string]bool{squash(Smarten(m.Title)): true}
	for _, l := range m.Letters {
		heads[squash(Smarten(l.Title))] = true
	}
	var pages []string
	for _, pg := range strings.Split(poppler(t, "pdftotext", "-enc", "UTF-8", path, "-"), "\f") {
		var keep []string
		for _, ln := range strings.Split(pg, "\n") {
			s := squash(ln)
			if _, err := strconv.Atoi(s); err == nil || heads[s] {
				continue
			}
			keep = append(keep, ln)
		}
		pages = append(pages, strings.Join(keep, "\n"))
	}
	return pages
}

// chunks is the text a letter must show, block by block, in order.
func chunks(body string) []string {
	var out []string
	var walk func([]block)
	walk = func(bs []block) {
		for _, b := range bs {
			if b.spans != nil {
				out = append(out, squash(plainText(b.spans)))
			}
			for _, it := range b.items {
				out = append(out, squash(plainText(it)))
			}
			walk(b.blocks)
		}
	}
	walk(parseMarkdown(sanitize(body)))
	return out
}

func TestPDFWithPoppler(t *testing.T) {
	m := realLetters()
	path := makePDF(t, m)

	// pdfinfo: title page, blank, dedication, blank, contents, blank,
	// foreword, blank, then three letters each on a right-hand page.
	info := poppler(t, "pdfinfo", path)
	if !regexp.MustCompile(`(?m)^Pages:\s+13$`).MatchString(info) {
		t.Errorf("pdfinfo:\n%s", info)
	}
	if !strings.Contains(info, "Letters to the People I Love") || !regexp.MustCompile(`Page size:\s+396 x 612 pts`).MatchString(info) {
		t.Errorf("pdfinfo title or page size:\n%s", info)
	}

	// pdffonts: every font embedded, with a Unicode map.
	fonts := strings.Split(strings.TrimSpace(poppler(t, "pdffonts", path)), "\n")[2:]
	if len(fonts) < 2 {
		t.Fatalf("pdffonts lists %d fonts", len(fonts))
	}
	for _, f := range fonts {
		col := strings.Fields(f)
		if len(col) < 7 || col[len(col)-5] != "yes" || col[len(col)-3] != "yes" {
			t.Errorf("font not embedded (or without ToUnicode): %s", f)
		}
	}

	// pdftotext: the contents give each letter's page, that page opens the
	// letter (an odd, right-hand page), and every letter's text follows in order.
	pages := pdfPages(t, path, m)
	contents := poppler(t, "pdftotext", "-f", "5", "-l", "5", "-layout", path, "-")
	all := squash(strings.Join(pages, ""))
	at := 0
	for i, l := range m.Letters {
		re := regexp.MustCompile(regexp.QuoteMeta(l.Title) + `[ .]*?(\d+)\s*$`)
		var page int
		for _, ln := range strings.Split(contents, "\n") {
			if mm := re.FindStringSubmatch(strings.TrimSpace(ln)); mm != nil {
				page, _ = strconv.Atoi(mm[1])
			}
		}
		if page == 0 || page%2 == 0 {
			t.Fatalf("letter %d (%q) is on page %d in the contents:\n%s", i+1, l.Title, page, contents)
		}
		opening := poppler(t, "pdftotext", "-f", strconv.Itoa(page), "-l", strconv.Itoa(page), path, "-")
		if !strings.HasPrefix(squash(opening), squash(l.Title)) {
			t.Errorf("page %d does not open with %q:\n%s", page, l.Title, opening)
		}
		for _, c := range chunks(l.Body) {
			k := strings.Index(all[at:], c)
			if k < 0 {
				t.Fatalf("letter %d: %q not found in order in the PDF text:\n%s", i+1, c, all[at:])
			}
			at += k + len(c)
		}
	}
	// The Unicode of real letters, in logical order.
	for _, want := range []string{"Zürich", "crèmebrûlée", "“naïve”", "😊", "דודכהן,", "مريم", "שכרא", "תודה", "❤", "Ευχαριστώ", "你好", "🎉", "’90s", "ThéoMartín"} {
		if want == "שכרא" {
			want = "شكرا"
		}
		if !strings.Contains(all, want) {
			t.Errorf("the PDF text lacks %q", want)
		}
	}

	// pdftoppm renders the title page, and it is not blank.
	out := filepath.Join(t.TempDir(), "title")
	poppler(t, "pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-png", "-singlefile", path, out)
	f, err := os.Open(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	dark, total := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			total++
			if r+g+bl < 3*0x8000 {
				dark++
			}
		}
	}
	if dark < total/1000 || dark > total/5 {
		t.Errorf("title page: %d dark pixels of %d; want a page with some type on it", dark, total)
	}
}

// TestPDFLongBook: many letters of many paragraphs — every letter opens on a
// right-hand page and no paragraph leaves a single line alone at a page's foot
// or head (widows and orphans).
func TestPDFLongBook(t *testing.T) {
	needFonts(t)
	m := manuscriptOf(12, 6000)
	ts := newTypesetter(func() Manuscript { m, _ := check(m); return m }(), mustFonts(t), true, nil)
	if err := ts.book(context.Background(), func(int) {}); err != nil {
		t.Fatal(err)
	}
	for i, p := range ts.starts {
		if p%2 != 1 {
			t.Errorf("letter %d opens on page %d, a left-hand page", i+1, p)
		}
	}
	split := 0
	for i, pl := range ts.placed {
		if pl.lines == pl.total {
			continue
		}
		split++
		if pl.lines < 2 && pl.total >= 2 {
			t.Errorf("paragraph %d: %d of %d lines on page %d", pl.para, pl.lines, pl.total, pl.page)
		}
		if i > 0 && ts.placed[i-1].para == pl.para && ts.placed[i-1].page == pl.page {
			t.Errorf("paragraph %d placed twice on page %d", pl.para, pl.page)
		}
	}
	if split == 0 {
		t.Error("no paragraph crossed a page: the test proves nothing")
	}

	// The drawn book has the pages the measuring pass counted, and pdftotext
	// finds every letter's text in order.
	path := makePDF(t, m)
	info := poppler(t, "pdfinfo", path)
	if !strings.Contains(info, "Pages:") {
		t.Fatal(info)
	}
	pages := pdfPages(t, path, m)
	if n := len(pages) - 1; n != ts.page { // pdftotext ends with a form feed
		t.Errorf("PDF has %d pages, the measuring pass %d", n, ts.page)
	}
	all := squash(strings.Join(pages, ""))
	at := 0
	for i, l := range m.Letters {
		for _, c := range chunks(l.Body) {
			k := strings.Index(all[at:], c)
			if k < 0 {
				t.Fatalf("letter %d: %q not found in order", i+1, c)
			}
			at += k + len(c)
		}
	}
}

func mustFonts(t *testing.T) *fontSet {
	fs, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestPDFProgressAndCancel(t *testing.T) {
	needFonts(t)
	m := manuscriptOf(4, 500)
	var calls [][2]int
	if err := PDF(context.Background(), m, &bytes.Buffer{}, func(d, n int) { calls = append(calls, [2]int{d, n}) }); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 8 || calls[7] != [2]int{8, 8} {
		t.Errorf("progress = %v, want 1..8 of 8", calls)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] <= calls[i-1][0] {
			t.Errorf("progress went back: %v", calls)
		}
	}

	for name, make := range map[string]func(context.Context, *bytes.Buffer, Progress) error{
		"pdf":  func(ctx context.Context, b *bytes.Buffer, p Progress) error { return PDF(ctx, m, b, p) },
		"epub": func(ctx context.Context, b *bytes.Buffer, p Progress) error { return EPUB(ctx, m, b, p) },
	} {
		ctx, cancel := context.WithCancel(context.Background())
		var buf bytes.Buffer
		err := make(ctx, &buf, func(d, n int) {
			if d == 2 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: canceled compilation returned %v", name, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: a canceled compilation wrote %d bytes", name, buf.Len())
		}
	}
}

// TestPDFBadInput: a 5 MB letter, broken Markdown and an image that isn't
// one all make a book.
func TestPDFBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("the 5 MB letter takes seconds")
	}
	huge, minPages := MaxLetterBytes-100, 1000
	if underRace {
		huge, minPages = 1<<20, 200
	}
	m := Manuscript{Title: "Odd letters", Letters: []Letter{
		{Title: "Huge", Body: letterText(huge, 1)},
		{Title: "Broken", Body: "**never closed _nor this [link( ``` \n> > > > > > > > > > > deep\n- \n1. \n\\"},
		{Title: "Picture", Body: "Here is us: ![us at the lake](notes.txt) and ![](data:text/plain,hello).\n\nAnd a very long word: " + strings.Repeat("x", 600)},
		{Title: "Control \x00 chars \x1b", Body: "bad \xff\xfe bytes \x07 and \U0001F600 emoji"},
	}}
	path := makePDF(t, m)
	// pdftotext reads a few thousand pages slowly: read the huge letter's
	// first pages and the rest of the book from the end.
	info := poppler(t, "pdfinfo", path)
	mm := regexp.MustCompile(`Pages:\s+(\d+)`).FindStringSubmatch(info)
	if mm == nil {
		t.Fatal(info)
	}
	n, _ := strconv.Atoi(mm[1])
	if n < minPages {
		t.Errorf("a %d-byte letter made only %d pages", huge, n)
	}
	head := squash(poppler(t, "pdftotext", "-l", "12", path, "-"))
	if c := chunks(m.Letters[0].Body); !strings.Contains(head, c[0]) || !strings.Contains(head, c[1]) {
		t.Errorf("the huge letter's opening is missing:\n%s", head)
	}
	all := squash(poppler(t, "pdftotext", "-f", strconv.Itoa(n-12), path, "-"))
	for _, want := range []string{"[imagenotincluded:usatthelake]", "[imagenotincluded]", "deep", strings.Repeat("x", 600), "bad\uFFFDbytesand😀emoji"} {
		if !strings.Contains(all, want) {
			t.Errorf("PDF text lacks %q", want[:min(len(want), 40)])
		}
	}
	var buf bytes.Buffer
	if err := EPUB(context.Background(), m, &buf, nil); err != nil {
		t.Fatal(err)
	}
}
