package imapsync

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/os1ai/os1/internal/mail"
)

// Store is what a sync needs of mail.Store.
type Store interface {
	Folders(ctx context.Context, userID, accountID string) ([]mail.Folder, error)
	SaveFolder(ctx context.Context, userID string, f mail.Folder) error
	ResetFolder(ctx context.Context, userID, accountID, folder string) error
	PutMessages(ctx context.Context, userID string, ms []mail.Message) error
	MessageByUID(ctx context.Context, userID, accountID, folder string, uid uint32) (mail.Message, error)
	Messages(ctx context.Context, userID string, q mail.Query) ([]mail.Message, error)
	SetFlags(ctx context.Context, userID, id string, flags []string) error
	DeleteMessages(ctx context.Context, userID string, ids []string) error
}

var _ Store = mail.Store(nil)

// Defaults of Engine's options.
const (
	DefaultBatch      = 50
	DefaultMaxText    = 128 << 10
	DefaultMaxFetch   = 2 << 20
	DefaultFlagWindow = 2000
)

// Engine syncs accounts. The zero value works: TLS as the system trusts
// it, the defaults above, inbox and sent.
type Engine struct {
	// Roles are the folders synced, by role [inbox, sent].
	Roles []mail.Role
	// Batch is how many messages one FETCH asks for [50].
	Batch int
	// MaxText caps each message's stored text [128 KiB].
	MaxText int
	// MaxFetch caps the bytes of one message fetched [2 MiB]; attachments
	// past it are listed from the BODYSTRUCTURE.
	MaxFetch int64
	// FlagWindow is how many of the newest messages have their flags
	// refetched when the server has no CONDSTORE [2000].
	FlagWindow int
	// Now is the clock (SyncDays counts back from it) [time.Now].
	Now       func() time.Time
	TLSConfig *tls.Config
	Dialer    Dialer
	// KeepOpen keeps one signed-in session per account between calls, so
	// an incremental sync after IDLE skips connecting and signing in. A
	// kept session is checked with NOOP before use; Close ends them. An
	// account's calls must not overlap (the mail service runs one sync
	// per account at a time); one that finds the session taken opens
	// another.
	KeepOpen bool

	mu   sync.Mutex
	pool map[string]*imapclient.Client
}

// Report says what a sync did, per folder.
type Report struct {
	Folders []FolderReport
}

// FolderReport is one folder's part of a Report.
type FolderReport struct {
	Name     string
	Role     mail.Role
	New      int  // messages fetched and stored
	Flagged  int  // stored messages whose flags changed
	Deleted  int  // stored messages gone from the server
	Reset    bool // UIDVALIDITY changed: the folder was synced afresh
	Complete bool // the first sync has reached SyncDays
}

// Fetched is the number of messages fetched in all folders.
func (r Report) Fetched() int {
	n := 0
	for _, f := range r.Folders {
		n += f.New
	}
	return n
}

// Sync runs one sync of acct with the zero Engine.
func Sync(ctx context.Context, acct mail.Account, creds mail.Credentials, st Store, progress func(done, total int)) (Report, error) {
	return (&Engine{}).Sync(ctx, acct, creds, st, progress)
}

func (e *Engine) batch() int {
	if e.Batch > 0 {
		return e.Batch
	}
	return DefaultBatch
}

func (e *Engine) maxText() int {
	if e.MaxText > 0 {
		return e.MaxText
	}
	return DefaultMaxText
}

func (e *Engine) maxFetch() int64 {
	if e.MaxFetch > 0 {
		return e.MaxFetch
	}
	return DefaultMaxFetch
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) roles() []mail.Role {
	if len(e.Roles) > 0 {
		return e.Roles
	}
	return []mail.Role{mail.RoleInbox, mail.RoleSent}
}

