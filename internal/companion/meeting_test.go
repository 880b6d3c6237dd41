package companion

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
		why  string // part of the reason, when refused
	}{
		{"Samantha", true, ""},
		{"Mae-Lin", true, ""},
		{"O'Brien", true, ""},
		{"Anne Marie", true, ""},
		{"Zoë", true, ""},
		{"Zoe\u0308", true, ""}, // a combining diaeresis belongs to its letter
		{"Ольга", true, ""},
		{"지우", true, ""},
		{"さくら", true, ""},
		{"美咲", true, ""},
		{"千あき", true, ""},
		{"Beste Single배ㅏ", false, "mixes Latin and Hangul"},
		{"Ivan Иван", false, "mixes"},
		{"Nova Sky Blue", false, "3 words"},
		{"", false, "empty"},
		{"R2D2", false, `contains '2'`},
		{"Iris!", false, `contains '!'`},
		{"-Iris", false, "starts or ends"},
		{"Ann  Lee", false, "spacing"},
		{strings.Repeat("a", 33), false, "32"},
	} {
		err := validName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("validName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), tc.why) {
			t.Errorf("validName(%q) = %q, want the reason to say %q", tc.name, err, tc.why)
		}
	}
}

func TestParseNameReportsWhatWasAnswered(t *testing.T) {
	for _, tc := range []struct {
		answer string
		want   []string // in the error
		not    []string
	}{
		{"{gibberish: ]] }} {{", []string{`it answered "{gibberish: ]] }} {{"`, "no name in it"}, []string{"(empty)"}},
		{`{"nom": "Iris"}`, []string{`{\"nom\": \"Iris\"}`, "no name in it"}, []string{"(empty)"}},
		{`{"name": "Beste Single배ㅏ"}`, []string{"mixes Latin and Hangul"}, nil},
		{"   ", []string{"answered nothing"}, []string{"(empty)"}},
		{"{\x1b[31m" + strings.Repeat("z", 200) + "}", []string{`\x1b[31m`, "…"}, []string{strings.Repeat("z", 100)}},
	} {
		_, err := parseName(tc.answer)
		if !errors.Is(err, ErrBadName) {
			t.Errorf("parseName(%q) = %v, want ErrBadName", tc.answer, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("parseName(%q): %q does not say %q", tc.answer, err, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(err.Error(), n) {
				t.Errorf("parseName(%q): %q says %q", tc.answer, err, n)
			}
		}
	}
}
