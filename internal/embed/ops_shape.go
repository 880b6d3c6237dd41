package embed

import (
	"fmt"
	"slices"
)

func opShape(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	res := e.newTensor(dtInt, []int{in[0].rank()})
	for k, d := range in[0].shape {
		res.i[k] = int32(d)
	}
	return one(res), nil
}

func opReshape(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	shape, err := in[1].ints()
	if err != nil {
		return nil, err
	}
	known, infer := 1, -1
	for k, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = k
		case d < 0:
			return nil, fmt.Errorf("bad target shape %v", shape)
		default:
			known *= d
		}
	}
	size := in[0].size()
	if infer >= 0 {
		if known == 0 || size%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v into %v", in[0].shape, shape)
		}
		shape[infer] = size / known
	} else if known != size {
		return nil, fmt.Errorf("cannot reshape %v (%d values) into %v", in[0].shape, size, shape)
	}
	return one(in[0].view(shape)), nil
}

func opExpandDims(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	axis, err := in[1].scalarInt()
	if err != nil {
		return nil, err
	}
	axis, err = normAxis(axis, in[0].rank()+1)
	if err != nil {
		return nil, err
	}
	shape := slices.Insert(slices.Clone(in[0].shape), axis, 1)
	return one(in[0].view(shape)), nil
}

func opSqueeze(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	drop := make([]bool, x.rank())
	dims := n.attrInts("squeeze_dims")
	if len(dims) == 0 {
		dims = n.attrInts("axis")
	}
	for _, d := range dims {
		a, err := normAxis(d, x.rank())
		if err != nil {
			return nil, err
		}
		if x.shape[a] != 1 {
			return nil, fmt.Errorf("cannot squeeze dimension %d of shape %v", d, x.shape)
		}
		drop[a] = true
	}
	var shape []int
	for k, d := range x.shape {
		if !drop[k] && (len(dims) > 0 || d != 1) {
			shape = append(shape, d)
		}
	}
	return one(x.view(shape)), nil
}

// stridedCopy gathers x[start[k] + j*step[k]] for j < count[k] in every
// dimension k; the result has shape count.
func stridedCopy(e *scratch, x *tensor, start, step, count []int) *tensor {
	res := e.newTensor(x.dt, count)
	if res.size() == 0 {
		return res
	}
	r := x.rank()
	if r == 0 {
		copyElems(res, 0, x, 0, 1)
		return res
	}
	st := strides(x.shape)
	inner := count[r-1]
	run := step[r-1] == 1
	idx := make([]int, r)
	for o := 0; o < res.size(); o += inner {
		src := 0
		for k := range r - 1 {
			src += (start[k] + idx[k]*step[k]) * st[k]
		}
		src += start[r-1]
		if run {
			copyElems(res, o, x, src, inner)
		} else {
			for j := range inner {
				copyElems(res, o+j, x, src+j*step[r-1], 1)
			}
		}
		for k := r - 2; k >= 0; k-- {
			idx[k]++
			if idx[k] < count[k] {
				break
			}
			idx[k] = 0
		}
	}
	return res
}

// opStridedSlice implements tf.strided_slice with all five masks.
func opStridedSlice(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 3, 4); err != nil {
		return nil, err
	}
	x := in[0]
	begin, err := in[1].ints()
	if err != nil {
		return nil, err
	}
	end, err := in[2].ints()
	if err != nil {
		return nil, err
	}
	stride := make([]int, len(begin))
	for k := range stride {
		stride[k] = 1
	}
	if len(in) == 4 {
		if stride, err = in[3].ints(); err != nil {
			return nil, err
		}
	}
	if len(end) != len(begin) || len(stride) != len(begin) {
		return nil, fmt.Errorf("begin, end and strides differ in length: %d, %d, %d", len(begin), len(end), len(stride))
	}
	bit := func(mask string, k int) bool { return n.attrInt(mask, 0)>>k&1 == 1 }
	r := x.rank()
	start, step, count := make([]int, r), make([]int, r), make([]int, r)
	var outShape []int
	full := func(d int) {
		start[d], step[d], count[d] = 0, 1, x.shape[d]
		outShape = append(outShape, x.shape[d])
	}
	d := 0
	for k := range begin {
		switch {
		case bit("ellipsis_mask", k):
			rest := 0
			for j := k + 1; j < len(begin); j++ {
				if !bit("new_axis_mask", j) {
					rest++
				}
			}
			for stop := r - rest; d < stop; d++ {
				full(d)
			}
			continue
		case bit("new_axis_mask", k):
			outShape = append(outShape, 1)
			continue
		}
		if d >= r {
			return nil, fmt.Errorf("slice has more dimensions than the input %v", x.shape)
		}
		size, s := x.shape[d], stride[k]
		if s == 0 {
			return nil, fmt.Errorf("stride 0 in dimension %d", d)
		}
		if bit("shrink_axis_mask", k) {
			b := begin[k]
			if b < 0 {
				b += size
			}
			if b < 0 || b >= size {
				return nil, fmt.Errorf("index %d out of range for dimension %d of size %d", begin[k], d, size)
			}
			start[d], step[d], count[d] = b, 1, 1
			d++
			continue
		}
		b, e := begin[k], end[k]
		lo, hi := 0, size // clamp range for s > 0
		if s < 0 {
			lo, hi = -1, size-1
		}
		resolve := func(v int, masked bool, def int) int {
			if masked {
				return def
			}
			if v < 0 {
				v += size
			}
			return min(max(v, lo), hi)
		}
		if s > 0 {
			b, e = resolve(b, bit("begin_mask", k), 0), resolve(e, bit("end_mask", k), size)
		} else {
			b, e = resolve(b, bit("begin_mask", k), size-1), resolve(e, bit("end_mask", k), -1)
		}
		c := 0
		if s > 0 && e > b {
			c = (e - b + s - 1) / s
		} else if s < 0 && b > e {
			c = (b - e - s - 1) / -s
		}
		start[d], step[d], count[d] = b, s, c
		outShape = append(outShape, c)
		d++
	}
	for ; d < r; d++ {
		full(d)
	}
	return one(stridedCopy(e, x, start, step, count).view(outShape)), nil
}

