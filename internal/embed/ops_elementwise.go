package embed

import (
	"fmt"
	"math"
)

// rowPlan views a broadcast output as rows×cols, where cols is its last
// dimension, and says how each operand steps through that view: a row stride
// of 0 repeats one row, a column stride of 0 repeats one value.
type rowPlan struct {
	rows, cols int
	xRow, xCol int
	yRow, yCol int
	outShape   []int
}

// planRows builds a rowPlan, or reports false when an operand broadcasts in
// a leading dimension only partly (then the caller materializes it).
func planRows(xs, ys []int) (rowPlan, bool, error) {
	out, err := broadcastShape(xs, ys)
	if err != nil {
		return rowPlan{}, false, err
	}
	p := rowPlan{outShape: out, rows: 1, cols: 1}
	if len(out) > 0 {
		p.cols = out[len(out)-1]
		p.rows = numel(out[:len(out)-1])
	}
	var ok1, ok2 bool
	p.xRow, p.xCol, ok1 = operandSteps(xs, out)
	p.yRow, p.yCol, ok2 = operandSteps(ys, out)
	return p, ok1 && ok2, nil
}

func operandSteps(s, out []int) (row, col int, ok bool) {
	if len(out) == 0 {
		return 0, 0, true
	}
	padded := make([]int, len(out))
	for k := range padded {
		padded[k] = 1
	}
	copy(padded[len(out)-len(s):], s)
	last := padded[len(out)-1]
	if last == out[len(out)-1] {
		col = 1
	}
	lead, leadOut := padded[:len(out)-1], out[:len(out)-1]
	allOne, full := true, true
	for k := range lead {
		allOne = allOne && lead[k] == 1
		full = full && lead[k] == leadOut[k]
	}
	switch {
	case full:
		return last, col, true
	case allOne:
		return 0, col, true
	}
	return 0, 0, false
}

// rowOf returns row r of an operand as a contiguous slice of cols values,
// expanding a repeated value into scratch.
func rowOf[T any](data []T, r, rowStep, colStep, cols int, scratch []T) []T {
	off := r * rowStep
	if colStep == 1 {
		return data[off : off+cols]
	}
	v := data[off]
	for k := range scratch {
		scratch[k] = v
	}
	return scratch
}

func opBinary(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 2, 2); err != nil {
		return nil, err
	}
	x, y := in[0], in[1]
	if x.dt != y.dt {
		return nil, fmt.Errorf("operands are %s and %s", x.dt, y.dt)
	}
	p, ok, err := planRows(x.shape, y.shape)
	if err != nil {
		return nil, err
	}
	if !ok {
		x, y = broadcastTo(e, x, p.outShape), broadcastTo(e, y, p.outShape)
		p, _, _ = planRows(x.shape, y.shape)
	}
	switch n.op {
	case "Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual":
		res := e.newTensor(dtBool, p.outShape)
		var err error
		switch x.dt {
		case dtFloat:
			err = compareRows(n.op, p, x.f, y.f, res.b)
		case dtInt:
			err = compareRows(n.op, p, x.i, y.i, res.b)
		default:
			err = fmt.Errorf("%s of %s values", n.op, x.dt)
		}
		return one(res), err
	}
	res := e.newTensor(x.dt, p.outShape)
	switch x.dt {
	case dtFloat:
		sx, sy := make([]float32, p.cols), make([]float32, p.cols)
		for r := range p.rows {
			a := rowOf(x.f, r, p.xRow, p.xCol, p.cols, sx)
			b := rowOf(y.f, r, p.yRow, p.yCol, p.cols, sy)
			if err := floatRow(n.op, res.f[r*p.cols:(r+1)*p.cols], a, b); err != nil {
				return nil, err
			}
		}
	case dtInt:
		sx, sy := make([]int32, p.cols), make([]int32, p.cols)
		for r := range p.rows {
			a := rowOf(x.i, r, p.xRow, p.xCol, p.cols, sx)
			b := rowOf(y.i, r, p.yRow, p.yCol, p.cols, sy)
			if err := intRow(n.op, res.i[r*p.cols:(r+1)*p.cols], a, b); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("%s of %s values", n.op, x.dt)
	}
	return one(res), nil
}

