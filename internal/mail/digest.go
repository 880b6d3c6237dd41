package mail

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Digest is a short spoken digest of triaged mail, most important first, in
// plain sentences a speech engine reads well (no links, symbols or emoji):
// "You have 2 emails that need a reply. Your sister asks: are you coming for
// lunch on Sunday? …". It names at most max messages (default 5) and counts
// the rest by kind. Spam and archived mail are left out.
func Digest(msgs []Message, max int) string {
	if max <= 0 {
		max = 5
	}
	var ms []Message
	for _, m := range msgs {
		if m.Triage.Category != Spam && !m.Triage.Archive {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return "There's nothing new in your mail."
	}
	slices.SortStableFunc(ms, func(a, b Message) int {
		if c := cmp.Compare(b.Triage.Importance, a.Triage.Importance); c != 0 {
			return c
		}
		if c := cmp.Compare(catRank(a.Triage.Category), catRank(b.Triage.Category)); c != 0 {
			return c
		}
		return b.Date.Compare(a.Date)
	})
	var out []string
	needs := 0
	for _, m := range ms {
		if m.Triage.Category == NeedsReply {
			needs++
		}
	}
	switch needs {
	case 0:
		out = append(out, fmt.Sprintf("You have %s, and none needs a reply.", countOf(len(ms), "new email", "new emails")))
	case 1:
		out = append(out, "You have one email that needs a reply.")
	default:
		out = append(out, fmt.Sprintf("You have %s emails that need a reply.", spellNumber(needs)))
	}
	shown := ms[:min(max, len(ms))]
	for _, m := range shown {
		out = append(out, digestLine(m))
	}
	rest := map[Category]int{}
	for _, m := range ms[len(shown):] {
		rest[m.Triage.Category]++
	}
	var parts []string
	for _, c := range Categories {
		if n := rest[c]; n > 0 {
			parts = append(parts, countOf(n, digestNoun[c][0], digestNoun[c][1]))
		}
	}
	if len(parts) > 0 {
		out = append(out, "There "+isAre(parts[0])+" also "+joinAnd(parts)+".")
	}
	return strings.Join(out, " ")
}

var digestNoun = map[Category][2]string{
	NeedsReply:   {"other email that needs a reply", "other emails that need a reply"},
	Waiting:      {"message of yours waiting for an answer", "messages of yours waiting for an answer"},
	FYI:          {"other email", "other emails"},
	Newsletter:   {"newsletter", "newsletters"},
	Receipt:      {"receipt", "receipts"},
	Notification: {"notification", "notifications"},
	Spam:         {"spam email", "spam emails"},
}

func catRank(c Category) int {
	if i := slices.Index(Categories, c); i >= 0 {
		return i
	}
	return len(Categories)
}

var deadlineInReason = regexp.MustCompile(`(?:^|; )deadline ([A-Z][a-z]+(?: \d{1,2} [A-Z][a-z]+)?)(?:;|$)`)

// digestLine is one message in a sentence or two.
func digestLine(m Message) string {
	who := SenderLabel(m)
	if strings.HasPrefix(who, "your ") {
		who = "Your " + strings.TrimPrefix(who, "your ")
	}
	sum := speakable(cmp.Or(m.Triage.Summary, Summarize(m)))
	var s string
	switch m.Triage.Category {
	case NeedsReply:
		verb := "writes"
		if strings.HasSuffix(sum, "?") {
			verb = "asks"
		}
		s = who + " " + verb + ": " + sum
	case Waiting:
		s = "You are waiting for an answer to your email: " + sum
	case Newsletter:
		s = "A newsletter from " + speakable(cmp.Or(listNameOrEmpty(m.ListID), firstName(m.From))) + ": " + sum
	case Receipt:
		s = "A receipt from " + speakable(firstName(m.From)) + ": " + sum
	case Notification:
		s = "A notification from " + speakable(firstName(m.From)) + ": " + sum
	default:
		s = who + " writes: " + sum
	}
	s = endSentence(s)
	if d := deadlineInReason.FindStringSubmatch(m.Triage.Reason); d != nil {
		s += " The deadline is " + d[1] + "."
	}
	return s
}

func listNameOrEmpty(id string) string {
	if id == "" {
		return ""
	}
	return listName(id)
}

func endSentence(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), ",;:-…")
	if s == "" {
		return s
	}
	switch s[len(s)-1] {
	case '.', '?', '!':
		return s
	}
	return s + "."
}

// speakable keeps what a speech engine should say: no links, no symbols
// or emoji, "&" said as "and".
func speakable(s string) string {
	s = urlRe.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "&", " and ")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsSpace(r):
			return r
		case strings.ContainsRune(".,;:!?'’\"“”()-–€$£%/@", r):
			return r
		}
		return -1
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func countOf(n int, one, many string) string {
	if n == 1 {
		return "one " + one
	}
	return spellNumber(n) + " " + many
}

func isAre(first string) string {
	if strings.HasPrefix(first, "one ") {
		return "is"
	}
	return "are"
}

func joinAnd(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

var smallNumbers = []string{"no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}

func spellNumber(n int) string {
	if n >= 0 && n < len(smallNumbers) {
		return smallNumbers[n]
	}
	return fmt.Sprint(n)
}
