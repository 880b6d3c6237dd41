package mail

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// Triage without a model: the rules ranker. It reads only the message's
// headers and text and what the user's Knowledge says, and must never fetch
// anything a message points at (links, images) nor act on what it says.

// Self tells the user's own addresses apart from everyone else's.
type Self interface {
	// Own reports whether addr is one of the user's own addresses.
	Own(addr string) bool
}

// Knowledge is what triage knows of the user's world: who they are, the
// people they know (memory's people), whom they have written to (the Sent
// folder) and the threads they answered in.
type Knowledge interface {
	Self
	// Person finds a person the user knows by one of their addresses.
	Person(addr string) (Person, bool)
	// WroteTo reports whether the user has ever sent mail to addr.
	WroteTo(addr string) bool
	// RepliedIn reports whether the user wrote in the thread.
	RepliedIn(threadID string) bool
}

// Person is someone the user knows, as memory has them.
type Person struct {
	Name     string
	Relation string // "sister", "landlord"; empty when memory has none
	Emails   []string
	// Closeness is how close the user is to them, 0 (a name once
	// mentioned) to 1 (partner, family).
	Closeness float64
}

// Known is a Knowledge held in memory, built by NewKnowledge.
type Known struct {
	own     map[string]bool
	people  map[string]Person // by lower-case address
	wrote   map[string]bool
	replied map[string]bool
	list    []Person
}

var _ Knowledge = (*Known)(nil)

// NewKnowledge gathers what triage knows: the user's own addresses, the
// people they know, and their sent messages (whom they wrote to and the
// threads they answered in).
func NewKnowledge(own []string, people []Person, sent []Message) *Known {
	k := &Known{own: map[string]bool{}, people: map[string]Person{}, wrote: map[string]bool{}, replied: map[string]bool{}}
	for _, a := range own {
		k.own[normAddr(a)] = true
	}
	for _, p := range people {
		k.list = append(k.list, p)
		for _, e := range p.Emails {
			e = normAddr(e)
			if old, ok := k.people[e]; !ok || p.Closeness > old.Closeness {
				k.people[e] = p
			}
		}
	}
	for _, m := range sent {
		for _, a := range slices.Concat(m.To, m.Cc) {
			k.wrote[normAddr(a.Email)] = true
		}
		if m.ThreadID != "" {
			k.replied[m.ThreadID] = true
		}
	}
	return k
}

// Own reports whether addr is one of the user's addresses, with or
// without a "+tag" (theo+news@example.com is theo@example.com).
func (k *Known) Own(addr string) bool {
	a := normAddr(addr)
	if k.own[a] {
		return true
	}
	at := strings.LastIndexByte(a, '@')
	if plus := strings.IndexByte(a, '+'); plus > 0 && at > plus {
		return k.own[a[:plus]+a[at:]]
	}
	return false
}

// Person finds a known person by address.
func (k *Known) Person(addr string) (Person, bool) {
	p, ok := k.people[normAddr(addr)]
	return p, ok
}

// WroteTo reports whether the user sent mail to addr.
func (k *Known) WroteTo(addr string) bool { return k.wrote[normAddr(addr)] }

// RepliedIn reports whether the user wrote in the thread.
func (k *Known) RepliedIn(threadID string) bool { return threadID != "" && k.replied[threadID] }

// People lists the people it knows, for ResolveRule.
func (k *Known) People() []Person { return k.list }

func normAddr(a string) string { return strings.ToLower(strings.TrimSpace(a)) }

// Triager is the rules ranker: a category, an importance with its reason in
// plain words and a one-line summary, from signals alone (no model).
type Triager struct {
	Clock clock.Clock // nil: clock.System
}

// Importance by category before the signals move it.
var baseImportance = map[Category]float64{
	NeedsReply: 0.55, Waiting: 0.4, FYI: 0.3, Receipt: 0.2, Notification: 0.15, Newsletter: 0.1, Spam: 0,
}