// Sync brings acct's synced folders up to date in st. progress (may be
// nil) gets messages fetched so far and the total known so far; it runs
// on the caller's goroutine. Every batch is stored as it arrives, and the
// folder's state with it, so a sync cut off (a dropped connection, a
// cancelled ctx) loses nothing and the next one resumes where it stopped.
func (e *Engine) Sync(ctx context.Context, acct mail.Account, creds mail.Credentials, st Store, progress func(done, total int)) (Report, error) {
	var rep Report
	c, unbind, err := e.open(ctx, acct, creds)
	if err != nil {
		return rep, err
	}
	ok := false
	defer func() { e.release(acct, creds, c, unbind, ok) }()
	folders, err := listFolders(c)
	if err != nil {
		return rep, fmt.Errorf("mail account %s: listing folders: %w", accountName(acct), ctxErr(ctx, err))
	}
	stored, err := st.Folders(ctx, acct.UserID, acct.ID)
	if err != nil {
		return rep, err
	}
	state := map[string]mail.Folder{}
	for _, f := range stored {
		state[f.Name] = f
	}
	// Record the folders os1 may move to (archive, trash…) even when not
	// synced, so moves know their names.
	for _, f := range folders {
		if _, ok := state[f.Name]; !ok && f.Role != "" && !slices.Contains(e.roles(), f.Role) {
			nf := mail.Folder{AccountID: acct.ID, Name: f.Name, Role: f.Role}
			if err := st.SaveFolder(ctx, acct.UserID, nf); err != nil {
				return rep, err
			}
		}
	}
	p := &progressCounter{fn: progress}
	for _, role := range e.roles() {
		for _, f := range folders {
			if f.Role != role {
				continue
			}
			fr, err := e.syncFolder(ctx, c, acct, st, state[f.Name], f, p)
			rep.Folders = append(rep.Folders, fr)
			if err != nil {
				return rep, fmt.Errorf("mail account %s: syncing %s: %w", accountName(acct), f.Name, ctxErr(ctx, err))
			}
			break // one folder per role
		}
	}
	ok = true
	return rep, nil
}

type progressCounter struct {
	fn          func(done, total int)
	done, total int
}

func (p *progressCounter) add(total int) {
	p.total += total
	p.report()
}

func (p *progressCounter) step(n int) {
	p.done += n
	p.report()
}

func (p *progressCounter) report() {
	if p.fn != nil {
		p.fn(p.done, p.total)
	}
}

type listed struct {
	Name string
	Role mail.Role
}

// listFolders lists the account's folders with their roles: RFC 6154
// special-use attributes, else a guess from common names.
func listFolders(c *imapclient.Client) ([]listed, error) {
	var opts *imap.ListOptions
	if c.Caps().Has(imap.CapSpecialUse) {
		opts = &imap.ListOptions{ReturnSpecialUse: true}
	}
	ls, err := c.List("", "*", opts).Collect()
	if err != nil {
		return nil, err
	}
	var out []listed
	taken := map[mail.Role]bool{}
	for _, l := range ls {
		if slices.Contains(l.Attrs, imap.MailboxAttrNoSelect) || slices.Contains(l.Attrs, imap.MailboxAttrNonExistent) {
			continue
		}
		r := roleOf(l)
		if taken[r] {
			r = ""
		}
		if r != "" {
			taken[r] = true
		}
		out = append(out, listed{Name: l.Mailbox, Role: r})
	}
	// A server without special-use: guess from the names not yet taken.
	for i, f := range out {
		if f.Role == "" {
			if r := roleByName(f.Name); r != "" && !taken[r] {
				out[i].Role = r
				taken[r] = true
			}
		}
	}
	return out, nil
}

func roleOf(l *imap.ListData) mail.Role {
	if strings.EqualFold(l.Mailbox, "INBOX") {
		return mail.RoleInbox
	}
	for _, a := range l.Attrs {
		switch a {
		case imap.MailboxAttrSent:
			return mail.RoleSent
		case imap.MailboxAttrArchive:
			return mail.RoleArchive
		case imap.MailboxAttrDrafts:
			return mail.RoleDrafts
		case imap.MailboxAttrTrash:
			return mail.RoleTrash
		case imap.MailboxAttrJunk:
			return mail.RoleJunk
		}
	}
	return ""
}

