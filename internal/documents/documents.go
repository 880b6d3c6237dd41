// Package documents is the writing desk: each user's letters, notes and
// chapters, in Markdown, with every save kept as a version that can be
// listed, read, compared (Diff) and restored.
//
// A save never overwrites: it adds a version, so nothing the user (or os1,
// writing with them) ever saved is lost, and a restore is itself a new
// version. Every call is scoped to one user; another user's ids answer
// ErrNotFound. A body is only text: broken Markdown is stored as written,
// and nothing in a document (however it got there) is ever acted on.
package documents

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kinds of document.
const (
	KindLetter  = "letter"
	KindNote    = "note"
	KindChapter = "chapter"
)

// Sources of a version: who saved it.
const (
	SourceUser        = "user"        // the user, in the editor, the CLI or an import
	SourceOS1         = "os1"         // the companion, writing with the user (documents_write)
	SourceRestore     = "restore"     // a restore of an earlier version
	SourceSuggestions = "suggestions" // proofreading suggestions the user accepted
)

// Limits.
const (
	MaxBodyBytes  = 5 << 20 // a document's Markdown
	MaxTitleChars = 300
)

// Document is one of a user's documents at its current version. Lists
// leave Body empty.
type Document struct {
	ID     string `json:"id"`
	UserID string `json:"-"`
	Title  string `json:"title"`
	Kind   string `json:"kind"` // letter | note | chapter
	Body   string `json:"body"` // Markdown
	// Version is the number of the current version (1 for a new document).
	Version int `json:"version"`
	// Source is who saved the current version.
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Version is one saved state of a document. Lists leave Body empty.
type Version struct {
	N       int       `json:"n"`
	Title   string    `json:"title"`
	Body    string    `json:"body,omitempty"`
	Source  string    `json:"source"` // user | os1 | restore | suggestions
	SavedAt time.Time `json:"saved_at"`
}

// NewDocument is what Create needs. An empty Kind is a letter, an empty
// Source the user, an empty Title is taken from the body's first line.
type NewDocument struct {
	Title, Kind, Body, Source string
}

// Edit is a save: the new title and body, made on BaseVersion. An empty
// Title keeps the current one; an empty Source is the user.
type Edit struct {
	Title, Body string
	BaseVersion int
	Source      string
}

// ErrNotFound: no such document (or version) of this user.
var ErrNotFound = errors.New("no such document")

// ErrConflict: the document changed since the version a save was made on.
// Service.Save returns it as a *ConflictError.
var ErrConflict = errors.New("the document changed since that version")

// ConflictError is a save made on a version that is no longer the
// current one (another tab or device saved in between). Current is the
// document as it is now, so the client can show both and let the user merge.
type ConflictError struct {
	Base    int
	Current Document
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("the document was saved as version %d since version %d, which this edit was made on", e.Current.Version, e.Base)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// InputError is a request the user can fix; Msg says how. TooLarge marks a
// body over MaxBodyBytes (HTTP 413).
type InputError struct {
	Msg      string
	TooLarge bool
}

func (e *InputError) Error() string { return e.Msg }

// Store keeps documents and their versions. Every method is scoped to
// userID; another user's document answers ErrNotFound.
type Store interface {
	// Documents lists userID's documents without bodies, most recently
	// updated first.
	Documents(ctx context.Context, userID string) ([]Document, error)
	// Document returns one document with its body.
	Document(ctx context.Context, userID, id string) (Document, error)
	// CreateDocument stores d (its Version 1, Source set) and its version 1.
	CreateDocument(ctx context.Context, d Document) (Document, error)
	// AddVersion adds version base+1 (v.N is ignored) and makes it the
	// current one, atomically; ErrConflict when the current version is not base.
	AddVersion(ctx context.Context, userID, id string, base int, v Version) (Document, error)
	// Versions lists a document's versions without bodies, newest first.
	Versions(ctx context.Context, userID, id string) ([]Version, error)
	// Version returns version n with its body.
	Version(ctx context.Context, userID, id string, n int) (Version, error)
	// DeleteDocument removes a document and all its versions.
	DeleteDocument(ctx context.Context, userID, id string) error
	// Search ranks userID's documents (with bodies) by the words of query,
	// best first; query is never search syntax.
	Search(ctx context.Context, userID, query string, limit int) ([]Document, error)
}
