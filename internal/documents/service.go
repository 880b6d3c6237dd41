package documents

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/textsafe"
)

// Service is the writing desk over a Store: it checks input, numbers
// versions and reports conflicts. Safe for concurrent use.
type Service struct {
	Store Store
	Clock clock.Clock
	IDs   clock.IDs
}

// New returns a Service of st.
func New(st Store, c clock.Clock, ids clock.IDs) *Service {
	return &Service{Store: st, Clock: c, IDs: ids}
}

// List returns userID's documents without bodies, most recently updated first.
func (s *Service) List(ctx context.Context, userID string) ([]Document, error) {
	return s.Store.Documents(ctx, userID)
}

// Get returns one of userID's documents.
func (s *Service) Get(ctx context.Context, userID, id string) (Document, error) {
	return s.Store.Document(ctx, userID, id)
}

// Create stores a new document as its version 1.
func (s *Service) Create(ctx context.Context, userID string, in NewDocument) (Document, error) {
	if err := checkBody(in.Body); err != nil {
		return Document{}, err
	}
	kind, err := checkKind(in.Kind)
	if err != nil {
		return Document{}, err
	}
	src, err := checkSource(in.Source)
	if err != nil {
		return Document{}, err
	}
	title, err := checkTitle(in.Title)
	if err != nil {
		return Document{}, err
	}
	if title == "" {
		title = TitleFrom(in.Body)
	}
	now := s.Clock.Now().UTC()
	return s.Store.CreateDocument(ctx, Document{ID: s.IDs.NewID("doc_"), UserID: userID, Title: title, Kind: kind,
		Body: in.Body, Version: 1, Source: src, CreatedAt: now, UpdatedAt: now})
}

// Save adds a version with e's title and body. When e.BaseVersion is not
// the current version it returns a *ConflictError holding the current
// document, and saves nothing, unless the current version already holds
// exactly e's text (a retried save whose answer was lost): then it returns
// the current document. A save that changes nothing adds no version.
func (s *Service) Save(ctx context.Context, userID, id string, e Edit) (Document, error) {
	if err := checkBody(e.Body); err != nil {
		return Document{}, err
	}
	src, err := checkSource(e.Source)
	if err != nil {
		return Document{}, err
	}
	title, err := checkTitle(e.Title)
	if err != nil {
		return Document{}, err
	}
	cur, err := s.Store.Document(ctx, userID, id)
	if err != nil {
		return Document{}, err
	}
	if title == "" {
		title = cur.Title
	}
	if title == cur.Title && e.Body == cur.Body {
		return cur, nil
	}
	if e.BaseVersion != cur.Version {
		return Document{}, &ConflictError{Base: e.BaseVersion, Current: cur}
	}
	d, err := s.Store.AddVersion(ctx, userID, id, e.BaseVersion,
		Version{Title: title, Body: e.Body, Source: src, SavedAt: s.Clock.Now().UTC()})
	if errors.Is(err, ErrConflict) {
		// Saved by someone else between the read and the write.
		if now, gerr := s.Store.Document(ctx, userID, id); gerr == nil {
			return Document{}, &ConflictError{Base: e.BaseVersion, Current: now}
		}
	}
	return d, err
}

// Versions lists a document's versions without bodies, newest first.
func (s *Service) Versions(ctx context.Context, userID, id string) ([]Version, error) {
	return s.Store.Versions(ctx, userID, id)
}

// Version returns version n of a document, with its body.
func (s *Service) Version(ctx context.Context, userID, id string, n int) (Version, error) {
	return s.Store.Version(ctx, userID, id, n)
}

// Restore makes version n's title and body the current ones, as a new
// version (source "restore"); the versions in between stay.
func (s *Service) Restore(ctx context.Context, userID, id string, n int) (Document, error) {
	v, err := s.Store.Version(ctx, userID, id, n)
	if err != nil {
		return Document{}, err
	}
	for range 3 { // a save in between moves the base; try again on the new one
		cur, err := s.Store.Document(ctx, userID, id)
		if err != nil {
			return Document{}, err
		}
		d, err := s.Store.AddVersion(ctx, userID, id, cur.Version,
			Version{Title: v.Title, Body: v.Body, Source: SourceRestore, SavedAt: s.Clock.Now().UTC()})
		if !errors.Is(err, ErrConflict) {
			return d, err
		}
	}
	return Document{}, fmt.Errorf("restore version %d of document %s: it kept changing while restoring: %w", n, id, ErrConflict)
}