func roleByName(name string) mail.Role {
	n := strings.ToLower(name)
	if i := strings.LastIndexAny(n, "/."); i >= 0 {
		n = n[i+1:]
	}
	switch n {
	case "sent", "sent items", "sent messages", "sent mail":
		return mail.RoleSent
	case "archive", "archives", "all mail":
		return mail.RoleArchive
	case "drafts", "draft":
		return mail.RoleDrafts
	case "trash", "deleted items", "deleted messages", "bin":
		return mail.RoleTrash
	case "junk", "spam", "junk e-mail", "junk email", "bulk mail":
		return mail.RoleJunk
	}
	return ""
}

// syncFolder syncs one folder. The order: a UIDVALIDITY check, new UIDs
// (newest mail first, so she is useful at once), the rest of a first sync,
// flag changes, deletions.
func (e *Engine) syncFolder(ctx context.Context, c *imapclient.Client, acct mail.Account, st Store, f mail.Folder, l listed, p *progressCounter) (FolderReport, error) {
	rep := FolderReport{Name: l.Name, Role: l.Role}
	condstore := c.Caps().Has(imap.CapCondStore)
	sel, err := c.Select(l.Name, &imap.SelectOptions{CondStore: condstore}).Wait()
	if err != nil {
		return rep, err
	}
	if sel.UIDNext == 0 {
		// UIDNEXT is optional before IMAP4rev2: take the last UID + 1.
		if sel.UIDNext, err = lastUIDNext(c, sel.NumMessages); err != nil {
			return rep, err
		}
	}
	if f.UIDValidity != 0 && f.UIDValidity != sel.UIDValidity {
		// Every UID os1 knows is void: start over.
		if err := st.ResetFolder(ctx, acct.UserID, acct.ID, l.Name); err != nil {
			return rep, err
		}
		f = mail.Folder{}
		rep.Reset = true
	}
	first := f.UIDValidity == 0
	if first {
		// Everything below today's UIDNEXT is the first sync's; the rest is new.
		f = mail.Folder{UIDValidity: sel.UIDValidity, UIDNext: uint32(sel.UIDNext)}
	}
	f.AccountID, f.Name, f.Role = acct.ID, l.Name, l.Role
	if err := st.SaveFolder(ctx, acct.UserID, f); err != nil {
		return rep, err
	}

	// New messages.
	newCount := 0
	if uint32(sel.UIDNext) > f.UIDNext && sel.NumMessages > 0 {
		var set imap.UIDSet
		set.AddRange(imap.UID(max(f.UIDNext, 1)), 0) // f.UIDNext:*
		uids, err := searchUIDs(c, &imap.SearchCriteria{UID: []imap.UIDSet{set}})
		if err != nil {
			return rep, err
		}
		uids = slices.DeleteFunc(uids, func(u imap.UID) bool { return uint32(u) < f.UIDNext })
		newCount = len(uids)
		p.add(len(uids))
		n, err := e.fetchInto(ctx, c, acct, st, l.Name, sel.UIDValidity, uids, p, nil)
		rep.New += n
		if err != nil {
			return rep, err
		}
	}
	f.UIDNext = uint32(sel.UIDNext)
	if err := st.SaveFolder(ctx, acct.UserID, f); err != nil {
		return rep, err
	}

	// The first sync, newest first, resumable below SyncedTo.
	if !f.Complete {
		n, err := e.backfill(ctx, c, acct, st, &f, sel, !first, p)
		rep.New += n
		if err != nil {
			return rep, err
		}
	}
	rep.Complete = f.Complete

	// Flags changed on the server.
	if !first && !rep.Reset {
		n, err := e.syncFlags(ctx, c, acct, st, f, sel, condstore)
		rep.Flagged = n
		if err != nil {
			return rep, err
		}
	}
	// Deletions: when the count says some message went away, or the last
	// sync never finished (no count to compare with).
	if !first && !rep.Reset && (f.Messages == 0 || int(sel.NumMessages) < f.Messages+newCount) {
		n, err := e.syncDeleted(ctx, c, acct, st, l.Name, sel.UIDValidity)
		rep.Deleted = n
		if err != nil {
			return rep, err
		}
	}
	f.Messages = int(sel.NumMessages)
	f.HighestModSeq = sel.HighestModSeq
	return rep, st.SaveFolder(ctx, acct.UserID, f)
}

