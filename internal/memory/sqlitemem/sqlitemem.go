// Package sqlitemem is the SQL backend of memory.Store: memory items,
// people, journals and the recall index (full text and vectors) in the same
// database as the conversations: SQLite by default (internal/store/sqlite,
// whose migration 00002_memory.sql creates these tables; FTS5 full text),
// or PostgreSQL with the same code (internal/store/postgres, its own
// 00002_memory.sql; tsvector full text; see dialect.go).
//
// Every query is scoped by user ID; another user's IDs answer ErrNotFound.
// Vectors are stored int8-quantised in SQLite and searched through a compact
// in-memory index of their sign bits, rebuilt lazily per user and evicted when
// idle (see vecindex.go). The package must never log memory content, never
// return one user's documents to another, and never hold package-level
// mutable state.
package sqlitemem

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/store/sqldb"
	"github.com/os1ai/os1/internal/store/sqlerr"
	"github.com/os1ai/os1/internal/store/sqltime"
)

// Store is a memory.Store kept in SQLite.
type Store struct {
	db    *sql.DB
	pg    bool // the database is PostgreSQL (dialect.go)
	clock clock.Clock
	vecs  *vecIndex
	dim   atomic.Int64 // vector dimension of this store; 0 until the first vector
	model atomic.Int64 // memory_embed_models.id stamped on vectors written; 0 until UseModel (models.go)
	cands int          // Hamming candidates re-ranked exactly per vector search

	ident atomic.Pointer[embed.Identity] // the model UseModel set; nil until then

	maxMatches int         // full-text matches worth ranking (fulltext.go)
	common     commonTerms // words known to match more than maxMatches documents (fulltext.go)

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared read queries, by SQL text

	locks *memory.LocalLocks // the worker's locks on SQLite (worklocks.go)
}

var _ memory.Store = (*Store)(nil)

// Options tune a Store. Zero values take the defaults.
type Options struct {
	// Clock stamps CreatedAt and UpdatedAt when the caller leaves them zero.
	Clock clock.Clock
	// IndexBudget bounds the bytes of in-memory vector index over all users
	// (default 256 MiB, about 3M vectors). The least recently searched users'
	// indexes are dropped first; the user being searched is always kept.
	IndexBudget int64
	// IndexIdle drops a user's index after this long without a search
	// (default 30 minutes); it is rebuilt from SQLite on the next search.
	IndexIdle time.Duration
	// Candidates is how many nearest sign codes are re-ranked by exact cosine
	// (default 256). More raises recall; each costs about 6 µs (a primary-key
	// read of its int8 vector and a dot product).
	Candidates int
	// MaxTextMatches bounds the documents one full-text query ranks (default
	// 1000, about 3 ms): words matching more are dropped while rarer ones
	// remain, and otherwise only the user's newest documents are searched
	// (see fulltext.go).
	MaxTextMatches int
	// Dialect is the database db talks to (zero: SQLite). NewFor sets it
	// from a sqldb.Handle.
	Dialect sqldb.Dialect
}

// New returns a Store over db, whose schema must be migrated
// (internal/store/sqlite.Open does it).
func New(db *sql.DB, opts Options) *Store {
	if opts.Clock == nil {
		opts.Clock = clock.System{}
	}
	if opts.IndexBudget <= 0 {
		opts.IndexBudget = 256 << 20
	}
	if opts.IndexIdle <= 0 {
		opts.IndexIdle = 30 * time.Minute
	}
	if opts.Candidates <= 0 {
		opts.Candidates = 256
	}
	if opts.MaxTextMatches <= 0 {
		opts.MaxTextMatches = 1000
	}
	return &Store{
		db:    db,
		pg:    opts.Dialect == sqldb.Postgres,
		clock: opts.Clock,
		vecs:  newVecIndex(opts.IndexBudget, opts.IndexIdle, opts.Clock),
		cands: opts.Candidates,

		maxMatches: opts.MaxTextMatches,
		stmts:      map[string]*sql.Stmt{},
		locks:      &memory.LocalLocks{},
	}
}

// IndexBytes reports the memory held by the in-memory vector indexes.
func (s *Store) IndexBytes() int64 { return s.vecs.totalBytes() }

// doc is a row of memory_docs: one recallable document.
type doc struct {
	user, kind, id, text string
	speaker              string // who said a message; '' for the rest
	time, eventTime      time.Time
	current              bool
}

// insertDoc adds a document (the FTS trigger indexes it) and its vector.
func (s *Store) insertDoc(ctx context.Context, tx *sql.Tx, d doc, vec []float32) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx,
		`INSERT INTO memory_docs (user_id, doc_kind, doc_id, text, speaker, time, event_time, current) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		d.user, d.kind, d.id, d.text, d.speaker, dbTime(d.time), dbTime(d.eventTime), b01(d.current)).Scan(&seq)
	if err != nil {
		return 0, err
	}
	if vec != nil {
		if err := s.putVector(ctx, tx, seq, d.user, vec); err != nil {
			return 0, err
		}
	}
	return seq, nil
}

// putVector stores (or replaces) the vector of a document, stamped with
// the model in use (models.go).
func (s *Store) putVector(ctx context.Context, tx *sql.Tx, seq int64, user string, vec []float32) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO memory_vectors (seq, user_id, code, vec, model) VALUES (?, ?, ?, ?, ?)
		 ON CONFLICT (seq) DO UPDATE SET code = excluded.code, vec = excluded.vec, model = excluded.model`,
		seq, user, signCode(vec), quantize(vec), s.model.Load())
	return err
}

