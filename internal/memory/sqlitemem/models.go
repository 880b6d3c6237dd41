package sqlitemem

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/os1ai/os1/internal/embed"
	"github.com/os1ai/os1/internal/memory"
)

// Which embedding model built each vector (migration 00009).
//
// Every vector carries the id of its model (memory_embed_models), and the
// store stamps the vectors it writes with the model UseModel named. Searches
// load and compare only that model's vectors, so after a model swap the
// older vectors are simply invisible to vector search: recall finds those
// documents by full text alone until `os1 memory reindex` rebuilds them, and
// two models' vectors are never compared. New documents written meanwhile
// get vectors of the new model at once (they are what reindex would build).
//
// Vectors written before os1 recorded models have model 0. The first model
// that opens the database for writing adopts them when it reproduces a
// sample of them (cosine ≥ 0.98, which int8 storage keeps); otherwise they
// stay 0, "an unrecorded model", and need a reindex like any other.

// ModelStatus is what the store knows about its vectors' models.
type ModelStatus struct {
	// Current is the model UseModel set (zero Name: none set).
	Current embed.Identity
	// Stale are the other models that still own vectors, most vectors first.
	Stale []StaleModel
}

// StaleModel is a model other than the current one and how many vectors
// it still owns.
type StaleModel struct {
	Model   embed.Identity // zero Name: vectors from before os1 recorded models
	Vectors int
}

// NeedsReindex reports whether some documents are searchable by text only
// because their vectors come from another model than the current one. It
// is false while no model is set (the server's model loads on first use).
func (st ModelStatus) NeedsReindex() bool { return st.Current.Name != "" && len(st.Stale) > 0 }

// Notice is the sentence that says what to run; "" when nothing is stale.
func (st ModelStatus) Notice() string {
	if !st.NeedsReindex() {
		return ""
	}
	from := make([]string, len(st.Stale))
	n := 0
	for i, m := range st.Stale {
		from[i] = m.Model.String()
		n += m.Vectors
	}
	return fmt.Sprintf("The embedding model changed from %s to %s; run `os1 memory reindex --all` — until then memory search uses text only for the %d documents indexed before the change.",
		strings.Join(from, " and "), st.Current.String(), n)
}

