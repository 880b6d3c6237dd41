package book

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// The book serif is EB Garamond in TrueType form (Debian fonts-ebgaramond-extra):
// fpdf embeds only TrueType (glyf) outlines, and Debian's fonts-ebgaramond ships
// EB Garamond as OpenType CFF only. The fallback for characters the serif lacks
// (Hebrew, Arabic, symbols and the emoji of the Basic Multilingual Plane) is
// DejaVu Sans (fonts-dejavu-core). Both are SIL OFL / free licences that allow
// embedding; they are found on disk rather than built into the binary, which
// would grow by 2 MB for fonts every Debian machine can install.

// fontDirs are where the fonts are looked for, in order.
var fontDirs = []string{
	"/usr/share/fonts/truetype/ebgaramond",
	"/usr/share/fonts/truetype/dejavu",
	"/usr/local/share/fonts",
	"/usr/share/fonts/TTF",
	"/usr/share/fonts/truetype",
}

type fontFace struct {
	file  string // file name
	data  []byte
	cmap  map[rune]uint16
	label string
}

type fontSet struct {
	regular, italic, bold, fallback *fontFace
}

var (
	fontsMu  sync.Mutex
	fontsVal *fontSet // read once, then shared read-only by every build
)

// loadFonts finds and reads the book's fonts. Success is kept for the
// process; a failure is not, so fonts installed later are found.
func loadFonts() (*fontSet, error) {
	fontsMu.Lock()
	defer fontsMu.Unlock()
	if fontsVal != nil {
		return fontsVal, nil
	}
	var fs fontSet
	for _, f := range []struct {
		dst  **fontFace
		name string
		pkg  string
	}{
		{&fs.regular, "EBGaramond12-Regular.ttf", "fonts-ebgaramond-extra"},
		{&fs.italic, "EBGaramond12-Italic.ttf", "fonts-ebgaramond-extra"},
		{&fs.bold, "EBGaramond12-Bold.ttf", "fonts-ebgaramond-extra"},
		{&fs.fallback, "DejaVuSans.ttf", "fonts-dejavu-core"},
	} {
		face, err := readFont(f.name, f.pkg)
		if err != nil {
			return nil, err
		}
		*f.dst = face
	}
	fontsVal = &fs
	return fontsVal, nil
}

func readFont(name, pkg string) (*fontFace, error) {
	for _, dir := range fontDirs {
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		cm, err := parseCmap(data)
		if err != nil {
			return nil, fmt.Errorf("book: font %s: %w", p, err)
		}
		return &fontFace{file: name, data: data, cmap: cm, label: p}, nil
	}
	return nil, fmt.Errorf("book: the font %s is not installed (looked in %v); install the Debian package %s (scripts/deps.sh run does)", name, fontDirs, pkg)
}

func (f *fontFace) has(r rune) bool {
	_, ok := f.cmap[r]
	return ok
}

// parseCmap reads a TrueType font's Unicode character map (formats 4 and 12)
// so the typesetter knows which characters the font can draw.
func parseCmap(b []byte) (map[rune]uint16, error) {
	if len(b) < 12 {
		return nil, fmt.Errorf("not a TrueType font")
	}
	if tag := string(b[:4]); tag != "\x00\x01\x00\x00" && tag != "true" {
		return nil, fmt.Errorf("not a TrueType (glyf) font; OpenType CFF fonts cannot be embedded in the PDF")
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	var off, size int
	for i := 0; i < n; i++ {
		rec := 12 + 16*i
		if rec+16 > len(b) {
			return nil, fmt.Errorf("truncated table directory")
		}
		if string(b[rec:rec+4]) == "cmap" {
			off = int(binary.BigEndian.Uint32(b[rec+8:]))
			size = int(binary.BigEndian.Uint32(b[rec+12:]))
		}
	}
	if off == 0 || off+size > len(b) || size < 4 {
		return nil, fmt.Errorf("no cmap table")
	}
	t := b[off : off+size]
	u16 := func(p int) int {
		if p+2 > len(t) {
			return 0
		}
		return int(binary.BigEndian.Uint16(t[p:]))
	}
	u32 := func(p int) int {
		if p+4 > len(t) {
			return 0
		}
		return int(binary.BigEndian.Uint32(t[p:]))
	}
	best, bestFmt := -1, 0
	for i := 0; i < u16(2); i++ {
		rec := 4 + 8*i
		pid, eid, sub := u16(rec), u16(rec+2), u32(rec+4)
		if !(pid == 0 || (pid == 3 && (eid == 1 || eid == 10))) {
			continue
		}
		f := u16(sub)
		if (f == 12 && bestFmt != 12) || (f == 4 && bestFmt == 0) {
			best, bestFmt = sub, f
		}
	}
	m := make(map[rune]uint16)
	switch bestFmt {
	case 4:
		segs := u16(best+6) / 2
		ends, starts := best+14, best+16+2*segs
		deltas, ranges := starts+2*segs, starts+4*segs
		for s := 0; s < segs; s++ {
			end, start := u16(ends+2*s), u16(starts+2*s)
			delta, ro := u16(deltas+2*s), u16(ranges+2*s)
			for c := start; c <= end && c != 0xFFFF; c++ {
				var g int
				if ro == 0 {
					g = (c + delta) & 0xFFFF
				} else {
					g = u16(ranges + 2*s + ro + 2*(c-start))
					if g != 0 {
						g = (g + delta) & 0xFFFF
					}
				}
				if g != 0 {
					m[rune(c)] = uint16(g)
				}
			}
		}
	case 12:
		groups := u32(best + 12)
		for i := 0; i < groups && i < 1<<16; i++ {
			g := best + 16 + 12*i
			start, end, gid := u32(g), u32(g+4), u32(g+8)
			for c := start; c <= end && c-start < 1<<16; c++ {
				m[rune(c)] = uint16(gid + c - start)
			}
		}
	default:
		return nil, fmt.Errorf("no Unicode cmap")
	}
	return m, nil
}
