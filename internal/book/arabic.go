package book

import "unicode"

// Arabic letters join: each takes an isolated, final, initial or medial form
// by its neighbours. fpdf does no shaping, so the PDF draws the Unicode
// presentation forms (FE80–FEFC, in DejaVu Sans) chosen here, and attaches
// the letters as typed as ActualText, so copying and extraction give them
// back. Lam-alef ligatures are not formed.

// arabicForms maps a letter to its isolated presentation form and how many
// forms it has: 1 (does not join), 2 (joins only to the letter before it),
// 4 (joins on both sides).
var arabicForms = map[rune]struct {
	iso   rune
	forms int
}{
	0x0621: {0xFE80, 1}, 0x0622: {0xFE81, 2}, 0x0623: {0xFE83, 2}, 0x0624: {0xFE85, 2},
	0x0625: {0xFE87, 2}, 0x0626: {0xFE89, 4}, 0x0627: {0xFE8D, 2}, 0x0628: {0xFE8F, 4},
	0x0629: {0xFE93, 2}, 0x062A: {0xFE95, 4}, 0x062B: {0xFE99, 4}, 0x062C: {0xFE9D, 4},
	0x062D: {0xFEA1, 4}, 0x062E: {0xFEA5, 4}, 0x062F: {0xFEA9, 2}, 0x0630: {0xFEAB, 2},
	0x0631: {0xFEAD, 2}, 0x0632: {0xFEAF, 2}, 0x0633: {0xFEB1, 4}, 0x0634: {0xFEB5, 4},
	0x0635: {0xFEB9, 4}, 0x0636: {0xFEBD, 4}, 0x0637: {0xFEC1, 4}, 0x0638: {0xFEC5, 4},
	0x0639: {0xFEC9, 4}, 0x063A: {0xFECD, 4}, 0x0641: {0xFED1, 4}, 0x0642: {0xFED5, 4},
	0x0643: {0xFED9, 4}, 0x0644: {0xFEDD, 4}, 0x0645: {0xFEE1, 4}, 0x0646: {0xFEE5, 4},
	0x0647: {0xFEE9, 4}, 0x0648: {0xFEED, 2}, 0x0649: {0xFEEF, 2}, 0x064A: {0xFEF1, 4},
}

func isArabicLetter(r rune) bool { _, ok := arabicForms[r]; return ok }

// shapeArabic returns s (a run of Arabic letters and marks, logical order)
// with each letter in its joining form.
func shapeArabic(s string) string {
	rs := []rune(s)
	out := make([]rune, len(rs))
	// neighbour finds the nearest letter before (d=-1) or after (d=1) i,
	// skipping combining marks.
	neighbour := func(i, d int) rune {
		for j := i + d; j >= 0 && j < len(rs); j += d {
			if !unicode.Is(unicode.Mn, rs[j]) {
				return rs[j]
			}
		}
		return 0
	}
	for i, r := range rs {
		f, ok := arabicForms[r]
		if !ok {
			out[i] = r
			continue
		}
		prev, next := neighbour(i, -1), neighbour(i, 1)
		pf, pok := arabicForms[prev]
		joinsBefore := f.forms > 1 && pok && pf.forms == 4
		nf, nok := arabicForms[next]
		joinsAfter := f.forms == 4 && nok && nf.forms > 0
		switch {
		case joinsBefore && joinsAfter:
			out[i] = f.iso + 3
		case joinsBefore:
			out[i] = f.iso + 1
		case joinsAfter:
			out[i] = f.iso + 2
		default:
			out[i] = f.iso
		}
	}
	return string(out)
}