func lastUIDNext(c *imapclient.Client, n uint32) (imap.UID, error) {
	if n == 0 {
		return 1, nil
	}
	bufs, err := c.Fetch(imap.SeqSetNum(n), &imap.FetchOptions{UID: true}).Collect()
	if err != nil {
		return 0, err
	}
	if len(bufs) == 0 || bufs[0].UID == 0 {
		return 0, errors.New("the server gave neither UIDNEXT nor the last message's UID")
	}
	return bufs[0].UID + 1, nil
}

// backfill fetches the messages of the last SyncDays below the folder's
// UIDNEXT, highest UID (newest) first, saving SyncedTo after each batch; a
// resumed backfill searches only up to the day it reached and skips what
// is stored.
func (e *Engine) backfill(ctx context.Context, c *imapclient.Client, acct mail.Account, st Store, f *mail.Folder, sel *imap.SelectData, resumed bool, p *progressCounter) (int, error) {
	days := acct.SyncDays
	if days <= 0 {
		days = mail.DefaultSyncDays
	}
	since := e.now().AddDate(0, 0, -days)
	if f.UIDNext <= 1 || sel.NumMessages == 0 {
		f.Complete, f.SyncedTo = true, since
		return 0, st.SaveFolder(ctx, acct.UserID, *f)
	}
	var below imap.UIDSet
	below.AddRange(1, imap.UID(f.UIDNext-1))
	crit := &imap.SearchCriteria{UID: []imap.UIDSet{below}, Since: since}
	if !f.SyncedTo.IsZero() {
		// BEFORE counts whole days: the day reached is searched again, and
		// what is already stored is skipped below.
		crit.Before = f.SyncedTo.AddDate(0, 0, 1)
	}
	uids, err := searchUIDs(c, crit)
	if err != nil {
		return 0, err
	}
	if resumed {
		// Drop what an earlier, cut-off run (or this run's new mail) stored
		// already.
		kept := uids[:0]
		for _, u := range uids {
			if _, err := st.MessageByUID(ctx, acct.UserID, acct.ID, f.Name, uint32(u)); errors.Is(err, mail.ErrNotFound) {
				kept = append(kept, u)
			} else if err != nil {
				return 0, err
			}
		}
		uids = kept
	}
	p.add(len(uids))
	n, err := e.fetchInto(ctx, c, acct, st, f.Name, sel.UIDValidity, uids, p, func(oldest time.Time) error {
		if !oldest.IsZero() && (f.SyncedTo.IsZero() || oldest.Before(f.SyncedTo)) {
			f.SyncedTo = oldest
		}
		return st.SaveFolder(ctx, acct.UserID, *f)
	})
	if err != nil {
		return n, err
	}
	f.Complete, f.SyncedTo = true, since
	return n, st.SaveFolder(ctx, acct.UserID, *f)
}

func searchUIDs(c *imapclient.Client, crit *imap.SearchCriteria) ([]imap.UID, error) {
	data, err := c.UIDSearch(crit, nil).Wait()
	if err != nil {
		return nil, err
	}
	uids := data.AllUIDs()
	slices.Sort(uids)
	return uids, nil
}

