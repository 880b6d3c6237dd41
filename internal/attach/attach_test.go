package attach

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func TestCheck(t *testing.T) {
	big := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	for _, tc := range []struct {
		name     string
		ups      []Upload
		wantMIME []string
		wantErr  error
		wantText string
	}{
		{"text and image", []Upload{{"notes.md", []byte("# hi\n")}, {"cat.jpg", pngHead}}, []string{TextMIME, "image/png"}, nil, ""},
		{"type from the bytes, not the name", []Upload{{"photo.png", []byte("just text")}}, []string{TextMIME}, nil, ""},
		{"jpeg gif webp", []Upload{{"a", []byte("\xff\xd8\xff\xe0....")}, {"b", []byte("GIF89a....")}, {"c", []byte("RIFF\x00\x00\x00\x00WEBPVP8 ")}},
			[]string{"image/jpeg", "image/gif", "image/webp"}, nil, ""},
		{"five files", []Upload{{"a", []byte("a")}, {"b", []byte("b")}, {"c", []byte("c")}, {"d", []byte("d")}, {"e", []byte("e")}}, nil, ErrTooMany, "5 files attached; the limit is 4"},
		{"text too big", []Upload{{"log.txt", big(MaxTextBytes+1, 'a')}}, nil, ErrTooBig, "file log.txt is 256 KB; text files can be at most 256 KB"},
		{"text at the limit", []Upload{{"log.txt", big(MaxTextBytes, 'a')}}, []string{TextMIME}, nil, ""},
		{"image too big", []Upload{{"huge.png", append(append([]byte{}, pngHead...), big(MaxImageSize, 0)...)}}, nil, ErrTooBig, "images can be at most 5 MB"},
		{"binary", []Upload{{"a.out", []byte("\x7fELF\x02\x01\x01\x00")}}, nil, ErrUnsupported, "file a.out is neither a text file nor a PNG, JPEG, GIF or WebP image"},
		{"NUL in UTF-8", []Upload{{"x.txt", []byte("ab\x00cd")}}, nil, ErrUnsupported, ""},
		{"latin-1", []Upload{{"x.txt", []byte("caf\xe9")}}, nil, ErrUnsupported, ""},
		{"bmp", []Upload{{"x.bmp", []byte("BM\x3e\x00\x00\x00\x00\x00")}}, nil, ErrUnsupported, ""},
		{"empty", []Upload{{"e.txt", nil}}, nil, ErrEmpty, "file e.txt is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Check(tc.ups)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tc.wantText) {
					t.Errorf("err = %q, want it to contain %q", err, tc.wantText)
				}
				return
			}
			var mimes []string
			for _, a := range got {
				mimes = append(mimes, a.MIME)
			}
			if strings.Join(mimes, ",") != strings.Join(tc.wantMIME, ",") {
				t.Errorf("types = %v, want %v", mimes, tc.wantMIME)
			}
		})
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd":               "passwd",
		`C:\Users\me\notes.txt`:          "notes.txt",
		"a\u202etxt.exe":                 "atxt.exe",
		"":                               "file-3",
		"line\nbreak.txt":                "line break.txt",
		strings.Repeat("x", 300) + ".md": strings.Repeat("x", MaxNameRunes-4) + "….md",
	} {
		if got := CleanName(in, 2); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestForModel(t *testing.T) {
	atts := []Attachment{
		{Name: "a.go", MIME: TextMIME, Data: []byte("x := \"```\"")},
		{Name: "cat.png", MIME: "image/png", Data: pngHead},
	}
	text, ims := ForModel("Look", atts, true)
	want := "Look\n\nFile a.go:\n````\nx := \"```\"\n````\n\n[Image attached: cat.png]"
	if text != want {
		t.Errorf("text = %q, want %q", text, want)
	}
	if len(ims) != 1 || ims[0].MIME != "image/png" || !bytes.Equal(ims[0].Data, pngHead) {
		t.Errorf("images = %+v", ims)
	}
	if _, ims := ForModel("Look", atts, false); len(ims) != 0 {
		t.Errorf("images without withImages: %d", len(ims))
	}
}
