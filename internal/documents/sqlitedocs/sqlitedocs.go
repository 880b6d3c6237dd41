// Package sqlitedocs keeps documents and their versions in os1's SQL
// database: SQLite (migration 00018_documents.sql) or PostgreSQL
// (00010_documents.sql), with the same code but for full-text search
// (FTS5 there, a tsvector column here). Every query is scoped by user ID;
// another user's ids answer documents.ErrNotFound. A version, once
// written, is never changed.
package sqlitedocs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/documents"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
)

var errs = sqlerr.Sentinels{NotFound: documents.ErrNotFound, Conflict: documents.ErrConflict, Dangling: "the user does not exist:"}

// Store is the SQL document store.
type Store struct {
	db *sql.DB
	pg bool // PostgreSQL: search the tsvector column documents.fts
}

var _ documents.Store = (*Store)(nil)

// New returns the document store of db.
func New(db sqldb.Handle) *Store { return &Store{db: db.SQL(), pg: db.Dialect() == sqldb.Postgres} }

const listCols = `id, user_id, title, kind, '', version, source, created_at, updated_at`
const docCols = `id, user_id, title, kind, body, version, source, created_at, updated_at`

func scanDoc(r interface{ Scan(...any) error }) (documents.Document, error) {
	var d documents.Document
	err := r.Scan(&d.ID, &d.UserID, &d.Title, &d.Kind, &d.Body, &d.Version, &d.Source,
		sqltime.Scanner{T: &d.CreatedAt}, sqltime.Scanner{T: &d.UpdatedAt})
	return d, err
}

func (s *Store) docs(ctx context.Context, what, query string, args ...any) ([]documents.Document, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, errs.Map(err, what)
	}
	defer rows.Close()
	var out []documents.Document
	for rows.Next() {
		d, err := scanDoc(rows)
		if err != nil {
			return nil, errs.Map(err, what)
		}
		out = append(out, d)
	}
	return out, errs.Map(rows.Err(), what)
}

// Documents lists userID's documents without bodies, most recently updated first.
func (s *Store) Documents(ctx context.Context, userID string) ([]documents.Document, error) {
	return s.docs(ctx, "list documents", `SELECT `+listCols+` FROM documents
		WHERE user_id = ? ORDER BY updated_at DESC, seq DESC`, userID)
}

// Document returns one of userID's documents with its body.
func (s *Store) Document(ctx context.Context, userID, id string) (documents.Document, error) {
	d, err := scanDoc(s.db.QueryRowContext(ctx, `SELECT `+docCols+` FROM documents WHERE id = ? AND user_id = ?`, id, userID))
	return d, errs.Map(err, fmt.Sprintf("read document %s", id))
}

// CreateDocument stores d as its version 1.
func (s *Store) CreateDocument(ctx context.Context, d documents.Document) (_ documents.Document, err error) {
	what := fmt.Sprintf("create document %s", d.ID)
	if d.ID == "" || d.UserID == "" {
		return documents.Document{}, fmt.Errorf("%s: id and user are required", what)
	}
	d.Version = 1
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return documents.Document{}, errs.Map(err, what)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var seq int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO documents (`+docCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		d.ID, d.UserID, d.Title, d.Kind, d.Body, d.Version, d.Source, sqltime.Value(d.CreatedAt), sqltime.Value(d.UpdatedAt)).Scan(&seq); err != nil {
		return documents.Document{}, errs.Map(err, what)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO document_versions (doc_seq, n, title, body, source, saved_at) VALUES (?, 1, ?, ?, ?, ?)`,
		seq, d.Title, d.Body, d.Source, sqltime.Value(d.UpdatedAt)); err != nil {
		return documents.Document{}, errs.Map(err, what)
	}
	return d, errs.Map(tx.Commit(), what)
}

