package mail

import (
	"cmp"
	"context"
	"fmt"
	netmail "net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Bulk unsubscribe: the lists and senders whose mail carries
// List-Unsubscribe (RFC 2369) are proposed, those the user never reads
// first; an approved batch unsubscribes each by RFC 8058 one-click where
// the sender offers it over https, else by mail to its mailto: address,
// else tells the user which page to open. os1 never opens a plain link
// (GET) for the user: a GET to a link in an email can confirm anything.

// Unsubscribe methods, best first.
const (
	MethodOneClick = "one-click" // RFC 8058 POST
	MethodMailto   = "mailto"    // a mail to the list's address
	MethodLink     = "link"      // a page only the user may open
)

// UnsubCandidate is one list or sender the user could unsubscribe from.
type UnsubCandidate struct {
	// Sender is what an approved batch names: the List-Id (lower case) of
	// a list, else the sender's address.
	Sender string `json:"sender"`
	Name   string `json:"name"`
	From   string `json:"from"` // the address their newest message came from
	ListID string `json:"list_id,omitempty"`
	// Messages is how many of the user's messages are theirs, Read how
	// many of those the user opened (\Seen).
	Messages int       `json:"messages"`
	Read     int       `json:"read"`
	Newest   time.Time `json:"newest"`
	// Method is how os1 would unsubscribe; Target is the https address
	// (one-click, link) or the mail address (mailto) it would use.
	Method   string   `json:"method"`
	Target   string   `json:"target"`
	Subjects []string `json:"subjects,omitempty"` // the latest few
	// Warning says why os1 will only show the link (their mail failed the
	// sender checks).
	Warning string `json:"warning,omitempty"`

	how  unsubHow
	acct string // the account their newest message came to
}

// unsubHow is what a List-Unsubscribe header offers.
type unsubHow struct {
	https, http []string // links
	mailto      []string
	oneClick    bool // List-Unsubscribe-Post: List-Unsubscribe=One-Click
	// forged: the receiving server found the message failed SPF, DKIM or
	// DMARC, so its headers may be anyone's: only the link is offered.
	forged string
}

var angled = regexp.MustCompile(`<([^<>]*)>`)

// parseUnsub reads List-Unsubscribe and List-Unsubscribe-Post.
func parseUnsub(header, post string) unsubHow {
	var h unsubHow
	for _, m := range angled.FindAllStringSubmatch(header, 10) {
		raw := strings.Join(strings.Fields(m[1]), "") // folded headers leave spaces
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		switch strings.ToLower(u.Scheme) {
		case "https":
			if u.Host != "" && u.User == nil {
				h.https = append(h.https, raw)
			}
		case "http":
			if u.Host != "" && u.User == nil {
				h.http = append(h.http, raw)
			}
		case "mailto":
			h.mailto = append(h.mailto, raw)
		}
	}
	h.oneClick = strings.EqualFold(strings.Join(strings.Fields(post), ""), "List-Unsubscribe=One-Click")
	return h
}

// method is how os1 would unsubscribe with h, and its target.
func (h unsubHow) method() (string, string) {
	switch {
	case h.forged != "":
	case h.oneClick && len(h.https) > 0:
		return MethodOneClick, h.https[0]
	case len(h.mailto) > 0:
		if to, _, _, err := parseMailto(h.mailto[0]); err == nil {
			return MethodMailto, to.Email
		}
	}
	if len(h.https) > 0 {
		return MethodLink, h.https[0]
	}
	if len(h.http) > 0 {
		return MethodLink, h.http[0]
	}
	return "", ""
}

// parseMailto reads a mailto: URI (RFC 6068) of one address; only its
// subject and body are kept (never other headers it names).
func parseMailto(raw string) (Address, string, string, error) {
	u, err := url.Parse(raw)
	if err != nil || !strings.EqualFold(u.Scheme, "mailto") {
		return Address{}, "", "", fmt.Errorf("%q is not a mailto: address", raw)
	}
	to := u.Opaque
	if to == "" {
		to = u.Path
	}
	if to, err = url.PathUnescape(to); err != nil {
		return Address{}, "", "", fmt.Errorf("%q is not a mailto: address", raw)
	}
	a, err := netmail.ParseAddress(to)
	if err != nil || a.Name != "" || strings.ContainsAny(to, ",;<>") {
		return Address{}, "", "", fmt.Errorf("%q does not name one mail address", raw)
	}
	q := u.Query()
	subject := clipRunesTri(cleanLine(q.Get("subject")), 120)
	body := clipRunesTri(strings.TrimSpace(q.Get("body")), 500)
	return Address{Email: a.Address}, cmp.Or(subject, "unsubscribe"), cmp.Or(body, "unsubscribe"), nil
}

// unsubKey is the group a message belongs to: its list, else its sender.
func unsubKey(m Message) string {
	if id := strings.ToLower(strings.Trim(strings.TrimSpace(m.ListID), "<> ")); id != "" {
		if i := strings.LastIndexByte(id, '<'); i >= 0 {
			id = strings.Trim(id[i:], "<> ")
		}
		return id
	}
	return normAddr(m.From.Email)
}

// unsubCandidates groups the user's mail into candidates.
func unsubCandidates(ms []Message, me Self) map[string]*UnsubCandidate {
	slices.SortStableFunc(ms, func(a, b Message) int { return b.Date.Compare(a.Date) })
	by := map[string]*UnsubCandidate{}
	for _, m := range ms {
		if me.Own(m.From.Email) {
			continue
		}
		k := unsubKey(m)
		if k == "" {
			continue
		}
		c := by[k]
		if c == nil {
			c = &UnsubCandidate{Sender: k, From: normAddr(m.From.Email), Newest: m.Date}
			if m.ListID != "" {
				c.ListID, c.Name = strings.TrimSpace(m.ListID), cleanLine(listName(m.ListID))
			} else {
				c.Name = cmp.Or(cleanLine(m.From.Name), c.From)
			}
			by[k] = c
		}
		c.Messages++
		if m.HasFlag(FlagSeen) {
			c.Read++
		}
		if len(c.Subjects) < 3 {
			c.Subjects = append(c.Subjects, clipRunesTri(cleanLine(m.Subject), 80))
		}
		if c.Method == "" && m.ListUnsubscribe != "" { // the newest header offered wins
			h := parseUnsub(m.ListUnsubscribe, m.ListUnsubscribePost)
			h.forged = authFailures(m.AuthResults)
			if method, target := h.method(); method != "" {
				c.how, c.Method, c.Target, c.acct = h, method, target, m.AccountID
				if h.forged != "" {
					c.Warning = fmt.Sprintf("Their latest mail failed the sender checks (%s): its unsubscribe address may not be theirs, so os1 only shows the link.", h.forged)
				}
			}
		}
	}
	for k, c := range by {
		if c.Method == "" {
			delete(by, k)
		}
	}
	return by
}

// UnsubscribeCandidates proposes the lists and senders the user can
// unsubscribe from: never read first, then the most mail. It changes
// nothing and fetches nothing.
func (b *Bulk) UnsubscribeCandidates(ctx context.Context, userID string) ([]UnsubCandidate, error) {
	me, _, err := ownSelf(ctx, b.Service.Store, userID)
	if err != nil {
		return nil, err
	}
	ms, err := recentMail(ctx, b.Service.Store, userID, b.scan(), false)
	if err != nil {
		return nil, err
	}
	out := []UnsubCandidate{}
	for _, c := range unsubCandidates(ms, me) {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b UnsubCandidate) int {
		neverA, neverB := a.Read == 0, b.Read == 0
		if neverA != neverB {
			if neverA {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Read*b.Messages, b.Read*a.Messages), // less read first
			cmp.Compare(b.Messages, a.Messages), b.Newest.Compare(a.Newest), strings.Compare(a.Sender, b.Sender))
	})
	return out, nil
}

