package sqlitemem

import (
	"container/list"
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/os1ai/os1/internal/clock"
)

// The vector index.
//
// SQLite holds each vector twice, compactly: int8-quantised with a float32
// scale (4+d bytes; 516 for the 512-d sentence encoder) for exact re-ranking,
// and as d sign bits (64 bytes) for the first pass. Per user, memory holds
// only the sign codes plus what the filters need (seq, time, kind, current):
// 81 bytes a vector for 512 dimensions, 81 MB per million, loaded on the
// first search (0.4 s for 100k vectors, 3 s for 1M) and dropped when idle.
//
// A search scans every code of the user with XOR+popcount (Hamming distance,
// 8 words for 512-d; about 8 ns a vector), keeps the Candidates nearest that
// pass the filters, reads their int8 vectors back from SQLite by primary key
// and re-ranks them by cosine. The trade-off is recall: sign bits keep angles
// only approximately (two vectors' bits differ with probability angle/π), so
// a true neighbour can miss the candidate set. On clustered data, which is
// what sentence embeddings look like, 256 candidates find 97-99% of the
// exact top 10; on structureless Gaussian noise only about half
// (BenchmarkBinaryRecall, and recall@10 in BenchmarkSearchVector).
//
// Why not the alternatives: exact float scanning would need 2 KB a vector in
// memory (2 GB per million) or a read of every vector from SQLite, ~50M
// multiply-adds per search at 100k. SQLite's vec1 extension (which ncruces
// ships) scans its flat index at about 2 µs a vector here, 190 ms at 100k,
// and its trained IVF index has no per-user partition and needs retraining.
//
// The SQLite tables are the truth; the in-memory index is a cache of them.
// Writers commit first and then patch a loaded index under its lock, and a
// loader holds the same lock while it reads, so no write is lost between the
// two. Entries whose documents vanished behind the index's back (a message
// deleted by the core store's trigger) are dropped when a search meets them.

// quantize encodes v as a little-endian float32 scale then int8 components.
func quantize(v []float32) []byte {
	var maxAbs float32
	for _, x := range v {
		maxAbs = max(maxAbs, float32(math.Abs(float64(x))))
	}
	scale := maxAbs / 127
	b := make([]byte, 4+len(v))
	binary.LittleEndian.PutUint32(b, math.Float32bits(scale))
	if scale == 0 {
		return b
	}
	for i, x := range v {
		b[4+i] = byte(int8(math.Round(float64(x / scale))))
	}
	return b
}

// signCode packs the sign bit of each component, 64 to a word.
func signCode(v []float32) []byte {
	b := make([]byte, 8*codeWords(len(v)))
	for i, x := range v {
		if x > 0 {
			b[i/8] |= 1 << (i % 8)
		}
	}
	return b
}

func codeWords(dim int) int { return (dim + 63) / 64 }

// cosineInt8 is the cosine between the unit vector q and a quantised vector;
// the scale cancels out.
func cosineInt8(q []float32, b []byte) float64 {
	c := b[4:]
	if len(c) != len(q) {
		return 0
	}
	var dot, norm float32
	for i, x := range c {
		f := float32(int8(x))
		dot += q[i] * f
		norm += f * f
	}
	if norm == 0 {
		return 0
	}
	return float64(dot) / math.Sqrt(float64(norm))
}

// Entry flags: the document kind and whether an item is current.
const (
	flagMessage uint8 = 1 << iota
	flagItem
	flagJournal
	flagCurrent
)

func kindFlag(kind string) uint8 {
	switch kind {
	case "message":
		return flagMessage
	case "item":
		return flagItem
	default:
		return flagJournal
	}
}

// entry is one vector as the index sees it.
type entry struct {
	seq       int64
	code      []byte
	time      int64 // unix nanoseconds; math.MinInt64 when unknown
	eventTime int64 // items with an event; math.MinInt64 otherwise
	flags     uint8
}

// userVecs is one user's index, in columns so the scan streams through memory.
type userVecs struct {
	user string
	elem *list.Element // in vecIndex.lru

	size atomic.Int64 // bytes(), readable without mu

	mu     sync.RWMutex
	loaded bool
	words  int
	seqs   []int64
	codes  []uint64
	times  []int64
	flags  []uint8
	events map[int64]int64 // seq → event time, only items that have one
	top    int64           // the highest seq added (vecsync.go)
}

// bytes is the memory the index holds, spare capacity included; a map
// entry of events is counted at 48 bytes.
func (u *userVecs) bytes() int64 {
	return int64(8*cap(u.seqs)+8*cap(u.codes)+8*cap(u.times)+cap(u.flags)) + int64(len(u.events))*48
}

// add appends an entry, replacing one with the same seq.
func (u *userVecs) add(e entry) {
	u.remove(e.seq)
	u.appendLoaded(e)
}