// AddVersion adds version base+1 and makes it current, when base is current.
func (s *Store) AddVersion(ctx context.Context, userID, id string, base int, v documents.Version) (_ documents.Document, err error) {
	what := fmt.Sprintf("save document %s", id)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return documents.Document{}, errs.Map(err, what)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// The write comes first, so the transaction holds the write lock from
	// its first statement and a concurrent save waits, then misses base.
	var seq int64
	var d documents.Document
	err = tx.QueryRowContext(ctx, `UPDATE documents SET title = ?, body = ?, version = version + 1, source = ?, updated_at = ?
		WHERE id = ? AND user_id = ? AND version = ? RETURNING seq, `+docCols,
		v.Title, v.Body, v.Source, sqltime.Value(v.SavedAt), id, userID, base).Scan(&seq,
		&d.ID, &d.UserID, &d.Title, &d.Kind, &d.Body, &d.Version, &d.Source, sqltime.Scanner{T: &d.CreatedAt}, sqltime.Scanner{T: &d.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		var cur int
		if qerr := tx.QueryRowContext(ctx, `SELECT version FROM documents WHERE id = ? AND user_id = ?`, id, userID).Scan(&cur); qerr != nil {
			return documents.Document{}, errs.Map(qerr, what)
		}
		return documents.Document{}, fmt.Errorf("%s on version %d (it is at version %d): %w", what, base, cur, documents.ErrConflict)
	}
	if err != nil {
		return documents.Document{}, errs.Map(err, what)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO document_versions (doc_seq, n, title, body, source, saved_at) VALUES (?, ?, ?, ?, ?, ?)`,
		seq, d.Version, v.Title, v.Body, v.Source, sqltime.Value(v.SavedAt)); err != nil {
		return documents.Document{}, errs.Map(err, what)
	}
	return d, errs.Map(tx.Commit(), what)
}

// Versions lists a document's versions without bodies, newest first.
func (s *Store) Versions(ctx context.Context, userID, id string) ([]documents.Version, error) {
	what := fmt.Sprintf("list the versions of document %s", id)
	var seq int64
	if err := s.db.QueryRowContext(ctx, `SELECT seq FROM documents WHERE id = ? AND user_id = ?`, id, userID).Scan(&seq); err != nil {
		return nil, errs.Map(err, what)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT n, title, source, saved_at FROM document_versions WHERE doc_seq = ? ORDER BY n DESC`, seq)
	if err != nil {
		return nil, errs.Map(err, what)
	}
	defer rows.Close()
	var out []documents.Version
	for rows.Next() {
		var v documents.Version
		if err := rows.Scan(&v.N, &v.Title, &v.Source, sqltime.Scanner{T: &v.SavedAt}); err != nil {
			return nil, errs.Map(err, what)
		}
		out = append(out, v)
	}
	return out, errs.Map(rows.Err(), what)
}

// Version returns version n of a document with its body.
func (s *Store) Version(ctx context.Context, userID, id string, n int) (documents.Version, error) {
	var v documents.Version
	err := s.db.QueryRowContext(ctx, `SELECT v.n, v.title, v.body, v.source, v.saved_at
		FROM documents d JOIN document_versions v ON v.doc_seq = d.seq
		WHERE d.id = ? AND d.user_id = ? AND v.n = ?`, id, userID, n).Scan(&v.N, &v.Title, &v.Body, &v.Source, sqltime.Scanner{T: &v.SavedAt})
	return v, errs.Map(err, fmt.Sprintf("read version %d of document %s", n, id))
}

// DeleteDocument removes a document and its versions (the foreign key cascades).
func (s *Store) DeleteDocument(ctx context.Context, userID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM documents WHERE id = ? AND user_id = ?`, id, userID)
	return errs.Affected(res, err, fmt.Sprintf("delete document %s", id))
}

// Search ranks userID's documents by BM25 over title (weighted double) and
// body, newest first on a tie. The query becomes quoted words of letters
// and digits, OR-ed, so nothing in it is FTS5 syntax; a user has a few
// hundred documents, not mail's hundred thousand, so no planning is needed.
// On PostgreSQL see searchPG.
func (s *Store) Search(ctx context.Context, userID, query string, limit int) (_ []documents.Document, err error) {
	what := fmt.Sprintf("search documents for %q", query)
	defer func() {
		// The driver panics when SQLite runs out of memory; the caller goes on.
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", what, r)
		}
	}()
	terms := queryTerms(query)
	if len(terms) == 0 {
		return nil, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	if s.pg {
		return s.searchPG(ctx, what, userID, terms, limit)
	}
	return s.docs(ctx, what, `SELECT `+docCols+` FROM (
			SELECT d.seq AS seq, bm25(documents_fts, 2, 1) AS r
			FROM documents_fts CROSS JOIN documents d ON d.seq = documents_fts.rowid
			WHERE documents_fts MATCH ? AND d.user_id = ?
			ORDER BY r LIMIT ?
		) h CROSS JOIN documents d ON d.seq = h.seq
		ORDER BY h.r, d.updated_at DESC, d.seq DESC`, strings.Join(terms, " OR "), userID, limit)
}

// searchPG is Search on PostgreSQL: each term is a plainto_tsquery (so
// no text is tsquery syntax) of the term folded as the index folds it
// (documents_fts_text: accents removed), the terms OR-ed. ts_rank weighs
// the title (A) 1 and the body (B) 0.5, as bm25(2, 1) does, divided by
// 1 + log of the document's length (normalization 1: BM25 favours short
// documents too); higher is better.
func (s *Store) searchPG(ctx context.Context, what, userID string, terms []string, limit int) ([]documents.Document, error) {
	q := make([]string, len(terms))
	args := make([]any, 0, len(terms)+2)
	for i, t := range terms {
		q[i] = `plainto_tsquery('english', documents_fts_text(?))`
		args = append(args, strings.Trim(t, `"`))
	}
	args = append(args, userID, limit)
	return s.docs(ctx, what, `SELECT `+docCols+` FROM (
			SELECT d.seq AS seq, ts_rank('{0.1, 0.2, 0.5, 1.0}', d.fts, q.q, 1) AS r
			FROM documents d, (SELECT `+strings.Join(q, " || ")+` AS q) q
			WHERE d.fts @@ q.q AND d.user_id = ?
			ORDER BY r DESC, d.updated_at DESC, d.seq DESC LIMIT ?
		) h JOIN documents d ON d.seq = h.seq
		ORDER BY h.r DESC, d.updated_at DESC, d.seq DESC`, args...)
}

