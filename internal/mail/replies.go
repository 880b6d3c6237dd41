package mail

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// Reply tracking: what the user owes an answer to, and what they are
// waiting on others for, with a nudge in plain words once it is overdue.

// Replies finds owed and awaited answers in a user's recent mail (inbox and
// Sent together, so a later message of the user's counts as an answer).
type Replies struct {
	Clock clock.Clock // nil: clock.System
	Me    Self
	// OwedAfter is when an unanswered message gets a nudge (default 2 days).
	OwedAfter time.Duration
	// AwaitAfter is how long the user waits before an unanswered question
	// of theirs is listed (default 3 days).
	AwaitAfter time.Duration
}

// ReplyItem is one owed or awaited answer.
type ReplyItem struct {
	Message Message
	Age     time.Duration
	// Nudge says it in words ("You haven't answered your sister's email
	// about “lunch” from Tuesday, 3 days ago."); empty while not overdue.
	Nudge string
}

func (r Replies) now() time.Time {
	if r.Clock == nil {
		return clock.System{}.Now()
	}
	return r.Clock.Now()
}

// Owed lists messages triaged as needing the user's reply that they have
// not answered (no \Answered flag, no later message of theirs in the
// thread), oldest first; those older than OwedAfter carry a nudge.
func (r Replies) Owed(msgs []Message) []ReplyItem {
	now, after := r.now(), cmp.Or(r.OwedAfter, 2*day)
	var out []ReplyItem
	for _, m := range msgs {
		if m.Triage.Category != NeedsReply || r.Me.Own(m.From.Email) || m.HasFlag(FlagAnswered) || m.Triage.Archive {
			continue
		}
		if answered(m, msgs, func(x Message) bool { return r.Me.Own(x.From.Email) }) {
			continue
		}
		it := ReplyItem{Message: m, Age: max(now.Sub(m.Date), 0)}
		if it.Age >= after {
			it.Nudge = fmt.Sprintf("You haven't answered %s email%s from %s.", possessiveOf(SenderLabel(m)), aboutSubject(m.Subject), whenSaid(m.Date, now))
		}
		out = append(out, it)
	}
	slices.SortStableFunc(out, func(a, b ReplyItem) int { return a.Message.Date.Compare(b.Message.Date) })
	return out
}

// Awaiting lists the user's own messages that ask something and have had
// no answer from anyone else in AwaitAfter, oldest first, each with a nudge.
func (r Replies) Awaiting(msgs []Message) []ReplyItem {
	now, after := r.now(), cmp.Or(r.AwaitAfter, 3*day)
	var out []ReplyItem
	for _, m := range msgs {
		if !r.Me.Own(m.From.Email) || len(m.To) == 0 || now.Sub(m.Date) < after {
			continue
		}
		asks, _ := asksSomething(m.Subject, OwnText(m.Text))
		if !asks && m.Triage.Category != Waiting {
			continue
		}
		if answered(m, msgs, func(x Message) bool { return !r.Me.Own(x.From.Email) }) {
			continue
		}
		who := firstName(m.To[0]) + " hasn't"
		if len(m.To)+len(m.Cc) > 1 {
			who = "Nobody has"
		}
		out = append(out, ReplyItem{Message: m, Age: now.Sub(m.Date),
			Nudge: fmt.Sprintf("%s answered your email%s from %s.", who, aboutSubject(m.Subject), whenSaid(m.Date, now))})
	}
	slices.SortStableFunc(out, func(a, b ReplyItem) int { return a.Message.Date.Compare(b.Message.Date) })
	return out
}

// answered reports whether a message by whom came after m in its thread.
func answered(m Message, msgs []Message, by func(Message) bool) bool {
	for _, x := range msgs {
		if x.ID == m.ID && x.ID != "" || !x.Date.After(m.Date) || !by(x) {
			continue
		}
		if m.ThreadID != "" && x.ThreadID == m.ThreadID ||
			m.MessageID != "" && (x.InReplyTo == m.MessageID || slices.Contains(x.References, m.MessageID)) {
			return true
		}
	}
	return false
}

var reasonFrom = regexp.MustCompile(`(?:^|; )from (your [^;(]+)`)

// SenderLabel is how os1 names a message's sender when speaking: "your
// sister" when the rules ranker knew them so, else their first name, else
// their address. A model's reason is never read for it: an email could
// have talked the model into "from your wife".
func SenderLabel(m Message) string {
	if r := reasonFrom.FindStringSubmatch(m.Triage.Reason); r != nil && m.Triage.By == "rules" {
		return strings.TrimSpace(r[1])
	}
	return firstName(m.From)
}

func firstName(a Address) string {
	n := strings.Trim(strings.TrimSpace(a.Name), `"'`)
	if n == "" || strings.Contains(n, "@") {
		if i := strings.IndexByte(a.Email, '@'); i > 0 {
			return a.Email[:i]
		}
		return cmp.Or(a.Email, "someone")
	}
	if f := strings.Fields(n); len(f) > 1 && !strings.HasSuffix(f[0], ".") && !slices.Contains([]string{"mr", "mrs", "ms", "dr"}, strings.ToLower(f[0])) {
		return f[0]
	}
	return n
}

func possessiveOf(who string) string {
	if strings.HasSuffix(who, "s") {
		return who + "'"
	}
	return who + "'s"
}

var replyPrefix = regexp.MustCompile(`(?i)^((re|fwd?|aw|wg|sv|tr)\s*(\[\d+\])?\s*:\s*)+`)

// aboutSubject is ` about “lunch”`, or "" for an empty subject.
func aboutSubject(subject string) string {
	s := cleanLine(replyPrefix.ReplaceAllString(strings.TrimSpace(subject), ""))
	if s == "" {
		return ""
	}
	return " about “" + clipRunesTri(s, 60) + "”"
}

// whenSaid is "Tuesday, 3 days ago", "yesterday" or "2 November, 5 weeks ago".
func whenSaid(t, now time.Time) string {
	t = t.In(now.Location())
	days := int(endOfDay(now).Sub(endOfDay(t)).Hours()+12) / 24
	switch {
	case days <= 0:
		return "today"
	case days == 1:
		return "yesterday"
	case days < 7:
		return fmt.Sprintf("%s, %d days ago", t.Format("Monday"), days)
	case days < 14:
		return fmt.Sprintf("%s, a week ago", t.Format("2 January"))
	}
	return fmt.Sprintf("%s, %d weeks ago", t.Format("2 January"), days/7)
}