// remove deletes the entry with seq, moving the last entry into its place.
// A linear scan (1M seqs in under 1 ms): only forgetting, superseding and
// re-indexing remove, and they are rare next to searches.
func (u *userVecs) remove(seq int64) {
	for i, s := range u.seqs {
		if s != seq {
			continue
		}
		last := len(u.seqs) - 1
		u.seqs[i], u.times[i], u.flags[i] = u.seqs[last], u.times[last], u.flags[last]
		copy(u.codes[i*u.words:(i+1)*u.words], u.codes[last*u.words:])
		u.seqs, u.times, u.flags = u.seqs[:last], u.times[:last], u.flags[:last]
		u.codes = u.codes[:last*u.words]
		delete(u.events, seq)
		u.size.Store(u.bytes())
		return
	}
}

// setCurrent marks an item current or not.
func (u *userVecs) setCurrent(seq int64, current bool) {
	for i, s := range u.seqs {
		if s == seq {
			if current {
				u.flags[i] |= flagCurrent
			} else {
				u.flags[i] &^= flagCurrent
			}
			return
		}
	}
}

// filter is a search's constraints in the index's terms.
type filter struct {
	kinds    uint8 // flag bits of the allowed kinds
	history  bool  // include non-current items
	from, to int64 // unix ns; math.MinInt64 / math.MaxInt64 when open
}

func (f filter) timeOK(t int64) bool {
	return t != math.MinInt64 && t >= f.from && t < f.to
}

// nearest returns the seqs of up to n entries passing f whose codes are
// nearest to q in Hamming distance, nearest first (ties: newest first).
// This loop is the whole cost of a search's first pass: keep it free of
// calls and bounds checks.
func (u *userVecs) nearest(q []uint64, n int, f filter) []int64 {
	w := u.words
	if len(q) != w || n <= 0 {
		return nil
	}
	timed := f.from != math.MinInt64 || f.to != math.MaxInt64
	h := make(maxHeap, 0, n)
	worst := math.MaxInt // distance of the heap's top once it is full
	var q8 [8]uint64
	copy(q8[:], q)
	for i, seq := range u.seqs {
		fl := u.flags[i]
		if fl&f.kinds == 0 || (!f.history && fl&flagCurrent == 0) {
			continue
		}
		if timed && !f.timeOK(u.times[i]) {
			ev, ok := u.events[seq]
			if !ok || fl&flagItem == 0 || !f.timeOK(ev) {
				continue
			}
		}
		var d int
		if w == 8 {
			c := (*[8]uint64)(u.codes[i*8 : i*8+8])
			d = bits.OnesCount64(c[0]^q8[0]) + bits.OnesCount64(c[1]^q8[1]) +
				bits.OnesCount64(c[2]^q8[2]) + bits.OnesCount64(c[3]^q8[3]) +
				bits.OnesCount64(c[4]^q8[4]) + bits.OnesCount64(c[5]^q8[5]) +
				bits.OnesCount64(c[6]^q8[6]) + bits.OnesCount64(c[7]^q8[7])
		} else {
			for j, x := range u.codes[i*w : (i+1)*w] {
				d += bits.OnesCount64(x ^ q[j])
			}
		}
		if d > worst {
			continue
		}
		switch {
		case len(h) < n:
			h.push(cand{d, seq})
		case d < h[0].dist || seq > h[0].seq:
			h.replaceTop(cand{d, seq})
		default:
			continue
		}
		if len(h) == n {
			worst = h[0].dist
		}
	}
	out := make([]int64, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = h.pop().seq
	}
	return out
}

// cand is a Hamming candidate; maxHeap keeps the worst on top.
type cand struct {
	dist int
	seq  int64
}

type maxHeap []cand

func (h maxHeap) worse(i, j int) bool {
	return h[i].dist > h[j].dist || (h[i].dist == h[j].dist && h[i].seq < h[j].seq)
}

func (h *maxHeap) push(c cand) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.worse(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *maxHeap) pop() cand {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	*h = s[:last]
	h.down()
	return top
}

func (h *maxHeap) replaceTop(c cand) {
	(*h)[0] = c
	h.down()
}

func (h *maxHeap) down() {
	s := *h
	for i := 0; ; {
		l, r, big := 2*i+1, 2*i+2, i
		if l < len(s) && s.worse(l, big) {
			big = l
		}
		if r < len(s) && s.worse(r, big) {
			big = r
		}
		if big == i {
			return
		}
		s[i], s[big] = s[big], s[i]
		i = big
	}
}

// vecIndex holds the loaded users' indexes, bounded by bytes and idle time.
type vecIndex struct {
	budget int64
	idle   time.Duration
	clock  clock.Clock

	mu    sync.Mutex
	users map[string]*userVecs
	lru   *list.List // front: most recently used; values *lruItem
}

type lruItem struct {
	u    *userVecs
	used time.Time
}

