package embed

import (
	"fmt"
	"strconv"
	"strings"
)

// graph is a compiled TF.js GraphDef: the nodes the output depends on, in an
// order where every node comes after its inputs. Runs share nothing but a
// pool of scratch memory, so one graph serves concurrent callers.
type graph struct {
	nodes  []*node
	feeds  map[string]int // placeholder name -> index in nodes
	output ref
	free   chan *scratch // memory of finished runs, for the next ones
	// root[i] is the node whose buffer node i's output may share (itself,
	// unless node i may return a view of its first input); dies[i] lists the
	// roots whose buffers nothing reads after node i.
	root []int
	dies [][]int
}

// keepScratch is how many runs' memory a graph keeps for reuse.
const keepScratch = 4

// ref names one output of a node, by the node's index in graph.nodes.
type ref struct{ node, out int }

type opFunc func(e *scratch, n *node, in []*tensor) ([]*tensor, error)

type node struct {
	name   string
	op     string
	inputs []string // GraphDef input names, control inputs removed
	in     []ref
	attr   map[string]attrValue
	fn     opFunc
	// aliases: the output may be (a view of) the first input's data.
	aliases bool
	value   *tensor  // Const
	dtype   dtype    // Placeholder
	packed  *packedB // MatMul/Conv2D whose right operand is a Const, packed once at load
	// epilogue is a BiasAdd (and Relu) folded into this MatMul/Conv2D by fuseBias.
	epilogue epilogue
}

// compileGraph orders the nodes that the output depends on, binds Const
// nodes to their weights and each op to its implementation. With output ""
// the output is the one node that nothing consumes.
func compileGraph(defs []nodeDef, weights map[string]*tensor, output string) (*graph, error) {
	if output == "" {
		var err error
		if output, err = soleOutput(defs); err != nil {
			return nil, err
		}
	}
	defs = fuseLayerNorms(defs)
	byName := make(map[string]*node, len(defs))
	for _, d := range defs {
		if _, dup := byName[d.Name]; dup {
			return nil, fmt.Errorf("%w: two nodes are named %q", ErrBadModel, d.Name)
		}
		n := &node{name: d.Name, op: d.Op, attr: d.Attr}
		for _, in := range d.Input {
			if !strings.HasPrefix(in, "^") { // a control dependency carries no data
				n.inputs = append(n.inputs, in)
			}
		}
		byName[d.Name] = n
	}
	g := &graph{feeds: make(map[string]int), free: make(chan *scratch, keepScratch)}
	index := make(map[*node]int)
	const visiting = -1
	var visit func(n *node) error
	visit = func(n *node) error {
		switch i, seen := index[n]; {
		case seen && i == visiting:
			return fmt.Errorf("%w: graph has a cycle through %q", ErrBadModel, n.name)
		case seen:
			return nil
		}
		index[n] = visiting
		for _, in := range n.inputs {
			name, out := splitInput(in)
			src, ok := byName[name]
			if !ok {
				return fmt.Errorf("%w: node %q reads %q, which does not exist", ErrBadModel, n.name, in)
			}
			if err := visit(src); err != nil {
				return err
			}
			n.in = append(n.in, ref{index[src], out})
		}
		if err := bindNode(n, weights); err != nil {
			return err
		}
		index[n] = len(g.nodes)
		if n.op == "Placeholder" {
			g.feeds[n.name] = len(g.nodes)
		}
		g.nodes = append(g.nodes, n)
		return nil
	}
	outName, outIdx := splitInput(output)
	root, ok := byName[outName]
	if !ok {
		return nil, fmt.Errorf("%w: output node %q does not exist", ErrBadModel, output)
	}
	if err := visit(root); err != nil {
		return nil, err
	}
	g.output = ref{index[root], outIdx}
	g.packConstants()
	g.fuseBias()
	g.planLifetimes()
	return g, nil
}

// soleOutput names the one node that no other node reads.
func soleOutput(defs []nodeDef) (string, error) {
	consumed := make(map[string]bool)
	for _, d := range defs {
		for _, in := range d.Input {
			name, _ := splitInput(strings.TrimPrefix(in, "^"))
			consumed[name] = true
		}
	}
	output := ""
	for _, d := range defs {
		if consumed[d.Name] || d.Op == "Const" || d.Op == "Placeholder" || d.Op == "NoOp" {
			continue
		}
		if output != "" {
			return "", fmt.Errorf("%w: graph has several outputs (%q and %q)", ErrBadModel, output, d.Name)
		}
		output = d.Name
	}
	if output == "" {
		return "", fmt.Errorf("%w: graph has no output node", ErrBadModel)
	}
	return output, nil
}