func floatRow(op string, d, a, b []float32) error {
	a, b = a[:len(d)], b[:len(d)]
	switch op {
	case "Add", "AddV2":
		for k := range d {
			d[k] = a[k] + b[k]
		}
	case "Sub":
		for k := range d {
			d[k] = a[k] - b[k]
		}
	case "Mul":
		for k := range d {
			d[k] = a[k] * b[k]
		}
	case "RealDiv", "Div":
		for k := range d {
			d[k] = a[k] / b[k]
		}
	case "Maximum":
		for k := range d {
			d[k] = max(a[k], b[k])
		}
	case "Minimum":
		for k := range d {
			d[k] = min(a[k], b[k])
		}
	default:
		return fmt.Errorf("%s is not defined for float32", op)
	}
	return nil
}

func intRow(op string, d, a, b []int32) error {
	a, b = a[:len(d)], b[:len(d)]
	for k := range d {
		switch op {
		case "Add", "AddV2":
			d[k] = a[k] + b[k]
		case "Sub":
			d[k] = a[k] - b[k]
		case "Mul":
			d[k] = a[k] * b[k]
		case "Maximum":
			d[k] = max(a[k], b[k])
		case "Minimum":
			d[k] = min(a[k], b[k])
		case "Div":
			if b[k] == 0 {
				return fmt.Errorf("integer division by zero")
			}
			d[k] = a[k] / b[k]
		default:
			return fmt.Errorf("%s is not defined for int32", op)
		}
	}
	return nil
}

func compareRows[T float32 | int32](op string, p rowPlan, x, y []T, out []bool) error {
	sx, sy := make([]T, p.cols), make([]T, p.cols)
	for r := range p.rows {
		a := rowOf(x, r, p.xRow, p.xCol, p.cols, sx)
		b := rowOf(y, r, p.yRow, p.yCol, p.cols, sy)
		d := out[r*p.cols : (r+1)*p.cols]
		for k := range d {
			switch op {
			case "Less":
				d[k] = a[k] < b[k]
			case "LessEqual":
				d[k] = a[k] <= b[k]
			case "Greater":
				d[k] = a[k] > b[k]
			case "GreaterEqual":
				d[k] = a[k] >= b[k]
			case "Equal":
				d[k] = a[k] == b[k]
			case "NotEqual":
				d[k] = a[k] != b[k]
			default:
				return fmt.Errorf("unknown comparison %s", op)
			}
		}
	}
	return nil
}

func opUnary(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	x := in[0]
	if x.dt != dtFloat {
		return nil, fmt.Errorf("%s of %s values", n.op, x.dt)
	}
	res := e.newTensor(dtFloat, x.shape)
	d, s := res.f, x.f
	switch n.op {
	case "Square":
		for k, v := range s {
			d[k] = v * v
		}
	case "Relu":
		for k, v := range s {
			d[k] = max(v, 0)
		}
	case "Neg":
		for k, v := range s {
			d[k] = -v
		}
	default:
		var f func(float64) float64
		switch n.op {
		case "Sin":
			f = math.Sin
		case "Cos":
			f = math.Cos
		case "Sqrt":
			f = math.Sqrt
		case "Rsqrt":
			f = func(v float64) float64 { return 1 / math.Sqrt(v) }
		case "Exp":
			f = math.Exp
		case "Tanh":
			f = math.Tanh
		case "Sigmoid":
			f = func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
		default:
			return nil, fmt.Errorf("unknown unary op %s", n.op)
		}
		for k, v := range s {
			d[k] = float32(f(float64(v)))
		}
	}
	return one(res), nil
}

func opLogicalNot(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	if in[0].dt != dtBool {
		return nil, fmt.Errorf("LogicalNot of %s values", in[0].dt)
	}
	res := e.newTensor(dtBool, in[0].shape)
	for k, v := range in[0].b {
		res.b[k] = !v
	}
	return one(res), nil
}

func opCast(e *scratch, n *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	tf, _ := n.attr["DstT"].dtype()
	dst, ok := dtypeFromTF(tf)
	if !ok {
		return nil, fmt.Errorf("unsupported DstT %d", tf)
	}
	x := in[0]
	if x.dt == dst {
		return one(x), nil
	}
	res := e.newTensor(dst, x.shape)
	for k := range res.size() {
		var v float64
		switch x.dt {
		case dtFloat:
			v = float64(x.f[k])
		case dtInt:
			v = float64(x.i[k])
		case dtBool:
			if x.b[k] {
				v = 1
			}
		}
		switch dst {
		case dtFloat:
			res.f[k] = float32(v)
		case dtInt:
			res.i[k] = int32(math.Trunc(v))
		case dtBool:
			res.b[k] = v != 0
		}
	}
	return one(res), nil
}
