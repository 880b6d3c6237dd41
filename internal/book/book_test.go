package book

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needTool finds a Debian program the test needs. Missing, the test is skipped
// — except under `make test` and CI (OS1_E2E_REQUIRE=1), where it fails.
func needTool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " is not installed (Debian package " + pkg + "; scripts/deps.sh test installs it)"
	if os.Getenv("OS1_E2E_REQUIRE") == "1" {
		t.Fatal(msg + " (OS1_E2E_REQUIRE=1 makes this a failure)")
	}
	t.Skip(msg)
	return ""
}

// needFonts skips (or, under make test, fails) when the book fonts are missing.
func needFonts(t testing.TB) {
	t.Helper()
	if _, err := loadFonts(); err != nil {
		if os.Getenv("OS1_E2E_REQUIRE") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// realLetters is a small book with the Unicode real letters carry.
func realLetters() Manuscript {
	return Manuscript{
		Title:      "Letters to the People I Love",
		Subtitle:   "A year of writing",
		Author:     "Théo Martín",
		Dedication: "For *Chris*, who taught me to write back.",
		Foreword:   "These letters were written over a year. \"Some\" were never sent -- until now.",
		Language:   "en",
		Letters: []Letter{
			{Title: "For Chris, at fifty", Date: time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC), Body: "Dear Chris,\n\nFifty years -- and you're still the one who laughs first. I remember the café in Zürich, the crème brûlée, and the waiter who said \"naïve\" like a compliment...\n\n## What I owe you\n\n- the *courage* to start\n- the **patience** to finish\n- a smile 😊 at the end of every call\n\n> \"Write as if nobody's reading,\" you said.\n\nWith love,  \nTom"},
			{Title: "To David", Body: "Dear דוד כהן, I think of our evening in Haifa with Ahmed and his sister مريم often.\n\nشكرا and תודה are both words we learned that night. ❤"},
			{Title: "A note for Ana", Date: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Body: "Ana — it's 'the best' thing we've done. Ευχαριστώ, Привет, 你好 and 🎉 for the new year.\n\n![our picture](holiday.txt)\n\nSee you in the '90s style party."},
		},
	}
}

func TestEmptyManuscriptIsInputError(t *testing.T) {
	for _, m := range []Manuscript{
		{Title: "Nothing"},
		{Title: "Blank", Letters: []Letter{{Title: " ", Body: "\n \n"}}},
		{Title: "Huge", Letters: []Letter{{Title: "x", Body: strings.Repeat("a", MaxLetterBytes+1)}}},
		{Title: "Bad language", Language: "en US\" onload=", Letters: []Letter{{Title: "x", Body: "y"}}},
	} {
		for name, f := range map[string]func(context.Context, Manuscript, *bytes.Buffer) error{
			"epub": func(ctx context.Context, m Manuscript, b *bytes.Buffer) error { return EPUB(ctx, m, b, nil) },
			"pdf":  func(ctx context.Context, m Manuscript, b *bytes.Buffer) error { return PDF(ctx, m, b, nil) },
		} {
			var buf bytes.Buffer
			err := f(context.Background(), m, &buf)
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Errorf("%s of %q: err = %v, want *InputError", name, m.Title, err)
			}
			if buf.Len() != 0 {
				t.Errorf("%s of %q wrote %d bytes for a bad manuscript", name, m.Title, buf.Len())
			}
		}
	}
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
