package book

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
)

func TestPDFQuick(t *testing.T) {
	needFonts(t)
	var buf bytes.Buffer
	if err := PDF(context.Background(), realLetters(), &buf, nil); err != nil {
		t.Fatal(err)
	}
	p := writeTemp(t, "book.pdf", buf.Bytes())
	out, _ := exec.Command(needTool(t, "pdftotext", "poppler-utils"), p, "-").CombinedOutput()
	if !strings.Contains(string(out), "Fifty years") {
		t.Fatalf("pdftotext:\n%s", out)
	}
}