func opSlice(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	x := in[0]
	begin, err := in[1].ints()
	if err != nil {
		return nil, err
	}
	size, err := in[2].ints()
	if err != nil {
		return nil, err
	}
	if len(begin) != x.rank() || len(size) != x.rank() {
		return nil, fmt.Errorf("begin %v and size %v do not match shape %v", begin, size, x.shape)
	}
	step := make([]int, x.rank())
	for k := range step {
		step[k] = 1
		if size[k] == -1 {
			size[k] = x.shape[k] - begin[k]
		}
		if begin[k] < 0 || size[k] < 0 || begin[k]+size[k] > x.shape[k] {
			return nil, fmt.Errorf("slice [%d, +%d) out of range for dimension %d of size %d", begin[k], size[k], k, x.shape[k])
		}
	}
	return one(stridedCopy(e, x, begin, step, size)), nil
}

// concat joins tensors along axis; all dimensions but axis must agree.
func concat(e *scratch, xs []*tensor, axis int) (*tensor, error) {
	first := xs[0]
	axis, err := normAxis(axis, first.rank())
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(first.shape)
	shape[axis] = 0
	for _, x := range xs {
		if x.dt != first.dt || x.rank() != first.rank() {
			return nil, fmt.Errorf("cannot concatenate %s%v with %s%v", first.dt, first.shape, x.dt, x.shape)
		}
		for k := range shape {
			if k != axis && x.shape[k] != first.shape[k] {
				return nil, fmt.Errorf("cannot concatenate %v with %v on axis %d", first.shape, x.shape, axis)
			}
		}
		shape[axis] += x.shape[axis]
	}
	res := e.newTensor(first.dt, shape)
	outer := numel(shape[:axis])
	inner := numel(shape[axis+1:])
	o := 0
	for i := range outer {
		for _, x := range xs {
			blk := x.shape[axis] * inner
			copyElems(res, o, x, i*blk, blk)
			o += blk
		}
	}
	return res, nil
}

func opConcat(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("want values and an axis, got %d inputs", len(in))
	}
	axis, err := in[len(in)-1].scalarInt()
	if err != nil {
		return nil, err
	}
	res, err := concat(e, in[:len(in)-1], axis)
	return one(res), err
}

func opPack(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("nothing to pack")
	}
	axis, err := normAxis(n.attrInt("axis", 0), in[0].rank()+1)
	if err != nil {
		return nil, err
	}
	xs := make([]*tensor, len(in))
	for k, x := range in {
		if !slices.Equal(x.shape, in[0].shape) {
			return nil, fmt.Errorf("cannot pack %v with %v", in[0].shape, x.shape)
		}
		xs[k] = x.view(slices.Insert(slices.Clone(x.shape), axis, 1))
	}
	res, err := concat(e, xs, axis)
	return one(res), err
}

func opSplitV(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	x := in[0]
	sizes, err := in[1].ints()
	if err != nil {
		return nil, err
	}
	axis, err := in[2].scalarInt()
	if err != nil {
		return nil, err
	}
	if axis, err = normAxis(axis, x.rank()); err != nil {
		return nil, err
	}
	total, infer := 0, -1
	for k, s := range sizes {
		if s == -1 {
			infer = k
			continue
		}
		total += s
	}
	if infer >= 0 {
		sizes[infer] = x.shape[axis] - total
		total = x.shape[axis]
	}
	if total != x.shape[axis] {
		return nil, fmt.Errorf("split sizes %v do not add up to dimension %d of %v", sizes, axis, x.shape)
	}
	start, step := make([]int, x.rank()), make([]int, x.rank())
	for k := range step {
		step[k] = 1
	}
	out := make([]*tensor, len(sizes))
	for k, s := range sizes {
		count := slices.Clone(x.shape)
		count[axis] = s
		out[k] = stridedCopy(e, x, start, step, count)
		start[axis] += s
	}
	return out, nil
}

// transpose permutes the dimensions of x.
func transpose(e *scratch, x *tensor, perm []int) (*tensor, error) {
	r := x.rank()
	if len(perm) != r {
		return nil, fmt.Errorf("permutation %v does not match shape %v", perm, x.shape)
	}
	seen := make([]bool, r)
	shape := make([]int, r)
	st := strides(x.shape)
	pst := make([]int, r)
	for k, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return nil, fmt.Errorf("bad permutation %v", perm)
		}
		seen[p] = true
		shape[k], pst[k] = x.shape[p], st[p]
	}
	res := e.newTensor(x.dt, shape)
	if res.size() == 0 || r == 0 {
		copyElems(res, 0, x, 0, res.size())
		return res, nil
	}
	inner, run := shape[r-1], perm[r-1] == r-1
	idx := make([]int, r)
	for o := 0; o < res.size(); o += inner {
		src := 0
		for k := range r - 1 {
			src += idx[k] * pst[k]
		}
		if run {
			copyElems(res, o, x, src, inner)
		} else {
			for j := range inner {
				copyElems(res, o+j, x, src+j*pst[r-1], 1)
			}
		}
		for k := r - 2; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return res, nil
}

func opTranspose(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	perm, err := in[1].ints()
	if err != nil {
		return nil, err
	}
	res, err := transpose(e, in[0], perm)
	return one(res), err
}
