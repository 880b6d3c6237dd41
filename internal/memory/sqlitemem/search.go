package sqlitemem

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/os1ai/os1/internal/memory"
)

// ref is a ranked document before its content is read.
type ref struct {
	seq   int64
	kind  string
	id    string
	score float64
}

const defaultLimit = 10

func limitOf(q memory.Query) int {
	if q.Limit <= 0 {
		return defaultLimit
	}
	return q.Limit
}

// docFilter is the WHERE clause over memory_docs d that scopes a search to
// the user, kinds, currency and time range of q. An item is in the time
// range when its ValidFrom or its EventTime is.
func docFilter(userID string, q memory.Query) (string, []any) {
	where := []string{`d.user_id = ?`}
	args := []any{userID}
	if len(q.Kinds) > 0 {
		where = append(where, `d.doc_kind IN (`+placeholders(len(q.Kinds))+`)`)
		for _, k := range q.Kinds {
			args = append(args, string(k))
		}
	}
	if !q.History {
		where = append(where, `d.current = 1`)
	}
	if !q.From.IsZero() || !q.To.IsZero() {
		var parts []string
		var targs []any
		if !q.From.IsZero() {
			parts = append(parts, `%[1]s >= ?`)
			targs = append(targs, dbTime(q.From))
		}
		if !q.To.IsZero() {
			parts = append(parts, `%[1]s < ?`)
			targs = append(targs, dbTime(q.To))
		}
		cond := strings.Join(parts, " AND ")
		where = append(where, `((`+fmt.Sprintf(cond, "d.time")+`) OR (`+fmt.Sprintf(cond, "d.event_time")+`))`)
		args = append(append(args, targs...), targs...)
	}
	return strings.Join(where, " AND "), args
}

// SearchVector ranks the user's documents by cosine similarity to vec: the
// nearest sign codes in memory, re-ranked exactly from SQLite (vecindex.go).
func (s *Store) SearchVector(ctx context.Context, userID string, vec []float32, q memory.Query) (_ []memory.Hit, err error) {
	defer survive(&err, "search memories by vector")
	what := "search vectors"
	if err := s.checkVector(ctx, vec, false); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	u, err := s.vecs.get(ctx, userID, func(ctx context.Context, u *userVecs) error { return loadUser(ctx, s.db, u, s.model.Load()) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if s.pg { // other os1 processes may have written since (vecsync.go)
		if err := s.catchUp(ctx, u); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	}
	code := signCode(vec)
	words := make([]uint64, len(code)/8)
	for i := range words {
		words[i] = binary.LittleEndian.Uint64(code[8*i:])
	}
	limit := limitOf(q)
	u.mu.RLock()
	seqs := u.nearest(words, max(s.cands, limit), indexFilter(q))
	u.mu.RUnlock()
	if len(seqs) == 0 {
		return nil, nil
	}

	unitQ := make([]float32, len(vec))
	var norm float64
	for _, x := range vec {
		norm += float64(x) * float64(x)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i, x := range vec {
			unitQ[i] = x * inv
		}
	}
	// Read only the candidates' vectors (one primary-key lookup each; NOT
	// INDEXED keeps the planner from walking the user's whole index instead);
	// the documents are read for the few that rank high enough.
	rows, err := s.query(ctx, `SELECT seq, vec FROM memory_vectors NOT INDEXED
		WHERE user_id = ? AND seq IN (SELECT value FROM json_each(?))`, userID, seqList(seqs))
	if err != nil {
		return nil, mapErr(err, what)
	}
	defer rows.Close()
	ranked := make([]ref, 0, len(seqs))
	for rows.Next() {
		var r ref
		var b []byte
		if err := rows.Scan(&r.seq, &b); err != nil {
			return nil, mapErr(err, what)
		}
		r.score = cosineInt8(unitQ, b)
		ranked = append(ranked, r)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err, what)
	}
	if len(ranked) < len(seqs) {
		s.dropVanished(userID, seqs, ranked)
	}
	slices.SortFunc(ranked, func(a, b ref) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(b.seq, a.seq))
	})
	hits, err := s.passing(ctx, userID, q, ranked, limit)
	if err != nil {
		return nil, mapErr(err, what)
	}
	return hits, nil
}

// passing returns, in order and read (hydrate), the first limit of ranked
// whose documents pass q's filter. The in-memory index filtered already,
// but its copy of time and currency may lag a concurrent write; SQLite's
// may not. Filter and content come from one read per document.
func (s *Store) passing(ctx context.Context, userID string, q memory.Query, ranked []ref, limit int) ([]memory.Hit, error) {
	where, fargs := docFilter(userID, q)
	var out []memory.Hit
	for len(ranked) > 0 && len(out) < limit {
		// Nearly every candidate passes: read what is missing and a little more.
		chunk := ranked[:min(len(ranked), limit-len(out)+max((limit-len(out))/4, 8))]
		ranked = ranked[len(chunk):]
		hits, err := s.hydrate(ctx, where, fargs, chunk)
		if err != nil {
			return nil, err
		}
		out = append(out, hits[:min(len(hits), limit-len(out))]...)
	}
	return out, nil
}

