package main

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/bench/memory/dataset"
)

// check proves the benchmark fair before it is written: every answer
// message holds the words that answer its question, and no other message
// does (for a temporal question: no other message in its window), so a
// hit outside the answers is a miss, not a second right answer.
func check(qs []dataset.Question, all []placed, start, now time.Time) error {
	byID := map[string]placed{}
	lower := make([]string, len(all))
	for i, m := range all {
		byID[m.id] = m
		lower[i] = strings.ToLower(m.text)
	}
	wins := map[string]window{}
	for _, w := range windows(start, now) {
		wins[w.phrase] = w
	}
	var errs []error
	for _, q := range qs {
		if len(q.Answers) == 0 || len(q.Answers) != len(q.Expect) {
			errs = append(errs, fmt.Errorf("%q: %d answers, %d expected values", q.Question, len(q.Answers), len(q.Expect)))
			continue
		}
		answer := map[string]bool{}
		for i, id := range q.Answers {
			answer[id] = true
			if !containsWord(byID[id].text, q.Expect[i]) {
				errs = append(errs, fmt.Errorf("%q: answer %s does not say %q: %q", q.Question, id, q.Expect[i], byID[id].text))
			}
		}
		var in *window
		if q.Type == dataset.TypeTemporal {
			for phrase, w := range wins {
				if strings.Contains(q.Question, " "+phrase+"?") {
					in = &w
				}
			}
			if in == nil {
				errs = append(errs, fmt.Errorf("%q: temporal question names no known window", q.Question))
				continue
			}
		}
		for i, m := range all {
			if answer[m.id] || (in != nil && !in.has(m.at)) {
				continue
			}
			for _, v := range q.Expect {
				if hasWord(lower[i], strings.ToLower(v)) {
					errs = append(errs, fmt.Errorf("%q: %s is not an answer but says %q: %q", q.Question, m.id, v, m.text))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// containsWord reports whether s holds w, case-insensitively, not as part
// of a longer word ("bridge" is not in "bridges").
func containsWord(s, w string) bool {
	return hasWord(strings.ToLower(s), strings.ToLower(w))
}

// hasWord is containsWord on lower-case text.
func hasWord(s, w string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+len(w):])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		off = i + 1
	}
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}
