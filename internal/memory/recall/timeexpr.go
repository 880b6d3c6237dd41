package recall

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ParseTime finds the first English time expression in query ("yesterday",
// "last week", "in May", "3 days ago", "since March", "2025-05-03", …) and
// turns it into a half-open range [from, to) in loc, relative to now. It
// returns the query with the expression cut out, and ok=false (query
// unchanged, zero times) when there is none.
//
// A zero from or to means unbounded on that side: "since March" has no end,
// "before March" no start. Ranges are whole calendar units in loc, so a day
// across a daylight-saving change is 23 or 25 hours long. Weeks start on
// Monday. A month or weekday without a year means the most recent one that
// has begun ("in May" said in March 2026 is May 2025; "on Monday" said on a
// Monday is a week ago). "N weeks/months/years ago" is the calendar unit that
// holds that moment.
//
// Only expressions that name a time are resolved. "before I moved" or "when
// Theo was in Boston" refer to events the parser cannot know; they stay in the
// returned text, where recall can still match them by meaning (the vector
// search) or by words (the moving messages themselves).
func ParseTime(query string, now time.Time, loc *time.Location) (rest string, from, to time.Time, ok bool) {
	if loc == nil {
		loc = time.UTC
	}
	now = now.In(loc)
	bestStart, bestEnd := -1, -1
	var bestFrom, bestTo time.Time
	for i, r := range timeRules {
		for _, m := range ruleMatches(query)[i] {
			if bestStart >= 0 && (m[0] > bestStart || (m[0] == bestStart && m[1] <= bestEnd)) {
				break // not better than what we have: leftmost, then longest
			}
			if partOfDash(query, m[0], m[1]) {
				continue // "2025-02" inside "2025-02-30" is not a month
			}
			g := submatches(query, m)
			prefix := strings.ToLower(g[1])
			f, t, valid := r.resolve(g[2:], prefix != "", now)
			if !valid {
				continue
			}
			switch prefix {
			case "since":
				t = time.Time{}
			case "after":
				f, t = t, time.Time{}
			case "before":
				f, t = time.Time{}, f
			case "until", "till":
				f = time.Time{}
			}
			bestStart, bestEnd, bestFrom, bestTo = m[0], m[1], f, t
			break
		}
	}
	if bestStart < 0 {
		return query, time.Time{}, time.Time{}, false
	}
	return cutSpan(query, bestStart, bestEnd), bestFrom, bestTo, true
}

// ruleMatches is every rule's FindAllStringSubmatchIndex on query, in
// timeRules order. Matching does not depend on the time or the location, so
// the last few queries' matches are kept: one turn parses its message up to
// three times (warming its embedding twice, recalling once), and the regular
// expressions were 3% of os1's CPU under load (issue 15).
func ruleMatches(query string) [][][]int {
	matchMemo.mu.Lock()
	ms, ok := matchMemo.m[query]
	matchMemo.mu.Unlock()
	if ok {
		return ms
	}
	ms = make([][][]int, len(timeRules))
	for i, r := range timeRules {
		ms[i] = r.re.FindAllStringSubmatchIndex(query, -1)
	}
	if len(query) <= maxMemoQuery {
		matchMemo.mu.Lock()
		if len(matchMemo.m) >= maxMemoQueries {
			clear(matchMemo.m) // a cache of the last moments, not of history
		}
		matchMemo.m[query] = ms
		matchMemo.mu.Unlock()
	}
	return ms
}

// The memo of ruleMatches: at most maxMemoQueries queries of at most
// maxMemoQuery bytes. Its slices are never changed after they are stored.
const (
	maxMemoQueries = 1024
	maxMemoQuery   = 2048
)

var matchMemo = struct {
	mu sync.Mutex
	m  map[string][][][]int
}{m: map[string][][][]int{}}

// timeRule is one kind of expression. resolve gets the expression's own
// capture groups and whether a preposition ("in", "on", "since", …) came
// before it; some words ("May", "2024", "Friday") are a time only with one.
type timeRule struct {
	re      *regexp.Regexp
	resolve func(g []string, prefixed bool, now time.Time) (from, to time.Time, ok bool)
}

const (
	numberWords = `\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\s+few|few|a\s+couple\s+of|couple\s+of|several`
	monthNames  = `january|february|march|april|may|june|july|august|september|october|november|december`
	dayNames    = `monday|tuesday|wednesday|thursday|friday|saturday|sunday`
)

// rule compiles an expression with an optional leading preposition, which
// becomes group 1.
func rule(expr string, resolve func(g []string, prefixed bool, now time.Time) (time.Time, time.Time, bool)) timeRule {
	re := regexp.MustCompile(`(?i)\b(?:(since|after|before|until|till|on|in|during|from)\s+)?(?:` + expr + `)\b`)
	return timeRule{re: re, resolve: resolve}
}

// timeRules is read-only after package initialisation.
var timeRules = []timeRule{
	rule(`(\d{4})-(\d{2})-(\d{2})`, func(g []string, _ bool, now time.Time) (time.Time, time.Time, bool) {
		y, m, d := atoiOr0(g[0]), atoiOr0(g[1]), atoiOr0(g[2])
		t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, now.Location())
		if t.Year() != y || int(t.Month()) != m || t.Day() != d {
			return time.Time{}, time.Time{}, false // 2025-02-30 is not a date
		}
		return t, addDays(t, 1), true
	}),
	rule(`(\d{4})-(\d{2})`, func(g []string, _ bool, now time.Time) (time.Time, time.Time, bool) {
		y, m := atoiOr0(g[0]), atoiOr0(g[1])
		if m < 1 || m > 12 {
			return time.Time{}, time.Time{}, false
		}
		t := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, now.Location())
		return t, t.AddDate(0, 1, 0), true
	}),
	rule(`the\s+day\s+before\s+yesterday`, func(_ []string, _ bool, now time.Time) (time.Time, time.Time, bool) {
		d := midnight(now)
		return addDays(d, -2), addDays(d, -1), true
	}),
	rule(`(today|yesterday|this)\s+(morning|afternoon|evening)`, func(g []string, _ bool, now time.Time) (time.Time, time.Time, bool) {
		d := midnight(now)
		if strings.EqualFold(g[0], "yesterday") {
			d = addDays(d, -1)
		}
		switch strings.ToLower(g[1]) {
		case "morning":
			return d, atHour(d, 12), true
		case "afternoon":
			return atHour(d, 12), atHour(d, 18), true
		default:
			return atHour(d, 18), addDays(d, 1), true
		}
	}),
	rule(`(today|yesterday|tonight|last\s+night)`, func(g []string, _ bool, now time.Time) (time.Time, time.Time, bool) {
		d := midnight(now)
		switch w := strings.ToLower(strings.Join(strings.Fields(g[0]), " ")); w {
		case "today":
			return d, addDays(d, 1), true
		case "yesterday":
			return addDays(d, -1), d, true
		case "tonight":
			return atHour(d, 18), addDays(d, 1), true
		default: // last night
			return atHour(addDays(d, -1), 18), atHour(d, 6), true
		}
	}),
	rule(`(?:the\s+)?(this|last|past|previous)\s+(week|weekend|month|year)`, func(g []string, _ bool, now time.Time) (time.Time, time.Time, bool) {
		which, unit := strings.ToLower(g[0]), strings.ToLower(g[1])
		d := midnight(now)
		if unit == "weekend" {
			sat := addDays(weekStart(d), 5)
			if which == "this" {
				return sat, addDays(sat, 2), true
			}
			return addDays(sat, -7), addDays(sat, -5), true
		}
		if which == "past" { // rolling: the unit up to and including today
			end := addDays(d, 1)
			switch unit {
			case "week":
				return addDays(end, -7), end, true
			case "month":
				return end.AddDate(0, -1, 0), end, true
			default:
				return end.AddDate(-1, 0, 0), end, true
			}
		}
		start := unitStart(d, unit)
		if which != "this" {
			start = unitAdd(start, unit, -1)
		}
		return start, unitAdd(start, unit, 1), true
	}),
	rule(`(?:the\s+)?(?:last|past)\s+(`+numberWords+`)\s+(days?|weeks?|months?|years?)`, func(g []string, _ bool, now time.Time) (time.Time, time.Time, bool) {
		n, _ := countWord(g[0])
		end := addDays(midnight(now), 1)
		return unitAdd(end, unitOf(g[1]), -n), end, true
	}),
	rule(`(`+numberWords+`)\s+(days?|weeks?|months?|years?)\s+ago`, func(g []string, _ bool, now time.Time) (time.Time, time.Time, bool) {
		n, fuzzy := countWord(g[0])
		unit := unitOf(g[1])
		start := unitStart(midnight(now), unit)
		from, to := unitAdd(start, unit, -n), unitAdd(start, unit, -n+1)
		if fuzzy { // "a few weeks ago": one unit of slack either side
			from, to = unitAdd(from, unit, -1), unitAdd(to, unit, 1)
		}
		return from, to, true
	}),
	rule(`(?:(last)\s+)?(`+dayNames+`)`, func(g []string, prefixed bool, now time.Time) (time.Time, time.Time, bool) {
		if !prefixed && g[0] == "" {
			return time.Time{}, time.Time{}, false // "Friday" alone may be a name
		}
		d := midnight(now)
		want := weekdayIndex(g[1])
		back := (int(d.Weekday()) - want + 7) % 7
		if back == 0 {
			back = 7
		}
		day := addDays(d, -back)
		return day, addDays(day, 1), true
	}),
	rule(`(?:(last)\s+)?(`+monthNames+`)(?:\s+(\d{4}))?`, func(g []string, prefixed bool, now time.Time) (time.Time, time.Time, bool) {
		if !prefixed && g[0] == "" && g[2] == "" {
			return time.Time{}, time.Time{}, false // "may" is usually a verb
		}
		m := monthIndex(g[1])
		y := now.Year()
		switch {
		case g[2] != "":
			y = atoiOr0(g[2])
		case g[0] != "" && m >= now.Month(): // last May: strictly before this month
			y--
		case m > now.Month(): // in May: the most recent May that has begun
			y--
		}
		start := time.Date(y, m, 1, 0, 0, 0, 0, now.Location())
		return start, start.AddDate(0, 1, 0), true
	}),
	rule(`(\d{4})`, func(g []string, prefixed bool, now time.Time) (time.Time, time.Time, bool) {
		y := atoiOr0(g[0])
		if !prefixed || y < 1900 || y > 2200 {
			return time.Time{}, time.Time{}, false
		}
		start := time.Date(y, 1, 1, 0, 0, 0, 0, now.Location())
		return start, start.AddDate(1, 0, 0), true
	}),
}