// checkVector rejects a vector that cannot be stored or compared: empty,
// non-finite, or of another dimension than the store already holds. The
// first vector stored (pin) fixes the dimension; a search never does. Once
// UseModel has named the model, its dimension is the store's.
func (s *Store) checkVector(ctx context.Context, vec []float32, pin bool) error {
	if len(vec) == 0 {
		return errors.New("vector is empty")
	}
	for i, x := range vec {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("vector component %d is %v", i, x)
		}
	}
	dim := s.dim.Load()
	if dim == 0 {
		var n sql.NullInt64
		err := s.db.QueryRowContext(ctx, `SELECT length(vec) - 4 FROM memory_vectors WHERE model = ? LIMIT 1`, s.model.Load()).Scan(&n)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read vector dimension: %w", err)
		}
		switch {
		case n.Valid:
			dim = n.Int64
		case !pin:
			return nil // nothing stored yet: any query finds nothing
		default:
			dim = int64(len(vec))
		}
		s.dim.CompareAndSwap(0, dim)
		dim = s.dim.Load()
	}
	if int64(len(vec)) != dim {
		return fmt.Errorf("vector has %d dimensions, but this store holds %d-dimensional vectors (was the embedding model changed?)", len(vec), dim)
	}
	return nil
}

// maxStmts bounds the prepared-statement cache. Search SQL varies only with
// the filters present, a few dozen variants, so the bound is never reached
// in practice; past it, queries are prepared each time.
const maxStmts = 256

// stmt returns the prepared statement for query, preparing it on first use;
// nil when the cache is full. Searches run a handful of statements each,
// and preparing one costs about as much as running it.
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[query]; ok || len(s.stmts) >= maxStmts {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.sql(query))
	if err != nil {
		return nil, err
	}
	s.stmts[query] = st
	return st, nil
}

// query runs a read query through the statement cache.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case st == nil:
		return s.db.QueryContext(ctx, s.sql(query), args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for one row.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.stmt(ctx, query)
	if err != nil || st == nil {
		return s.db.QueryRowContext(ctx, s.sql(query), args...) // reports a prepare error too
	}
	return st.QueryRowContext(ctx, args...)
}

// seqList encodes seqs as a JSON array for json_each, so that one prepared
// statement serves any number of them.
func seqList(seqs []int64) string {
	b := make([]byte, 0, 8*len(seqs)+2)
	b = append(b, '[')
	for i, x := range seqs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return string(append(b, ']'))
}

// inTx runs f in a transaction, committing when it returns nil. A panic
// in f (the driver's out-of-memory) rolls back before it goes on, so the
// connection does not stay checked out holding the write lock. On
// PostgreSQL the transaction first locks the users it writes (lockKeys).
func (s *Store) inTx(ctx context.Context, f func(tx *sql.Tx) error, users ...string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			_ = tx.Rollback()
		}
	}()
	keys := make([]string, len(users))
	for i, u := range users {
		keys[i] = "user:" + u
	}
	if err := lockKeys(ctx, tx, s.pg, keys...); err != nil {
		return err
	}
	if err := f(tx); err != nil {
		return err
	}
	committed = true
	return tx.Commit()
}

// ErrDatabase marks a failure inside the SQLite driver that it reported by
// panicking rather than with an error (it panics on SQLITE_NOMEM).
var ErrDatabase = errors.New("the database failed")

// survive turns a panic below a Store method into that method's error.
// The driver panics when SQLite runs out of its memory (ranking a document
// of millions of words did), and the callers are a user's turn and the
// memory worker: a database failure must be an error they report, never a
// crash of the server. Deferred first thing in every exported method.
func survive(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: %w (%v)", what, ErrDatabase, r)
	}
}

// errs maps driver errors to memory's sentinel errors.
var errs = sqlerr.Sentinels{
	NotFound: memory.ErrNotFound,
	Conflict: fmt.Errorf("the ID is taken: %w", memory.ErrDuplicate),
	Dangling: "the user or a referenced person does not exist:",
}

// mapErr turns driver errors into memory's sentinel errors, keeping what
// (a description of the operation) in the message.
func mapErr(err error, what string) error { return errs.Map(err, what) }

// affected reports ErrNotFound when an UPDATE or DELETE matched no row.
func affected(res sql.Result, err error, what string) error { return errs.Affected(res, err, what) }

// Times are stored as package sqltime says (shared by every SQLite store).
type dbTime = sqltime.Value

func scanTime(t *time.Time) sqltime.Scanner { return sqltime.Scanner{T: t} }

// scanJSON decodes a JSON column into dst.
type scanJSON struct{ dst any }

// Scan implements sql.Scanner.
func (s scanJSON) Scan(v any) error {
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		return nil
	default:
		return fmt.Errorf("stored JSON has type %T", v)
	}
	return json.Unmarshal(b, s.dst)
}

// jsonList encodes a string list as a JSON array ("[]" for nil).
func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// cleanList drops empty and repeated strings, keeping the first order.
func cleanList(l []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range l {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n == 0 {
		return ""
	}
	b := make([]byte, 0, 3*n)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '?')
	}
	return string(b)
}
