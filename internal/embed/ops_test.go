package embed

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Op semantics follow TensorFlow; each case is checked twice, once with
// heap tensors and once with a scratch whose reused memory holds garbage, so
// an op that forgets to write part of its output fails.

func sh(d ...int) []int { return d }

func ft(shape []int, v ...float32) *tensor { return floatTensor(shape, v) }
func it(shape []int, v ...int32) *tensor   { return intTensor(shape, v) }
func bt(shape []int, v ...bool) *tensor {
	return &tensor{dt: dtBool, shape: shape, b: v}
}

func iota32(n int) []float32 {
	v := make([]float32, n)
	for k := range v {
		v[k] = float32(k)
	}
	return v
}

func aInt(v int) attrValue    { x := jsonInt(v); return attrValue{I: &x} }
func aBool(v bool) attrValue  { return attrValue{B: &v} }
func aType(tf int) attrValue  { return attrValue{Type: []byte(strconv.Itoa(tf))} }
func aStr(s string) attrValue { return attrValue{S: jsonBytes(s)} }
func aInts(v ...int) attrValue {
	a := attrValue{List: &struct {
		I []jsonInt `json:"i"`
	}{}}
	for _, x := range v {
		a.List.I = append(a.List.I, jsonInt(x))
	}
	return a
}

type attrs = map[string]attrValue

// dirtyScratch has slabs full of NaN and -1, which ops must overwrite.
func dirtyScratch() *scratch {
	e := &scratch{}
	e.f.buf = make([]float32, 1<<12)
	e.i.buf = make([]int32, 1<<12)
	e.b.buf = make([]bool, 1<<12)
	for k := range e.f.buf {
		e.f.buf[k], e.i.buf[k], e.b.buf[k] = float32(math.NaN()), -1, true
	}
	return e
}

func runOp(t *testing.T, e *scratch, op string, at attrs, in ...*tensor) ([]*tensor, error) {
	t.Helper()
	fn := opFor(op)
	if fn == nil {
		t.Fatalf("no op %s", op)
	}
	return fn(e, &node{name: "test", op: op, attr: at}, in)
}

func sameTensor(got, want *tensor) bool {
	if got.dt != want.dt || !slices.Equal(got.shape, want.shape) || got.size() != want.size() {
		return false
	}
	switch want.dt {
	case dtInt:
		return slices.Equal(got.i, want.i)
	case dtBool:
		return slices.Equal(got.b, want.b)
	}
	for k := range want.f {
		if math.Abs(float64(got.f[k]-want.f[k])) > 1e-5*max(1, math.Abs(float64(want.f[k]))) {
			return false
		}
	}
	return true
}

