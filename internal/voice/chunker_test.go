package voice

import (
	"strings"
	"testing"
	"time"
)

func TestChunker(t *testing.T) {
	long := "This clause keeps going on and on without any full stop because the model likes to talk about many things at once, and then it goes on"
	for _, tc := range []struct {
		name   string
		deltas []string
		want   []string
	}{
		{"sentences", []string{"Hello there. ", "How are", " you? I'm fine!", " Good"}, []string{"Hello there.", "How are you?", "I'm fine!", "Good"}},
		{"first chunk ends at once", []string{"Hello there."}, []string{"Hello there."}},
		{"titles and initials", []string{"I saw Dr. Smith and J. R. Tolkien today. Then"}, []string{"I saw Dr. Smith and J. R. Tolkien today.", "Then"}},
		{"e.g. and i.e.", []string{"Fruit, e.g. apples, i.e. round ones. Yes"}, []string{"Fruit, e.g. apples, i.e. round ones.", "Yes"}},
		{"decimals", []string{"It costs 3", ".", "14 dollars. Cheap"}, []string{"It costs 3.14 dollars.", "Cheap"}},
		{"number ends a sentence", []string{"I was born in 1990. Then I grew up."}, []string{"I was born in 1990.", "Then I grew up."}},
		{"ellipsis", []string{"Well... I think so… Maybe"}, []string{"Well...", "I think so…", "Maybe"}},
		{"newlines and lists", []string{"Steps:\n1. Buy milk\n2. Drink it\n\nDone"}, []string{"Steps:", "1. Buy milk", "2. Drink it", "Done"}},
		{"quotes", []string{`She said "go home." And left.`}, []string{`She said "go home."`, "And left."}},
		{"first comma", []string{"Oh, I remember that day so well, because it rained."}, []string{"Oh, I remember that day so well,", "because it rained."}},
		{"long clause", []string{long + ". End"}, []string{long[:strings.Index(long, ",")+1], strings.TrimSpace(long[strings.Index(long, ",")+1:]) + ".", "End"}},
		{"url", []string{"See example.com for more. OK"}, []string{"See example.com for more.", "OK"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChunker(ChunkerOptions{})
			var got []string
			for _, d := range tc.deltas {
				for _, ch := range c.push(d) {
					got = append(got, ch.Text)
				}
			}
			for _, ch := range c.flush() {
				got = append(got, ch.Text)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("chunks\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestChunkerOffsetsPointIntoTheText(t *testing.T) {
	c := newChunker(ChunkerOptions{})
	var chunks []chunk
	for _, d := range []string{"  Hi.  ", "How ", "are you?\n\nFine"} {
		chunks = append(chunks, c.push(d)...)
	}
	chunks = append(chunks, c.flush()...)
	full := c.Full()
	for _, ch := range chunks {
		if full[ch.Start:ch.End] != ch.Text {
			t.Errorf("chunk %q at %d:%d is %q in the text", ch.Text, ch.Start, ch.End, full[ch.Start:ch.End])
		}
	}
	if len(chunks) != 3 {
		t.Fatalf("chunks %+v", chunks)
	}
}

func TestChunkerMaxWithoutPunctuation(t *testing.T) {
	c := newChunker(ChunkerOptions{Max: 40})
	text := strings.Repeat("word ", 30)
	var got []chunk
	got = append(got, c.push(text)...)
	got = append(got, c.flush()...)
	for _, ch := range got {
		if len(ch.Text) > 45 {
			t.Errorf("chunk of %d bytes", len(ch.Text))
		}
	}
	if len(got) < 3 {
		t.Fatalf("got %d chunks", len(got))
	}
}

func TestSpoken(t *testing.T) {
	for in, want := range map[string]string{
		"**Bold** and _em_ and `code`": "Bold and em and code",
		"# Heading":                    "Heading",
		"- a bullet":                   "a bullet",
		"see [the docs](http://x/y).":  "see the docs.",
	} {
		if got := spoken(in); got != want {
			t.Errorf("spoken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMidSentence(t *testing.T) {
	for text, want := range map[string]bool{
		"Hello there.":                  false,
		"I was thinking that":           true,
		"I went to the":                 true,
		"and I said, um":                true,
		"I love you":                    false,
		"so, because":                   true,
		"Let me think,":                 true,
		"What do you think?":            false,
		"I'm not sure...":               true,
		"":                              false,
		"He left, and":                  true,
		"This is the end of the story.": false,
		"Ask Bob's":                     false,
	} {
		if got := midSentence(text); got != want {
			t.Errorf("midSentence(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestHeard(t *testing.T) {
	c := newChunker(ChunkerOptions{})
	m := &spokenMsg{text: c}
	var chunks []chunk
	chunks = append(chunks, c.push("One two three four. Five six seven eight. Nine")...)
	chunks = append(chunks, c.flush()...)
	var off time.Duration
	for _, ch := range chunks {
		d := time.Duration(len(strings.Fields(ch.Text))) * 250 * time.Millisecond
		m.sentences = append(m.sentences, &sentence{chunk: ch, offset: off, dur: d, sent: true})
		off += d
	}
	for played, want := range map[time.Duration]string{
		0:                       "",
		200 * time.Millisecond:  "",
		500 * time.Millisecond:  "One two",
		1000 * time.Millisecond: "One two three four.",
		1500 * time.Millisecond: "One two three four. Five six",
		1999 * time.Millisecond: "One two three four. Five six seven",
		5 * time.Second:         "One two three four. Five six seven eight. Nine",
	} {
		if got := m.heard(played); got != want {
			t.Errorf("heard after %v = %q, want %q", played, got, want)
		}
	}
}
