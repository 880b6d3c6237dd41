package mailtools

import (
	"context"
	"fmt"
	"strings"

	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/smtpsend"
)

// SentStore is what SentTo reads of a mail.Store.
type SentStore interface {
	Accounts(ctx context.Context, userID string) ([]mail.Account, error)
	Folders(ctx context.Context, userID, accountID string) ([]mail.Folder, error)
	Messages(ctx context.Context, userID string, q mail.Query) ([]mail.Message, error)
}

// SentTo answers Correspondents from the user's Sent folders (the most
// recent sentLimit messages of each): the user wrote to an address when a
// message they sent has it in To or Cc.
type SentTo struct{ Store SentStore }

const sentLimit = 500

// WroteTo reports whether the user has sent mail to addr.
func (s SentTo) WroteTo(ctx context.Context, userID, addr string) (bool, error) {
	accts, err := s.Store.Accounts(ctx, userID)
	if err != nil {
		return false, err
	}
	for _, a := range accts {
		if strings.EqualFold(a.Address, addr) {
			return true, nil // the user's own address
		}
		folders, err := s.Store.Folders(ctx, userID, a.ID)
		if err != nil {
			return false, err
		}
		for _, f := range folders {
			if f.Role != mail.RoleSent {
				continue
			}
			ms, err := s.Store.Messages(ctx, userID, mail.Query{AccountID: a.ID, Folder: f.Name, Limit: sentLimit})
			if err != nil {
				return false, err
			}
			for _, m := range ms {
				for _, r := range append(append([]mail.Address(nil), m.To...), m.Cc...) {
					if strings.EqualFold(r.Email, addr) {
						return true, nil
					}
				}
			}
		}
	}
	return false, nil
}

// SMTP is the Sender over smtpsend: it signs in with the account's opened
// credentials (mail.Service.SignIn renews an OAuth token on the way).
type SMTP struct {
	SignIn func(ctx context.Context, a mail.Account) (mail.Credentials, error)
	Sender *smtpsend.Sender // nil: smtpsend's defaults
}

// Send submits raw from acct.
func (s SMTP) Send(ctx context.Context, acct mail.Account, raw []byte, from string, rcpts []string) error {
	creds, err := s.SignIn(ctx, acct)
	if err != nil {
		return fmt.Errorf("open the credentials of %s: %w", acct.Address, err)
	}
	sender := s.Sender
	if sender == nil {
		sender = &smtpsend.Sender{}
	}
	return sender.Send(ctx, acct, creds, raw, from, rcpts)
}

var (
	_ Correspondents = SentTo{}
	_ Sender         = SMTP{}
)
