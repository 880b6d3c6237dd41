package embed

import (
	"fmt"
	"slices"
)

func opMatMul(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	a, b := in[0], in[1]
	if a.dt != dtFloat || a.rank() != 2 || b.rank() != 2 {
		return nil, fmt.Errorf("want two float32 matrices, got %s%v and %s%v", a.dt, a.shape, b.dt, b.shape)
	}
	ta, tb := n.attrBool("transpose_a"), n.attrBool("transpose_b")
	if ta {
		var err error
		if a, err = transpose(e, a, []int{1, 0}); err != nil {
			return nil, err
		}
	}
	m, k := a.shape[0], a.shape[1]
	bk, bn := b.shape[0], b.shape[1]
	if tb {
		bk, bn = bn, bk
	}
	if bk != k {
		return nil, fmt.Errorf("cannot multiply %v by %v", a.shape, b.shape)
	}
	pb := n.packed
	if pb == nil {
		pb = packB(e, b.f, bk, bn, tb)
	}
	res := e.newTensor(dtFloat, []int{m, bn})
	if k == 0 {
		clear(res.f)
		return one(res), nil
	}
	gemm(m, a.f, pb, res.f, n.epilogue)
	return one(res), nil
}

// opConv2D handles the 1×1, stride-1 convolutions that Tensor2Tensor uses as
// dense layers: a matrix product over all N·H·W positions.
func opConv2D(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, f := in[0], in[1]
	if x.dt != dtFloat || x.rank() != 4 || f.rank() != 4 {
		return nil, fmt.Errorf("want NHWC input and a 4-d filter, got %v and %v", x.shape, f.shape)
	}
	if df := n.attrString("data_format"); df != "" && df != "NHWC" {
		return nil, fmt.Errorf("data format %s is not supported", df)
	}
	for _, s := range [][]int{n.attrInts("strides"), n.attrInts("dilations")} {
		for _, v := range s {
			if v != 1 {
				return nil, fmt.Errorf("only stride and dilation 1 are supported, got %v", s)
			}
		}
	}
	if f.shape[0] != 1 || f.shape[1] != 1 {
		return nil, fmt.Errorf("only 1x1 kernels are supported, got %v", f.shape)
	}
	cin, cout := f.shape[2], f.shape[3]
	if x.shape[3] != cin {
		return nil, fmt.Errorf("input has %d channels, filter wants %d", x.shape[3], cin)
	}
	pb := n.packed
	if pb == nil {
		pb = packB(e, f.f, cin, cout, false)
	}
	rows := x.size() / max(cin, 1)
	res := e.newTensor(dtFloat, []int{x.shape[0], x.shape[1], x.shape[2], cout})
	if cin == 0 {
		clear(res.f)
		return one(res), nil
	}
	gemm(rows, x.f, pb, res.f, n.epilogue)
	return one(res), nil
}

func opBatchMatMul(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, y := in[0], in[1]
	if x.dt != dtFloat || y.dt != dtFloat || x.rank() < 2 || y.rank() < 2 {
		return nil, fmt.Errorf("want float32 tensors of rank 2 or more, got %v and %v", x.shape, y.shape)
	}
	var err error
	if n.attrBool("adj_x") {
		perm := make([]int, x.rank())
		for k := range perm {
			perm[k] = k
		}
		perm[x.rank()-2], perm[x.rank()-1] = x.rank()-1, x.rank()-2
		if x, err = transpose(e, x, perm); err != nil {
			return nil, err
		}
	}
	adjY := n.attrBool("adj_y")
	m, k := x.shape[x.rank()-2], x.shape[x.rank()-1]
	yk, yn := y.shape[y.rank()-2], y.shape[y.rank()-1]
	if adjY {
		yk, yn = yn, yk
	}
	if yk != k {
		return nil, fmt.Errorf("cannot multiply %v by %v (adj_y %v)", x.shape, y.shape, adjY)
	}
	batch, err := broadcastShape(x.shape[:x.rank()-2], y.shape[:y.rank()-2])
	if err != nil {
		return nil, err
	}
	x = broadcastTo(e, x, slices.Concat(batch, x.shape[x.rank()-2:]))
	y = broadcastTo(e, y, slices.Concat(batch, y.shape[y.rank()-2:]))
	res := e.newTensor(dtFloat, slices.Concat(batch, []int{m, yn}))
	xs, ys := m*k, y.shape[y.rank()-2]*y.shape[y.rank()-1]
	if k == 0 {
		clear(res.f)
		return one(res), nil
	}
	for b := range numel(batch) {
		pb := packB(e, y.f[b*ys:(b+1)*ys], yk, yn, adjY)
		gemm(m, x.f[b*xs:(b+1)*xs], pb, res.f[b*m*yn:(b+1)*m*yn], epilogue{})
	}
	return one(res), nil
}

func opBiasAdd(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, bias := in[0], in[1]
	if df := n.attrString("data_format"); df != "" && df != "NHWC" {
		return nil, fmt.Errorf("data format %s is not supported", df)
	}
	if x.dt != dtFloat || bias.dt != dtFloat || x.rank() == 0 || bias.rank() != 1 || bias.shape[0] != x.shape[x.rank()-1] {
		return nil, fmt.Errorf("cannot add bias %s%v to %s%v", bias.dt, bias.shape, x.dt, x.shape)
	}
	res := e.newTensor(dtFloat, x.shape)
	c := bias.shape[0]
	for o := 0; o < len(x.f); o += c {
		d, s := res.f[o:o+c], x.f[o:o+c]
		for j, b := range bias.f {
			d[j] = s[j] + b
		}
	}
	return one(res), nil
}
