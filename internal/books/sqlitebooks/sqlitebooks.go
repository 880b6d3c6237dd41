// Package sqlitebooks keeps books and their built files in os1's SQL
// database: SQLite (migration 00019_books.sql) or PostgreSQL
// (00011_books.sql), with the same code. Every query is scoped by user ID;
// another user's ids answer books.ErrNotFound.
package sqlitebooks

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/os1ai/os1/internal/books"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
)

var errs = sqlerr.Sentinels{NotFound: books.ErrNotFound, Conflict: books.ErrConflict, Dangling: "the user or book does not exist:"}

// Store is the SQL book store.
type Store struct{ db *sql.DB }

var _ books.Store = (*Store)(nil)

// New returns the book store of db.
func New(db sqldb.Handle) *Store { return &Store{db: db.SQL()} }

const cols = `id, user_id, title, subtitle, author, dedication, foreword, letters, created_at, updated_at`

func scan(r interface{ Scan(...any) error }) (books.Book, error) {
	var b books.Book
	var letters string
	err := r.Scan(&b.ID, &b.UserID, &b.Title, &b.Subtitle, &b.Author, &b.Dedication, &b.Foreword, &letters,
		sqltime.Scanner{T: &b.CreatedAt}, sqltime.Scanner{T: &b.UpdatedAt})
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal([]byte(letters), &b.Letters); err != nil {
		return b, fmt.Errorf("book %s: stored letters: %w", b.ID, err)
	}
	if b.Letters == nil {
		b.Letters = []string{}
	}
	return b, nil
}

func lettersJSON(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	j, _ := json.Marshal(ids)
	return string(j)
}

// Books lists userID's books, oldest first.
func (st *Store) Books(ctx context.Context, userID string) ([]books.Book, error) {
	rows, err := st.db.QueryContext(ctx, `SELECT `+cols+` FROM books WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, errs.Map(err, "list books")
	}
	defer rows.Close()
	out := []books.Book{}
	for rows.Next() {
		b, err := scan(rows)
		if err != nil {
			return nil, errs.Map(err, "list books")
		}
		out = append(out, b)
	}
	return out, errs.Map(rows.Err(), "list books")
}

// Book returns one of userID's books.
func (st *Store) Book(ctx context.Context, userID, id string) (books.Book, error) {
	b, err := scan(st.db.QueryRowContext(ctx, `SELECT `+cols+` FROM books WHERE id = ? AND user_id = ?`, id, userID))
	return b, errs.Map(err, fmt.Sprintf("book %s", id))
}

// CreateBook stores a new book.
func (st *Store) CreateBook(ctx context.Context, b books.Book) (books.Book, error) {
	what := fmt.Sprintf("create book %s", b.ID)
	if b.ID == "" || b.UserID == "" {
		return books.Book{}, fmt.Errorf("%s: id and user are required", what)
	}
	out, err := scan(st.db.QueryRowContext(ctx, `INSERT INTO books (`+cols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+cols,
		b.ID, b.UserID, b.Title, b.Subtitle, b.Author, b.Dedication, b.Foreword, lettersJSON(b.Letters),
		sqltime.Value(b.CreatedAt), sqltime.Value(b.UpdatedAt)))
	if err != nil {
		return books.Book{}, errs.Map(err, what)
	}
	return out, nil
}

// UpdateBook replaces the fields of the user's book b.ID.
func (st *Store) UpdateBook(ctx context.Context, b books.Book) (books.Book, error) {
	out, err := scan(st.db.QueryRowContext(ctx, `UPDATE books SET title = ?, subtitle = ?, author = ?, dedication = ?,
		foreword = ?, letters = ?, updated_at = ? WHERE id = ? AND user_id = ? RETURNING `+cols,
		b.Title, b.Subtitle, b.Author, b.Dedication, b.Foreword, lettersJSON(b.Letters), sqltime.Value(b.UpdatedAt), b.ID, b.UserID))
	if err != nil {
		return books.Book{}, errs.Map(err, fmt.Sprintf("update book %s", b.ID))
	}
	return out, nil
}

// DeleteBook removes one of userID's books and its files.
func (st *Store) DeleteBook(ctx context.Context, userID, id string) error {
	res, err := st.db.ExecContext(ctx, `DELETE FROM books WHERE id = ? AND user_id = ?`, id, userID)
	return errs.Affected(res, err, fmt.Sprintf("delete book %s", id))
}

// PutFile stores f, replacing the book's earlier file of that format. The
// book must be f.UserID's.
func (st *Store) PutFile(ctx context.Context, f books.File) error {
	what := fmt.Sprintf("store the %s of book %s", f.Format, f.BookID)
	res, err := st.db.ExecContext(ctx, `INSERT INTO book_files (book_id, user_id, format, data, sha256, built_at)
		SELECT id, user_id, ?, ?, ?, ? FROM books WHERE id = ? AND user_id = ?
		ON CONFLICT (book_id, format) DO UPDATE SET data = excluded.data, sha256 = excluded.sha256, built_at = excluded.built_at`,
		f.Format, f.Data, f.SHA256, sqltime.Value(f.BuiltAt), f.BookID, f.UserID)
	return errs.Affected(res, err, what)
}

// File returns the user's stored file of a book's format.
func (st *Store) File(ctx context.Context, userID, bookID, format string) (books.File, error) {
	f := books.File{BookID: bookID, UserID: userID, Format: format}
	err := st.db.QueryRowContext(ctx, `SELECT data, sha256, built_at FROM book_files WHERE book_id = ? AND user_id = ? AND format = ?`,
		bookID, userID, format).Scan(&f.Data, &f.SHA256, sqltime.Scanner{T: &f.BuiltAt})
	f.Size = len(f.Data)
	return f, errs.Map(err, fmt.Sprintf("the %s of book %s", format, bookID))
}

// FileInfo is File with Data left out (Size says how long it is).
func (st *Store) FileInfo(ctx context.Context, userID, bookID, format string) (books.File, error) {
	f := books.File{BookID: bookID, UserID: userID, Format: format}
	var size int
	err := st.db.QueryRowContext(ctx, `SELECT length(data), sha256, built_at FROM book_files WHERE book_id = ? AND user_id = ? AND format = ?`,
		bookID, userID, format).Scan(&size, &f.SHA256, sqltime.Scanner{T: &f.BuiltAt})
	f.Size = size
	return f, errs.Map(err, fmt.Sprintf("the %s of book %s", format, bookID))
}
