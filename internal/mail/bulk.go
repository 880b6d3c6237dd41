package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bulk clean-up of a user's mail: unsubscribing from lists (unsubscribe.go)
// and archiving what they never read. Each is two steps: a proposal, which
// changes nothing, and a batch the user approved once, which acts only on
// the senders they approved and only on their own mail. Nothing a message
// says chooses what is done; the headers only say how (List-Unsubscribe).

// Mover moves messages on the IMAP server (*imapsync.Engine): uids of
// folder into dest; it answers each moved UID's new UID when the server
// says (UIDPLUS).
type Mover interface {
	Move(ctx context.Context, acct Account, creds Credentials, folder string, uids []uint32, dest string) (map[uint32]uint32, error)
}

// Mailer sends one short plain-text message from the user's account (an
// unsubscribe request to a list's mailto: address). The app composes it with
// smtpsend and submits it like any mail the user sends.
type Mailer interface {
	SendText(ctx context.Context, acct Account, to Address, subject, body string) error
}

// Bulk runs the bulk clean-ups for the server. Service gives the store,
// the clock and SignIn; Mover and Mailer may be nil (the batch then says
// what could not be done).
type Bulk struct {
	Service *Service
	Mover   Mover
	Mailer  Mailer
	// Web posts RFC 8058 one-click unsubscribes; nil: a OneClick with its
	// defaults (public addresses only).
	Web *OneClick
	// MinUnread is how many of a sender's latest messages must all be
	// unread for the sender to be proposed for archiving (at least 5).
	MinUnread int
	// Scan is how many of the user's newest messages a proposal reads
	// (default 10,000).
	Scan int
}

// Result is what became of one approved sender of a batch.
type Result struct {
	Sender string `json:"sender"`
	// Status is "done", "failed", or (unsubscribe) "manual": os1 cannot do
	// it, and URL is a page the user may open themselves.
	Status string `json:"status"`
	// Message says what happened in a sentence.
	Message string `json:"message"`
	Method  string `json:"method,omitempty"` // unsubscribe: "one-click", "mailto", "link"
	URL     string `json:"url,omitempty"`
	Moved   int    `json:"moved,omitempty"` // archive: messages moved
}

// Result statuses.
const (
	StatusDone   = "done"
	StatusFailed = "failed"
	StatusManual = "manual"
)

// MaxBatch is the most senders one approved batch may name.
const MaxBatch = 200

// ErrUnavailable means a part the bulk action needs is not configured.
var ErrUnavailable = errors.New("not available on this server")

func (b *Bulk) scan() int { return cmp.Or(b.Scan, 10000) }

// unsubWorkers is how many unsubscribes of a batch run at once.
const unsubWorkers = 6

func (b *Bulk) minUnread() int { return max(b.MinUnread, 5) }

// checkBatch validates the senders of an approved batch: some, not too
// many, each once (lower case).
func checkBatch(senders []string) ([]string, error) {
	var out []string
	for _, s := range senders {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, inputErr("Choose at least one sender.")
	}
	if len(out) > MaxBatch {
		return nil, inputErr("One batch may hold at most %d senders.", MaxBatch)
	}
	return out, nil
}

