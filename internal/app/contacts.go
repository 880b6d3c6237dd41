package app

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/contacts"
	"github.com/os1ai/os1/internal/contacts/carddavsync"
	"github.com/os1ai/os1/internal/contacts/contacttools"
	"github.com/os1ai/os1/internal/contacts/sqlitecontacts"
)

// newContacts builds the contacts over the app's database, merged with
// memory's people, synced (when asked) with the address books of the
// calendar accounts' servers, and registers contacts_lookup in tools. It
// needs the calendar built first. In os1 serve (background) the address
// books sync at start and then every contacts.DefaultEvery; elsewhere only
// when asked.
func (a *App) newContacts(log *slog.Logger, tools *companion.Registry, background bool) (*contacts.Service, error) {
	st := sqlitecontacts.New(a.DB)
	ids := clock.RandomIDs{}
	svc := &contacts.Service{Store: st, Entities: a.MemStore, Clock: a.Clock, IDs: ids, Log: log.With("component", "contacts"),
		Syncer: &carddavsync.Syncer{Store: st, Clock: a.Clock, IDs: ids, HTTP: &http.Client{Timeout: carddavsync.DefaultTimeout}}}
	if a.Calendar != nil {
		svc.Accounts = carddavsync.CalendarAccounts{Calendar: a.Calendar.Service}
	}
	if err := contacttools.Register(tools, svc); err != nil {
		return nil, fmt.Errorf("register the contacts tools: %w", err)
	}
	if background && svc.Accounts != nil {
		a.onStart(svc)
		a.onClose(svc)
	}
	return svc, nil
}
