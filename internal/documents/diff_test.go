package documents_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/documents"
)

func render(ls []documents.DiffLine) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Op + l.Text + "\n")
	}
	return b.String()
}

func TestDiffTable(t *testing.T) {
	for _, tc := range []struct {
		name, a, b, want string
	}{
		{"both empty", "", "", ""},
		{"from nothing", "", "a\nb\n", "+a\n+b\n"},
		{"to nothing", "a\nb", "", "-a\n-b\n"},
		{"same", "a\nb\n", "a\nb", "=a\n=b\n"},
		{"one changed line", "Dear Chris,\nHappy birthday.\nLove, Sam", "Dear Chris,\nHappy 50th birthday!\nLove, Sam",
			"=Dear Chris,\n-Happy birthday.\n+Happy 50th birthday!\n=Love, Sam\n"},
		{"inserted in the middle", "a\nc", "a\nb\nc", "=a\n+b\n=c\n"},
		{"removed at the start", "x\na\nb", "a\nb", "-x\n=a\n=b\n"},
		{"crlf", "a\r\nb\r\n", "a\nb\n", "=a\n=b\n"},
		{"moved line", "a\nb\nc", "b\nc\na", "-a\n=b\n=c\n+a\n"},
		{"blank lines count", "a\n\nb", "a\nb", "=a\n-\n=b\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(documents.Diff(tc.a, tc.b)); got != tc.want {
				t.Fatalf("Diff(%q, %q):\n%s\nwant:\n%s", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

// lcs is the textbook dynamic program, the reference for how few edits a
// diff may have.
func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// Random texts over a few words: the diff rebuilds both sides and is as
// short as the longest common subsequence allows.
func TestDiffRandomIsMinimalAndExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 14))
	words := []string{"a", "b", "c", "d", ""}
	gen := func() []string {
		n := r.IntN(12)
		out := make([]string, n)
		for i := range out {
			out[i] = words[r.IntN(len(words))]
		}
		return out
	}
	for i := range 3000 {
		a, b := gen(), gen()
		text := func(ls []string) string { // every line ends in a line break
			var s strings.Builder
			for _, l := range ls {
				s.WriteString(l + "\n")
			}
			return s.String()
		}
		d := documents.Diff(text(a), text(b))
		var gotA, gotB []string
		edits := 0
		for _, l := range d {
			switch l.Op {
			case "=":
				gotA, gotB = append(gotA, l.Text), append(gotB, l.Text)
			case "-":
				gotA, edits = append(gotA, l.Text), edits+1
			case "+":
				gotB, edits = append(gotB, l.Text), edits+1
			default:
				t.Fatalf("op %q", l.Op)
			}
		}
		if strings.Join(gotA, "\n") != strings.Join(a, "\n") || strings.Join(gotB, "\n") != strings.Join(b, "\n") || len(gotA) != len(a) || len(gotB) != len(b) {
			t.Fatalf("case %d: %q → %q: diff does not rebuild both sides:\n%s", i, a, b, render(d))
		}
		if want := len(a) + len(b) - 2*lcs(a, b); edits != want {
			t.Fatalf("case %d: %q → %q: %d edits, the shortest has %d:\n%s", i, a, b, edits, want, render(d))
		}
	}
}

// Two unrelated long texts: past maxEdits the middle is replaced whole,
// still exact, without quadratic memory.
func TestDiffLargeUnrelated(t *testing.T) {
	var a, b strings.Builder
	for i := range 20000 {
		a.WriteString("old line " + strings.Repeat("x", i%7) + "\n")
		b.WriteString("new line " + strings.Repeat("y", i%5) + "\n")
	}
	d := documents.Diff("same start\n"+a.String()+"same end", "same start\n"+b.String()+"same end")
	if len(d) != 40002 || d[0] != (documents.DiffLine{Op: "=", Text: "same start"}) || d[len(d)-1] != (documents.DiffLine{Op: "=", Text: "same end"}) {
		t.Fatalf("%d lines, first %+v, last %+v", len(d), d[0], d[len(d)-1])
	}
	if d[1].Op != "-" || d[20001].Op != "+" {
		t.Fatalf("middle: %+v, %+v", d[1], d[20001])
	}
}

func BenchmarkDiffEditedLetter(b *testing.B) {
	var base strings.Builder
	for i := range 5000 {
		base.WriteString("Paragraph line number " + strings.Repeat("w", i%13) + "\n")
	}
	edited := strings.Replace(base.String(), "Paragraph line number www\n", "A changed line\n", 40)
	for b.Loop() {
		documents.Diff(base.String(), edited)
	}
}

func TestPassage(t *testing.T) {
	body := "Dear Chris,\n\nI still think of the lighthouse walk, and the storm that came in.\n\nLove,\nSam"
	for _, tc := range []struct{ query, want string }{
		{"lighthouse", "I still think of the lighthouse walk, and the storm that came in."},
		{"what about the storms", "I still think of the lighthouse walk, and the storm that came in."},
		{"zebra", "Dear Chris,"},
	} {
		if got := documents.Passage(body, tc.query, 200); got != tc.want {
			t.Errorf("Passage(%q) = %q, want %q", tc.query, got, tc.want)
		}
	}
	long := strings.Repeat("filler words here ", 40) + "the harbour at dawn " + strings.Repeat("more filler ", 40)
	got := documents.Passage(long, "harbour", 80)
	if !strings.Contains(got, "harbour at dawn") || !strings.HasPrefix(got, "…") || len([]rune(got)) > 82 {
		t.Fatalf("long paragraph: %q", got)
	}
}
