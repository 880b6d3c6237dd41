package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/os1ai/os1/internal/calendar"
	"github.com/os1ai/os1/internal/calendar/caldavsync"
	"github.com/os1ai/os1/internal/calendar/caltools"
	"github.com/os1ai/os1/internal/calendar/icsfeed"
	"github.com/os1ai/os1/internal/calendar/sqlitecal"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/httpretry"
)

// Calendar is the calendar capability as os1 wires it: the service (the
// local calendar, CalDAV accounts with sealed passwords, ICS import and
// export) and the companion's calendar tools.
type Calendar struct {
	Service *calendar.Service
}

// newCalendar builds the calendar over the app's database and secrets and
// registers the calendar tools in tools. In os1 serve (background) every
// account syncs at start and then every calendar.DefaultEvery, and every
// subscription is fetched at start and every calendar.DefaultFeedEvery; elsewhere
// syncs run only when asked. Mail's Guard does not wrap the acting tools: their
// cards are their own (Review), and Guard leaves such tools as they are.
func (a *App) newCalendar(log *slog.Logger, tools *companion.Registry, background bool) (*Calendar, error) {
	st := sqlitecal.New(a.DB)
	feeds := &icsfeed.Fetcher{}
	if allow, err := a.Config.FeedPrefixes(); err != nil {
		return nil, err
	} else if len(allow) > 0 { // [calendar] feeds_allow: the operator's own network
		feeds.Allow = func(ip netip.Addr) bool {
			for _, p := range allow {
				if p.Contains(ip) {
					return true
				}
			}
			return false
		}
	}
	ids := clock.RandomIDs{}
	svc := &calendar.Service{Store: st, Sealer: a.Secrets, Clock: a.Clock, IDs: ids, Log: log.With("component", "calendar"),
		Syncer: &caldavsync.Syncer{Store: st, Clock: a.Clock, IDs: ids, Retry: httpretry.Policy{MaxRetries: 2, Clock: a.Clock}},
		// Subscriptions are fetched from public addresses only (icsfeed),
		// and from the ranges in [calendar] feeds_allow.
		Feeds: feeds}
	deps := caltools.Deps{Service: svc, Zone: func(ctx context.Context, userID string) *time.Location {
		p, err := a.DB.Profile(ctx, userID)
		if err != nil {
			return nil
		}
		return p.Location()
	}}
	if a.Mail != nil { // invitations go by mail (iMIP) with the mail tools' sender
		deps.Mail = &caltools.Mail{Source: a.Mail.deps.Source, Sender: a.Mail.deps.Sender, Attachments: a.Mail.deps.Attachments,
			Correspondents: a.Mail.deps.Correspondents}
	}
	// "Ana" is found in the contacts first (built after the calendar, so
	// read when asked), then among the people the user exchanged mail with.
	deps.People = calendarPeople{a: a}
	err := caltools.Register(tools, deps)
	if err != nil {
		return nil, fmt.Errorf("register the calendar tools: %w", err)
	}
	if background {
		a.onStart(svc)
		a.onClose(svc)
	}
	return &Calendar{Service: svc}, nil
}

// calendarPeople finds a person's addresses for the calendar tools: the
// contacts' email handles ("Ana", "my sister"), else the addresses she
// wrote from or was written to at in the user's mail.
type calendarPeople struct{ a *App }

func (p calendarPeople) Emails(ctx context.Context, userID, name string) ([]string, error) {
	if p.a.Contacts != nil {
		people, err := p.a.Contacts.Lookup(ctx, userID, name)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, pr := range people {
			for _, h := range pr.Handles {
				if h.Kind == contacts.Email && !slices.Contains(out, h.Value) {
					out = append(out, h.Value)
				}
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	if p.a.Mail != nil {
		return caltools.MailPeople{Mail: p.a.Mail.deps.Source}.Emails(ctx, userID, name)
	}
	return nil, nil
}
