package imapsync

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/os1ai/os1/internal/mail"
)

// Syncer is an Engine as the mail service's Syncer.
type Syncer struct{ Engine *Engine }

var _ mail.Syncer = Syncer{}

// Check signs in and out.
func (s Syncer) Check(ctx context.Context, acct mail.Account, creds mail.Credentials) error {
	return s.engine().Check(ctx, acct, creds)
}

// Sync runs Engine.Sync and drops the report.
func (s Syncer) Sync(ctx context.Context, acct mail.Account, creds mail.Credentials, st mail.Store, progress func(done, total int)) error {
	_, err := s.engine().Sync(ctx, acct, creds, st, progress)
	return err
}

func (s Syncer) engine() *Engine {
	if s.Engine == nil {
		return &Engine{}
	}
	return s.Engine
}

// Check signs in to acct's IMAP server and out again, so a new account's
// mistakes (host, port, password) show at once.
func (e *Engine) Check(ctx context.Context, acct mail.Account, creds mail.Credentials) error {
	c, err := e.connect(ctx, acct, creds, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	defer bind(ctx, c)()
	return c.Logout().Wait()
}

// session runs fn on a fresh signed-in connection with folder selected.
func (e *Engine) session(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, fn func(c *imapclient.Client) error) error {
	c, unbind, err := e.open(ctx, acct, creds)
	if err != nil {
		return err
	}
	ok := false
	defer func() { e.release(acct, creds, c, unbind, ok) }()
	if folder != "" {
		if _, err := c.Select(folder, nil).Wait(); err != nil {
			return fmt.Errorf("mail account %s: opening %s: %w", accountName(acct), folder, ctxErr(ctx, err))
		}
	}
	if err := fn(c); err != nil {
		return fmt.Errorf("mail account %s: %w", accountName(acct), ctxErr(ctx, err))
	}
	ok = true
	return nil
}

// FlagOp is how SetFlags changes flags.
type FlagOp int

const (
	AddFlags FlagOp = iota
	RemoveFlags
	ReplaceFlags
)

// SetFlags changes the flags of messages uids in folder on the server.
func (e *Engine) SetFlags(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, uids []uint32, op FlagOp, flags []string) error {
	if len(uids) == 0 {
		return nil
	}
	ops := map[FlagOp]imap.StoreFlagsOp{AddFlags: imap.StoreFlagsAdd, RemoveFlags: imap.StoreFlagsDel, ReplaceFlags: imap.StoreFlagsSet}
	return e.session(ctx, acct, creds, folder, func(c *imapclient.Client) error {
		fs := make([]imap.Flag, len(flags))
		for i, f := range flags {
			fs[i] = imap.Flag(f)
		}
		if err := c.Store(uidSet(uids), &imap.StoreFlags{Op: ops[op], Silent: true, Flags: fs}, nil).Close(); err != nil {
			return fmt.Errorf("setting flags in %s: %w", folder, err)
		}
		return nil
	})
}

// Move moves messages uids from folder to dest on the server (MOVE, else
// COPY, \Deleted and UID EXPUNGE). It returns each moved UID's new UID in
// dest when the server says (UIDPLUS).
func (e *Engine) Move(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, uids []uint32, dest string) (map[uint32]uint32, error) {
	moved := map[uint32]uint32{}
	if len(uids) == 0 {
		return moved, nil
	}
	err := e.session(ctx, acct, creds, folder, func(c *imapclient.Client) error {
		var src, dst imap.NumSet
		if c.Caps().Has(imap.CapMove) {
			data, err := c.Move(uidSet(uids), dest).Wait()
			if err != nil {
				return fmt.Errorf("moving from %s to %s: %w", folder, dest, err)
			}
			src, dst = data.SourceUIDs, data.DestUIDs
		} else {
			data, err := c.Copy(uidSet(uids), dest).Wait()
			if err != nil {
				return fmt.Errorf("copying from %s to %s: %w", folder, dest, err)
			}
			src, dst = data.SourceUIDs, data.DestUIDs
			store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}
			if err := c.Store(uidSet(uids), store, nil).Close(); err != nil {
				return fmt.Errorf("marking moved messages deleted in %s: %w", folder, err)
			}
			if c.Caps().Has(imap.CapUIDPlus) {
				err = c.UIDExpunge(uidSet(uids)).Close()
			} else {
				err = c.Expunge().Close()
			}
			if err != nil {
				return fmt.Errorf("expunging moved messages from %s: %w", folder, err)
			}
		}
		s, ok1 := src.(imap.UIDSet)
		d, ok2 := dst.(imap.UIDSet)
		if ok1 && ok2 {
			sn, _ := s.Nums()
			dn, _ := d.Nums()
			for i := range min(len(sn), len(dn)) {
				moved[uint32(sn[i])] = uint32(dn[i])
			}
		}
		return nil
	})
	return moved, err
}

