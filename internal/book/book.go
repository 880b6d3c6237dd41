// Package book typesets a user's letters as a book: an EPUB 3 file and a PDF
// for print, both written by pure Go code (no cgo, no external programs).
//
// Both outputs share one reading of the manuscript: a small Markdown subset
// (markdown.go) and book typography — curly quotes, proper dashes, ellipses
// (typography.go). Broken Markdown never fails a book; it is set as plain
// text. The package never fetches anything: image references in letters are
// not embedded (they become a short note in the text), and fonts come from the
// machine's Debian font packages (fonts.go).
package book

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Manuscript is everything a book is made from. Letters keep their order.
type Manuscript struct {
	Title, Subtitle, Author string
	Dedication, Foreword    string // Markdown, both optional
	Language                string // BCP 47 tag, "en" when empty
	Letters                 []Letter
}

// Letter is one chapter of the book.
type Letter struct {
	Title string
	Body  string    // Markdown
	Date  time.Time // may be zero: no date line is printed
}

// Progress reports how far a compilation is: done of total steps. Steps are
// units of work (a letter typeset once), not letters: the PDF typesets every
// letter twice (once to learn page numbers for the contents), so its total is
// twice the number of letters. It is called from the compiling goroutine.
type Progress func(done, total int)

// InputError is a manuscript that cannot become a book, in words the user can
// act on. Test for it with errors.As.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return "book: " + e.Msg }

// langTag is the shape of a BCP 47 language tag (en, fr-CA, zh-Hant-TW).
var langTag = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

// MaxLetterBytes is the largest letter body a book accepts, the same limit
// documents have.
const MaxLetterBytes = 5 << 20

// MaxLetters bounds one book; far above any real collection.
const MaxLetters = 5000

// check validates m and fills defaults into a copy.
func check(m Manuscript) (Manuscript, error) {
	if strings.TrimSpace(m.Title) == "" {
		m.Title = "Letters"
	}
	if strings.TrimSpace(m.Language) == "" {
		m.Language = "en"
	}
	if !langTag.MatchString(m.Language) {
		return m, &InputError{Msg: fmt.Sprintf("the language %q is not a language tag like en, fr or pt-BR", m.Language)}
	}
	if len(m.Letters) == 0 {
		return m, &InputError{Msg: "the manuscript has no letters; add at least one letter to the book"}
	}
	if len(m.Letters) > MaxLetters {
		return m, &InputError{Msg: fmt.Sprintf("the manuscript has %d letters; a book holds at most %d", len(m.Letters), MaxLetters)}
	}
	empty := 0
	for i, l := range m.Letters {
		if len(l.Body) > MaxLetterBytes {
			return m, &InputError{Msg: fmt.Sprintf("letter %d (%q) is %d bytes; a letter may be at most %d bytes", i+1, l.Title, len(l.Body), MaxLetterBytes)}
		}
		if strings.TrimSpace(l.Body) == "" && strings.TrimSpace(l.Title) == "" {
			empty++
		}
	}
	if empty == len(m.Letters) {
		return m, &InputError{Msg: "every letter in the manuscript is empty; write something first"}
	}
	ls := make([]Letter, len(m.Letters))
	copy(ls, m.Letters)
	for i := range ls {
		ls[i].Body = sanitize(ls[i].Body)
		ls[i].Title = sanitize(ls[i].Title)
		ls[i].Title = clip(ls[i].Title, maxTitleRunes)
		if strings.TrimSpace(ls[i].Title) == "" {
			ls[i].Title = fmt.Sprintf("Letter %d", i+1)
		}
	}
	m.Letters = ls
	m.Title, m.Subtitle, m.Author = clip(sanitize(m.Title), maxTitleRunes), clip(sanitize(m.Subtitle), maxTitleRunes), clip(sanitize(m.Author), maxTitleRunes)
	m.Dedication, m.Foreword = sanitize(m.Dedication), sanitize(m.Foreword)
	return m, nil
}

// maxTitleRunes bounds titles, subtitle and author: they are set on one page.
const maxTitleRunes = 300

// clip shortens s to n runes, on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// sanitize makes text valid UTF-8 without control characters (other than
// newlines and tabs), which neither XML nor PDF text may carry.
func sanitize(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return -1
		case r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF):
			return -1
		}
		return r
	}, s)
}

// canceled returns ctx's error, wrapped so callers see what stopped.
func canceled(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("book: compilation stopped: %w", err)
	}
	return nil
}

func dateLine(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2 January 2006")
}