// Delete removes a document and all its versions.
func (s *Service) Delete(ctx context.Context, userID, id string) error {
	return s.Store.DeleteDocument(ctx, userID, id)
}

// Search ranks userID's documents by the words of query, best first.
func (s *Service) Search(ctx context.Context, userID, query string, limit int) ([]Document, error) {
	return s.Store.Search(ctx, userID, query, limit)
}

// StyleSample is a passage of a letter the user wrote themself.
type StyleSample struct {
	DocumentID string
	Title      string
	Excerpt    string
}

// Style returns up to limit excerpts (each at most chars characters) of
// userID's own letters: of each letter, most recently updated first, the
// newest version the user saved themself (source "user"). Versions os1
// drafted, restored or proofread are not the user's voice and are skipped.
func (s *Service) Style(ctx context.Context, userID string, limit, chars int) ([]StyleSample, error) {
	docs, err := s.Store.Documents(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []StyleSample
	for _, d := range docs {
		if len(out) == limit {
			break
		}
		if d.Kind != KindLetter {
			continue
		}
		vs, err := s.Store.Versions(ctx, userID, d.ID)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if v.Source != SourceUser {
				continue
			}
			full, err := s.Store.Version(ctx, userID, d.ID, v.N)
			if err != nil {
				return nil, err
			}
			if ex := Excerpt(full.Body, chars); ex != "" {
				out = append(out, StyleSample{DocumentID: d.ID, Title: full.Title, Excerpt: ex})
			}
			break
		}
	}
	return out, nil
}

// Excerpt is the start of body, whitespace runs within lines kept, cut at
// a word boundary to at most chars characters (with "…" when cut).
func Excerpt(body string, chars int) string {
	body = strings.TrimSpace(body)
	if utf8.RuneCountInString(body) <= chars {
		return body
	}
	r := []rune(body)[:chars]
	cut := string(r)
	if i := strings.LastIndexAny(cut, " \n"); i > len(cut)/2 {
		cut = cut[:i]
	}
	return strings.TrimSpace(cut) + "…"
}

// TitleFrom makes a title of a body's first non-empty line (Markdown
// heading marks dropped), or "Untitled".
func TitleFrom(body string) string {
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "#>*- "))
		if line == "" {
			continue
		}
		t := textsafe.CleanTitle(line)
		if r := []rune(t); len(r) > 80 {
			t = strings.TrimSpace(string(r[:80])) + "…"
		}
		if t != "" {
			return t
		}
	}
	return "Untitled"
}

func checkBody(body string) error {
	if len(body) > MaxBodyBytes {
		return &InputError{Msg: fmt.Sprintf("the document is %.1f MB; a document may be at most %d MB", float64(len(body))/(1<<20), MaxBodyBytes>>20), TooLarge: true}
	}
	if !utf8.ValidString(body) {
		return &InputError{Msg: "the document is not valid UTF-8 text"}
	}
	if strings.ContainsRune(body, 0) {
		return &InputError{Msg: "the document contains a NUL character"}
	}
	return nil
}

func checkTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if !utf8.ValidString(t) || strings.ContainsRune(t, 0) {
		return "", &InputError{Msg: "the title is not valid text"}
	}
	if utf8.RuneCountInString(t) > MaxTitleChars {
		return "", &InputError{Msg: fmt.Sprintf("the title is longer than %d characters", MaxTitleChars)}
	}
	return textsafe.CleanTitle(t), nil
}

func checkKind(k string) (string, error) {
	switch k = strings.ToLower(strings.TrimSpace(k)); k {
	case "":
		return KindLetter, nil
	case KindLetter, KindNote, KindChapter:
		return k, nil
	}
	return "", &InputError{Msg: fmt.Sprintf("kind %q is not one of letter, note, chapter", k)}
}

func checkSource(src string) (string, error) {
	switch src {
	case "":
		return SourceUser, nil
	case SourceUser, SourceOS1, SourceRestore, SourceSuggestions:
		return src, nil
	}
	return "", &InputError{Msg: fmt.Sprintf("source %q is not one of user, os1, restore, suggestions", src)}
}