// Unsubscribe unsubscribes from each approved sender (one approval for the
// batch), answering what became of each. Only the user's own candidates
// are acted on: a sender that is not one (another user's, a typo) is
// reported and left alone.
func (b *Bulk) Unsubscribe(ctx context.Context, userID string, senders []string) ([]Result, error) {
	senders, err := checkBatch(senders)
	if err != nil {
		return nil, err
	}
	me, as, err := ownSelf(ctx, b.Service.Store, userID)
	if err != nil {
		return nil, err
	}
	ms, err := recentMail(ctx, b.Service.Store, userID, b.scan(), false)
	if err != nil {
		return nil, err
	}
	accounts := map[string]Account{}
	for _, a := range as {
		accounts[a.ID] = a
	}
	cands := unsubCandidates(ms, me)
	out := make([]Result, len(senders))
	sem := make(chan struct{}, unsubWorkers) // a few at once: each may wait on a slow server
	var wg sync.WaitGroup
	for i, s := range senders {
		c := cands[s]
		if c == nil {
			out[i] = Result{Sender: s, Status: StatusFailed,
				Message: fmt.Sprintf("os1 finds no mail from %s with an unsubscribe address in your mailbox, so it did nothing.", s)}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			defer func() {
				if r := recover(); r != nil {
					out[i] = Result{Sender: s, Status: StatusFailed, Message: fmt.Sprintf("Unsubscribing from %s crashed: %v", c.Name, r)}
				}
			}()
			out[i] = b.unsubscribe(ctx, c, accounts[c.acct])
		}()
	}
	wg.Wait()
	return out, nil
}

