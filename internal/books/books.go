// Package books keeps each user's books: collections of their own letters
// (documents), in an order the user picks, with a title page, dedication
// and foreword; it proposes "your best ten" and drafts a foreword with the
// user's chat model, and builds the book as EPUB or PDF in the background
// with progress the page can follow.
//
// Every call is scoped to one user: another user's book or document id
// answers ErrNotFound. The package never sends anything: sending a book to
// a publisher is the mail path's, after the user's approval (send.go only
// prepares the exact message).
package books

import (
	"context"
	"errors"
	"io"
	"time"
)

// Book is one of a user's collections.
type Book struct {
	ID, UserID           string
	Title, Subtitle      string
	Author, Dedication   string
	Foreword             string   // Markdown
	Letters              []string // document ids, in book order
	CreatedAt, UpdatedAt time.Time
}

// Formats a book is built in.
const (
	EPUB = "epub"
	PDF  = "pdf"
)

// File is a built book as stored: the last build of one format.
type File struct {
	BookID, UserID string
	Format         string // EPUB or PDF
	Data           []byte
	Size           int    // bytes (also when Data is left out)
	SHA256         string // hex of Data
	BuiltAt        time.Time
}

// Errors callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrNoModel: proposing and drafting need the user's chat model.
	ErrNoModel = errors.New("no chat model is connected (Settings → Model), so she cannot read or write for the book")
	// ErrNotBuilt: the format was never built, or the book changed since.
	ErrNotBuilt = errors.New("the book has not been built in that format yet")
	// ErrBuilding: a build of that book and format is running.
	ErrBuilding = errors.New("the book is being built")
)

// InputError is a request the user can correct (an empty title, a
// letter that is not theirs, an unknown format).
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Store keeps books and their built files. Every method is scoped by user.
type Store interface {
	Books(ctx context.Context, userID string) ([]Book, error) // oldest first
	Book(ctx context.Context, userID, id string) (Book, error)
	CreateBook(ctx context.Context, b Book) (Book, error)
	// UpdateBook replaces the user's book b.ID (all fields but CreatedAt).
	UpdateBook(ctx context.Context, b Book) (Book, error)
	DeleteBook(ctx context.Context, userID, id string) error
	PutFile(ctx context.Context, f File) error
	File(ctx context.Context, userID, bookID, format string) (File, error)
	// FileInfo is File without Data (Size set).
	FileInfo(ctx context.Context, userID, bookID, format string) (File, error)
}

// Letter is one of the user's documents as a book takes it.
type Letter struct {
	ID, Title, Kind string
	Body            string // Markdown; empty in lists
	Date            time.Time
}

// Letters are the user's documents (documents.Service, adapted by the app).
type Letters interface {
	// Letters lists the user's documents without bodies.
	Letters(ctx context.Context, userID string) ([]Letter, error)
	// Letter is one document with its body; another user's id is ErrNotFound
	// (or an error wrapping the documents package's own, mapped by the adapter).
	Letter(ctx context.Context, userID, id string) (Letter, error)
}

// Manuscript is what the typesetter gets (internal/book's, mirrored so
// this package builds and tests without it).
type Manuscript struct {
	Title, Subtitle, Author, Dedication, Foreword, Language string
	Letters                                                 []Letter
}

// Typesetter writes a manuscript as EPUB or PDF, reporting progress as
// done of total steps. internal/book's EPUB and PDF functions are one.
type Typesetter interface {
	Typeset(ctx context.Context, format string, m Manuscript, w io.Writer, progress func(done, total int)) error
}
