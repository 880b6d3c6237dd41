package embed

import (
	"fmt"
	"math"
	"slices"
)

// opReduce implements Sum, Mean, Max, Min and Prod over a list of axes.
// Float sums accumulate in float64.
func opReduce(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x := in[0]
	axes, err := in[1].ints()
	if err != nil {
		return nil, err
	}
	r := x.rank()
	reduced := make([]bool, r)
	for _, a := range axes {
		a, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		reduced[a] = true
	}
	var keepShape, outShape, perm, tail []int
	for d := range r {
		if reduced[d] {
			keepShape = append(keepShape, 1)
			tail = append(tail, d)
			continue
		}
		keepShape = append(keepShape, x.shape[d])
		outShape = append(outShape, x.shape[d])
		perm = append(perm, d)
	}
	if len(tail) == 0 {
		return one(x), nil
	}
	// Move reduced axes last so every output value reduces one contiguous run.
	perm = append(perm, tail...)
	if !slices.IsSorted(perm) {
		if x, err = transpose(e, x, perm); err != nil {
			return nil, err
		}
	}
	if n.attrBool("keep_dims") {
		outShape = keepShape
	}
	res := e.newTensor(x.dt, outShape)
	m := res.size()
	red := 1
	if m > 0 {
		red = x.size() / m
	}
	for o := range m {
		var v float64
		switch x.dt {
		case dtFloat:
			v = reduceRun(n.op, x.f[o*red:(o+1)*red])
			res.f[o] = float32(v)
		case dtInt:
			v = reduceRun(n.op, x.i[o*red:(o+1)*red])
			res.i[o] = int32(v)
		default:
			return nil, fmt.Errorf("%s of %s values", n.op, x.dt)
		}
	}
	return one(res), nil
}

func reduceRun[T float32 | int32](op string, run []T) float64 {
	var acc float64
	switch op {
	case "Sum", "Mean":
		for _, v := range run {
			acc += float64(v)
		}
		if op == "Mean" {
			acc /= float64(len(run))
		}
	case "Prod":
		acc = 1
		for _, v := range run {
			acc *= float64(v)
		}
	case "Max":
		acc = math.Inf(-1)
		for _, v := range run {
			acc = max(acc, float64(v))
		}
	case "Min":
		acc = math.Inf(1)
		for _, v := range run {
			acc = min(acc, float64(v))
		}
	}
	return acc
}

// opSoftmax normalizes the last axis.
func opSoftmax(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if x.dt != dtFloat || x.rank() == 0 {
		return nil, fmt.Errorf("softmax of %s%v", x.dt, x.shape)
	}
	res := e.newTensor(dtFloat, x.shape)
	cols := x.shape[x.rank()-1]
	for o := 0; o+cols <= len(x.f) && cols > 0; o += cols {
		src, dst := x.f[o:o+cols], res.f[o:o+cols]
		hi := src[0]
		for _, v := range src {
			hi = max(hi, v)
		}
		var sum float64
		for k, v := range src {
			e := math.Exp(float64(v - hi))
			dst[k] = float32(e)
			sum += e
		}
		for k := range dst {
			dst[k] = float32(float64(dst[k]) / sum)
		}
	}
	return one(res), nil
}
