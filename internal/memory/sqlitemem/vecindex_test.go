package sqlitemem

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// dataset is a seeded set of vectors plus queries, built like sentence
// embeddings: normalised, optionally grouped around topic centres.
type dataset struct {
	name    string
	vecs    [][]float32
	queries [][]float32
}

// makeDataset draws n vectors and nq queries of dim dimensions. With
// topics > 0 each vector is a topic centre plus noise of relative size
// spread (0: identical to the centre, 1: as large as the centre); with 0
// they are independent Gaussian vectors, the hardest case for sign codes.
func makeDataset(name string, seed uint64, n, nq, dim, topics int, spread float64) dataset {
	rng := rand.New(rand.NewPCG(seed, 42))
	gauss := func() []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	centres := make([][]float32, topics)
	for i := range centres {
		centres[i] = gauss()
	}
	draw := func() []float32 {
		v := gauss()
		if topics > 0 {
			c := centres[rng.IntN(topics)]
			for i := range v {
				v[i] = c[i] + float32(spread)*v[i]
			}
		}
		normalize(v)
		return v
	}
	d := dataset{name: name}
	for range n {
		d.vecs = append(d.vecs, draw())
	}
	for range nq {
		d.queries = append(d.queries, draw())
	}
	return d
}

func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// recallAt measures, over the queries, which fraction of the exact top k
// (float32 cosine over all vectors) the index finds in its top k with the
// given candidate counts: Hamming pre-selection, then cosine on the int8
// vectors SQLite would return.
func recallAt(d dataset, k int, cands []int) []float64 {
	u := &userVecs{loaded: true}
	quant := make(map[int64][]byte, len(d.vecs))
	for i, v := range d.vecs {
		seq := int64(i + 1)
		u.appendLoaded(entry{seq: seq, code: signCode(v), time: 0, eventTime: math.MinInt64, flags: flagMessage | flagCurrent})
		quant[seq] = quantize(v)
	}
	all := filter{kinds: flagMessage, from: math.MinInt64, to: math.MaxInt64}
	found := make([]float64, len(cands))
	for _, q := range d.queries {
		type scored struct {
			seq int64
			s   float64
		}
		exact := make([]scored, len(d.vecs))
		for i, v := range d.vecs {
			exact[i] = scored{int64(i + 1), dot(q, v)}
		}
		slices.SortFunc(exact, func(a, b scored) int { return cmp.Compare(b.s, a.s) })
		truth := map[int64]bool{}
		for _, e := range exact[:k] {
			truth[e.seq] = true
		}
		code := signCode(q)
		words := make([]uint64, len(code)/8)
		for i := range words {
			words[i] = leUint64(code[8*i:])
		}
		for ci, c := range cands {
			seqs := u.nearest(words, c, all)
			re := make([]scored, len(seqs))
			for i, seq := range seqs {
				re[i] = scored{seq, cosineInt8(q, quant[seq])}
			}
			slices.SortFunc(re, func(a, b scored) int { return cmp.Compare(b.s, a.s) })
			for _, r := range re[:min(k, len(re))] {
				if truth[r.seq] {
					found[ci]++
				}
			}
		}
	}
	for i := range found {
		found[i] /= float64(k * len(d.queries))
	}
	return found
}

