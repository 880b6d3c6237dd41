package app

import (
	"context"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/mail"
	"github.com/os1ai/os1/internal/mail/imapsync"
	"github.com/os1ai/os1/internal/mail/smtpsend"
)

var _ mail.Mover = (*imapsync.Engine)(nil)

// newBulk wires bulk unsubscribe and archive: moves through the IMAP
// engine, unsubscribe mails composed by smtpsend and sent (and filed in
// Sent) like any mail the user sends, one-click posts through mail's
// guarded client (public addresses only).
func newBulk(svc *mail.Service, engine *imapsync.Engine, send sendAndFile) *mail.Bulk {
	return &mail.Bulk{Service: svc, Mover: engine, Mailer: unsubMailer{send: send, clock: svc.Clock}}
}

// unsubMailer sends the short mail a list's mailto: unsubscribe asks for.
type unsubMailer struct {
	send  sendAndFile
	clock clock.Clock
}

func (u unsubMailer) SendText(ctx context.Context, acct mail.Account, to mail.Address, subject, body string) error {
	from := mail.Address{Email: acct.Address}
	raw, err := smtpsend.Compose(smtpsend.Draft{From: from, To: []mail.Address{to}, Subject: subject, Body: body}, u.clock, clock.RandomIDs{})
	if err != nil {
		return err
	}
	return u.send.Send(ctx, acct, raw, from.Email, []string{to.Email})
}