// UseModel makes id the model of the vectors this store writes and
// searches. With write it records the model (and may adopt the vectors of
// model 0, checking a sample with emb); without, nothing is written (a
// command reading beside a running server) and a model never recorded has
// no vectors. It drops the loaded vector indexes.
func (s *Store) UseModel(ctx context.Context, id embed.Identity, emb memory.Embedder, write bool) (err error) {
	defer survive(&err, "choose the embedding model")
	if id.Name == "" || id.Dim <= 0 {
		return fmt.Errorf("choose the embedding model: %q has no name or size", id.Name)
	}
	models, err := recordedModels(ctx, s.db)
	if err != nil {
		return err
	}
	modelID := sameModel(models, id) // -1, never recorded: no vector has it
	if modelID < 0 && write {
		// Nodes starting together record the model once: on PostgreSQL
		// the lock orders them and the second finds the first's row.
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if err := lockKeys(ctx, tx, s.pg, "models"); err != nil {
				return err
			}
			models, err := recordedModels(ctx, tx)
			if err != nil {
				return err
			}
			if modelID = sameModel(models, id); modelID >= 0 {
				return nil
			}
			return tx.QueryRowContext(ctx, `INSERT INTO memory_embed_models (name, dim, fingerprint, probe, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
				id.Name, id.Dim, id.Fingerprint(), quantize(id.Probe), dbTime(s.clock.Now())).Scan(&modelID)
		})
		if err != nil {
			return fmt.Errorf("record the embedding model %s: %w", id.Name, err)
		}
	}
	if emb != nil {
		same, err := s.reproducesUnrecorded(ctx, id.Dim, emb)
		switch {
		case err != nil:
			return err
		case same && write:
			if _, err := s.db.ExecContext(ctx, `UPDATE memory_vectors SET model = ? WHERE model = 0`, modelID); err != nil {
				return fmt.Errorf("adopt the unrecorded vectors: %w", err)
			}
		case same && modelID < 0:
			modelID = 0 // a reader beside a server that has not recorded its model yet
		}
	}
	s.model.Store(modelID)
	s.dim.Store(int64(id.Dim))
	s.ident.Store(&id)
	s.vecs.reset()
	return nil
}

// reproducesUnrecorded reports whether the vectors of model 0 (if any)
// are the model emb's: it re-embeds up to three of them.
func (s *Store) reproducesUnrecorded(ctx context.Context, dim int, emb memory.Embedder) (bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.text, v.vec FROM memory_vectors v JOIN memory_docs d ON d.seq = v.seq
		WHERE v.model = 0 ORDER BY v.seq DESC LIMIT 3`)
	if err != nil {
		return false, fmt.Errorf("check the unrecorded vectors: %w", err)
	}
	var texts []string
	var stored [][]byte
	for rows.Next() {
		var t string
		var v []byte
		if err := rows.Scan(&t, &v); err != nil {
			rows.Close()
			return false, fmt.Errorf("check the unrecorded vectors: %w", err)
		}
		texts, stored = append(texts, t), append(stored, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(texts) == 0 {
		return false, err
	}
	vecs, err := emb.Embed(ctx, texts)
	if err != nil {
		return false, fmt.Errorf("check the unrecorded vectors: %w", err)
	}
	for i, v := range vecs {
		if len(v) != dim || len(stored[i]) != 4+dim || embed.Cosine(v, dequantize(stored[i])) < 0.98 {
			return false, nil // another model built them
		}
	}
	return true, nil
}

// sameModel is the lowest recorded ID of the model id; -1 when none.
func sameModel(models map[int64]embed.Identity, id embed.Identity) int64 {
	found := int64(-1)
	for mid, m := range models {
		if m.Same(id) && (found < 0 || mid < found) {
			found = mid
		}
	}
	return found
}

// querier is a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// recordedModels reads memory_embed_models.
func recordedModels(ctx context.Context, db querier) (map[int64]embed.Identity, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, name, dim, probe FROM memory_embed_models`)
	if err != nil {
		return nil, fmt.Errorf("read the recorded embedding models: %w", err)
	}
	defer rows.Close()
	out := map[int64]embed.Identity{}
	for rows.Next() {
		var id int64
		var m embed.Identity
		var probe []byte
		if err := rows.Scan(&id, &m.Name, &m.Dim, &probe); err != nil {
			return nil, fmt.Errorf("read the recorded embedding models: %w", err)
		}
		m.Probe = dequantize(probe)
		out[id] = m
	}
	return out, rows.Err()
}

// ModelStatus says which model is current and which others own vectors.
// It costs one index lookup per recorded model.
func (s *Store) ModelStatus(ctx context.Context) (st ModelStatus, err error) {
	defer survive(&err, "read the embedding models")
	if id := s.ident.Load(); id != nil {
		st.Current = *id
	}
	models, err := recordedModels(ctx, s.db)
	if err != nil {
		return st, err
	}
	models[0] = embed.Identity{}
	cur := s.model.Load()
	for mid, m := range models {
		if mid == cur {
			continue
		}
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM memory_vectors WHERE model = ?`, mid).Scan(&n); err != nil {
			return st, fmt.Errorf("count the vectors of %s: %w", m, err)
		}
		if n > 0 {
			st.Stale = append(st.Stale, StaleModel{Model: m, Vectors: n})
		}
	}
	sortStale(st.Stale)
	return st, nil
}

// HasVectors reports whether any document has a vector, of any model.
func (s *Store) HasVectors(ctx context.Context) (ok bool, err error) {
	defer survive(&err, "look for vectors")
	err = s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM memory_vectors)`).Scan(&ok)
	return ok, err
}

func sortStale(l []StaleModel) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j].Vectors > l[j-1].Vectors; j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

// dequantize reverses quantize.
func dequantize(b []byte) []float32 {
	if len(b) < 4 {
		return nil
	}
	scale := math.Float32frombits(binary.LittleEndian.Uint32(b))
	out := make([]float32, len(b)-4)
	for i, x := range b[4:] {
		out[i] = float32(int8(x)) * scale
	}
	return out
}

// reset drops every loaded index (the model changed).
func (x *vecIndex) reset() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.users = map[string]*userVecs{}
	x.lru.Init()
}

// Reindexing: rebuilding every document's vector with the current model, a
// batch at a time, each batch committed with a cursor so a killed reindex
// goes on where it stopped (memory_reindex; internal/memory/reindex drives it).

// ErrNoModel means UseModel was not called (or could not record the model):
// there is no model to reindex for.
var ErrNoModel = errors.New("no embedding model is in use")

// ReindexDoc is a document whose vector a reindex builds.
type ReindexDoc struct {
	Seq  int64
	Text string
}

// ReindexCursor starts or resumes the user's reindex and returns the seq
// after which documents remain. A reindex left for another model starts over.
func (s *Store) ReindexCursor(ctx context.Context, userID string) (cursor int64, err error) {
	defer survive(&err, "start a reindex")
	model := s.model.Load()
	if model <= 0 {
		return 0, ErrNoModel
	}
	var m int64
	err = s.db.QueryRowContext(ctx, `SELECT model, cursor FROM memory_reindex WHERE user_id = ?`, userID).Scan(&m, &cursor)
	if err == nil && m == model {
		return cursor, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("read the reindex cursor of user %s: %w", userID, err)
	}
	now := dbTime(s.clock.Now())
	_, err = s.db.ExecContext(ctx, `INSERT INTO memory_reindex (user_id, model, cursor, started_at, updated_at) VALUES (?, ?, 0, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET model = excluded.model, cursor = 0, started_at = excluded.started_at, updated_at = excluded.updated_at`,
		userID, model, now, now)
	return 0, mapErr(err, "start the reindex of user "+userID)
}

// ReindexBatch returns up to limit of the user's documents after cursor, in
// seq order, that have no vector of the current model.
func (s *Store) ReindexBatch(ctx context.Context, userID string, cursor int64, limit int) (docs []ReindexDoc, err error) {
	defer survive(&err, "read documents to reindex")
	rows, err := s.db.QueryContext(ctx, `SELECT d.seq, d.text FROM memory_docs d LEFT JOIN memory_vectors v ON v.seq = d.seq
		WHERE d.user_id = ? AND d.seq > ? AND (v.model IS NULL OR v.model != ?) ORDER BY d.seq LIMIT ?`,
		userID, cursor, s.model.Load(), limit)
	if err != nil {
		return nil, fmt.Errorf("read documents to reindex: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var d ReindexDoc
		if err := rows.Scan(&d.Seq, &d.Text); err != nil {
			return nil, fmt.Errorf("read documents to reindex: %w", err)
		}
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

// ReindexPut stores the current model's vectors of docs and moves the
// user's cursor to cursor, in one transaction. A document deleted or whose
// text changed since it was read is skipped (its writer indexed it), and a
// vector of the current model is never replaced.
func (s *Store) ReindexPut(ctx context.Context, userID string, docs []ReindexDoc, vecs [][]float32, cursor int64) (err error) {
	defer survive(&err, "store rebuilt vectors")
	if len(vecs) != len(docs) {
		return fmt.Errorf("store rebuilt vectors: %d vectors for %d documents", len(vecs), len(docs))
	}
	for _, v := range vecs {
		if err := s.checkVector(ctx, v, true); err != nil {
			return fmt.Errorf("store rebuilt vectors: %w", err)
		}
	}
	model := s.model.Load()
	if model <= 0 {
		return ErrNoModel
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for i, d := range docs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO memory_vectors (seq, user_id, code, vec, model)
				SELECT seq, user_id, ?, ?, ? FROM memory_docs WHERE seq = ? AND user_id = ? AND text = ?
				ON CONFLICT (seq) DO UPDATE SET code = excluded.code, vec = excluded.vec, model = excluded.model
				WHERE memory_vectors.model != excluded.model`,
				signCode(vecs[i]), quantize(vecs[i]), model, d.Seq, userID, d.Text); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE memory_reindex SET cursor = ?, updated_at = ? WHERE user_id = ? AND model = ?`,
			cursor, dbTime(s.clock.Now()), userID, model)
		return err
	}, userID)
	if err != nil {
		return mapErr(err, "store rebuilt vectors of user "+userID)
	}
	for _, d := range docs {
		s.indexReload(ctx, userID, d.Seq)
	}
	return nil
}

// ReindexDone ends the user's reindex (its cursor row goes).
func (s *Store) ReindexDone(ctx context.Context, userID string) (err error) {
	defer survive(&err, "finish a reindex")
	_, err = s.db.ExecContext(ctx, `DELETE FROM memory_reindex WHERE user_id = ?`, userID)
	return mapErr(err, "finish the reindex of user "+userID)
}

// ReindexCounts says how many of the user's documents have a vector of
// the current model (done) out of all of them (total).
func (s *Store) ReindexCounts(ctx context.Context, userID string) (done, total int, err error) {
	defer survive(&err, "count reindexed documents")
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM memory_docs WHERE user_id = ?`, userID).Scan(&total); err != nil {
		return 0, 0, fmt.Errorf("count the documents of user %s: %w", userID, err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM memory_vectors WHERE model = ? AND user_id = ?`,
		s.model.Load(), userID).Scan(&done); err != nil {
		return 0, 0, fmt.Errorf("count the vectors of user %s: %w", userID, err)
	}
	return done, total, nil
}
