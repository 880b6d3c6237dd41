package llm

import (
	"strings"
	"testing"
)

// TestThinkSplitterEveryCut feeds each content in two deltas cut at every
// byte, and in single bytes: the tags may be cut anywhere.
func TestThinkSplitterEveryCut(t *testing.T) {
	for _, tc := range []struct {
		name, content, answer, reasoning string
	}{
		{"think then answer", "<think>\nWeigh it.\n</think>\n\nYes.", "Yes.", "\nWeigh it.\n"},
		{"white space before the tag", "\n <think>hm</think>ok", "ok", "hm"},
		{"only thinking, closed", "<think>just thinking</think>\n", "", "just thinking"},
		{"only thinking, cut off", "<think>still thin", "", "still thin"},
		{"no tags", "Plain answer < 3 </think>", "Plain answer < 3 </think>", ""},
		{"a tag-like start is text", "<thing> is a word", "<thing> is a word", ""},
		{"think later in the answer is text", "Say <think> aloud", "Say <think> aloud", ""},
		{"a cut open tag at the end is text", "<thi", "<thi", ""},
		{"a cut close tag at the end is reasoning", "<think>a</thi", "", "a</thi"},
		{"nested open inside", "<think>x <think> y</think>z", "z", "x <think> y"},
	} {
		var cuts [][]string
		for i := 0; i <= len(tc.content); i++ {
			cuts = append(cuts, []string{tc.content[:i], tc.content[i:]})
		}
		cuts = append(cuts, strings.Split(tc.content, ""))
		for _, deltas := range cuts {
			var s thinkSplitter
			var answer, reasoning strings.Builder
			emit := func(ev Event) error {
				if ev.Text == "" {
					t.Errorf("%s: empty %v event", tc.name, ev.Kind)
				}
				switch ev.Kind {
				case EventText:
					answer.WriteString(ev.Text)
				case EventReasoning:
					if answer.Len() > 0 {
						t.Errorf("%s %q: reasoning after the answer", tc.name, deltas)
					}
					reasoning.WriteString(ev.Text)
				}
				return nil
			}
			for _, d := range deltas {
				if d != "" {
					s.push(d, emit)
				}
			}
			s.flush(emit)
			if answer.String() != tc.answer || reasoning.String() != tc.reasoning {
				t.Errorf("%s, deltas %q: answer %q reasoning %q; want %q and %q",
					tc.name, deltas, answer.String(), reasoning.String(), tc.answer, tc.reasoning)
			}
		}
	}
}
