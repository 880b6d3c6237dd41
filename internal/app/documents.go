package app

import (
	"fmt"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/documents/doctools"
	"github.com/os1ai/os1/internal/documents/sqlitedocs"
)

// newDocuments builds the writing desk over the app's database and
// registers the writing tools (documents_list, _read, _write, _style) in
// tools. os1 talk gets them too: "make my letter warmer" works by voice.
func (a *App) newDocuments(tools *companion.Registry) (*documents.Service, error) {
	svc := documents.New(sqlitedocs.New(a.DB), a.Clock, clock.RandomIDs{})
	if err := tools.RegisterFrom(doctools.SourceName, doctools.Tools(svc)...); err != nil {
		return nil, fmt.Errorf("register the document tools: %w", err)
	}
	return svc, nil
}