func newVecIndex(budget int64, idle time.Duration, c clock.Clock) *vecIndex {
	return &vecIndex{budget: budget, idle: idle, clock: c, users: map[string]*userVecs{}, lru: list.New()}
}

// peek returns the user's index if one is held, for writers to patch.
func (x *vecIndex) peek(user string) *userVecs {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.users[user]
}

// get returns the user's index, loading it with load when needed, and
// evicts others to stay within the budget.
func (x *vecIndex) get(ctx context.Context, user string, load func(context.Context, *userVecs) error) (*userVecs, error) {
	x.mu.Lock()
	now := x.clock.Now()
	u := x.users[user]
	if u == nil {
		u = &userVecs{user: user}
		x.users[user] = u
		u.elem = x.lru.PushFront(&lruItem{u: u, used: now})
	} else {
		u.elem.Value.(*lruItem).used = now
		x.lru.MoveToFront(u.elem)
	}
	x.mu.Unlock()

	u.mu.RLock()
	loaded := u.loaded
	u.mu.RUnlock()
	if !loaded {
		u.mu.Lock()
		if !u.loaded {
			if err := load(ctx, u); err != nil {
				u.mu.Unlock()
				return nil, err
			}
			u.loaded = true
		}
		u.mu.Unlock()
	}
	x.evict(u)
	return u, nil
}

// evict drops idle indexes and then the least recently used ones beyond the
// budget, never keep.
func (x *vecIndex) evict(keep *userVecs) {
	x.mu.Lock()
	defer x.mu.Unlock()
	now := x.clock.Now()
	total := int64(0)
	for e := x.lru.Front(); e != nil; e = e.Next() {
		total += e.Value.(*lruItem).u.size.Load()
	}
	for e := x.lru.Back(); e != nil; {
		prev := e.Prev()
		it := e.Value.(*lruItem)
		if it.u != keep && (now.Sub(it.used) > x.idle || total > x.budget) {
			total -= it.u.size.Load()
			x.lru.Remove(e)
			delete(x.users, it.u.user)
		}
		e = prev
	}
}

func (x *vecIndex) totalBytes() int64 {
	x.mu.Lock()
	defer x.mu.Unlock()
	var total int64
	for _, u := range x.users {
		total += u.size.Load()
	}
	return total
}

// loadUser reads a user's sign codes of one model's vectors from SQLite
// into u: vectors of other models are never compared (models.go).
func loadUser(ctx context.Context, db *sql.DB, u *userVecs, model int64) error {
	var n, words int
	err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(max(length(code)), 0) / 8 FROM memory_vectors WHERE model = ? AND user_id = ?`,
		model, u.user).Scan(&n, &words)
	if err != nil {
		return fmt.Errorf("load vector index: %w", err)
	}
	rows, err := db.QueryContext(ctx, `
		SELECT v.seq, v.code, d.doc_kind, d.time, d.event_time, d.current
		FROM memory_vectors v JOIN memory_docs d ON d.seq = v.seq
		WHERE v.user_id = ? AND v.model = ?`, u.user, model)
	if err != nil {
		return fmt.Errorf("load vector index: %w", err)
	}
	defer rows.Close()
	u.seqs, u.codes, u.times, u.flags, u.events = nil, nil, nil, nil, nil
	if n > 0 && n < 1<<28 { // size the columns once: no append slack
		u.seqs, u.times, u.flags = make([]int64, 0, n), make([]int64, 0, n), make([]uint8, 0, n)
		u.codes = make([]uint64, 0, n*words)
	}
	for rows.Next() {
		var e entry
		var kind string
		var t, ev time.Time
		var current bool
		if err := rows.Scan(&e.seq, &e.code, &kind, scanTime(&t), scanTime(&ev), &current); err != nil {
			return fmt.Errorf("load vector index: %w", err)
		}
		e.time, e.eventTime, e.flags = unixOrMin(t), unixOrMin(ev), kindFlag(kind)
		if current {
			e.flags |= flagCurrent
		}
		u.appendLoaded(e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load vector index: %w", err)
	}
	return nil
}

// appendLoaded adds an entry known to be new (no duplicate check).
func (u *userVecs) appendLoaded(e entry) {
	w := len(e.code) / 8
	if len(u.seqs) == 0 {
		u.words = w
	}
	if w != u.words {
		return
	}
	u.seqs = append(u.seqs, e.seq)
	u.top = max(u.top, e.seq)
	for i := range w {
		u.codes = append(u.codes, binary.LittleEndian.Uint64(e.code[8*i:]))
	}
	u.times = append(u.times, e.time)
	u.flags = append(u.flags, e.flags)
	if e.eventTime != math.MinInt64 {
		if u.events == nil {
			u.events = map[int64]int64{}
		}
		u.events[e.seq] = e.eventTime
	}
	u.size.Store(u.bytes())
}

func unixOrMin(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}