// submatches turns submatch indexes into strings ("" for an unmatched group).
func submatches(s string, m []int) []string {
	g := make([]string, len(m)/2)
	for i := range g {
		if m[2*i] >= 0 {
			g[i] = s[m[2*i]:m[2*i+1]]
		}
	}
	return g
}

// partOfDash reports whether s[start:end] is glued to more text by a hyphen,
// as in a longer (and maybe invalid) date.
func partOfDash(s string, start, end int) bool {
	return (start > 0 && s[start-1] == '-') || (end < len(s) && s[end] == '-')
}

// cutSpan removes s[start:end] and tidies the spaces and punctuation left.
func cutSpan(s string, start, end int) string {
	out := strings.Join(strings.Fields(s[:start]+" "+s[end:]), " ")
	for _, p := range []string{"?", ".", ",", "!", ";", ":"} {
		out = strings.ReplaceAll(out, " "+p, p)
	}
	return strings.TrimLeft(out, ",;: ")
}

func atoiOr0(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// countWord reads a number written as digits or words; fuzzy for "a few" and the
// like, which stand for a vague amount.
func countWord(s string) (n int, fuzzy bool) {
	w := strings.ToLower(strings.Join(strings.Fields(s), " "))
	if n, err := strconv.Atoi(w); err == nil {
		return n, false
	}
	switch w {
	case "a", "an", "one":
		return 1, false
	case "a couple of", "couple of":
		return 2, true
	case "a few", "few", "several":
		return 3, true
	}
	for i, name := range []string{"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"} {
		if w == name {
			return i + 2, false
		}
	}
	return 1, false
}

func unitOf(s string) string { return strings.TrimSuffix(strings.ToLower(s), "s") }

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// addDays moves by calendar days, so a day across a DST change keeps its
// midnight.
func addDays(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+n, t.Hour(), 0, 0, 0, t.Location())
}

