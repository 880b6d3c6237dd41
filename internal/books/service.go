package books

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
)

// Models hands out the connected chat model (companion.Models and
// models.Manager have this shape); an error means none is connected.
type Models interface {
	Provider(ctx context.Context) (llm.Provider, error)
}

// Limits of a book's fields.
const (
	MaxTitle    = 300     // runes, title, subtitle and author
	MaxFront    = 100_000 // bytes, dedication and foreword
	MaxLetters  = 1000    // letters in one book
	DefaultBest = 10      // Propose's n when none is given
)

// Service is the books domain: every method takes the user first and
// touches only that user's books and documents.
type Service struct {
	Store      Store
	Letters    Letters
	Models     Models     // nil: Propose and DraftForeword answer ErrNoModel
	Typesetter Typesetter // nil: Build answers an error
	Mail       *Mail      // nil: a book cannot be sent, only downloaded
	Clock      clock.Clock
	IDs        clock.IDs
	Log        *slog.Logger
	// Progress, when set, is told of each step of a build (to publish to
	// the user's open pages). It must not block.
	Progress func(userID string, s BuildStatus)
	// MaxBuilds bounds the builds that typeset at once (default 2); more
	// wait their turn, so a large book never holds up requests or others' builds.
	MaxBuilds int

	once   sync.Once
	mu     sync.Mutex
	jobs   map[string]*job
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (s *Service) init() {
	s.once.Do(func() {
		s.jobs = map[string]*job{}
		n := s.MaxBuilds
		if n <= 0 {
			n = 2
		}
		s.sem = make(chan struct{}, n)
		s.ctx, s.cancel = context.WithCancel(context.Background())
		if s.Log == nil {
			s.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// Close stops running builds and waits for them.
func (s *Service) Close() error {
	s.init()
	s.cancel()
	s.wg.Wait()
	return nil
}

// NewBook is what a new book starts with.
type NewBook struct {
	Title, Subtitle, Author, Dedication, Foreword string
	Letters                                       []string
}

// Edit changes the fields that are set.
type Edit struct {
	Title, Subtitle, Author, Dedication, Foreword *string
	Letters                                       *[]string
}

// List answers the user's books, oldest first.
func (s *Service) List(ctx context.Context, userID string) ([]Book, error) {
	return s.Store.Books(ctx, userID)
}

// Get answers one of the user's books.
func (s *Service) Get(ctx context.Context, userID, id string) (Book, error) {
	return s.Store.Book(ctx, userID, id)
}

// Create makes a book of the user's own letters.
func (s *Service) Create(ctx context.Context, userID string, nb NewBook) (Book, error) {
	now := s.Clock.Now()
	b := Book{ID: s.IDs.NewID("bok_"), UserID: userID, Title: nb.Title, Subtitle: nb.Subtitle, Author: nb.Author,
		Dedication: nb.Dedication, Foreword: nb.Foreword, Letters: nb.Letters, CreatedAt: now, UpdatedAt: now}
	if err := s.validate(ctx, &b); err != nil {
		return Book{}, err
	}
	return s.Store.CreateBook(ctx, b)
}

// Update changes the fields of e that are set.
func (s *Service) Update(ctx context.Context, userID, id string, e Edit) (Book, error) {
	b, err := s.Store.Book(ctx, userID, id)
	if err != nil {
		return Book{}, err
	}
	for _, f := range []struct {
		to   *string
		from *string
	}{{&b.Title, e.Title}, {&b.Subtitle, e.Subtitle}, {&b.Author, e.Author}, {&b.Dedication, e.Dedication}, {&b.Foreword, e.Foreword}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	if e.Letters != nil {
		b.Letters = *e.Letters
	}
	if err := s.validate(ctx, &b); err != nil {
		return Book{}, err
	}
	b.UpdatedAt = s.Clock.Now()
	return s.Store.UpdateBook(ctx, b)
}

// AddLetter puts one of the user's documents at the end of the book.
func (s *Service) AddLetter(ctx context.Context, userID, id, docID string) (Book, error) {
	b, err := s.Store.Book(ctx, userID, id)
	if err != nil {
		return Book{}, err
	}
	letters := append(append([]string{}, b.Letters...), docID)
	return s.Update(ctx, userID, id, Edit{Letters: &letters})
}

// RemoveLetter takes a letter out of the book (the document stays).
func (s *Service) RemoveLetter(ctx context.Context, userID, id, docID string) (Book, error) {
	b, err := s.Store.Book(ctx, userID, id)
	if err != nil {
		return Book{}, err
	}
	var letters []string
	for _, l := range b.Letters {
		if l != docID {
			letters = append(letters, l)
		}
	}
	if len(letters) == len(b.Letters) {
		return Book{}, fmt.Errorf("letter %s is not in the book: %w", docID, ErrNotFound)
	}
	return s.Update(ctx, userID, id, Edit{Letters: &letters})
}

// Reorder sets the book's order; order must hold exactly the book's letters.
func (s *Service) Reorder(ctx context.Context, userID, id string, order []string) (Book, error) {
	b, err := s.Store.Book(ctx, userID, id)
	if err != nil {
		return Book{}, err
	}
	have := map[string]bool{}
	for _, l := range b.Letters {
		have[l] = true
	}
	if len(order) != len(b.Letters) {
		return Book{}, &InputError{fmt.Sprintf("the order names %d letters; the book has %d", len(order), len(b.Letters))}
	}
	for _, l := range order {
		if !have[l] {
			return Book{}, &InputError{fmt.Sprintf("letter %s is not in the book", l)}
		}
	}
	return s.Update(ctx, userID, id, Edit{Letters: &order})
}

// Delete removes one of the user's books (its letters stay).
func (s *Service) Delete(ctx context.Context, userID, id string) error {
	return s.Store.DeleteBook(ctx, userID, id)
}

// validate trims and checks b, and that every letter is one of the user's
// own documents, named once.
func (s *Service) validate(ctx context.Context, b *Book) error {
	b.Title, b.Subtitle, b.Author = strings.TrimSpace(b.Title), strings.TrimSpace(b.Subtitle), strings.TrimSpace(b.Author)
	if b.Title == "" {
		return &InputError{"a book needs a title"}
	}
	for name, v := range map[string]string{"title": b.Title, "subtitle": b.Subtitle, "author": b.Author} {
		if utf8.RuneCountInString(v) > MaxTitle || strings.ContainsAny(v, "\r\n") {
			return &InputError{fmt.Sprintf("the %s must be one line of at most %d characters", name, MaxTitle)}
		}
	}
	if len(b.Dedication) > MaxFront || len(b.Foreword) > MaxFront {
		return &InputError{fmt.Sprintf("the dedication and the foreword may be at most %d bytes each", MaxFront)}
	}
	// A NUL would end the book's XHTML and PDF text, and PostgreSQL's text
	// refuses it; the server refuses it in JSON, a model's tool call may not.
	for _, v := range []string{b.Title, b.Subtitle, b.Author, b.Dedication, b.Foreword} {
		if strings.ContainsRune(v, 0) {
			return &InputError{"a book's text may not hold a NUL character"}
		}
	}
	if len(b.Letters) > MaxLetters {
		return &InputError{fmt.Sprintf("a book may hold at most %d letters", MaxLetters)}
	}
	if b.Letters == nil {
		b.Letters = []string{}
	}
	if len(b.Letters) == 0 {
		return nil
	}
	own, err := s.ownLetters(ctx, b.UserID)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, id := range b.Letters {
		if _, ok := own[id]; !ok {
			return &InputError{fmt.Sprintf("no letter of yours has the id %q", id)}
		}
		if seen[id] {
			return &InputError{fmt.Sprintf("letter %q is in the book twice", id)}
		}
		seen[id] = true
	}
	return nil
}

// ownLetters are the user's documents by id.
func (s *Service) ownLetters(ctx context.Context, userID string) (map[string]Letter, error) {
	if s.Letters == nil {
		return nil, errors.New("documents are not enabled on this server")
	}
	list, err := s.Letters.Letters(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list your letters: %w", err)
	}
	out := make(map[string]Letter, len(list))
	for _, l := range list {
		out[l.ID] = l
	}
	return out, nil
}

// LetterTitles are the titles of the user's documents by id, for showing
// a book's letters (an id missing here was deleted).
func (s *Service) LetterTitles(ctx context.Context, userID string) (map[string]string, error) {
	own, err := s.ownLetters(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(own))
	for id, l := range own {
		out[id] = l.Title
	}
	return out, nil
}

// FileInfo describes the stored file of the user's book in format, without its data.
func (s *Service) FileInfo(ctx context.Context, userID, bookID, format string) (File, error) {
	if err := CheckFormat(format); err != nil {
		return File{}, err
	}
	f, err := s.Store.FileInfo(ctx, userID, bookID, format)
	if errors.Is(err, ErrNotFound) {
		return File{}, fmt.Errorf("%s: %w", format, ErrNotBuilt)
	}
	return f, err
}