// splitInput splits "name:1" into ("name", 1); a bare name is output 0.
func splitInput(s string) (string, int) {
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		if k, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i], k
		}
	}
	return s, 0
}

func bindNode(n *node, weights map[string]*tensor) error {
	switch n.op {
	case "Const":
		v, ok := weights[n.name]
		if !ok {
			return fmt.Errorf("%w: Const %q has no entry in the weights manifest", ErrBadModel, n.name)
		}
		n.value = v
		return nil
	case "Placeholder":
		tf, ok := n.attr["dtype"].dtype()
		dt, known := dtypeFromTF(tf)
		if !ok || !known {
			return fmt.Errorf("%w: Placeholder %q has unsupported dtype %d", ErrBadModel, n.name, tf)
		}
		n.dtype = dt
		return nil
	}
	switch n.op {
	case "Reshape", "ExpandDims", "Squeeze", "Identity", "StopGradient", "Snapshot", "Cast",
		"Sum", "Mean", "Max", "Min", "Prod": // Cast to the same type and reducing no axes return the input
		n.aliases = true
	}
	fn := opFor(n.op)
	if fn == nil {
		return fmt.Errorf("%w: node %q uses op %s, which this interpreter does not implement", ErrBadModel, n.name, n.op)
	}
	n.fn = fn
	return nil
}

// packConstants lays out constant right-hand matrices of MatMul and Conv2D in
// the GEMM kernel's panel order once, as half floats where every value fits
// (see packedB), and drops a weight's plain copy when nothing else reads it.
func (g *graph) packConstants() {
	plainUse := make(map[int]bool)
	for _, n := range g.nodes {
		for k, in := range n.in {
			src := g.nodes[in.node]
			if k == 1 && src.op == "Const" && src.value.dt == dtFloat && n.packable(src.value) {
				kk, nn := src.value.shape[src.value.rank()-2], src.value.shape[src.value.rank()-1]
				n.packed = packB(nil, src.value.f, kk, nn, false).toHalf()
				continue
			}
			plainUse[in.node] = true
		}
	}
	for i, n := range g.nodes {
		if n.op == "Const" && !plainUse[i] && g.output.node != i {
			n.value = &tensor{dt: n.value.dt, shape: n.value.shape} // shape only: the data lives in the packed copy
		}
	}
}

// planLifetimes finds, for each buffer, the last node that reads it or any
// view of it, so that run can hand it back right after.
func (g *graph) planLifetimes() {
	g.root = make([]int, len(g.nodes))
	last := make([]int, len(g.nodes))
	for i, n := range g.nodes {
		g.root[i], last[i] = i, i
		if n.aliases && len(n.in) > 0 {
			g.root[i] = g.root[n.in[0].node]
		}
		for _, in := range n.in {
			r := g.root[in.node]
			last[r] = max(last[r], i)
		}
	}
	last[g.root[g.output.node]] = len(g.nodes) // the output outlives the run
	g.dies = make([][]int, len(g.nodes))
	for r, at := range last {
		if g.root[r] == r && at < len(g.nodes) {
			g.dies[at] = append(g.dies[at], r)
		}
	}
}

func (n *node) packable(b *tensor) bool {
	switch n.op {
	case "MatMul":
		return b.rank() == 2 && !n.attrBool("transpose_a") && !n.attrBool("transpose_b")
	case "Conv2D":
		return b.rank() == 4 && b.shape[0] == 1 && b.shape[1] == 1
	}
	return false
}

