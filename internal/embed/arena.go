package embed

import (
	"slices"
	"unsafe"
)

// scratch is the memory of one graph run. Tensors made during a run come
// from slabs that later runs reuse, and a tensor's buffer goes back to a
// free list as soon as the last node reading it has run (graph.dies), so
// the next tensor of that size lands in memory that is still in cache.
// Without this, every op wrote to cold memory: the weights streaming
// through evict everything, and elementwise ops ran at DRAM speed.
// graph.run copies the output out before the scratch is reused.
// A nil *scratch allocates on the heap.
type scratch struct {
	f     slab[float32]
	i     slab[int32]
	b     slab[bool]
	owned []held // buffers held by each alias root (graph.root), until it dies
}

type held struct {
	f [][]float32
	i [][]int32
	b [][]bool
}

// slab hands out slices of one buffer, not zeroed: ops write every element
// of their outputs (ScatterNd, which adds, asks for zeroed memory). What does
// not fit is taken from the heap and counted, so that the next run gets a
// buffer big enough.
type slab[T any] struct {
	buf   []T
	used  int
	spill int
	free  map[int][][]T // released buffers by length
	took  [][]T         // buffers handed out during the current op
}

func (s *slab[T]) take(n int) []T {
	var out []T
	if l := s.free[n]; len(l) > 0 {
		out, s.free[n] = l[len(l)-1], l[:len(l)-1]
	} else if s.used+n > len(s.buf) {
		s.spill += n
		out = make([]T, n)
	} else {
		out = s.buf[s.used : s.used+n : s.used+n]
		s.used += n
	}
	if n > 0 {
		s.took = append(s.took, out)
	}
	return out
}

func (s *slab[T]) release(b []T) {
	if s.free == nil {
		s.free = make(map[int][][]T)
	}
	s.free[len(b)] = append(s.free[len(b)], b)
}

// settle sorts the buffers taken by one op: those under one of its outputs
// are returned, to be held; the op's temporaries are released at once.
func (s *slab[T]) settle(outs [][]T) (kept [][]T) {
	for _, b := range s.took {
		if underAny(b, outs) {
			kept = append(kept, b)
		} else {
			s.release(b)
		}
	}
	clear(s.took)
	s.took = s.took[:0]
	return kept
}

// underAny reports whether some output's data lies inside buffer b.
func underAny[T any](b []T, outs [][]T) bool {
	var zero T
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	hi := lo + uintptr(cap(b))*unsafe.Sizeof(zero)
	for _, o := range outs {
		if cap(o) == 0 {
			continue
		}
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(o))); p >= lo && p < hi {
			return true
		}
	}
	return false
}

func (s *slab[T]) reset() {
	if s.spill > 0 {
		s.buf = make([]T, s.used+s.spill)
	}
	s.used, s.spill = 0, 0
	clear(s.free)
	clear(s.took)
	s.took = s.took[:0]
}

func (e *scratch) reset() {
	e.f.reset()
	e.i.reset()
	e.b.reset()
	clear(e.owned)
}

// settle records which buffers taken by the op of node i back its outputs:
// they stay held under the node's alias root until that root dies.
func (e *scratch) settle(nodes, root int, outs []*tensor) {
	if len(e.owned) < nodes {
		e.owned = make([]held, nodes)
	}
	var of [][]float32
	var oi [][]int32
	var ob [][]bool
	for _, t := range outs {
		of, oi, ob = append(of, t.f), append(oi, t.i), append(ob, t.b)
	}
	h := &e.owned[root]
	h.f = append(h.f, e.f.settle(of)...)
	h.i = append(h.i, e.i.settle(oi)...)
	h.b = append(h.b, e.b.settle(ob)...)
}

// die releases every buffer held under an alias root.
func (e *scratch) die(root int) {
	if root >= len(e.owned) {
		return
	}
	h := &e.owned[root]
	for _, b := range h.f {
		e.f.release(b)
	}
	for _, b := range h.i {
		e.i.release(b)
	}
	for _, b := range h.b {
		e.b.release(b)
	}
	*h = held{}
}

// newTensor returns a tensor whose elements are unspecified (zero when e is
// nil): the caller writes them all.
func (e *scratch) newTensor(dt dtype, shape []int) *tensor {
	if e == nil {
		return newTensor(dt, shape)
	}
	t := &tensor{dt: dt, shape: slices.Clone(shape)}
	n := numel(shape)
	switch dt {
	case dtFloat:
		t.f = e.f.take(n)
	case dtInt:
		t.i = e.i.take(n)
	case dtBool:
		t.b = e.b.take(n)
	}
	return t
}

// zeroTensor is newTensor with every element zero.
func (e *scratch) zeroTensor(dt dtype, shape []int) *tensor {
	t := e.newTensor(dt, shape)
	clear(t.f)
	clear(t.i)
	clear(t.b)
	return t
}

func (e *scratch) floats(n int) []float32 {
	if e == nil {
		return make([]float32, n)
	}
	return e.f.take(n)
}

// clone copies t onto the heap.
func (t *tensor) clone() *tensor {
	return &tensor{dt: t.dt, shape: slices.Clone(t.shape), f: slices.Clone(t.f), i: slices.Clone(t.i), b: slices.Clone(t.b)}
}
