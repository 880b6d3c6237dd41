package mail

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reading an email's own words: what its sender wrote (not the quote nor
// the signature), its sentences, and its one-line summary.

// sentences splits text into sentences on ., ! and ? and on line ends.
func sentences(text string) []string {
	var out []string
	start := 0
	flush := func(end int) {
		if s := strings.TrimSpace(text[start:end]); s != "" {
			out = append(out, s)
		}
		start = end
	}
	for i, r := range text {
		switch r {
		case '\n':
			flush(i)
		case '.', '!', '?':
			next := i + 1
			if next >= len(text) || text[next] == ' ' || text[next] == '\n' || text[next] == '\t' {
				if r == '.' && isAbbrev(text[start:i]) {
					continue
				}
				flush(next)
			}
		}
	}
	flush(len(text))
	return out
}

func isAbbrev(before string) bool {
	f := strings.Fields(before)
	if len(f) == 0 {
		return false
	}
	w := strings.ToLower(f[len(f)-1])
	switch w {
	case "mr", "mrs", "ms", "dr", "st", "e.g", "i.e", "etc", "vs", "no", "approx", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec":
		return true
	}
	return false
}

// OwnText is the part of a message's text its sender wrote: quoted lines
// ("> …"), the quoted original after "On … wrote:" or "-----Original
// Message-----", and the signature after "-- " are cut.
func OwnText(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var out []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "--" || strings.HasPrefix(t, "-----Original Message") || strings.HasPrefix(t, "________________") ||
			wroteLine.MatchString(t) || strings.HasPrefix(strings.ToLower(t), "sent from my ") {
			break
		}
		if strings.HasPrefix(t, ">") {
			continue
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

var wroteLine = regexp.MustCompile(`(?i)^(on .{4,120} wrote:|am .{4,120} schrieb .*:|le .{4,120} a écrit ?:)$`)

var (
	greetingLine = regexp.MustCompile(`(?i)^(hi|hello|hey|dear|hiya|good (morning|afternoon|evening)|greetings|hallo|bonjour)\b[^.!?]{0,40}[,!:]?$`)
	// greetingLead is a greeting that opens a line of content: "Hi Theo, …".
	greetingLead = regexp.MustCompile(`(?i)^(hi|hello|hey|dear|hiya|good (morning|afternoon|evening))\b[^,.!?]{0,30}[,!]\s+`)
	// boilerplate is a newsletter's or notification's frame, never its news.
	boilerplate = regexp.MustCompile(`(?i)(view (this|it|the) (email|e-mail|message)? ?(in|on) (your|a|the) (browser|web)|can'?t see (this|the) (email|images)|having trouble (viewing|reading)|^unsubscribe\b|^(this|the) (email|message) was sent to|^to ensure delivery|add us to your address book|^do not reply to this)`)
	urlRe       = regexp.MustCompile(`https?://\S+|www\.\S+`)
)

// maxSummary is the longest summary, in characters.
const maxSummary = 140

// Summarize is a message's one-line summary: the first meaningful sentence
// its sender wrote (no greeting, quote, signature or link), at most 140
// characters; the subject when the text has none.
func Summarize(m Message) string {
	body := OwnText(m.Text)
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || greetingLine.MatchString(line) || boilerplate.MatchString(line) {
			continue
		}
		if g := greetingLead.FindString(line); g != "" {
			line = upperFirst(line[len(g):])
		}
		line = cleanLine(line)
		for _, s := range sentences(line) {
			if countLetters(s) >= 3 {
				return clipRunesTri(s, maxSummary)
			}
		}
	}
	if s := cleanLine(m.Subject); s != "" {
		return clipRunesTri(s, maxSummary)
	}
	return ""
}

// cleanLine drops links and control and formatting characters and folds
// spaces, so a summary is fit to show and to speak.
func cleanLine(s string) string {
	s = urlRe.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	return strings.Trim(s, " *_=#|")
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func countLetters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// clipRunesTri cuts s to at most n characters, ending with "…" when cut,
// at a word boundary when one is near.
func clipRunesTri(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)*2/3 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:-") + "…"
}