func atHour(day time.Time, h int) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, h, 0, 0, 0, day.Location())
}

func weekStart(d time.Time) time.Time {
	return addDays(d, -((int(d.Weekday()) + 6) % 7))
}

// unitStart is the start of the day, ISO week, month or year holding d.
func unitStart(d time.Time, unit string) time.Time {
	switch unit {
	case "week":
		return weekStart(d)
	case "month":
		return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, d.Location())
	case "year":
		return time.Date(d.Year(), 1, 1, 0, 0, 0, 0, d.Location())
	default:
		return midnight(d)
	}
}

func unitAdd(t time.Time, unit string, n int) time.Time {
	switch unit {
	case "week":
		return addDays(t, 7*n)
	case "month":
		return t.AddDate(0, n, 0)
	case "year":
		return t.AddDate(n, 0, 0)
	default:
		return addDays(t, n)
	}
}

func weekdayIndex(s string) int {
	s = strings.ToLower(s)
	for i := time.Sunday; i <= time.Saturday; i++ {
		if strings.ToLower(i.String()) == s {
			return int(i)
		}
	}
	return 0
}

func monthIndex(s string) time.Month {
	s = strings.ToLower(s)
	for m := time.January; m <= time.December; m++ {
		if strings.ToLower(m.String()) == s {
			return m
		}
	}
	return time.January
}
