package embed

import (
	"math"
	"testing"
)

func def(name, op string, inputs ...string) nodeDef {
	return nodeDef{Name: name, Op: op, Input: inputs}
}

func withAttr(d nodeDef, key string, v attrValue) nodeDef {
	if d.Attr == nil {
		d.Attr = map[string]attrValue{}
	}
	d.Attr[key] = v
	return d
}

// layerNormDefs spells out layer normalization the way TensorFlow exports it.
func layerNormDefs(keep bool) []nodeDef {
	return []nodeDef{
		withAttr(def("x", "Placeholder"), "dtype", aType(1)),
		def("axes", "Const"), def("scale", "Const"), def("eps", "Const"), def("bias", "Const"),
		withAttr(def("mean", "Mean", "x", "axes"), "keep_dims", aBool(keep)),
		def("sub", "Sub", "x", "mean"),
		def("sq", "Square", "sub"),
		withAttr(def("var", "Mean", "sq", "axes"), "keep_dims", aBool(true)),
		def("add", "Add", "var", "eps"),
		def("rsqrt", "Rsqrt", "add"),
		def("mul", "Mul", "scale", "rsqrt"),
		def("mul1", "Mul", "mul", "sub"),
		def("out", "Add", "mul1", "bias"),
	}
}

func TestFuseLayerNorm(t *testing.T) {
	weights := map[string]*tensor{
		"axes":  it(sh(1), -1),
		"scale": ft(sh(4), 1, 2, 0.5, -1),
		"eps":   ft(sh(), 1e-6),
		"bias":  ft(sh(4), 0, 1, 2, 3),
	}
	x := ft(sh(2, 4), 1, 2, 3, 4, -3, 0, 5, 10)
	want := make([]float32, 8)
	for r := range 2 {
		row := x.f[r*4 : r*4+4]
		var mean, v float64
		for _, a := range row {
			mean += float64(a) / 4
		}
		for _, a := range row {
			v += (float64(a) - mean) * (float64(a) - mean) / 4
		}
		for j, a := range row {
			want[r*4+j] = float32((float64(a)-mean)/math.Sqrt(v+1e-6)*float64(weights["scale"].f[j])) + weights["bias"].f[j]
		}
	}
	for _, keep := range []bool{true, false} {
		g, err := compileGraph(layerNormDefs(keep), weights, "")
		if err != nil {
			t.Fatal(err)
		}
		fused := false
		for _, n := range g.nodes {
			fused = fused || n.op == "_FusedLayerNorm"
		}
		if fused != keep { // without keep_dims the pattern is not a layer norm
			t.Errorf("keep_dims=%v: fused=%v", keep, fused)
		}
		if !keep {
			continue
		}
		out, err := g.run(map[string]*tensor{"x": x})
		if err != nil {
			t.Fatal(err)
		}
		for k := range want {
			if math.Abs(float64(out.f[k]-want[k])) > 1e-5 {
				t.Errorf("out[%d] = %v, want %v", k, out.f[k], want[k])
			}
		}
	}
}

// TestFuseBias: in the tiny model, BiasAdd and Relu fold into the MatMul.
func TestFuseBias(t *testing.T) {
	dir, _, _ := tinyModel(t, false)
	g, err := loadGraphModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range g.nodes {
		if n.op == "MatMul" && (n.epilogue.bias == nil || !n.epilogue.relu) {
			t.Errorf("MatMul epilogue = bias %v, relu %v; want both folded in", n.epilogue.bias != nil, n.epilogue.relu)
		}
	}
	if _, err := passThrough(20)(nil, nil, []*tensor{ft(sh(2, 3))}); err == nil {
		t.Error("a fused BiasAdd accepted an input of another width")
	}
}