// recentMail reads up to n of the user's newest messages, every folder,
// newest first. Without keepText their bodies are dropped as each page is
// read, so a proposal over thousands of messages holds little.
func recentMail(ctx context.Context, st Store, userID string, n int, keepText bool) ([]Message, error) {
	var out []Message
	seen := map[string]bool{}
	var before time.Time
	for len(out) < n {
		page, err := st.Messages(ctx, userID, Query{Before: before, Limit: MaxLimit})
		if err != nil {
			return nil, err
		}
		added := 0
		for _, m := range page {
			if !seen[m.ID] {
				seen[m.ID] = true
				if !keepText {
					m.Text = ""
				}
				out = append(out, m)
				added++
			}
		}
		if len(page) < MaxLimit {
			break
		}
		last := page[len(page)-1].Date
		// Before is strict: step back to just after the last date, so the
		// messages sharing it that did not fit are read (the rest skipped
		// as seen); when a page brought nothing new, a run of equal dates
		// longer than a page is passed over.
		before = last.Add(time.Nanosecond)
		if added == 0 {
			before = last
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// ownSelf is the user's own addresses, from their accounts.
func ownSelf(ctx context.Context, st Store, userID string) (*Known, []Account, error) {
	as, err := st.Accounts(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	own := make([]string, len(as))
	for i, a := range as {
		own[i] = a.Address
	}
	return NewKnowledge(own, nil, nil), as, nil
}

// folderRoles maps account id → folder name → role.
func folderRoles(ctx context.Context, st Store, userID string, as []Account) (map[string]map[string]Role, error) {
	out := map[string]map[string]Role{}
	for _, a := range as {
		fs, err := st.Folders(ctx, userID, a.ID)
		if err != nil {
			return nil, err
		}
		out[a.ID] = map[string]Role{}
		for _, f := range fs {
			out[a.ID][f.Name] = f.Role
		}
	}
	return out, nil
}

// inInbox reports whether a message sits in an account's inbox.
func inInbox(roles map[string]map[string]Role, m Message) bool {
	r := roles[m.AccountID][m.Folder]
	return r == RoleInbox || r == "" && strings.EqualFold(m.Folder, "INBOX")
}

// ArchiveSuggestion is a sender whose latest messages the user never read.
type ArchiveSuggestion struct {
	Sender string `json:"sender"` // the address, lower case: what a batch names
	Name   string `json:"name,omitempty"`
	// Unread is how many of their latest messages in a row are unread.
	Unread int `json:"unread"`
	// Messages is how many of theirs sit in an inbox: what archiving moves.
	Messages int       `json:"messages"`
	Newest   time.Time `json:"newest"`
	Subjects []string  `json:"subjects,omitempty"` // the latest few, to recognise them
}

// senderMail groups the user's messages by sender address (newest first
// within each), leaving out their own.
func senderMail(ms []Message, me Self) map[string][]Message {
	by := map[string][]Message{}
	for _, m := range ms {
		addr := normAddr(m.From.Email)
		if addr == "" || me.Own(addr) {
			continue
		}
		by[addr] = append(by[addr], m)
	}
	for _, list := range by {
		slices.SortStableFunc(list, func(a, b Message) int { return b.Date.Compare(a.Date) })
	}
	return by
}

// archivable reports whether a sender's mail is worth proposing: their
// latest min messages all unread and none flagged, and some in an inbox.
func archivable(list []Message, roles map[string]map[string]Role, need int) (ArchiveSuggestion, []Message, bool) {
	if len(list) < need {
		return ArchiveSuggestion{}, nil, false
	}
	unread := 0
	for _, m := range list {
		if m.HasFlag(FlagSeen) {
			break
		}
		unread++
	}
	if unread < need {
		return ArchiveSuggestion{}, nil, false
	}
	var move []Message
	for _, m := range list {
		if m.HasFlag(FlagFlagged) {
			return ArchiveSuggestion{}, nil, false // they kept one: not mail they ignore
		}
		if inInbox(roles, m) {
			move = append(move, m)
		}
	}
	if len(move) == 0 {
		return ArchiveSuggestion{}, nil, false
	}
	s := ArchiveSuggestion{Sender: normAddr(list[0].From.Email), Name: cleanLine(list[0].From.Name),
		Unread: unread, Messages: len(move), Newest: list[0].Date}
	for _, m := range list[:min(3, len(list))] {
		s.Subjects = append(s.Subjects, clipRunesTri(cleanLine(m.Subject), 80))
	}
	return s, move, true
}

// ArchiveSuggestions proposes senders whose latest MinUnread (or more)
// messages the user never opened, most ignored first. It changes nothing.
func (b *Bulk) ArchiveSuggestions(ctx context.Context, userID string) ([]ArchiveSuggestion, error) {
	st := b.Service.Store
	me, as, err := ownSelf(ctx, st, userID)
	if err != nil {
		return nil, err
	}
	roles, err := folderRoles(ctx, st, userID, as)
	if err != nil {
		return nil, err
	}
	ms, err := recentMail(ctx, st, userID, b.scan(), false)
	if err != nil {
		return nil, err
	}
	out := []ArchiveSuggestion{}
	for _, list := range senderMail(ms, me) {
		if s, _, ok := archivable(list, roles, b.minUnread()); ok {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b ArchiveSuggestion) int {
		return cmp.Or(cmp.Compare(b.Unread, a.Unread), cmp.Compare(b.Messages, a.Messages), b.Newest.Compare(a.Newest), strings.Compare(a.Sender, b.Sender))
	})
	return out, nil
}

// Archive moves the inbox mail of each approved sender to its account's
// Archive folder (the folder marked archive; else one named "Archive") on
// the server, then in os1's store. A sender that is no longer a suggestion
// for this user (another user's, or read since) is left alone.
func (b *Bulk) Archive(ctx context.Context, userID string, senders []string) ([]Result, error) {
	senders, err := checkBatch(senders)
	if err != nil {
		return nil, err
	}
	st := b.Service.Store
	me, as, err := ownSelf(ctx, st, userID)
	if err != nil {
		return nil, err
	}
	roles, err := folderRoles(ctx, st, userID, as)
	if err != nil {
		return nil, err
	}
	ms, err := recentMail(ctx, st, userID, b.scan(), false)
	if err != nil {
		return nil, err
	}
	accounts := map[string]Account{}
	for _, a := range as {
		accounts[a.ID] = a
	}
	by := senderMail(ms, me)
	out := make([]Result, 0, len(senders))
	for _, sender := range senders {
		_, move, ok := archivable(by[sender], roles, b.minUnread())
		if !ok {
			out = append(out, Result{Sender: sender, Status: StatusFailed,
				Message: fmt.Sprintf("Nothing to archive from %s: os1 finds no run of unread mail from them in your inbox.", sender)})
			continue
		}
		if b.Mover == nil {
			out = append(out, Result{Sender: sender, Status: StatusFailed, Message: "Moving mail on the server is not available on this server."})
			continue
		}
		out = append(out, b.archiveSender(ctx, userID, sender, move, accounts, roles))
	}
	if b.Service.OnChange != nil {
		b.Service.OnChange(userID)
	}
	return out, nil
}

// archiveDest is the account's archive folder, and whether os1 had to
// guess its name.
func archiveDest(roles map[string]Role) (string, bool) {
	var names []string
	for name, r := range roles {
		if r == RoleArchive {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		slices.Sort(names)
		return names[0], false
	}
	return "Archive", true
}

func (b *Bulk) archiveSender(ctx context.Context, userID, sender string, move []Message, accounts map[string]Account, roles map[string]map[string]Role) Result {
	type where struct{ account, folder string }
	groups := map[where][]Message{}
	var order []where
	for _, m := range move {
		k := where{m.AccountID, m.Folder}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], m)
	}
	res := Result{Sender: sender}
	var problems, notes []string
	for _, k := range order {
		acct, ok := accounts[k.account]
		if !ok {
			continue
		}
		dest, guessed := archiveDest(roles[k.account])
		if guessed {
			note := fmt.Sprintf("%s has no folder marked as its archive, so os1 used the folder named “Archive”.", acct.Address)
			if !slices.Contains(notes, note) {
				notes = append(notes, note)
			}
		}
		creds, err := b.Service.SignIn(ctx, acct)
		if err != nil {
			problems = append(problems, sentenceOf(err))
			continue
		}
		group := groups[k]
		uids := make([]uint32, 0, len(group))
		for _, m := range group {
			uids = append(uids, m.UID)
		}
		moved, err := b.Mover.Move(ctx, acct, creds, k.folder, uids, dest)
		if err != nil {
			problems = append(problems, fmt.Sprintf("Moving %d messages from %s to %s on %s failed: %s", len(uids), k.folder, dest, acct.Address, sentenceOf(err)))
			continue
		}
		for _, m := range group {
			if err := b.Service.Store.MoveMessage(ctx, userID, m.ID, dest, moved[m.UID]); err != nil {
				problems = append(problems, fmt.Sprintf("The server moved “%s” but os1 could not record it (the next sync will): %s", clipRunesTri(cleanLine(m.Subject), 60), sentenceOf(err)))
				continue
			}
			res.Moved++
		}
	}
	switch {
	case len(problems) == 0:
		res.Status = StatusDone
		res.Message = fmt.Sprintf("Archived %d messages from %s.", res.Moved, sender)
	default:
		res.Status = StatusFailed
		res.Message = fmt.Sprintf("Archived %d of %d messages from %s. %s", res.Moved, len(move), sender, strings.Join(problems, " "))
	}
	if len(notes) > 0 {
		res.Message += " " + strings.Join(notes, " ")
	}
	return res
}

// sentenceOf is an error's text as a sentence ending in a full stop.
func sentenceOf(err error) string {
	s := strings.TrimSpace(err.Error())
	if s == "" {
		return "Unknown error."
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
