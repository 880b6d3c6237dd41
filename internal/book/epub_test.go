package book

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestEPUBPassesEpubcheck(t *testing.T) {
	needFonts(t)
	var buf bytes.Buffer
	var calls []int
	if err := EPUB(context.Background(), realLetters(), &buf, func(done, total int) { calls = append(calls, done) }); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 || calls[2] != 3 {
		t.Errorf("progress calls = %v, want 1 2 3", calls)
	}
	runEpubcheck(t, buf.Bytes())
}

// runEpubcheck validates an EPUB with Debian's epubcheck: no errors, no warnings.
func runEpubcheck(t *testing.T, data []byte) {
	t.Helper()
	epubcheck := needTool(t, "epubcheck", "epubcheck")
	p := writeTemp(t, "book.epub", data)
	// Debian's epubcheck is a jar linked into /usr/bin, run through binfmt
	// where that is set up; java -jar runs it everywhere.
	cmd := exec.Command(epubcheck, p)
	if real, err := filepath.EvalSymlinks(epubcheck); err == nil && strings.HasSuffix(real, ".jar") {
		cmd = exec.Command(needTool(t, "java", "default-jre-headless"), "-jar", real, p)
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No errors or warnings detected") {
		t.Fatalf("epubcheck: %v\n%s", err, out)
	}
}

func TestEPUBStructureAndUnicode(t *testing.T) {
	needFonts(t)
	var buf bytes.Buffer
	if err := EPUB(context.Background(), realLetters(), &buf, nil); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if f := zr.File[0]; f.Name != "mimetype" || f.Method != zip.Store {
		t.Fatalf("first entry %s method %d, want mimetype stored", f.Name, f.Method)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	opf := files["OEBPS/content.opf"]
	for _, want := range []string{"<dc:identifier", "<dc:title>Letters to the People I Love</dc:title>", "<dc:creator>Théo Martín</dc:creator>", "<dc:language>en</dc:language>", "dcterms:modified", `media-type="font/ttf"`} {
		if !strings.Contains(opf, want) {
			t.Errorf("content.opf lacks %q", want)
		}
	}
	l1 := files["OEBPS/letter0001.xhtml"]
	for _, want := range []string{"Fifty years – and you’re still", "café in Zürich, the crème brûlée", "“naïve”", "compliment…", "<em>courage</em>", "<strong>patience</strong>", "😊", "<blockquote>", "nobody’s reading,”", "With love,<br/>Tom"} {
		if !strings.Contains(l1, want) {
			t.Errorf("letter 1 lacks %q:\n%s", want, l1)
		}
	}
	l2 := files["OEBPS/letter0002.xhtml"]
	for _, want := range []string{"<bdi>דוד כהן</bdi>,", "<bdi>مريم</bdi>", "<bdi>شكرا</bdi> and <bdi>תודה</bdi> are", "❤"} {
		if !strings.Contains(l2, want) {
			t.Errorf("letter 2 lacks %q:\n%s", want, l2)
		}
	}
	l3 := files["OEBPS/letter0003.xhtml"]
	for _, want := range []string{"Ευχαριστώ, Привет, 你好 and 🎉", "[image not included: our picture]", "the ’90s style", "‘the best’"} {
		if !strings.Contains(l3, want) {
			t.Errorf("letter 3 lacks %q:\n%s", want, l3)
		}
	}
	if strings.Contains(l3, "<img") {
		t.Error("an image reference was embedded")
	}
}

// TestEPUBHostileTextStaysWellFormed: whatever a letter holds, every XHTML
// and XML file in the EPUB parses, and the text survives as text.
func TestEPUBHostileTextStaysWellFormed(t *testing.T) {
	needFonts(t)
	weird := []string{
		"<script>alert(1)</script> & &amp; ]]> <![CDATA[x]]>",
		"**\x00\x01\x1f\x7f\u0085 control** \xff\xfe",
		"\u202Eevil\u202C \u2066isolate\u2069 \uFEFF bom",
		"# \n> \n- \n1. \n***\n`",
		"quote \" ' < > and emoji 👩‍👩‍👧 and 🇫🇷",
	}
	m := Manuscript{Title: "<Title & \"more\">", Author: "A & B", Dedication: weird[0], Foreword: weird[1]}
	for _, w := range weird {
		m.Letters = append(m.Letters, Letter{Title: w, Body: w})
	}
	var buf bytes.Buffer
	if err := EPUB(context.Background(), m, &buf, nil); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".xhtml") && !strings.HasSuffix(f.Name, ".xml") && !strings.HasSuffix(f.Name, ".opf") {
			continue
		}
		rc, _ := f.Open()
		d := xml.NewDecoder(rc)
		d.Strict = true
		d.Entity = xml.HTMLEntity
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s is not well-formed: %v", f.Name, err)
			}
		}
		rc.Close()
	}
	var body strings.Builder
	for _, f := range zr.File {
		if f.Name == "OEBPS/letter0001.xhtml" || f.Name == "OEBPS/letter0005.xhtml" {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			body.Write(b)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "👩‍👩‍👧", "🇫🇷"} {
		if !strings.Contains(body.String(), want) {
			t.Errorf("EPUB lacks %q", want)
		}
	}
	runEpubcheck(t, buf.Bytes())
	// The same manuscript makes a PDF.
	if err := PDF(context.Background(), m, &bytes.Buffer{}, nil); err != nil {
		t.Fatal(err)
	}
}
