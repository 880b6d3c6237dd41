package app

import (
	"context"
	"strings"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/mail/mailtools"
)

// needMail are the tools outside the mail group that only work through the
// user's mail account: invitations and their answers go as email.
var needMail = map[string]bool{"calendar_invite": true, "calendar_respond": true}

// mailTool reports whether a tool works only with a mail account.
func mailTool(name string) bool {
	return strings.HasPrefix(name, mailtools.SourceName+"_") || needMail[name]
}

// toolsFor gives each user the tools they can use: a user with no mail
// account is not offered the mail tools (about a third of every prompt's
// tool definitions), so a small model's context holds more of the talk.
// A failed account lookup offers everything; the tools themselves still say
// "no mail account" when called.
func (a *App) toolsFor(all *companion.Registry) func(ctx context.Context, userID string) (*companion.Registry, error) {
	if a.Mail == nil {
		return nil
	}
	noMail := all.Filter(func(name string) bool { return !mailTool(name) })
	return func(ctx context.Context, userID string) (*companion.Registry, error) {
		accts, err := a.Mail.Service.Accounts(ctx, userID)
		if err != nil || len(accts) > 0 {
			return all, nil
		}
		return noMail, nil
	}
}
