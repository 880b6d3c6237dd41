package book

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// letterText is a realistic letter of about n bytes: paragraphs of varied
// length, some emphasis, quotes and dashes.
func letterText(n int, seed int) string {
	sentences := []string{
		"I keep thinking about the evening we spent on the balcony -- the light, the *quiet*, the way you said \"stay\" without saying it.",
		"It's strange how the smallest things stay with us...",
		"You taught me that **patience** is a kind of love, and I didn't understand it until this year.",
		"We walked to the café in Zürich and ordered crème brûlée twice.",
		"Some days I write you long letters in my head and never send them - this one I will.",
		"Thank you for the books, the calls, the 'just checking in' messages at midnight.",
	}
	var b strings.Builder
	for i := seed; b.Len() < n; i++ {
		for j := 0; j < 2+(i*7)%6 && b.Len() < n; j++ {
			b.WriteString(sentences[(i+j)%len(sentences)])
			b.WriteByte(' ')
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

func manuscriptOf(letters, size int) Manuscript {
	m := Manuscript{Title: "Five Hundred Letters", Author: "A. Writer", Dedication: "For everyone I wrote to.", Foreword: "A foreword."}
	for i := 0; i < letters; i++ {
		m.Letters = append(m.Letters, Letter{Title: "Letter to friend number " + strconv.Itoa(i+1), Body: letterText(size, i), Date: time.Date(2026, 1, 1+i%28, 0, 0, 0, 0, time.UTC)})
	}
	return m
}

// peakRSS is the process's peak resident set size in MiB (Linux).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkBook500 compiles a book of 500 letters of about 2 KB each (a
// 300-page paperback's worth and more) to PDF and EPUB; it reports peak RSS.
func BenchmarkBook500PDF(b *testing.B) {
	needFonts(b)
	m := manuscriptOf(500, 2000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := PDF(context.Background(), m, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
}

func BenchmarkBook500EPUB(b *testing.B) {
	needFonts(b)
	m := manuscriptOf(500, 2000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := EPUB(context.Background(), m, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
}

// BenchmarkBookLetter5MB is one letter at the 5 MB limit.
func BenchmarkBookLetter5MBPDF(b *testing.B) {
	needFonts(b)
	m := manuscriptOf(1, MaxLetterBytes-1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := PDF(context.Background(), m, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
}

func BenchmarkBookLetter5MBEPUB(b *testing.B) {
	needFonts(b)
	m := manuscriptOf(1, MaxLetterBytes-1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := EPUB(context.Background(), m, io.Discard, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
}