func TestOps(t *testing.T) {
	x34 := ft(sh(3, 4), iota32(12)...)
	x234 := ft(sh(2, 3, 4), iota32(24)...)
	for _, tc := range []struct {
		name string
		op   string
		at   attrs
		in   []*tensor
		want []*tensor
	}{
		{"slice cols", "StridedSlice", attrs{"begin_mask": aInt(1), "end_mask": aInt(1)},
			[]*tensor{x34, it(sh(2), 0, 1), it(sh(2), 0, 3), it(sh(2), 1, 1)}, []*tensor{ft(sh(3, 2), 1, 2, 5, 6, 9, 10)}},
		{"slice shrink column", "StridedSlice", attrs{"begin_mask": aInt(1), "end_mask": aInt(1), "shrink_axis_mask": aInt(2)},
			[]*tensor{x34, it(sh(2), 0, 2), it(sh(2), 0, 3), it(sh(2), 1, 1)}, []*tensor{ft(sh(3), 2, 6, 10)}},
		{"slice reversed rows", "StridedSlice", attrs{"begin_mask": aInt(1), "end_mask": aInt(1)},
			[]*tensor{ft(sh(3, 2), 0, 1, 2, 3, 4, 5), it(sh(1), 0), it(sh(1), 0), it(sh(1), -1)}, []*tensor{ft(sh(3, 2), 4, 5, 2, 3, 0, 1)}},
		{"slice step 2 negative begin", "StridedSlice", nil,
			[]*tensor{ft(sh(6), iota32(6)...), it(sh(1), -5), it(sh(1), 100), it(sh(1), 2)}, []*tensor{ft(sh(3), 1, 3, 5)}},
		{"slice new axis", "StridedSlice", attrs{"new_axis_mask": aInt(1), "shrink_axis_mask": aInt(2)},
			[]*tensor{x34, it(sh(2), 0, 1), it(sh(2), 0, 2), it(sh(2), 1, 1)}, []*tensor{ft(sh(1, 4), 4, 5, 6, 7)}},
		{"slice ellipsis", "StridedSlice", attrs{"ellipsis_mask": aInt(1), "shrink_axis_mask": aInt(2)},
			[]*tensor{x234, it(sh(2), 0, 1), it(sh(2), 0, 2), it(sh(2), 1, 1)}, []*tensor{ft(sh(2, 3), 1, 5, 9, 13, 17, 21)}},
		{"slice of a shape", "StridedSlice", attrs{"shrink_axis_mask": aInt(1)},
			[]*tensor{it(sh(3), 7, 8, 9), it(sh(1), -1), it(sh(1), 0), it(sh(1), 1)}, []*tensor{it(sh(), 9)}},
		{"Slice", "Slice", nil, []*tensor{x34, it(sh(2), 1, 2), it(sh(2), -1, 1)}, []*tensor{ft(sh(2, 1), 6, 10)}},
		{"add row vector", "Add", nil, []*tensor{ft(sh(2, 3), 1, 2, 3, 4, 5, 6), ft(sh(3), 10, 20, 30)}, []*tensor{ft(sh(2, 3), 11, 22, 33, 14, 25, 36)}},
		{"mul outer", "Mul", nil, []*tensor{ft(sh(2, 1), 2, 3), ft(sh(1, 3), 1, 10, 100)}, []*tensor{ft(sh(2, 3), 2, 20, 200, 3, 30, 300)}},
		{"sub scalar", "Sub", nil, []*tensor{ft(sh(), 1), ft(sh(2), 1, 2)}, []*tensor{ft(sh(2), 0, -1)}},
		{"div partial broadcast", "RealDiv", nil, []*tensor{ft(sh(2, 2, 2), 2, 4, 6, 8, 10, 12, 14, 16), ft(sh(2, 1), 2, 1)},
			[]*tensor{ft(sh(2, 2, 2), 1, 2, 6, 8, 5, 6, 14, 16)}},
		{"maximum int", "Maximum", nil, []*tensor{it(sh(3), -1, 5, 2), it(sh(), 1)}, []*tensor{it(sh(3), 1, 5, 2)}},
		{"add int", "Add", nil, []*tensor{it(sh(2), 1, 2), it(sh(2), 10, 20)}, []*tensor{it(sh(2), 11, 22)}},
		{"less", "Less", nil, []*tensor{it(sh(2, 2), 0, 1, 2, 3), it(sh(2, 1), 1, 3)}, []*tensor{bt(sh(2, 2), true, false, true, false)}},
		{"greater float", "Greater", nil, []*tensor{ft(sh(2), 1, 2), ft(sh(), 1.5)}, []*tensor{bt(sh(2), false, true)}},
		{"rsqrt", "Rsqrt", nil, []*tensor{ft(sh(2), 4, 0.25)}, []*tensor{ft(sh(2), 0.5, 2)}},
		{"relu", "Relu", nil, []*tensor{ft(sh(3), -1, 0, 2)}, []*tensor{ft(sh(3), 0, 0, 2)}},
		{"square", "Square", nil, []*tensor{ft(sh(2), -3, 2)}, []*tensor{ft(sh(2), 9, 4)}},
		{"tanh sin cos", "Tanh", nil, []*tensor{ft(sh(2), 0, 1)}, []*tensor{ft(sh(2), 0, float32(math.Tanh(1)))}},
		{"sin", "Sin", nil, []*tensor{ft(sh(1), math.Pi/2)}, []*tensor{ft(sh(1), 1)}},
		{"cos", "Cos", nil, []*tensor{ft(sh(1), 0)}, []*tensor{ft(sh(1), 1)}},
		{"logical not", "LogicalNot", nil, []*tensor{bt(sh(2), true, false)}, []*tensor{bt(sh(2), false, true)}},
		{"cast bool to float", "Cast", attrs{"DstT": aType(1)}, []*tensor{bt(sh(2), true, false)}, []*tensor{ft(sh(2), 1, 0)}},
		{"cast float to int truncates", "Cast", attrs{"DstT": aType(3)}, []*tensor{ft(sh(2), -1.7, 2.9)}, []*tensor{it(sh(2), -1, 2)}},
		{"cast int64 to int", "Cast", attrs{"DstT": aType(9)}, []*tensor{it(sh(1), 5)}, []*tensor{it(sh(1), 5)}},
		{"sum axis 1", "Sum", nil, []*tensor{x234, it(sh(1), 1)}, []*tensor{ft(sh(2, 4), 12, 15, 18, 21, 48, 51, 54, 57)}},
		{"mean last keep", "Mean", attrs{"keep_dims": aBool(true)}, []*tensor{x34, it(sh(1), -1)}, []*tensor{ft(sh(3, 1), 1.5, 5.5, 9.5)}},
		{"max non-contiguous axes", "Max", nil, []*tensor{x234, it(sh(2), 0, 2)}, []*tensor{ft(sh(3), 15, 19, 23)}},
		{"prod int", "Prod", nil, []*tensor{it(sh(3), 2, 3, 4), it(sh(1), 0)}, []*tensor{it(sh(), 24)}},
		{"sum no axes", "Sum", nil, []*tensor{it(sh(2), 1, 2), it(sh(0))}, []*tensor{it(sh(2), 1, 2)}},
		{"softmax", "Softmax", nil, []*tensor{ft(sh(2, 2), 0, 0, 1, -1e9)}, []*tensor{ft(sh(2, 2), 0.5, 0.5, 1, 0)}},
		{"shape", "Shape", nil, []*tensor{x234}, []*tensor{it(sh(3), 2, 3, 4)}},
		{"reshape infer", "Reshape", nil, []*tensor{x34, it(sh(2), -1, 6)}, []*tensor{ft(sh(2, 6), iota32(12)...)}},
		{"expand dims -1", "ExpandDims", nil, []*tensor{ft(sh(2), 1, 2), it(sh(), -1)}, []*tensor{ft(sh(2, 1), 1, 2)}},
		{"squeeze listed", "Squeeze", attrs{"squeeze_dims": aInts(0)}, []*tensor{ft(sh(1, 2, 1), 1, 2)}, []*tensor{ft(sh(2, 1), 1, 2)}},
		{"squeeze all", "Squeeze", nil, []*tensor{ft(sh(1, 2, 1), 1, 2)}, []*tensor{ft(sh(2), 1, 2)}},
		{"transpose 3d", "Transpose", nil, []*tensor{ft(sh(2, 3), 0, 1, 2, 3, 4, 5), it(sh(2), 1, 0)}, []*tensor{ft(sh(3, 2), 0, 3, 1, 4, 2, 5)}},
		{"transpose heads", "Transpose", nil, []*tensor{ft(sh(1, 2, 2, 2), iota32(8)...), it(sh(4), 0, 2, 1, 3)}, []*tensor{ft(sh(1, 2, 2, 2), 0, 1, 4, 5, 2, 3, 6, 7)}},
		{"concat axis 1", "ConcatV2", nil, []*tensor{it(sh(2, 1), 1, 2), it(sh(2, 2), 3, 4, 5, 6), it(sh(), 1)}, []*tensor{it(sh(2, 3), 1, 3, 4, 2, 5, 6)}},
		{"concat vectors", "ConcatV2", nil, []*tensor{it(sh(1), 7), it(sh(2), 8, 9), it(sh(), 0)}, []*tensor{it(sh(3), 7, 8, 9)}},
		{"pack scalars", "Pack", attrs{"axis": aInt(0)}, []*tensor{it(sh(), 1), it(sh(), 2), it(sh(), 3)}, []*tensor{it(sh(3), 1, 2, 3)}},
		{"pack axis 1", "Pack", attrs{"axis": aInt(1)}, []*tensor{it(sh(2), 1, 2), it(sh(2), 3, 4)}, []*tensor{it(sh(2, 2), 1, 3, 2, 4)}},
		{"split", "SplitV", nil, []*tensor{ft(sh(2, 3), 0, 1, 2, 3, 4, 5), it(sh(2), 1, -1), it(sh(), -1)},
			[]*tensor{ft(sh(2, 1), 0, 3), ft(sh(2, 2), 1, 2, 4, 5)}},
		{"gather rows", "GatherV2", nil, []*tensor{ft(sh(3, 2), 0, 1, 2, 3, 4, 5), it(sh(3), 2, 0, 2), it(sh(), 0)}, []*tensor{ft(sh(3, 2), 4, 5, 0, 1, 4, 5)}},
		{"gather columns", "GatherV2", nil, []*tensor{ft(sh(2, 3), 0, 1, 2, 3, 4, 5), it(sh(2, 1), 2, 0), it(sh(), 1)}, []*tensor{ft(sh(2, 2, 1), 2, 0, 5, 3)}},
		{"gather nd", "GatherNd", nil, []*tensor{x34, it(sh(2, 2), 1, 2, 0, 0)}, []*tensor{ft(sh(2), 6, 0)}},
		{"gather nd rows", "GatherNd", nil, []*tensor{x34, it(sh(1, 1), 2)}, []*tensor{ft(sh(1, 4), 8, 9, 10, 11)}},
		{"scatter nd sums", "ScatterNd", nil, []*tensor{it(sh(3, 1), 1, 0, 1), ft(sh(3, 2), 1, 2, 3, 4, 5, 6), it(sh(2), 3, 2)},
			[]*tensor{ft(sh(3, 2), 3, 4, 6, 8, 0, 0)}},
		{"sparse to dense", "SparseToDense", nil, []*tensor{it(sh(2, 2), 0, 1, 1, 0), it(sh(2), 2, 2), it(sh(2), 7, 8), it(sh(), -1)},
			[]*tensor{it(sh(2, 2), -1, 7, 8, -1)}},
		{"sparse to dense scalar value", "SparseToDense", nil, []*tensor{it(sh(2), 0, 2), it(sh(1), 3), it(sh(), 1), it(sh(), 0)},
			[]*tensor{it(sh(3), 1, 0, 1)}},
		{"where", "Where", nil, []*tensor{bt(sh(2, 2), true, false, false, true)}, []*tensor{it(sh(2, 2), 0, 0, 1, 1)}},
		{"where none", "Where", nil, []*tensor{bt(sh(2), false, false)}, []*tensor{it(sh(0, 1))}},
		{"range", "Range", nil, []*tensor{it(sh(), 0), it(sh(), 5), it(sh(), 2)}, []*tensor{it(sh(3), 0, 2, 4)}},
		{"range float down", "Range", nil, []*tensor{ft(sh(), 1), ft(sh(), 0), ft(sh(), -0.5)}, []*tensor{ft(sh(2), 1, 0.5)}},
		{"matmul transposed", "MatMul", attrs{"transpose_a": aBool(true), "transpose_b": aBool(true)},
			[]*tensor{ft(sh(2, 1), 1, 2), ft(sh(3, 2), 1, 0, 0, 1, 1, 1)}, []*tensor{ft(sh(1, 3), 1, 2, 3)}},
		{"batch matmul adj_y", "BatchMatMul", attrs{"adj_y": aBool(true)},
			[]*tensor{ft(sh(2, 1, 2), 1, 2, 3, 4), ft(sh(2, 2, 2), 1, 0, 0, 1, 1, 1, 2, 2)}, []*tensor{ft(sh(2, 1, 2), 1, 2, 7, 14)}},
		{"batch matmul broadcast", "BatchMatMul", nil,
			[]*tensor{ft(sh(2, 1, 2), 1, 2, 3, 4), ft(sh(1, 2, 1), 10, 1)}, []*tensor{ft(sh(2, 1, 1), 12, 34)}},
		{"conv 1x1", "Conv2D", attrs{"strides": aInts(1, 1, 1, 1), "data_format": aStr("NHWC")},
			[]*tensor{ft(sh(1, 2, 1, 2), 1, 2, 3, 4), ft(sh(1, 1, 2, 1), 1, 10)}, []*tensor{ft(sh(1, 2, 1, 1), 21, 43)}},
		{"bias add", "BiasAdd", nil, []*tensor{ft(sh(2, 2), 1, 2, 3, 4), ft(sh(2), 10, 20)}, []*tensor{ft(sh(2, 2), 11, 22, 13, 24)}},
	} {
		for _, e := range []*scratch{nil, dirtyScratch()} {
			got, err := runOp(t, e, tc.op, tc.at, tc.in...)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if len(got) != len(tc.want) {
				t.Errorf("%s: %d outputs, want %d", tc.name, len(got), len(tc.want))
				continue
			}
			for k := range got {
				if !sameTensor(got[k], tc.want[k]) {
					t.Errorf("%s (scratch %v): output %d = %s%v %v%v%v, want %v%v%v", tc.name, e != nil, k,
						got[k].dt, got[k].shape, got[k].f, got[k].i, got[k].b, tc.want[k].f, tc.want[k].i, tc.want[k].b)
				}
			}
		}
	}
}

