package mail

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	hour = time.Hour
	day  = 24 * time.Hour
)

// DateMention is a date a message talks about ("Friday", "by 12 December",
// "tomorrow"), resolved against the message's own date.
type DateMention struct {
	// When is the end of the day meant, in the message date's zone, so a
	// deadline passes only when its day is over.
	When time.Time
	// Phrase is the words as written, lower-cased ("by friday").
	Phrase string
	// Deadline is set when the words make it one: by, before, until, due,
	// deadline, no later than.
	Deadline bool
	ref      time.Time
}

// Label is the mention in a reason's words: "deadline Friday", "mentions
// Sunday 3 January". It names the weekday rather than "tomorrow", so the
// reason stays true on later days.
func (d DateMention) Label() string {
	day := d.When.Format("Monday")
	if d.When.Sub(d.ref) > 7*24*time.Hour || d.When.Before(d.ref) {
		day = d.When.Format("Monday 2 January")
	}
	if d.Deadline {
		return "deadline " + day
	}
	return "mentions " + day
}

var (
	weekdays = map[string]time.Weekday{"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
		"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday}
	months = map[string]time.Month{"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
		"may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
		"oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12}
	numberWords = map[string]int{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "ten": 10, "fourteen": 14}
)

const (
	monthRe = `(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?`
	dayRe   = `(\d{1,2})(?:st|nd|rd|th)?`
)

var dateRe = regexp.MustCompile(`(?i)\b(?:(by|before|until|till|due(?: on| by)?|deadline(?: is)?:?|no later than|latest)\s+)?(?:(?:on|this|the)\s+)?(` +
	`today|tonight|tomorrow|the day after tomorrow|end of (?:the )?(?:day|week|month)|eod|eow|` +
	`in (\d+|one|two|three|four|five|six|seven|ten|fourteen) days|` +
	`(?:next\s+)?(?:sunday|monday|tuesday|wednesday|thursday|friday|saturday)|` +
	`(\d{4})-(\d{2})-(\d{2})|` +
	dayRe + `(?:\s+of)?\s+` + monthRe + `(?:,?\s+(\d{4}))?|` +
	monthRe + `\s+` + dayRe + `(?:,?\s+(\d{4}))?` +
	`)\b`)

// FindDates finds the dates text mentions, resolved against ref (the
// message's date), in the order written, one per day.
func FindDates(text string, ref time.Time) []DateMention {
	if ref.IsZero() {
		return nil
	}
	var out []DateMention
	seen := map[string]bool{}
	for _, m := range dateRe.FindAllStringSubmatch(text, 20) {
		when, ok := resolveDate(strings.ToLower(m[2]), m, ref)
		if !ok {
			continue
		}
		key := when.Format("2006-01-02")
		if seen[key] {
			// The same day again: keep one, a deadline if either is.
			if m[1] != "" {
				for i := range out {
					if out[i].When.Format("2006-01-02") == key {
						out[i].Deadline = true
					}
				}
			}
			continue
		}
		seen[key] = true
		out = append(out, DateMention{When: when, Phrase: strings.ToLower(strings.TrimSpace(m[0])), Deadline: m[1] != "", ref: ref})
	}
	return out
}

func endOfDay(t time.Time) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, 23, 59, 59, 0, t.Location())
}

// resolveDate turns one match into the end of the day it means.
// Submatches: 3 in-N-days, 4-6 ISO, 7-9 day month year, 10-12 month day year.
func resolveDate(expr string, m []string, ref time.Time) (time.Time, bool) {
	base := endOfDay(ref)
	switch {
	case expr == "today" || expr == "tonight" || expr == "eod" || expr == "end of day" || expr == "end of the day":
		return base, true
	case expr == "tomorrow":
		return base.AddDate(0, 0, 1), true
	case expr == "the day after tomorrow":
		return base.AddDate(0, 0, 2), true
	case expr == "eow" || strings.HasSuffix(expr, "week"):
		d := (int(time.Friday) - int(ref.Weekday()) + 7) % 7
		return base.AddDate(0, 0, d), true
	case strings.HasSuffix(expr, "month"):
		y, mo, _ := ref.Date()
		return time.Date(y, mo+1, 0, 23, 59, 59, 0, ref.Location()), true
	case m[3] != "":
		n, err := strconv.Atoi(m[3])
		if err != nil {
			n = numberWords[m[3]]
		}
		return base.AddDate(0, 0, n), n > 0 && n < 400
	case m[4] != "":
		y, _ := strconv.Atoi(m[4])
		mo, _ := strconv.Atoi(m[5])
		d, _ := strconv.Atoi(m[6])
		return calendarDate(y, mo, d, ref)
	case m[7] != "":
		return dayMonth(m[7], m[8], m[9], ref)
	case m[10] != "":
		return dayMonth(m[11], m[10], m[12], ref)
	}
	next := strings.HasPrefix(expr, "next ")
	wd, ok := weekdays[strings.TrimSpace(strings.TrimPrefix(expr, "next "))]
	if !ok {
		return time.Time{}, false
	}
	d := (int(wd) - int(ref.Weekday()) + 7) % 7
	if d == 0 {
		d = 7 // "Friday" said on a Friday is the next one; today is "today"
	}
	// "next Friday" said on a Monday is the week after's; said on a
	// Saturday it is the coming one (the week starts on Monday).
	if next && (int(wd)+6)%7 > (int(ref.Weekday())+6)%7 {
		d += 7
	}
	return base.AddDate(0, 0, d), true
}

func dayMonth(day, month, year string, ref time.Time) (time.Time, bool) {
	d, _ := strconv.Atoi(day)
	mo := months[strings.TrimSuffix(strings.ToLower(month), ".")]
	y, _ := strconv.Atoi(year)
	if y == 0 {
		y = ref.Year()
		t, ok := calendarDate(y, int(mo), d, ref)
		if ok && t.Before(ref.AddDate(0, 0, -60)) { // "by 3 January" written in December
			return calendarDate(y+1, int(mo), d, ref)
		}
		return t, ok
	}
	return calendarDate(y, int(mo), d, ref)
}

func calendarDate(y, mo, d int, ref time.Time) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970 || y > 2200 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, 23, 59, 59, 0, ref.Location())
	if t.Day() != d { // 31 February
		return time.Time{}, false
	}
	return t, true
}