// Append stores raw in folder on the server (the sent copy, a draft) with
// flags, and returns its UID when the server says (UIDPLUS; else 0).
func (e *Engine) Append(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, raw []byte, flags []string) (uint32, error) {
	var uid uint32
	err := e.session(ctx, acct, creds, "", func(c *imapclient.Client) error {
		fs := make([]imap.Flag, len(flags))
		for i, f := range flags {
			fs[i] = imap.Flag(f)
		}
		cmd := c.Append(folder, int64(len(raw)), &imap.AppendOptions{Flags: fs, Time: e.now()})
		if _, err := cmd.Write(raw); err != nil {
			cmd.Close()
			return fmt.Errorf("appending to %s: %w", folder, err)
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("appending to %s: %w", folder, err)
		}
		data, err := cmd.Wait()
		if err != nil {
			return fmt.Errorf("appending to %s: %w", folder, err)
		}
		uid = uint32(data.UID)
		return nil
	})
	return uid, err
}

// IdleRestart is how often IDLE is renewed: servers drop an IDLE after 30
// minutes (RFC 2177).
const IdleRestart = 25 * time.Minute

// Idle waits in folder ("" is INBOX) for new mail with IDLE and calls
// onNew each time the server reports more messages than before. onNew runs
// on the connection's goroutine: it must not block (signal a channel,
// start a sync elsewhere). A server without IDLE is polled with NOOP each
// minute. Idle returns when ctx ends (ctx.Err()) or the connection fails.
func (e *Engine) Idle(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, onNew func()) error {
	if folder == "" {
		folder = "INBOX"
	}
	var (
		mu      sync.Mutex
		count   uint32
		counted bool
	)
	h := &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages == nil {
				return
			}
			mu.Lock()
			n := *d.NumMessages
			grew := counted && n > count
			count, counted = n, true
			mu.Unlock()
			if grew && onNew != nil {
				onNew()
			}
		},
	}
	c, err := e.connect(ctx, acct, creds, h)
	if err != nil {
		return err
	}
	defer c.Close()
	defer bind(ctx, c)()
	sel, err := c.Select(folder, nil).Wait()
	if err != nil {
		return fmt.Errorf("mail account %s: opening %s: %w", accountName(acct), folder, ctxErr(ctx, err))
	}
	// The handler runs on the reader goroutine; the SELECT's EXISTS is
	// seen there too, so the first count is taken from it.
	mu.Lock()
	count, counted = sel.NumMessages, true
	mu.Unlock()
	for {
		if c.Caps().Has(imap.CapIdle) {
			cmd, err := c.Idle()
			if err != nil {
				return fmt.Errorf("mail account %s: IDLE: %w", accountName(acct), ctxErr(ctx, err))
			}
			select {
			case <-ctx.Done():
				_ = cmd.Close()
				return ctx.Err()
			case <-c.Closed():
				return fmt.Errorf("mail account %s: the server closed the connection while idle", accountName(acct))
			case <-time.After(IdleRestart):
			}
			if err := cmd.Close(); err != nil {
				return fmt.Errorf("mail account %s: ending IDLE: %w", accountName(acct), ctxErr(ctx, err))
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Minute):
		}
		if err := c.Noop().Wait(); err != nil {
			return fmt.Errorf("mail account %s: NOOP: %w", accountName(acct), ctxErr(ctx, err))
		}
	}
}

func uidSet(uids []uint32) imap.UIDSet {
	var s imap.UIDSet
	for _, u := range uids {
		s.AddNum(imap.UID(u))
	}
	return s
}
