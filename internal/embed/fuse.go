package embed

import (
	"fmt"
	"math"
	"slices"
)

// fuseBias folds a BiasAdd, and a Relu right after it, into the MatMul or
// Conv2D that feeds it (through Reshapes, as Tensordot builds them), so the
// GEMM kernel adds the bias while results are still in registers instead of
// two more passes over memory. A fused BiasAdd or Relu becomes a pass-through
// that checks, at run time, that its input still has the bias's width in the
// last dimension, which is what makes the fold valid after a Reshape.
func (g *graph) fuseBias() {
	consumers := make([][]int, len(g.nodes))
	for i, n := range g.nodes {
		for _, in := range n.in {
			consumers[in.node] = append(consumers[in.node], i)
		}
	}
	for i, n := range g.nodes {
		if n.op != "BiasAdd" || len(n.in) != 2 || n.attrString("data_format") == "NCHW" {
			continue
		}
		bias := g.nodes[n.in[1].node]
		if bias.op != "Const" || bias.value.dt != dtFloat || bias.value.rank() != 1 {
			continue
		}
		src := n.in[0].node
		for g.nodes[src].op == "Reshape" && len(consumers[src]) == 1 {
			src = g.nodes[src].in[0].node
		}
		mm := g.nodes[src]
		if (mm.op != "MatMul" && mm.op != "Conv2D") || mm.packed == nil || len(consumers[src]) != 1 ||
			mm.packed.n != bias.value.size() || mm.epilogue.bias != nil {
			continue
		}
		padded := make([]float32, (mm.packed.n+panelW-1)/panelW*panelW)
		copy(padded, bias.value.f)
		mm.epilogue.bias = padded
		n.fn, n.aliases = passThrough(mm.packed.n), true
		if cs := consumers[i]; len(cs) == 1 && g.nodes[cs[0]].op == "Relu" {
			mm.epilogue.relu = true
			g.nodes[cs[0]].fn, g.nodes[cs[0]].aliases = passThrough(mm.packed.n), true
		}
	}
}

func passThrough(width int) opFunc {
	return func(_ *scratch, _ *node, in []*tensor) ([]*tensor, error) {
		x := in[0]
		if x.rank() == 0 || x.shape[x.rank()-1] != width {
			return nil, fmt.Errorf("fused into the matrix product of width %d, but the input is %v", width, x.shape)
		}
		return one(x), nil
	}
}

// fuseLayerNorms rewrites each layer normalization that TensorFlow spelled
// out as nine ops,
//
//	mean = Mean(x, axes); d = Sub(x, mean); v = Mean(Square(d), axes)
//	y = Add(Mul(Mul(scale, Rsqrt(Add(v, eps))), d), bias)
//
// into one _FusedLayerNorm(x, axes, scale, eps, bias) op with y's name, which
// reads x once and writes y once. The ops in between stay in the graph for
// any other reader; with none, compileGraph never reaches them.
func fuseLayerNorms(defs []nodeDef) []nodeDef {
	byName := make(map[string]*nodeDef, len(defs))
	for k := range defs {
		byName[defs[k].Name] = &defs[k]
	}
	def := func(input, op string) *nodeDef {
		name, out := splitInput(input)
		d := byName[name]
		if d == nil || d.Op != op || out != 0 {
			return nil
		}
		return d
	}
	// either tries f with the two data inputs of d in both orders.
	either := func(d *nodeDef, f func(a, b string) bool) bool {
		return d != nil && len(d.Input) == 2 && (f(d.Input[0], d.Input[1]) || f(d.Input[1], d.Input[0]))
	}
	keepDims := func(d *nodeDef) bool { b := d.Attr["keep_dims"].B; return b != nil && *b }
	out := slices.Clone(defs)
	for k, root := range defs {
		if root.Op != "Add" && root.Op != "AddV2" {
			continue
		}
		var x, axes, scale, eps, bias string
		ok := either(&root, func(m1, b string) bool {
			bias = b
			return def(b, "Const") != nil && either(def(m1, "Mul"), func(m, s string) bool {
				sub := def(s, "Sub")
				return sub != nil && len(sub.Input) == 2 && either(def(m, "Mul"), func(sc, r string) bool {
					scale = sc
					rs := def(r, "Rsqrt")
					return def(sc, "Const") != nil && rs != nil && len(rs.Input) == 1 &&
						either(def(rs.Input[0], "Add"), func(v, e string) bool {
							eps = e
							mean1 := def(v, "Mean")
							if def(e, "Const") == nil || mean1 == nil || len(mean1.Input) != 2 || !keepDims(mean1) {
								return false
							}
							sq := def(mean1.Input[0], "Square")
							mean := def(sub.Input[1], "Mean")
							x, axes = sub.Input[0], mean1.Input[1]
							return sq != nil && len(sq.Input) == 1 && sq.Input[0] == s &&
								mean != nil && len(mean.Input) == 2 && keepDims(mean) &&
								mean.Input[0] == x && mean.Input[1] == axes && def(axes, "Const") != nil
						})
				})
			})
		})
		if ok {
			out[k] = nodeDef{Name: root.Name, Op: "_FusedLayerNorm", Input: []string{x, axes, scale, eps, bias}}
		}
	}
	return out
}

// opFusedLayerNorm normalizes the last axis: (x-mean)·scale/√(var+eps) + bias.
func opFusedLayerNorm(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 5, 5); err != nil {
		return nil, err
	}
	x, axes, scale, eps, bias := in[0], in[1], in[2], in[3], in[4]
	if x.dt != dtFloat || x.rank() == 0 {
		return nil, fmt.Errorf("layer norm of %s%v", x.dt, x.shape)
	}
	c := x.shape[x.rank()-1]
	if a, err := axes.scalarInt(); err != nil || (a != -1 && a != x.rank()-1) {
		return nil, fmt.Errorf("layer norm over axes %v of %v: only the last axis is supported", axes.i, x.shape)
	}
	if scale.dt != dtFloat || bias.dt != dtFloat || eps.dt != dtFloat || scale.size() != c || bias.size() != c || eps.size() != 1 {
		return nil, fmt.Errorf("layer norm of width %d with scale %v, bias %v, eps %v", c, scale.shape, bias.shape, eps.shape)
	}
	res := e.newTensor(dtFloat, x.shape)
	for o := 0; o+c <= len(x.f) && c > 0; o += c {
		row, dst := x.f[o:o+c], res.f[o:o+c]
		var sum, sq float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := sum / float64(c)
		for _, v := range row {
			d := float64(v) - mean
			sq += d * d
		}
		r := 1 / math.Sqrt(sq/float64(c)+float64(eps.f[0]))
		for j, v := range row {
			dst[j] = float32((float64(v)-mean)*float64(scale.f[j])*r) + bias.f[j]
		}
	}
	return one(res), nil
}
