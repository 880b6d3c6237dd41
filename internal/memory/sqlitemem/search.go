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
	refs, err := s.passing(ctx, userID, q, ranked, limit)
	if err != nil {
		return nil, mapErr(err, what)
	}
	return s.hydrate(ctx, userID, refs)
}

// passing returns, in order, the first limit of ranked whose documents pass
// q's filter, filling in their kind and ID. The in-memory index filtered
// already, but its copy of time and currency may lag a concurrent write;
// SQLite's may not.
func (s *Store) passing(ctx context.Context, userID string, q memory.Query, ranked []ref, limit int) ([]ref, error) {
	where, fargs := docFilter(userID, q)
	var out []ref
	for len(ranked) > 0 && len(out) < limit {
		chunk := ranked[:min(len(ranked), max(2*(limit-len(out)), 32))]
		ranked = ranked[len(chunk):]
		chunkSeqs := make([]int64, len(chunk))
		for i, r := range chunk {
			chunkSeqs[i] = r.seq
		}
		rows, err := s.query(ctx, `SELECT d.seq, d.doc_kind, d.doc_id FROM memory_docs d NOT INDEXED
			WHERE `+where+` AND d.seq IN (SELECT value FROM json_each(?))`, append(fargs, seqList(chunkSeqs))...)
		if err != nil {
			return nil, err
		}
		ok := map[int64]ref{}
		for rows.Next() {
			var r ref
			if err := rows.Scan(&r.seq, &r.kind, &r.id); err != nil {
				rows.Close()
				return nil, err
			}
			ok[r.seq] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, r := range chunk {
			if d, found := ok[r.seq]; found && len(out) < limit {
				d.score = r.score
				out = append(out, d)
			}
		}
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

// hydrate reads the content of ranked documents, keeping their order.
// Documents deleted since they were ranked are skipped. Each read is driven
// by primary key from memory_docs (NOT INDEXED, CROSS JOIN), so it costs
// one lookup per document however many the user has.
func (s *Store) hydrate(ctx context.Context, userID string, refs []ref) ([]memory.Hit, error) {
	byKind := map[string][]int64{}
	for _, r := range refs {
		byKind[r.kind] = append(byKind[r.kind], r.seq)
	}
	hits := make(map[int64]memory.Hit, len(refs))
	read := func(kind, q string, scan func(rowScanner) (memory.Hit, int64, error)) error {
		seqs := byKind[kind]
		if len(seqs) == 0 {
			return nil
		}
		rows, err := s.query(ctx, q+` WHERE d.user_id = ? AND d.seq IN (SELECT value FROM json_each(?))`, userID, seqList(seqs))
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
	err := read("message", `SELECT m.id, d.text, m.time, d.seq
		FROM memory_docs d NOT INDEXED CROSS JOIN memory_messages m ON m.seq = d.seq AND m.user_id = d.user_id`,
		func(r rowScanner) (memory.Hit, int64, error) {
			h := memory.Hit{Kind: memory.DocMessage}
			var seq int64
			err := r.Scan(&h.ID, &h.Text, scanTime(&h.Time), &seq)
			h.Sources = []string{h.ID}
			return h, seq, err
		})
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