// Triage ranks one message. It never fails: a message it cannot place is FYI.
func (tr Triager) Triage(_ context.Context, m Message, k Knowledge) Triage {
	if k == nil {
		k = NewKnowledge(nil, nil, nil)
	}
	now := tr.now()
	s := readSignals(m, k)
	t := Triage{Category: s.category(), By: "rules", At: now, Summary: Summarize(m)}
	imp := baseImportance[t.Category]
	var why []string
	switch t.Category {
	case Spam:
		t.Reason = "probably spam: it failed the sender checks (" + s.authFailed + ") and " + s.spamWhy
		return t
	case Newsletter:
		why = append(why, "a newsletter ("+s.listWhy+")")
	case Receipt:
		why = append(why, "a receipt from an automatic sender")
	case Notification:
		why = append(why, "an automatic notification")
	case Waiting:
		why = append(why, "you asked and are waiting for an answer")
	}
	if s.known {
		imp += 0.1 + 0.3*s.person.Closeness
		why = append(why, "from "+personLabel(s.person, m.From))
	} else if s.wroteTo && t.Category != Newsletter {
		imp += 0.1
		why = append(why, "from someone you have written to")
	}
	if s.replied {
		imp += 0.15
		why = append(why, "you replied in this thread")
	}
	if t.Category == NeedsReply {
		why = append(why, s.askWhy)
	} else if s.direct && s.asks && !s.automated && t.Category == FYI {
		imp += 0.05
		why = append(why, s.askWhy+" (a sender you don't know)")
	}
	if d, ok := s.deadline(); ok && (!s.automated || t.Category == Receipt) {
		left := d.When.Sub(now)
		switch {
		case !d.Deadline:
			if left >= 0 && left <= 8*day {
				imp += 0.05
				why = append(why, d.Label())
			}
		case left < 0:
			why = append(why, "the "+d.Label()+" has passed")
		case left <= 36*hour:
			imp += 0.3
			why = append(why, d.Label())
		case left <= 8*day:
			imp += 0.2
			why = append(why, d.Label())
		default:
			imp += 0.05
			why = append(why, d.Label())
		}
	}
	if m.HasFlag(FlagFlagged) {
		imp += 0.2
		why = append(why, "you flagged it")
	}
	if t.Category == FYI && !s.direct && s.cc && !s.known {
		imp -= 0.1
		why = append(why, "you are only in Cc")
	}
	if len(why) == 0 {
		why = append(why, "nothing marks it as urgent")
	}
	t.Importance = round2(min(max(imp, 0), 1))
	t.Reason = strings.Join(why, "; ")
	return t
}

func (tr Triager) now() time.Time {
	if tr.Clock == nil {
		return clock.System{}.Now()
	}
	return tr.Clock.Now()
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// personLabel is how a reason names a known person: "your sister", or
// their name.
func personLabel(p Person, a Address) string {
	if r := strings.TrimSpace(p.Relation); r != "" {
		return "your " + strings.TrimPrefix(strings.ToLower(r), "my ")
	}
	return firstNonEmpty(p.Name, a.Name, a.Email)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			return strings.TrimSpace(x)
		}
	}
	return ""
}

// signals are what the ranker reads off one message.
type signals struct {
	own                          bool // the user sent it
	direct, cc                   bool // the user is in To / only in Cc
	known                        bool
	person                       Person
	wroteTo, replied             bool
	asks                         bool
	askWhy                       string
	listWhy                      string
	receipt, notifier, automated bool
	authFailed, spamWhy          string
	dates                        []DateMention
}

