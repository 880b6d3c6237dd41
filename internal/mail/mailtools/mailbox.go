package mailtools

import (
	"context"
	"fmt"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/imapsync"
)

// Mailbox acts on an account's IMAP server: what the acting tools do once
// the user approved, and where a draft is saved.
type Mailbox interface {
	// Move moves uids of folder to dest; it answers each moved UID's new
	// UID when the server says.
	Move(ctx context.Context, acct mail.Account, folder string, uids []uint32, dest string) (map[uint32]uint32, error)
	// SetFlags adds (add) or removes flags on uids of folder.
	SetFlags(ctx context.Context, acct mail.Account, folder string, uids []uint32, add bool, flags []string) error
	// Append stores raw in folder with flags.
	Append(ctx context.Context, acct mail.Account, folder string, raw []byte, flags []string) (uint32, error)
	// FetchPart fetches one attachment, decoded (body section path).
	FetchPart(ctx context.Context, acct mail.Account, folder string, uid uint32, path string) ([]byte, error)
}

// Local is what the tools read and record of the store besides Source:
// an account's folders, listings, and the moves and flags done on the
// server (mail.Store is one).
type Local interface {
	Folders(ctx context.Context, userID, accountID string) ([]mail.Folder, error)
	Messages(ctx context.Context, userID string, q mail.Query) ([]mail.Message, error)
	SetFlags(ctx context.Context, userID, id string, flags []string) error
	MoveMessage(ctx context.Context, userID, id, folder string, uid uint32) error
}

// FollowUps is reply tracking (mail.Service is one).
type FollowUps interface {
	FollowUps(ctx context.Context, userID string) (owed, awaiting []mail.ReplyItem, err error)
}

// Engine is what IMAP uses of *imapsync.Engine.
type Engine interface {
	Move(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, uids []uint32, dest string) (map[uint32]uint32, error)
	SetFlags(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, uids []uint32, op imapsync.FlagOp, flags []string) error
	Append(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, raw []byte, flags []string) (uint32, error)
	FetchPart(ctx context.Context, acct mail.Account, creds mail.Credentials, folder string, uid uint32, path string) ([]byte, error)
}

// IMAP is the Mailbox over an Engine, signing in with the account's opened
// credentials each time (mail.Service.SignIn renews an OAuth token).
type IMAP struct {
	SignIn func(ctx context.Context, a mail.Account) (mail.Credentials, error)
	Engine Engine
}

func (m IMAP) creds(ctx context.Context, acct mail.Account) (mail.Credentials, error) {
	c, err := m.SignIn(ctx, acct)
	if err != nil {
		return c, fmt.Errorf("open the credentials of %s: %w", acct.Address, err)
	}
	return c, nil
}

// Move moves uids of folder to dest.
func (m IMAP) Move(ctx context.Context, acct mail.Account, folder string, uids []uint32, dest string) (map[uint32]uint32, error) {
	c, err := m.creds(ctx, acct)
	if err != nil {
		return nil, err
	}
	return m.Engine.Move(ctx, acct, c, folder, uids, dest)
}

// SetFlags adds or removes flags on uids of folder.
func (m IMAP) SetFlags(ctx context.Context, acct mail.Account, folder string, uids []uint32, add bool, flags []string) error {
	c, err := m.creds(ctx, acct)
	if err != nil {
		return err
	}
	op := imapsync.AddFlags
	if !add {
		op = imapsync.RemoveFlags
	}
	return m.Engine.SetFlags(ctx, acct, c, folder, uids, op, flags)
}

// Append stores raw in folder.
func (m IMAP) Append(ctx context.Context, acct mail.Account, folder string, raw []byte, flags []string) (uint32, error) {
	c, err := m.creds(ctx, acct)
	if err != nil {
		return 0, err
	}
	return m.Engine.Append(ctx, acct, c, folder, raw, flags)
}

// FetchPart fetches one attachment.
func (m IMAP) FetchPart(ctx context.Context, acct mail.Account, folder string, uid uint32, path string) ([]byte, error) {
	c, err := m.creds(ctx, acct)
	if err != nil {
		return nil, err
	}
	return m.Engine.FetchPart(ctx, acct, c, folder, uid, path)
}

// ServerAttachments is Attachments fetched from the IMAP server where the
// message lives (at most 25 MB each).
type ServerAttachments struct {
	Source  Source
	Mailbox Mailbox
}

// Attachment fetches part p of the user's message messageID.
func (s ServerAttachments) Attachment(ctx context.Context, userID, messageID string, p mail.Part) ([]byte, error) {
	m, err := s.Source.Message(ctx, userID, messageID)
	if err != nil {
		return nil, fmt.Errorf("message %q: %w", messageID, err)
	}
	accts, err := s.Source.Accounts(ctx, userID)
	if err != nil {
		return nil, err
	}
	for _, a := range accts {
		if a.ID == m.AccountID {
			return s.Mailbox.FetchPart(ctx, a, m.Folder, m.UID, p.Path)
		}
	}
	return nil, fmt.Errorf("the account of message %q: %w", messageID, mail.ErrNotFound)
}

var (
	_ Engine      = (*imapsync.Engine)(nil)
	_ Mailbox     = IMAP{}
	_ Attachments = ServerAttachments{}
	_ Local       = mail.Store(nil)
	_ FollowUps   = (*mail.Service)(nil)
)