func (b *Bulk) web() *OneClick {
	if b.Web != nil {
		return b.Web
	}
	return &OneClick{}
}

// unsubscribe tries one-click, then mailto, then hands the link over.
func (b *Bulk) unsubscribe(ctx context.Context, c *UnsubCandidate, acct Account) Result {
	res := Result{Sender: c.Sender}
	var failures []string
	if c.how.forged != "" {
		failures = append(failures, fmt.Sprintf("Their latest mail failed the sender checks (%s), so its unsubscribe address may not be theirs.", c.how.forged))
	}
	if c.how.forged == "" && c.how.oneClick && len(c.how.https) > 0 {
		target := c.how.https[0]
		err := b.web().Post(ctx, target)
		if err == nil {
			res.Status, res.Method, res.URL = StatusDone, MethodOneClick, target
			res.Message = fmt.Sprintf("Unsubscribed from %s (one-click, RFC 8058).", c.Name)
			return res
		}
		failures = append(failures, fmt.Sprintf("The one-click unsubscribe failed: %s", sentenceOf(err)))
	}
	if c.how.forged == "" && len(c.how.mailto) > 0 {
		to, subject, body, err := parseMailto(c.how.mailto[0])
		switch {
		case err != nil:
			failures = append(failures, sentenceOf(err))
		case b.Mailer == nil:
			failures = append(failures, "Sending mail is not available on this server.")
		case acct.ID == "":
			failures = append(failures, "The account their mail came to is gone.")
		default:
			if err := b.Mailer.SendText(ctx, acct, to, subject, body); err != nil {
				failures = append(failures, fmt.Sprintf("Mailing %s from %s failed: %s", to.Email, acct.Address, sentenceOf(err)))
				break
			}
			res.Status, res.Method = StatusDone, MethodMailto
			res.Message = fmt.Sprintf("Sent an unsubscribe request for %s to %s from %s; lists take up to a few days to stop.", c.Name, to.Email, acct.Address)
			return res
		}
	}
	link := ""
	if len(c.how.https) > 0 {
		link = c.how.https[0]
	} else if len(c.how.http) > 0 {
		link = c.how.http[0]
	}
	res.Message = strings.Join(failures, " ")
	if link != "" {
		res.Status, res.Method, res.URL = StatusManual, MethodLink, link
		res.Message = strings.TrimSpace(res.Message + fmt.Sprintf(" os1 can't unsubscribe from %s automatically: open %s yourself.", c.Name, link))
		return res
	}
	res.Status = StatusFailed
	if res.Message == "" {
		res.Message = fmt.Sprintf("os1 can't unsubscribe from %s automatically.", c.Name)
	}
	return res
}
