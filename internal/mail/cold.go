package mail

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Cold-email detection: a sales or outreach email from someone the user
// never heard from, never wrote to and does not know, sent to them alone
// (not a list). It is a triage signal: such a message owes nothing and
// sinks, with the reason said ("cold email: first email from them, sales
// phrasing “book a demo”"). It reads only headers and the sender's own
// text, like the rules ranker.

// ColdReasonPrefix starts the reason of a message ColdTriage marked, so
// the inbox can show it as a cold email.
const ColdReasonPrefix = "cold email"

// coldPhrases are outreach phrasings; each match is named in the reason.
var coldPhrases = regexp.MustCompile(`(?i)\b(quick question|(15|fifteen)[- ]?(minutes?|mins?)\b|minutes of your time|(quick|short) (call|chat)\b|book a (demo|call|meeting)|schedule a (demo|call)|hop on a (quick )?call|i came across your|came across your (profile|company|website|work)|partnership|partner with (you|your)|would you be open to|are you the right person|the right person to (talk|speak)|decision[- ]maker|(increase|boost|grow) your (revenue|sales|pipeline|traffic)|generate (more )?leads|following up on my (last|previous) (email|note|message)|circle back|reaching out (to you )?because|i'?m reaching out)`)

// ColdEmail reports whether m looks like a cold email, with the reason.
// firstTime says whether m is the first message the user has from its
// sender (SenderHistory tells).
func ColdEmail(m Message, k Knowledge, firstTime bool) (bool, string) {
	from := m.From.Email
	if from == "" || !firstTime || k.Own(from) || k.WroteTo(from) || k.RepliedIn(m.ThreadID) {
		return false, ""
	}
	if _, known := k.Person(from); known {
		return false, ""
	}
	if m.ListID != "" || m.ListUnsubscribe != "" || isBulk(m.Precedence) {
		return false, ""
	}
	if at := strings.LastIndexByte(from, '@'); at > 0 {
		if local := strings.ToLower(from[:at]); noReplyLocal.MatchString(local) || notifierLocal.MatchString(local) {
			return false, "" // a machine's mail (a code, an alert), not a pitch
		}
	}
	text := m.Subject + "\n" + OwnText(m.Text)
	var found []string
	for _, p := range coldPhrases.FindAllString(text, -1) {
		p = strings.ToLower(strings.Join(strings.Fields(p), " "))
		if !slices.Contains(found, p) {
			found = append(found, p)
		}
		if len(found) == 2 {
			break
		}
	}
	if len(found) == 0 {
		return false, ""
	}
	return true, ColdReasonPrefix + ": first email from them, sales phrasing “" + strings.Join(found, "”, “") + "”"
}

// SenderHistory knows when the user first got mail from each sender.
type SenderHistory struct {
	first map[string]time.Time
}

// NewSenderHistory reads it from ms (the user's recent mail).
func NewSenderHistory(ms []Message) *SenderHistory {
	h := &SenderHistory{first: map[string]time.Time{}}
	for _, m := range ms {
		a := normAddr(m.From.Email)
		if t, ok := h.first[a]; !ok || m.Date.Before(t) {
			h.first[a] = m.Date
		}
	}
	return h
}

// FirstTime reports whether no earlier message from m's sender is known.
func (h *SenderHistory) FirstTime(m Message) bool {
	t, ok := h.first[normAddr(m.From.Email)]
	return !ok || !t.Before(m.Date)
}

// ColdTriage is triage's cold-email signal: each message of ms that is a
// cold email stops needing a reply or being waited on (it becomes FYI),
// sinks to at most 0.15 importance, and says why; others keep ts[i]. Only
// when some message of a stranger reads like outreach does it read the
// user's recent mail (up to 5,000 messages, without bodies) to know
// whether they wrote before. Run it before ApplyRules, so the user's own
// rules still win.
func (s *Service) ColdTriage(ctx context.Context, userID string, ms []Message, ts []Triage, k Knowledge) ([]Triage, error) {
	out := make([]Triage, len(ts))
	copy(out, ts)
	var maybe []int
	for i, m := range ms {
		if i < len(out) {
			if cold, _ := ColdEmail(m, k, true); cold {
				maybe = append(maybe, i)
			}
		}
	}
	if len(maybe) == 0 {
		return out, nil
	}
	recent, err := recentMail(ctx, s.Store, userID, 5000, false)
	if err != nil {
		return ts, err
	}
	h := NewSenderHistory(append(recent, ms...))
	for _, i := range maybe {
		if cold, why := ColdEmail(ms[i], k, h.FirstTime(ms[i])); cold {
			out[i] = MarkCold(out[i], why)
		}
	}
	return out, nil
}

// MarkCold applies the cold-email signal to a triage.
func MarkCold(t Triage, why string) Triage {
	if t.Category == NeedsReply || t.Category == Waiting || t.Category == "" {
		t.Category = FYI
	}
	t.Importance = min(t.Importance, 0.15)
	t.Reason = why
	return t
}
