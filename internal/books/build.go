package books

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Build states.
const (
	StateQueued  = "queued"  // waiting for a typesetting slot
	StateRunning = "running" // gathering letters, then typesetting
	StateDone    = "done"    // the file is stored
	StateFailed  = "failed"  // Error says why
	StateNone    = "none"    // never built
)

// BuildStatus is where a build of one book in one format stands.
type BuildStatus struct {
	BookID  string    `json:"book_id"`
	Format  string    `json:"format"`
	State   string    `json:"state"`
	Done    int       `json:"done"`
	Total   int       `json:"total"`
	Error   string    `json:"error,omitempty"`
	Size    int       `json:"size,omitempty"`
	BuiltAt time.Time `json:"built_at,omitzero"`
	// Stale: the book was edited after this file was built.
	Stale bool `json:"stale,omitempty"`
}

type job struct {
	userID string
	status BuildStatus
}

func jobKey(userID, bookID, format string) string { return userID + "\x00" + bookID + "\x00" + format }

// CheckFormat refuses a format other than EPUB and PDF.
func CheckFormat(format string) error {
	if format == "" {
		return &InputError{"say which format to build: format=epub or format=pdf"}
	}
	if format != EPUB && format != PDF {
		return &InputError{fmt.Sprintf("format %q: a book is built as epub or pdf", format)}
	}
	return nil
}

// Build starts building the user's book in format in the background and
// answers at once with its status; a build of that book and format that is
// already running is not started twice. Status and Progress follow it.
func (s *Service) Build(ctx context.Context, userID, bookID, format string) (BuildStatus, error) {
	s.init()
	if err := CheckFormat(format); err != nil {
		return BuildStatus{}, err
	}
	if s.Typesetter == nil {
		return BuildStatus{}, errors.New("building books is not enabled on this server")
	}
	b, err := s.Store.Book(ctx, userID, bookID)
	if err != nil {
		return BuildStatus{}, err
	}
	if len(b.Letters) == 0 {
		return BuildStatus{}, &InputError{"the book has no letters yet: pick some first"}
	}
	key := jobKey(userID, bookID, format)
	s.mu.Lock()
	if j, ok := s.jobs[key]; ok && (j.status.State == StateQueued || j.status.State == StateRunning) {
		st := j.status
		s.mu.Unlock()
		return st, nil
	}
	j := &job{userID: userID, status: BuildStatus{BookID: bookID, Format: format, State: StateQueued, Total: 2*len(b.Letters) + 1}}
	s.jobs[key] = j
	st := j.status
	s.wg.Add(1)
	s.mu.Unlock()
	go s.run(key, j, b, format)
	return st, nil
}

// Status answers the last build of the user's book in format: the running
// one, or the stored file's.
func (s *Service) Status(ctx context.Context, userID, bookID, format string) (BuildStatus, error) {
	s.init()
	if err := CheckFormat(format); err != nil {
		return BuildStatus{}, err
	}
	b, err := s.Store.Book(ctx, userID, bookID)
	if err != nil {
		return BuildStatus{}, err
	}
	s.mu.Lock()
	j, ok := s.jobs[jobKey(userID, bookID, format)]
	var st BuildStatus
	if ok {
		st = j.status
	}
	s.mu.Unlock()
	if ok && st.State != StateDone {
		return st, nil
	}
	f, err := s.Store.FileInfo(ctx, userID, bookID, format)
	if errors.Is(err, ErrNotFound) {
		return BuildStatus{BookID: bookID, Format: format, State: StateNone}, nil
	}
	if err != nil {
		return BuildStatus{}, err
	}
	return BuildStatus{BookID: bookID, Format: format, State: StateDone, Done: st.Total, Total: st.Total, Size: f.Size,
		BuiltAt: f.BuiltAt, Stale: b.UpdatedAt.After(f.BuiltAt)}, nil
}

// File answers the stored file of the user's book in format.
func (s *Service) File(ctx context.Context, userID, bookID, format string) (File, error) {
	if err := CheckFormat(format); err != nil {
		return File{}, err
	}
	if _, err := s.Store.Book(ctx, userID, bookID); err != nil {
		return File{}, err
	}
	f, err := s.Store.File(ctx, userID, bookID, format)
	if errors.Is(err, ErrNotFound) {
		return File{}, fmt.Errorf("%s: %w", format, ErrNotBuilt)
	}
	return f, err
}