// fetchInto fetches uids (ascending) newest first in batches, parses and
// stores each batch, then calls after with the batch's oldest date.
func (e *Engine) fetchInto(ctx context.Context, c *imapclient.Client, acct mail.Account, st Store, folder string, validity uint32, uids []imap.UID, p *progressCounter, after func(oldest time.Time) error) (int, error) {
	done := 0
	for end := len(uids); end > 0; {
		start := max(0, end-e.batch())
		batch := uids[start:end]
		end = start
		ms, err := e.fetchBatch(c, batch)
		if err != nil {
			return done, err
		}
		oldest := time.Time{}
		for i := range ms {
			ms[i].UserID, ms[i].AccountID, ms[i].Folder, ms[i].UIDValidity = acct.UserID, acct.ID, folder, validity
			if oldest.IsZero() || ms[i].Date.Before(oldest) {
				oldest = ms[i].Date
			}
		}
		if err := st.PutMessages(ctx, acct.UserID, ms); err != nil {
			return done, err
		}
		done += len(ms)
		p.step(len(batch))
		if after != nil {
			if err := after(oldest); err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// fetchBatch fetches and parses one batch, newest (highest UID) first. A
// message's body is streamed into Parse, never held whole.
func (e *Engine) fetchBatch(c *imapclient.Client, uids []imap.UID) ([]mail.Message, error) {
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: e.maxFetch()}}
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID: true, Flags: true, InternalDate: true, RFC822Size: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{section},
	})
	defer cmd.Close()
	var out []mail.Message
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		var m mail.Message
		var internal time.Time
		var bs imap.BodyStructure
		parsed := false
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				m.UID = uint32(it.UID)
			case imapclient.FetchItemDataFlags:
				m.Flags = flagStrings(it.Flags)
			case imapclient.FetchItemDataInternalDate:
				internal = it.Time
			case imapclient.FetchItemDataRFC822Size:
				m.Size = it.Size
			case imapclient.FetchItemDataBodyStructure:
				bs = it.BodyStructure
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil {
					continue
				}
				pm, err := mail.Parse(it.Literal, e.maxText())
				_, _ = io.Copy(io.Discard, it.Literal)
				if err != nil {
					// The error quotes the broken header: keep a little of it,
					// as text, never as the subject.
					why := strings.ToValidUTF8(err.Error(), "\uFFFD")
					if len(why) > 200 {
						why = strings.ToValidUTF8(why[:200], "") + "…"
					}
					pm = mail.Message{Subject: "(a message os1 could not read)", Text: "os1 could not read this message: " + why}
				}
				keep := m
				m = pm
				m.UID, m.Flags, m.Size = keep.UID, keep.Flags, keep.Size
				parsed = true
			}
		}
		if m.UID == 0 {
			continue
		}
		if !parsed {
			m.Subject = "(a message os1 could not read)"
		}
		if m.Date.IsZero() {
			m.Date = internal.UTC()
		}
		if m.ThreadID == "" {
			m.ThreadID = mail.ThreadIDFor(fmt.Sprint("uid ", m.UID, m.Date))
		}
		if m.Size > e.maxFetch() && bs != nil {
			// Cut off: the structure knows every attachment.
			m.Parts = partsOf(bs)
		}
		out = append(out, m)
	}
	if err := cmd.Close(); err != nil {
		what := "fetching"
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			what = "the connection to the server was lost while fetching"
		}
		return nil, fmt.Errorf("%s %d messages (UIDs %d to %d): %w", what, len(uids), uids[0], uids[len(uids)-1], err)
	}
	slices.SortFunc(out, func(a, b mail.Message) int { return int(b.UID) - int(a.UID) })
	return out, nil
}

// partsOf lists the attachments a BODYSTRUCTURE describes; base64 sizes
// are turned into an estimate of the decoded size.
func partsOf(bs imap.BodyStructure) []mail.Part {
	var out []mail.Part
	bs.Walk(func(path []int, part imap.BodyStructure) bool {
		sp, ok := part.(*imap.BodyStructureSinglePart)
		if !ok {
			return true
		}
		name := sp.Filename()
		disp := sp.Disposition()
		attached := name != "" || (disp != nil && strings.EqualFold(disp.Value, "attachment"))
		mt := strings.ToLower(sp.MediaType())
		if !attached && (mt == "text/plain" || mt == "text/html") {
			return true
		}
		size := int64(sp.Size)
		if strings.EqualFold(sp.Encoding, "base64") {
			// MIME base64 lines are 76 characters and CRLF: 57 bytes each.
			size = size * 57 / 78
		}
		p := make([]string, len(path))
		for i, n := range path {
			p[i] = fmt.Sprint(n)
		}
		if len(p) == 0 {
			p = []string{"1"}
		}
		out = append(out, mail.Part{Name: name, MIME: mt, Size: size, Path: strings.Join(p, "."), Method: mail.CalendarMethod(mt, sp.Params)})
		return true
	})
	return out
}