func leUint64(b []byte) uint64 {
	var x uint64
	for i := 7; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

// TestBinaryRecall guards the recall of the sign-code index on clustered
// data, the kind that resembles real sentence embeddings. The full table
// is BenchmarkBinaryRecall.
func TestBinaryRecall(t *testing.T) {
	d := makeDataset("200 topics, spread 1.0", 2, 4000, 10, 512, 200, 1.0)
	if r := recallAt(d, 10, []int{256})[0]; r < 0.95 {
		t.Errorf("clustered recall@10 with 256 candidates = %.3f, want ≥ 0.95", r)
	}
}

// BenchmarkBinaryRecall measures recall@10 of the sign-code index against
// exact float search on seeded data sets and candidate counts, reported
// as metrics (it times nothing useful):
//
//	go test -run '^$' -bench BinaryRecall ./internal/memory/sqlitemem/
func BenchmarkBinaryRecall(b *testing.B) {
	const n, nq = 20000, 50
	cands := []int{64, 128, 256, 512, 1024}
	for _, d := range []dataset{
		makeDataset("random", 1, n, nq, 512, 0, 0),
		makeDataset("topics=200,spread=0.7", 3, n, nq, 512, 200, 0.7),
		makeDataset("topics=200,spread=1.0", 2, n, nq, 512, 200, 1.0),
		makeDataset("topics=200,spread=1.5", 5, n, nq, 512, 200, 1.5),
		makeDataset("topics=200,spread=2.0", 6, n, nq, 512, 200, 2.0),
		makeDataset("topics=1000,spread=0.5", 4, n, nq, 512, 1000, 0.5),
	} {
		b.Run(d.name, func(b *testing.B) {
			var r []float64
			for b.Loop() {
				r = recallAt(d, 10, cands)
			}
			for i, c := range cands {
				b.ReportMetric(r[i], fmt.Sprintf("recall@10/c=%d", c))
			}
		})
	}
}

func TestQuantize(t *testing.T) {
	v := []float32{0.5, -1, 0.25, 0, 1e-9}
	b := quantize(v)
	if len(b) != 4+len(v) {
		t.Fatalf("quantize gave %d bytes", len(b))
	}
	q := make([]float32, len(v))
	copy(q, v)
	normalize(q)
	if c := cosineInt8(q, b); math.Abs(c-1) > 1e-3 {
		t.Errorf("cosine of a vector with its own quantisation = %v", c)
	}
	if c := cosineInt8(q, quantize(make([]float32, 5))); c != 0 {
		t.Errorf("cosine with a zero vector = %v", c)
	}
	if got := signCode([]float32{1, -1, 0, 2, 0, 0, 0, 0, 3}); len(got) != 8 || got[0] != 0b1001 || got[1] != 1 {
		t.Errorf("signCode = %08b", got)
	}
}

func TestUserVecsAddRemove(t *testing.T) {
	u := &userVecs{loaded: true}
	for i := range 5 {
		v := make([]float32, 128)
		v[i] = 1
		u.add(entry{seq: int64(i + 1), code: signCode(v), eventTime: math.MinInt64, flags: flagMessage | flagCurrent})
	}
	u.add(entry{seq: 3, code: signCode(make([]float32, 128)), eventTime: 7, flags: flagItem | flagCurrent}) // replace
	u.remove(1)
	u.remove(99)
	if len(u.seqs) != 4 || len(u.codes) != 4*2 || len(u.times) != 4 || len(u.flags) != 4 || len(u.events) != 1 {
		t.Fatalf("after add/remove: %d seqs, %d code words, %d events", len(u.seqs), len(u.codes), len(u.events))
	}
	if !slices.Contains(u.seqs, 3) || slices.Contains(u.seqs, 1) {
		t.Errorf("seqs = %v", u.seqs)
	}
	if u.size.Load() != u.bytes() || u.bytes() < 4*(17+16)+48 {
		t.Errorf("size = %d, bytes = %d", u.size.Load(), u.bytes())
	}
}

// BenchmarkNearest times the in-memory Hamming scan alone.
func BenchmarkNearest(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			d := makeDataset("bench", 9, n, 16, 512, 0, 0)
			u := &userVecs{loaded: true}
			for i, v := range d.vecs {
				u.appendLoaded(entry{seq: int64(i + 1), code: signCode(v), eventTime: math.MinInt64, flags: flagMessage | flagCurrent})
			}
			all := filter{kinds: flagMessage, from: math.MinInt64, to: math.MaxInt64}
			qs := make([][]uint64, len(d.queries))
			for i, q := range d.queries {
				c := signCode(q)
				for j := 0; j < len(c); j += 8 {
					qs[i] = append(qs[i], leUint64(c[j:]))
				}
			}
			for i := 0; b.Loop(); i++ {
				u.nearest(qs[i%len(qs)], 256, all)
			}
		})
	}
}