func (s *Service) set(j *job, f func(st *BuildStatus)) {
	s.mu.Lock()
	f(&j.status)
	st := j.status
	s.mu.Unlock()
	if s.Progress != nil {
		s.Progress(j.userID, st)
	}
}

// run builds b in the background. It never panics the process: a panic of
// the typesetter fails the build.
func (s *Service) run(key string, j *job, b Book, format string) {
	defer s.wg.Done()
	ctx := s.ctx
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				err = fmt.Errorf("the typesetter failed: %v", v)
			}
		}()
		select {
		case s.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.sem }()
		s.set(j, func(st *BuildStatus) { st.State = StateRunning })
		m, err := s.manuscript(ctx, b, func(done int) {
			s.set(j, func(st *BuildStatus) { st.Done = done })
		})
		if err != nil {
			return err
		}
		// Gathering the letters is the first half of the bar, typesetting the second.
		n := len(m.Letters)
		var buf bytes.Buffer
		err = s.Typesetter.Typeset(ctx, format, m, &buf, func(done, total int) {
			if total <= 0 {
				return
			}
			s.set(j, func(st *BuildStatus) { st.Total = 2*n + 1; st.Done = n + min(n, done*n/total) })
		})
		if err != nil {
			return err
		}
		sum := sha256.Sum256(buf.Bytes())
		f := File{BookID: b.ID, UserID: b.UserID, Format: format, Data: buf.Bytes(), Size: buf.Len(),
			SHA256: hex.EncodeToString(sum[:]), BuiltAt: s.Clock.Now()}
		if err := s.Store.PutFile(ctx, f); err != nil {
			return err
		}
		s.set(j, func(st *BuildStatus) {
			st.State, st.Total, st.Done, st.Size, st.BuiltAt = StateDone, 2*n+1, 2*n+1, f.Size, f.BuiltAt
		})
		return nil
	}()
	if err != nil {
		s.Log.Warn("book build failed", "book", b.ID, "format", format, "err", err)
		msg := err.Error()
		var in *InputError
		if !errors.As(err, &in) && !errors.Is(err, ErrNotFound) && !errors.Is(err, context.Canceled) {
			msg = "the book could not be built: " + msg
		}
		s.set(j, func(st *BuildStatus) { st.State, st.Error = StateFailed, msg })
	}
}

// manuscript gathers b's letters, in order, with their text.
func (s *Service) manuscript(ctx context.Context, b Book, step func(done int)) (Manuscript, error) {
	m := Manuscript{Title: b.Title, Subtitle: b.Subtitle, Author: b.Author, Dedication: b.Dedication, Foreword: b.Foreword, Language: "en"}
	for i, id := range b.Letters {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		l, err := s.Letters.Letter(ctx, b.UserID, id)
		if errors.Is(err, ErrNotFound) {
			return m, &InputError{fmt.Sprintf("letter %s of the book was deleted: take it out of the book", id)}
		}
		if err != nil {
			return m, fmt.Errorf("read letter %s: %w", id, err)
		}
		l.Body = dropTitleHeading(l.Title, l.Body)
		m.Letters = append(m.Letters, l)
		step(i + 1)
	}
	return m, nil
}

// dropTitleHeading takes out a letter's first line when it is a Markdown
// heading saying the letter's title (as a title taken from the first line
// does): the chapter opening already sets the title, so it is not printed
// twice.
func dropTitleHeading(title, body string) string {
	rest := body
	for rest != "" {
		line, after, _ := strings.Cut(rest, "\n")
		if strings.TrimSpace(line) == "" {
			rest = after
			continue
		}
		t := strings.TrimSpace(line)
		hashes := len(t) - len(strings.TrimLeft(t, "#"))
		if hashes < 1 || hashes > 6 || (len(t) > hashes && t[hashes] != ' ' && t[hashes] != '\t') {
			return body
		}
		text := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(t[hashes:]), "#"))
		if !strings.EqualFold(text, strings.TrimSpace(title)) || strings.TrimSpace(after) == "" {
			return body // a letter that is only its title keeps it
		}
		return after
	}
	return body
}
