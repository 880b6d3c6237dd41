package embed

import (
	"fmt"
	"slices"
)

// dtype is the element type of a tensor. Like TF.js, the interpreter keeps
// int64 values as int32: the graph's integers are token ids and positions.
type dtype uint8

const (
	dtFloat dtype = iota + 1
	dtInt
	dtBool
)

func (d dtype) String() string {
	switch d {
	case dtFloat:
		return "float32"
	case dtInt:
		return "int32"
	case dtBool:
		return "bool"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// dtypeFromTF maps a TensorFlow DataType enum (types.proto) to a dtype.
func dtypeFromTF(v int64) (dtype, bool) {
	switch v {
	case 1: // DT_FLOAT
		return dtFloat, true
	case 3, 9: // DT_INT32, DT_INT64
		return dtInt, true
	case 10: // DT_BOOL
		return dtBool, true
	}
	return 0, false
}

// tensor is a dense row-major array. Ops never modify their inputs, so
// reshaping ops may share the backing slice.
type tensor struct {
	dt    dtype
	shape []int
	f     []float32
	i     []int32
	b     []bool
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func newTensor(dt dtype, shape []int) *tensor {
	t := &tensor{dt: dt, shape: slices.Clone(shape)}
	n := numel(shape)
	switch dt {
	case dtFloat:
		t.f = make([]float32, n)
	case dtInt:
		t.i = make([]int32, n)
	case dtBool:
		t.b = make([]bool, n)
	}
	return t
}

func floatTensor(shape []int, data []float32) *tensor {
	return &tensor{dt: dtFloat, shape: slices.Clone(shape), f: data}
}

func intTensor(shape []int, data []int32) *tensor {
	return &tensor{dt: dtInt, shape: slices.Clone(shape), i: data}
}

func (t *tensor) size() int { return numel(t.shape) }
func (t *tensor) rank() int { return len(t.shape) }

// view returns a tensor sharing t's data with another shape of equal size.
func (t *tensor) view(shape []int) *tensor {
	return &tensor{dt: t.dt, shape: shape, f: t.f, i: t.i, b: t.b}
}

// ints reads an integer tensor (a shape, axis list or index) as Go ints.
func (t *tensor) ints() ([]int, error) {
	if t.dt != dtInt {
		return nil, fmt.Errorf("want an int tensor, got %s", t.dt)
	}
	out := make([]int, len(t.i))
	for k, v := range t.i {
		out[k] = int(v)
	}
	return out, nil
}

// scalarInt reads a one-element integer tensor.
func (t *tensor) scalarInt() (int, error) {
	v, err := t.ints()
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		return 0, fmt.Errorf("want a single integer, got shape %v", t.shape)
	}
	return v[0], nil
}

// strides returns row-major element strides for shape.
func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for k := len(shape) - 1; k >= 0; k-- {
		s[k] = acc
		acc *= shape[k]
	}
	return s
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < 0 {
		axis += rank
	}
	if axis < 0 || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	return axis, nil
}

// copyElems copies n elements from src[so:] to dst[do:] for any dtype.
func copyElems(dst *tensor, do int, src *tensor, so, n int) {
	switch dst.dt {
	case dtFloat:
		copy(dst.f[do:do+n], src.f[so:so+n])
	case dtInt:
		copy(dst.i[do:do+n], src.i[so:so+n])
	case dtBool:
		copy(dst.b[do:do+n], src.b[so:so+n])
	}
}

// addElems adds n elements of src[so:] into dst[do:] (numeric dtypes).
func addElems(dst *tensor, do int, src *tensor, so, n int) {
	switch dst.dt {
	case dtFloat:
		d, s := dst.f[do:do+n], src.f[so:so+n]
		for k := range d {
			d[k] += s[k]
		}
	case dtInt:
		d, s := dst.i[do:do+n], src.i[so:so+n]
		for k := range d {
			d[k] += s[k]
		}
	case dtBool:
		d, s := dst.b[do:do+n], src.b[so:so+n]
		for k := range d {
			d[k] = d[k] || s[k]
		}
	}
}

// broadcastShape returns the NumPy-style broadcast of two shapes.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for k := range n {
		da, db := 1, 1
		if j := k - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := k - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[k] = da
		case da == 1:
			out[k] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastTo materializes t at shape out (which t must broadcast to).
func broadcastTo(e *scratch, t *tensor, out []int) *tensor {
	if slices.Equal(t.shape, out) {
		return t
	}
	res := e.newTensor(t.dt, out)
	n := len(out)
	in := make([]int, n) // t's shape left-padded with ones
	for k := range in {
		in[k] = 1
	}
	copy(in[n-len(t.shape):], t.shape)
	ist := strides(in)
	for k := range ist {
		if in[k] == 1 {
			ist[k] = 0
		}
	}
	idx := make([]int, n)
	for o := range res.size() {
		src := 0
		for k := range n {
			src += idx[k] * ist[k]
		}
		copyElems(res, o, t, src, 1)
		for k := n - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < out[k] {
				break
			}
			idx[k] = 0
		}
	}
	return res
}