func flagStrings(fs []imap.Flag) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if strings.EqualFold(string(f), `\Recent`) { // session state, not the message's
			continue
		}
		out = append(out, string(f))
	}
	slices.Sort(out)
	return out
}

// syncFlags applies the server's flag changes to stored messages: the
// messages changed since the last HIGHESTMODSEQ with CONDSTORE, else the
// newest FlagWindow messages' flags.
func (e *Engine) syncFlags(ctx context.Context, c *imapclient.Client, acct mail.Account, st Store, f mail.Folder, sel *imap.SelectData, condstore bool) (int, error) {
	if sel.NumMessages == 0 {
		return 0, nil
	}
	var set imap.NumSet
	opts := &imap.FetchOptions{UID: true, Flags: true}
	if condstore && f.HighestModSeq > 0 && sel.HighestModSeq > 0 {
		if sel.HighestModSeq == f.HighestModSeq {
			return 0, nil // nothing changed
		}
		var all imap.UIDSet
		all.AddRange(1, 0)
		set, opts.ChangedSince = all, f.HighestModSeq
	} else {
		window := uint32(e.FlagWindow)
		if window == 0 {
			window = DefaultFlagWindow
		}
		from := uint32(1)
		if sel.NumMessages > window {
			from = sel.NumMessages - window + 1
		}
		var seq imap.SeqSet
		seq.AddRange(from, sel.NumMessages)
		set = seq
	}
	bufs, err := c.Fetch(set, opts).Collect()
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, b := range bufs {
		m, err := st.MessageByUID(ctx, acct.UserID, acct.ID, f.Name, uint32(b.UID))
		if errors.Is(err, mail.ErrNotFound) {
			continue // older than the sync reaches
		}
		if err != nil {
			return changed, err
		}
		flags := flagStrings(b.Flags)
		have := slices.Clone(m.Flags)
		slices.Sort(have)
		if slices.Equal(have, flags) {
			continue
		}
		if err := st.SetFlags(ctx, acct.UserID, m.ID, flags); err != nil {
			return changed, err
		}
		changed++
	}
	return changed, nil
}

// syncDeleted removes stored messages whose UID the server no longer has.
func (e *Engine) syncDeleted(ctx context.Context, c *imapclient.Client, acct mail.Account, st Store, folder string, validity uint32) (int, error) {
	all, err := searchUIDs(c, &imap.SearchCriteria{})
	if err != nil {
		return 0, err
	}
	var server imap.UIDSet
	server.AddNum(all...)
	var gone []string
	seen := map[string]bool{}
	before := time.Time{}
	for {
		page, err := st.Messages(ctx, acct.UserID, mail.Query{AccountID: acct.ID, Folder: folder, Before: before, Limit: 500})
		if err != nil {
			return 0, err
		}
		fresh := 0
		for _, m := range page {
			if seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			fresh++
			if m.UIDValidity == validity && !server.Contains(imap.UID(m.UID)) {
				gone = append(gone, m.ID)
			}
		}
		if len(page) < 500 {
			break
		}
		// Messages of one date may straddle pages: ask again from just
		// after the last date (seen ones are skipped); when a page brings
		// nothing new, step past that date. Each round adds to seen or
		// moves before back, so this ends.
		last := page[len(page)-1].Date
		if fresh == 0 {
			before = last
		} else {
			before = last.Add(time.Nanosecond)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	return len(gone), st.DeleteMessages(ctx, acct.UserID, gone)
}
