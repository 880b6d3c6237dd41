package book

import (
	"os"
	"strings"
	"testing"
)

func TestMissingFontSaysWhichPackage(t *testing.T) {
	_, err := readFont("NoSuchFont-Regular.ttf", "fonts-nosuch")
	if err == nil || !strings.Contains(err.Error(), "install the Debian package fonts-nosuch") {
		t.Errorf("err = %v", err)
	}
}

func TestCFFFontIsRefused(t *testing.T) {
	// Debian's fonts-ebgaramond is OpenType CFF: fpdf could not embed it.
	b, err := os.ReadFile("/usr/share/fonts/opentype/ebgaramond/EBGaramond12-Regular.otf")
	if err != nil {
		t.Skip("fonts-ebgaramond not installed")
	}
	if _, err := parseCmap(b); err == nil || !strings.Contains(err.Error(), "CFF") {
		t.Errorf("parseCmap(OTF) = %v, want a CFF error", err)
	}
}

func TestFontCoverage(t *testing.T) {
	needFonts(t)
	fs := mustFonts(t)
	for _, r := range "AaZzéüœ“”‘’–—…" {
		if !fs.regular.has(r) {
			t.Errorf("EB Garamond lacks %q", r)
		}
	}
	for _, r := range "דומרי❤" {
		if !fs.fallback.has(r) {
			t.Errorf("DejaVu Sans lacks %q", r)
		}
	}
	for r := range arabicForms {
		f := arabicForms[r]
		for k := rune(0); k < rune(f.forms); k++ {
			if !fs.fallback.has(f.iso + k) {
				t.Errorf("DejaVu Sans lacks the presentation form %U", f.iso+k)
			}
		}
	}
}
