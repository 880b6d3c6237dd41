// Package bookwire joins books to the packages it is built over: the
// user's documents (internal/documents) as its letters and internal/book's
// EPUB and PDF as its typesetter. It holds no state and must not grow logic
// of its own.
package bookwire

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/os1ai/os1/internal/book"
	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/documents"
)

var (
	_ books.Letters    = Letters{}
	_ books.Typesetter = Typesetter{}
)

// Letters reads the user's documents (documents.Service) for books.
type Letters struct{ Docs *documents.Service }

func letterOf(d documents.Document) books.Letter {
	return books.Letter{ID: d.ID, Title: d.Title, Kind: d.Kind, Body: d.Body, Date: d.CreatedAt}
}

func (l Letters) Letters(ctx context.Context, userID string) ([]books.Letter, error) {
	list, err := l.Docs.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]books.Letter, len(list))
	for i, d := range list {
		out[i] = letterOf(d)
	}
	return out, nil
}

func (l Letters) Letter(ctx context.Context, userID, id string) (books.Letter, error) {
	d, err := l.Docs.Get(ctx, userID, id)
	if errors.Is(err, documents.ErrNotFound) {
		return books.Letter{}, fmt.Errorf("document %s: %w", id, books.ErrNotFound)
	}
	if err != nil {
		return books.Letter{}, err
	}
	return letterOf(d), nil
}

// Typesetter is internal/book's EPUB and PDF behind books.Typesetter.
type Typesetter struct{}

func (Typesetter) Typeset(ctx context.Context, format string, m books.Manuscript, w io.Writer, p func(done, total int)) error {
	bm := book.Manuscript{Title: m.Title, Subtitle: m.Subtitle, Author: m.Author, Dedication: m.Dedication, Foreword: m.Foreword,
		Language: m.Language}
	for _, l := range m.Letters {
		bm.Letters = append(bm.Letters, book.Letter{Title: l.Title, Body: l.Body, Date: l.Date})
	}
	var err error
	if format == books.EPUB {
		err = book.EPUB(ctx, bm, w, book.Progress(p))
	} else {
		err = book.PDF(ctx, bm, w, book.Progress(p))
	}
	var in *book.InputError
	if errors.As(err, &in) {
		return &books.InputError{Msg: in.Msg}
	}
	return err
}