func readSignals(m Message, k Knowledge) signals {
	var s signals
	s.own = k.Own(m.From.Email)
	for _, a := range m.To {
		s.direct = s.direct || k.Own(a.Email)
	}
	for _, a := range m.Cc {
		s.cc = s.cc || k.Own(a.Email)
	}
	s.person, s.known = k.Person(m.From.Email)
	s.wroteTo = k.WroteTo(m.From.Email)
	s.replied = k.RepliedIn(m.ThreadID)
	body := OwnText(m.Text)
	s.asks, s.askWhy = asksSomething(m.Subject, body)
	switch {
	case m.ListID != "":
		s.listWhy = "mailing list " + listName(m.ListID)
	case m.ListUnsubscribe != "":
		s.listWhy = "it has an unsubscribe link"
	case isBulk(m.Precedence):
		s.listWhy = "sent in bulk"
	}
	local := strings.ToLower(m.From.Email)
	if i := strings.IndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	noReply := noReplyLocal.MatchString(local)
	s.notifier = notifierLocal.MatchString(local)
	s.automated = noReply || s.notifier || s.listWhy != ""
	s.receipt = receiptWords.MatchString(m.Subject) || (receiptWords.MatchString(clipRunesTri(body, 600)) && receiptAmount.MatchString(body))
	s.receipt = s.receipt && (noReply || s.notifier || receiptLocal.MatchString(local) || s.listWhy != "")
	if noReply && s.listWhy == "" {
		s.notifier = true
	}
	s.authFailed = authFailures(m.AuthResults)
	s.spamWhy = spamSignals(m, body, s.known || s.wroteTo)
	s.dates = FindDates(m.Subject+". "+body, m.Date)
	return s
}

func (s signals) category() Category {
	switch {
	case s.authFailed != "" && s.spamWhy != "" && !s.known:
		return Spam
	case s.own:
		if s.asks {
			return Waiting
		}
		return FYI
	case s.receipt:
		return Receipt
	case s.notifier && !s.known:
		return Notification
	case s.listWhy != "":
		return Newsletter
	case s.direct && s.asks && (s.known || s.wroteTo || s.replied):
		return NeedsReply
	}
	return FYI
}

// deadline picks the date mention that matters most: the nearest deadline,
// else the nearest date.
func (s signals) deadline() (DateMention, bool) {
	var best DateMention
	found := false
	for _, d := range s.dates {
		if !found || d.Deadline && !best.Deadline || d.Deadline == best.Deadline && d.When.Before(best.When) {
			best, found = d, true
		}
	}
	return best, found
}

var (
	noReplyLocal  = regexp.MustCompile(`^(no-?reply|do-?not-?reply|donotreply|noreply[-+.].*|.*[-+.]noreply|mailer-daemon|postmaster|bounces?([-+.].*)?)$`)
	notifierLocal = regexp.MustCompile(`^(notifications?|notify|alerts?|updates?|system|automated|auto-confirm|calendar-notification|security|account|accounts)([-+.].*)?$`)
	receiptLocal  = regexp.MustCompile(`^(orders?|receipts?|billing|invoices?|payments?|shipping|store|shop|sales|confirmation|digital-no-reply)([-+.].*)?$`)
	receiptWords  = regexp.MustCompile(`(?i)\b(receipt|your order|order (confirmation|#|number|no\.?)|order (has )?shipped|invoice|payment (received|confirmation)|booking confirmation|purchase|refund|subscription renewal|your ride|e-ticket)\b`)
	receiptAmount = regexp.MustCompile(`(?i)(total|amount|paid|charged)\W{0,3}[$€£]?\s?\d`)
	spamWords     = regexp.MustCompile(`(?i)\b(lottery|winner|you have won|claim your (prize|reward)|bitcoin|crypto investment|wire transfer|inheritance|beneficiary|verify your (account|password|identity)|account (will be )?(suspended|locked)|urgent(ly)? (response|reply) needed|act now|100% free|viagra|casino|gift card|password (expires|expired))\b`)
)

func isBulk(p string) bool {
	p = strings.ToLower(strings.TrimSpace(p))
	return p == "bulk" || p == "list" || p == "junk"
}