func TestOpErrors(t *testing.T) {
	x := ft(sh(2, 3), iota32(6)...)
	for _, tc := range []struct {
		op   string
		at   attrs
		in   []*tensor
		want string
	}{
		{"Add", nil, []*tensor{x, ft(sh(2), 1, 2)}, "do not broadcast"},
		{"Add", nil, []*tensor{x, it(sh(), 1)}, "operands are"},
		{"Reshape", nil, []*tensor{x, it(sh(1), 4)}, "cannot reshape"},
		{"Squeeze", attrs{"squeeze_dims": aInts(0)}, []*tensor{x}, "cannot squeeze"},
		{"GatherV2", nil, []*tensor{x, it(sh(1), 2), it(sh(), 0)}, "out of range"},
		{"GatherNd", nil, []*tensor{x, it(sh(1, 2), 0, 3)}, "out of range"},
		{"StridedSlice", attrs{"shrink_axis_mask": aInt(1)}, []*tensor{x, it(sh(1), 5), it(sh(1), 6), it(sh(1), 1)}, "out of range"},
		{"StridedSlice", nil, []*tensor{x, it(sh(1), 0), it(sh(1), 1), it(sh(1), 0)}, "stride 0"},
		{"MatMul", nil, []*tensor{x, x}, "cannot multiply"},
		{"Conv2D", nil, []*tensor{ft(sh(1, 2, 2, 1), 1, 2, 3, 4), ft(sh(2, 2, 1, 1), 1, 1, 1, 1)}, "1x1"},
		{"Conv2D", attrs{"strides": aInts(1, 2, 2, 1)}, []*tensor{ft(sh(1, 1, 1, 1), 1), ft(sh(1, 1, 1, 1), 1)}, "stride"},
		{"ConcatV2", nil, []*tensor{x, ft(sh(3, 3)), it(sh(), 1)}, "cannot concatenate"},
		{"SplitV", nil, []*tensor{x, it(sh(2), 1, 1), it(sh(), 1)}, "do not add up"},
		{"Softmax", nil, []*tensor{it(sh(1), 1)}, "softmax"},
		{"Add", nil, []*tensor{x}, "want 2 inputs"},
	} {
		if _, err := runOp(t, nil, tc.op, tc.at, tc.in...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: got error %v, want one containing %q", tc.op, tc.in[0].shape, err, tc.want)
		}
	}
}