const (
	maxTerms      = 16
	maxQueryBytes = 4096
)

// queryTerms turns free text into quoted FTS5 terms: runs of letters and
// digits, lower-cased, without stopwords, lone letters or repeats.
func queryTerms(text string) []string {
	if len(text) > maxQueryBytes {
		cut := maxQueryBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	var terms []string
	seen := map[string]bool{}
	runs := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.Is(unicode.Mn, r)
	})
	for _, r := range runs {
		if stopwords[r] || seen[r] || (utf8.RuneCountInString(r) == 1 && !unicode.IsNumber([]rune(r)[0])) {
			continue
		}
		seen[r] = true
		terms = append(terms, `"`+r+`"`)
		if len(terms) == maxTerms {
			break
		}
	}
	return terms
}

// stopwords are English words too common to search by; read-only.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again all am an and any are as at be because been
		before being below between both but by can could did do does doing down during each few for from
		further had has have having he her here hers herself him himself his how i if in into is it its itself
		just me more most my myself no nor not now of off on once only or other our ours ourselves out over own
		same she should so some such than that the their theirs them themselves then there these they this
		those through to too under until up very was we were what when where which while who whom why will
		with would you your yours yourself yourselves ll re ve don didn doesn isn wasn also`) {
		m[w] = true
	}
	return m
}()