// listName is a List-Id's readable part: "Climbing club <climb.example.org>"
// gives "Climbing club", a bare id its first label.
func listName(id string) string {
	id = strings.TrimSpace(id)
	if i := strings.IndexByte(id, '<'); i > 0 {
		if n := strings.Trim(strings.TrimSpace(id[:i]), `"`); n != "" {
			return n
		}
	}
	id = strings.Trim(id, "<> ")
	if i := strings.IndexByte(id, '.'); i > 0 {
		return id[:i]
	}
	return id
}

// authFailures names the failed checks in an Authentication-Results value
// ("spf, dmarc"), or "".
func authFailures(ar string) string {
	ar = strings.ToLower(ar)
	var failed []string
	for _, check := range []string{"spf", "dkim", "dmarc"} {
		for _, bad := range []string{"=fail", "=softfail", "=permerror"} {
			if strings.Contains(ar, check+bad) {
				failed = append(failed, strings.ToUpper(check))
				break
			}
		}
	}
	return strings.Join(failed, ", ")
}

// spamSignals says what looks like spam, or "".
func spamSignals(m Message, body string, known bool) string {
	var why []string
	if w := spamWords.FindString(m.Subject + "\n" + clipRunesTri(body, 4000)); w != "" {
		why = append(why, fmt.Sprintf("it says %q", strings.ToLower(w)))
	}
	if len(m.ReplyTo) > 0 && domainOf(m.ReplyTo[0].Email) != domainOf(m.From.Email) {
		why = append(why, "replies would go to another domain")
	}
	if strings.Contains(m.From.Name, "@") && !strings.Contains(strings.ToLower(m.From.Name), domainOf(m.From.Email)) {
		why = append(why, "its sender's name shows another address")
	}
	if len(why) == 0 || known && len(why) < 2 {
		return ""
	}
	return strings.Join(why, " and ")
}

func domainOf(addr string) string {
	addr = normAddr(addr)
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

var (
	requestPhrases = regexp.MustCompile(`(?i)\b(can you|could you|would you|will you|can we|could we|shall we|are you|do you|did you|have you|let me know|please (send|confirm|reply|review|sign|check|call|let)|rsvp|need you to|what do you think|your thoughts|get back to me|when (can|could|are) you)\b`)
	questionEnd    = regexp.MustCompile(`\?(\s|$)`)
)

// asksSomething reports whether the text asks the reader a question or for
// something, with the reason's words ("asks about Sunday").
func asksSomething(subject, body string) (bool, string) {
	for _, sent := range sentences(body) {
		if questionEnd.MatchString(sent) || requestPhrases.MatchString(sent) {
			if len(strings.Fields(sent)) < 2 && !requestPhrases.MatchString(sent) {
				continue // "Hi?" or a bare "?"
			}
			if about := aboutWhat(sent); about != "" {
				return true, "asks about " + about
			}
			if questionEnd.MatchString(sent) {
				return true, "asks you a question"
			}
			return true, "asks you for something"
		}
	}
	if questionEnd.MatchString(subject) {
		return true, "asks you a question"
	}
	return false, ""
}

var aboutRe = regexp.MustCompile(`(?i)\b(?:about|for|on|regarding)\s+((?:the\s+|your\s+|my\s+|our\s+|this\s+|next\s+)?[\p{L}\d'-]+)`)

// aboutWhat finds "about Sunday" in a question, or "".
func aboutWhat(sent string) string {
	m := aboutRe.FindStringSubmatch(sent)
	if m == nil {
		return ""
	}
	w := strings.TrimRight(m[1], "?.!,;:")
	if last := w[strings.LastIndexByte(w, ' ')+1:]; stopWord[strings.ToLower(last)] {
		return ""
	}
	return w
}

var stopWord = map[string]bool{"it": true, "that": true, "this": true, "me": true, "you": true, "us": true, "them": true, "a": true, "an": true, "the": true, "sure": true, "now": true}