// run executes the graph with the given placeholder values. A panic inside
// an op (a graph whose shapes slipped past the checks) becomes an error.
func (g *graph) run(feeds map[string]*tensor) (_ *tensor, err error) {
	var e *scratch
	select {
	case e = <-g.free:
	default:
		e = new(scratch)
	}
	cur := -1
	defer func() {
		if r := recover(); r != nil {
			n := g.nodes[max(cur, 0)]
			err = fmt.Errorf("%w: %s %q failed: %v", ErrBadModel, n.op, n.name, r)
			return // and drop e, whatever state it is in
		}
		e.reset()
		select {
		case g.free <- e:
		default: // as many as keepScratch runs in parallel already keep theirs
		}
	}()
	vals := make([][]*tensor, len(g.nodes))
	for name := range feeds {
		if _, ok := g.feeds[name]; !ok {
			return nil, fmt.Errorf("graph has no input named %q", name)
		}
	}
	for i, n := range g.nodes {
		switch n.op {
		case "Const":
			vals[i] = []*tensor{n.value}
			continue
		case "Placeholder":
			t, ok := feeds[n.name]
			if !ok {
				return nil, fmt.Errorf("graph input %q was not given", n.name)
			}
			if t.dt != n.dtype {
				return nil, fmt.Errorf("graph input %q: got %s, want %s", n.name, t.dt, n.dtype)
			}
			vals[i] = []*tensor{t}
			continue
		}
		in := make([]*tensor, len(n.in))
		for k, r := range n.in {
			if r.out >= len(vals[r.node]) {
				return nil, fmt.Errorf("%s %q: input %q has no output %d", n.op, n.name, g.nodes[r.node].name, r.out)
			}
			in[k] = vals[r.node][r.out]
		}
		cur = i
		out, err := n.fn(e, n, in)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", n.op, n.name, err)
		}
		vals[i] = out
		e.settle(len(g.nodes), g.root[i], out)
		for _, r := range g.dies[i] {
			e.die(r)
		}
	}
	if g.output.out >= len(vals[g.output.node]) {
		return nil, fmt.Errorf("graph output %q has no output %d", g.nodes[g.output.node].name, g.output.out)
	}
	return vals[g.output.node][g.output.out].clone(), nil
}

func (n *node) attrBool(name string) bool {
	a, ok := n.attr[name]
	return ok && a.B != nil && *a.B
}

func (n *node) attrInt(name string, def int) int {
	if a, ok := n.attr[name]; ok && a.I != nil {
		return int(*a.I)
	}
	return def
}

func (n *node) attrInts(name string) []int {
	a, ok := n.attr[name]
	if !ok || a.List == nil {
		return nil
	}
	out := make([]int, len(a.List.I))
	for k, v := range a.List.I {
		out[k] = int(v)
	}
	return out
}

func (n *node) attrString(name string) string {
	return string(n.attr[name].S)
}

// wantInputs checks the input count of an op.
func wantInputs(in []*tensor, min, max int) error {
	if len(in) < min || len(in) > max {
		if min == max {
			return fmt.Errorf("want %d inputs, got %d", min, len(in))
		}
		return fmt.Errorf("want %d to %d inputs, got %d", min, max, len(in))
	}
	return nil
}

func one(t *tensor) []*tensor { return []*tensor{t} }

// opFor returns the implementation of a TensorFlow op, or nil.
func opFor(op string) opFunc {
	switch op {
	case "Identity", "StopGradient", "Snapshot":
		return opIdentity
	case "Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum",
		"Less", "LessEqual", "Greater", "GreaterEqual", "Equal", "NotEqual":
		return opBinary
	case "Sin", "Cos", "Square", "Sqrt", "Rsqrt", "Exp", "Neg", "Relu", "Tanh", "Sigmoid":
		return opUnary
	case "LogicalNot":
		return opLogicalNot
	case "Cast":
		return opCast
	case "Sum", "Mean", "Max", "Min", "Prod":
		return opReduce
	case "Softmax":
		return opSoftmax
	case "Shape":
		return opShape
	case "Reshape":
		return opReshape
	case "ExpandDims":
		return opExpandDims
	case "Squeeze":
		return opSqueeze
	case "StridedSlice":
		return opStridedSlice
	case "Slice":
		return opSlice
	case "ConcatV2":
		return opConcat
	case "Pack":
		return opPack
	case "SplitV":
		return opSplitV
	case "Transpose":
		return opTranspose
	case "GatherV2":
		return opGather
	case "GatherNd":
		return opGatherNd
	case "ScatterNd":
		return opScatterNd
	case "SparseToDense":
		return opSparseToDense
	case "Where":
		return opWhere
	case "Range":
		return opRange
	case "MatMul":
		return opMatMul
	case "BatchMatMul", "BatchMatMulV2":
		return opBatchMatMul
	case "Conv2D":
		return opConv2D
	case "BiasAdd":
		return opBiasAdd
	case "_FusedLayerNorm":
		return opFusedLayerNorm
	}
	return nil
}

func opIdentity(e *scratch, _ *node, in []*tensor) ([]*tensor, error) {
	if err := wantInputs(in, 1, 1); err != nil {
		return nil, err
	}
	return one(in[0]), nil
}
