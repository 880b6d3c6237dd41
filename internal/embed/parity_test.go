package embed

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// paritySentences are compared with the JS reference, one by one. They cover
// what a companion's memory sees: short and long, questions, typos, dates,
// names, numbers, emoji, other scripts, odd spacing and a text past the
// model's 128-token window.
var paritySentences = []string{
	"hello",
	"Hello, World!",
	"The quick brown fox jumps over the lazy dog.",
	"How old are you?",
	"What's the weather like in Paris tomorrow?",
	"Remind me to call mom tomorrow at 5pm.",
	"I had a meeting with Sarah about the quarterly budget on Tuesday.",
	"My favourite food is pizza with extra cheese and olives.",
	"Can you recommend a good book about machine learning for beginners?",
	"I'm feeling a bit down today, work has been overwhelming.",
	"Dentist appointment on 2024-03-15 at 09:30.",
	"My birthday is on the 4th of July, 1990.",
	"Flight LH 1234 departs Frankfurt at 14:05 and lands in Lisbon at 16:20.",
	"Pay the electricity bill of $142.37 before Friday!!!",
	"Call +1 (555) 010-9999 if the package doesn't arrive.",
	"teh quikc borwn fox jmups ovr teh lazzy dgo",
	"i dont no wat 2 do anymoar lol",
	"Where did I park the car?",
	"Who is Ada Lovelace and why is she famous?",
	"Barack Obama was the 44th president of the United States.",
	"Marie Curie won Nobel prizes in physics and chemistry.",
	"My sister Émilie lives in Montréal with her cat Pâté.",
	"Ich möchte einen Kaffee, bitte.",
	"¿Dónde está la biblioteca?",
	"Je ne sais pas ce que tu veux dire.",
	"Привет, как дела?",
	"東京は日本の首都です。",
	"我喜欢学习中文。",
	"مرحبا بك في المنزل",
	"I love you ❤️ so much 😍😍😍",
	"🎉🎂 Happy birthday! 🥳",
	"👨‍👩‍👧‍👦 family dinner on sunday",
	"ｆｕｌｌｗｉｄｔｈ ｔｅｘｔ and the ﬁ ligature",
	"x² + y² = z², and ½ is 0.5",
	"THIS IS ALL CAPS AND VERY LOUD",
	"why... why would you do that?!?!",
	"   leading and trailing spaces   ",
	"tabs\tand\nnewlines\r\ninside",
	"double  spaces  between  words",
	" ",
	"a",
	"42",
	"3.14159265358979",
	"1234567890 0987654321",
	"https://example.com/path?query=1&x=y :) :-(",
	"user@example.org wrote: see you at 10am",
	"func main() { fmt.Println(\"hi\") }",
	"SELECT * FROM users WHERE id = 7;",
	"The mitochondria is the powerhouse of the cell.",
	"It is raining cats and dogs outside.",
	"Buy milk, eggs, bread, butter, and coffee beans.",
	"Don't forget: the meeting moved from 3 PM to 4:30 PM.",
	"She said, \"I'll be there in five minutes.\"",
	"rock'n'roll isn't dead — it's just resting…",
	"C'est la vie; c'est comme ça.",
	strings.Repeat("This sentence is repeated to go past the model's window of one hundred and twenty-eight tokens. ", 12),
	"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.",
}

// TestParityWithReference compares token ids and vectors with the JS
// implementation: ids must be equal, vectors must have cosine ≥ 0.999.
func TestParityWithReference(t *testing.T) {
	u := model(t)
	var refIDs [][]int32
	reference(t, "tokenize", paritySentences, &refIDs)
	var refVecs [][]float64
	reference(t, "embed", paritySentences, &refVecs)
	if len(refVecs) != len(paritySentences) || len(refIDs) != len(paritySentences) {
		t.Fatalf("reference answered %d vectors and %d token lists for %d texts", len(refVecs), len(refIDs), len(paritySentences))
	}
	got, err := u.Embed(context.Background(), paritySentences)
	if err != nil {
		t.Fatal(err)
	}
	minCos, worst := 2.0, ""
	for i, s := range paritySentences {
		if ids := u.tok.Encode(s); !slices.Equal(ids, refIDs[i]) {
			t.Errorf("tokens of %q:\n got  %v\n want %v", s, ids, refIDs[i])
		}
		if refVecs[i] == nil {
			t.Errorf("reference gave no vector for %q", s)
			continue
		}
		if len(got[i]) != len(refVecs[i]) {
			t.Fatalf("%q: %d values, reference has %d", s, len(got[i]), len(refVecs[i]))
		}
		c := cosine(got[i], refVecs[i])
		if c < 0.999 {
			t.Errorf("cosine with the reference for %q is %.6f, want ≥ 0.999", s, c)
		}
		if c < minCos {
			minCos, worst = c, s
		}
	}
	t.Logf("parity over %d sentences: min cosine %.9f, 1-cos = %.1e (%q)", len(paritySentences), minCos, 1-minCos, worst)
}

// TestEmptyTextMatchesReference: the reference throws on a lone empty string
// but embeds one inside a batch; Embed gives that vector.
func TestEmptyTextMatchesReference(t *testing.T) {
	u := model(t)
	var ref [][]float64
	reference(t, "embed-batch", []string{"", "hello"}, &ref)
	got, err := u.Embed(context.Background(), []string{"", "hello"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if c := cosine(got[i], ref[i]); c < 0.999 {
			t.Errorf("text %d: cosine %.6f with the reference batch", i, c)
		}
	}
}
