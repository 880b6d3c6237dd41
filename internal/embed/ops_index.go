package embed

import (
	"fmt"
	"math"
	"slices"
)

func opGather(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 3); err != nil {
		return nil, err
	}
	if n.attrInt("batch_dims", 0) != 0 {
		return nil, fmt.Errorf("batch_dims %d is not supported", n.attrInt("batch_dims", 0))
	}
	params, indices := in[0], in[1]
	axis := 0
	if len(in) == 3 {
		var err error
		if axis, err = in[2].scalarInt(); err != nil {
			return nil, err
		}
	}
	axis, err := normAxis(axis, params.rank())
	if err != nil {
		return nil, err
	}
	idx, err := indices.ints()
	if err != nil {
		return nil, err
	}
	shape := slices.Concat(params.shape[:axis], indices.shape, params.shape[axis+1:])
	res := e.newTensor(params.dt, shape)
	outer, inner, dim := numel(params.shape[:axis]), numel(params.shape[axis+1:]), params.shape[axis]
	o := 0
	for i := range outer {
		for _, j := range idx {
			if j < 0 || j >= dim {
				return nil, fmt.Errorf("index %d out of range [0, %d)", j, dim)
			}
			copyElems(res, o, params, (i*dim+j)*inner, inner)
			o += inner
		}
	}
	return one(res), nil
}

// ndOffsets turns the rows of an index tensor [..., k] into flat offsets
// of slices of shape[k:] in a tensor of the given shape.
func ndOffsets(indices *tensor, shape []int) (offs []int, slice int, err error) {
	if indices.rank() == 0 {
		return nil, 0, fmt.Errorf("indices must have rank 1 or more")
	}
	k := indices.shape[indices.rank()-1]
	if k > len(shape) {
		return nil, 0, fmt.Errorf("index depth %d exceeds rank of %v", k, shape)
	}
	idx, err := indices.ints()
	if err != nil {
		return nil, 0, err
	}
	slice = numel(shape[k:])
	st := strides(shape)
	rows := 0
	if k > 0 {
		rows = len(idx) / k
	} else {
		rows = numel(indices.shape[:indices.rank()-1])
	}
	offs = make([]int, rows)
	for r := range rows {
		off := 0
		for d := range k {
			v := idx[r*k+d]
			if v < 0 || v >= shape[d] {
				return nil, 0, fmt.Errorf("index %v out of range for shape %v", idx[r*k:r*k+k], shape)
			}
			off += v * st[d]
		}
		offs[r] = off
	}
	return offs, slice, nil
}

func opGatherNd(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	params, indices := in[0], in[1]
	offs, slice, err := ndOffsets(indices, params.shape)
	if err != nil {
		return nil, err
	}
	k := indices.shape[indices.rank()-1]
	res := e.newTensor(params.dt, slices.Concat(indices.shape[:indices.rank()-1], params.shape[k:]))
	for r, off := range offs {
		copyElems(res, r*slice, params, off, slice)
	}
	return one(res), nil
}

// opScatterNd adds updates into zeros of the given shape; like TensorFlow,
// repeated indices sum.
func opScatterNd(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	indices, updates := in[0], in[1]
	shape, err := in[2].ints()
	if err != nil {
		return nil, err
	}
	offs, slice, err := ndOffsets(indices, shape)
	if err != nil {
		return nil, err
	}
	if updates.size() != len(offs)*slice {
		return nil, fmt.Errorf("updates %v do not fit %d slices of %d values", updates.shape, len(offs), slice)
	}
	res := e.zeroTensor(updates.dt, shape)
	for r, off := range offs {
		addElems(res, off, updates, r*slice, slice)
	}
	return one(res), nil
}

func opSparseToDense(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 4, 4); err != nil {
		return nil, err
	}
	indices, values, def := in[0], in[2], in[3]
	shape, err := in[1].ints()
	if err != nil {
		return nil, err
	}
	if values.dt != def.dt || def.size() != 1 {
		return nil, fmt.Errorf("default value must be one %s", values.dt)
	}
	if indices.rank() < 2 { // a scalar or vector of indices into a vector
		indices = indices.view([]int{indices.size(), 1})
	}
	offs, _, err := ndOffsets(indices, shape)
	if err != nil {
		return nil, err
	}
	if values.size() != 1 && values.size() != len(offs) {
		return nil, fmt.Errorf("%d values for %d indices", values.size(), len(offs))
	}
	res := e.newTensor(values.dt, shape)
	for k := range res.size() {
		copyElems(res, k, def, 0, 1)
	}
	for r, off := range offs {
		copyElems(res, off, values, min(r, values.size()-1), 1)
	}
	return one(res), nil
}

// opWhere returns the coordinates of the true (non-zero) elements in
// row-major order, as an int tensor [count, rank].
func opWhere(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	truth := func(k int) bool {
		switch x.dt {
		case dtFloat:
			return x.f[k] != 0
		case dtInt:
			return x.i[k] != 0
		}
		return x.b[k]
	}
	r := x.rank()
	var coords []int32
	idx := make([]int, r)
	for k := range x.size() {
		if truth(k) {
			for _, v := range idx {
				coords = append(coords, int32(v))
			}
		}
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < x.shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	rows := 0
	if r > 0 {
		rows = len(coords) / r
	} else if x.size() == 1 && truth(0) {
		rows = 1
	}
	return one(intTensor([]int{rows, r}, coords)), nil
}

func opRange(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 3, 3); err != nil {
		return nil, err
	}
	get := func(t *tensor) (float64, error) {
		if t.size() != 1 {
			return 0, fmt.Errorf("range bounds must be scalars, got shape %v", t.shape)
		}
		if t.dt == dtFloat {
			return float64(t.f[0]), nil
		}
		if t.dt == dtInt {
			return float64(t.i[0]), nil
		}
		return 0, fmt.Errorf("range of %s", t.dt)
	}
	start, err := get(in[0])
	if err != nil {
		return nil, err
	}
	limit, err := get(in[1])
	if err != nil {
		return nil, err
	}
	delta, err := get(in[2])
	if err != nil {
		return nil, err
	}
	if delta == 0 {
		return nil, fmt.Errorf("range with delta 0")
	}
	count := max(0, int(math.Ceil((limit-start)/delta)))
	res := e.newTensor(in[0].dt, []int{count})
	for k := range count {
		v := start + float64(k)*delta
		if res.dt == dtFloat {
			res.f[k] = float32(v)
		} else {
			res.i[k] = int32(v)
		}
	}
	return one(res), nil
}
