package app

import (
	"fmt"
	"log/slog"

	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/books/booktools"
	"github.com/os1ai/os1/internal/books/bookwire"
	"github.com/os1ai/os1/internal/books/sqlitebooks"
	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/documents/sqlitedocs"
)

// newBooks builds the books (collections of the user's letters, built as
// EPUB and PDF by internal/book) over the app's database and registers
// book_list and book_send in tools. A book is sent with the mail tools'
// accounts and SMTP sender, so it needs mail built first (without mail,
// books are only downloaded), and reads the letters through the desk's
// documents. Builds run in the background; Close stops them.
func (a *App) newBooks(log *slog.Logger, tools *companion.Registry) (*books.Service, error) {
	ids := clock.RandomIDs{}
	docs := a.Documents // the desk, built first
	if docs == nil {
		docs = documents.New(sqlitedocs.New(a.DB), a.Clock, ids)
	}
	svc := &books.Service{Store: sqlitebooks.New(a.DB), Letters: bookwire.Letters{Docs: docs},
		Models: a.Models, Typesetter: bookwire.Typesetter{}, Clock: a.Clock, IDs: ids, Log: log.With("component", "books")}
	if a.Mail != nil {
		svc.Mail = &books.Mail{Accounts: a.Mail.deps.Source, Sender: a.Mail.deps.Sender, Clock: a.Clock, IDs: ids}
	}
	if err := booktools.Register(tools, svc); err != nil {
		return nil, fmt.Errorf("register the book tools: %w", err)
	}
	a.onClose(svc)
	return svc, nil
}