// dropVanished removes index entries whose documents are gone from SQLite
// (deleted by the core store's message trigger, which cannot reach memory).
func (s *Store) dropVanished(user string, seqs []int64, found []ref) {
	have := make(map[int64]bool, len(found))
	for _, r := range found {
		have[r.seq] = true
	}
	s.patch(user, func(u *userVecs) {
		for _, seq := range seqs {
			if !have[seq] {
				u.remove(seq)
			}
		}
	})
}

func indexFilter(q memory.Query) filter {
	f := filter{history: q.History, from: math.MinInt64, to: math.MaxInt64}
	if len(q.Kinds) == 0 {
		f.kinds = flagMessage | flagItem | flagJournal
	}
	for _, k := range q.Kinds {
		f.kinds |= kindFlag(string(k))
	}
	if !q.From.IsZero() {
		f.from = q.From.UnixNano()
	}
	if !q.To.IsZero() {
		f.to = q.To.UnixNano()
	}
	return f
}

// hydrate reads the content of ranked documents that pass where (over
// memory_docs d, with args), keeping their order. Documents deleted since
// they were ranked are skipped. Every document is read by primary key from
// memory_docs (NOT INDEXED), which holds a message whole (its ID, text and
// time); items and journals, rarer, are then read from their own tables.
func (s *Store) hydrate(ctx context.Context, where string, args []any, refs []ref) ([]memory.Hit, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	seqs := make([]int64, len(refs))
	for i, r := range refs {
		seqs[i] = r.seq
	}
	hits := make(map[int64]memory.Hit, len(refs))
	byKind := map[string][]int64{}
	err := func() error {
		rows, err := s.query(ctx, `SELECT d.seq, d.doc_kind, d.doc_id, d.text, d.time FROM memory_docs d NOT INDEXED
			WHERE `+where+` AND d.seq IN (SELECT value FROM json_each(?))`, append(slices.Clip(args), seqList(seqs))...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var seq int64
			var kind string
			h := memory.Hit{Kind: memory.DocMessage}
			if err := rows.Scan(&seq, &kind, &h.ID, &h.Text, scanTime(&h.Time)); err != nil {
				return err
			}
			if kind != "message" {
				byKind[kind] = append(byKind[kind], seq)
				continue
			}
			h.Sources = []string{h.ID}
			hits[seq] = h
		}
		return rows.Err()
	}()
	read := func(kind, q string, scan func(rowScanner) (memory.Hit, int64, error)) error {
		seqs := byKind[kind]
		if len(seqs) == 0 {
			return nil
		}
		rows, err := s.query(ctx, q+` WHERE d.seq IN (SELECT value FROM json_each(?))`, seqList(seqs))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			h, seq, err := scan(rows)
			if err != nil {
				return err
			}
			hits[seq] = h
		}
		return rows.Err()
	}
	if err == nil {
		err = read("item", `SELECT `+itemCols+`
		FROM memory_docs d NOT INDEXED CROSS JOIN memory_items i ON i.seq = d.seq AND i.user_id = d.user_id`, func(r rowScanner) (memory.Hit, int64, error) {
			it, seq, err := scanItem(r)
			return memory.Hit{Kind: memory.DocItem, ID: it.ID, Text: it.Text, Time: it.ValidFrom, Sources: it.Sources, Item: &it}, seq, err
		})
	}
	if err == nil {
		err = read("journal", `SELECT `+journalCols+`, d.time, d.seq
		FROM memory_docs d NOT INDEXED CROSS JOIN memory_journals j ON j.seq = d.seq AND j.user_id = d.user_id`,
			func(r rowScanner) (memory.Hit, int64, error) {
				var j memory.Journal
				var t time.Time
				var seq int64
				err := r.Scan(&j.ID, &j.UserID, &j.Day, &j.Text, scanJSON{&j.Sources}, scanTime(&j.CreatedAt), scanTime(&t), &seq)
				return memory.Hit{Kind: memory.DocJournal, ID: j.ID, Text: j.Text, Time: t, Sources: j.Sources}, seq, err
			})
	}
	if err != nil {
		return nil, mapErr(err, "read recalled documents")
	}
	out := make([]memory.Hit, 0, len(refs))
	for _, r := range refs {
		if h, ok := hits[r.seq]; ok {
			h.Score = r.score
			out = append(out, h)
		}
	}
	return out, nil
}
