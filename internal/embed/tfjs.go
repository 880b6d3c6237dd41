package embed

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
)

// This file reads the TF.js graph-model format: model.json holds the
// TensorFlow GraphDef as JSON (modelTopology) and a weightsManifest naming the
// binary shards, which hold every Const node's value back to back.

type tfjsModel struct {
	ModelTopology struct {
		Node []nodeDef `json:"node"`
	} `json:"modelTopology"`
	WeightsManifest []weightGroup `json:"weightsManifest"`
}

type nodeDef struct {
	Name  string               `json:"name"`
	Op    string               `json:"op"`
	Input []string             `json:"input"`
	Attr  map[string]attrValue `json:"attr"`
}

type weightGroup struct {
	Paths   []string     `json:"paths"`
	Weights []weightSpec `json:"weights"`
}

type weightSpec struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	Dtype        string        `json:"dtype"`
	Quantization *quantization `json:"quantization"`
}

// quantization is TF.js's weight compression: value = q*scale + min for
// uint8/uint16, or IEEE half floats for float16.
type quantization struct {
	Dtype string  `json:"dtype"`
	Min   float64 `json:"min"`
	Scale float64 `json:"scale"`
}

// attrValue is a GraphDef AttrValue as the TF.js converter writes it.
type attrValue struct {
	I    *jsonInt        `json:"i"`
	F    *float64        `json:"f"`
	B    *bool           `json:"b"`
	S    jsonBytes       `json:"s"`
	Type json.RawMessage `json:"type"`
	List *struct {
		I []jsonInt `json:"i"`
	} `json:"list"`
}

// jsonInt accepts protobuf's JSON int64 form ("2") and plain numbers.
type jsonInt int64

func (v *jsonInt) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		n, err := strconv.ParseInt(s, 10, 64)
		*v = jsonInt(n)
		return err
	}
	var n int64
	err := json.Unmarshal(b, &n)
	*v = jsonInt(n)
	return err
}

// jsonBytes accepts a base64 string (protobuf JSON) or an array of byte values.
type jsonBytes []byte

func (v *jsonBytes) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		d, err := base64.StdEncoding.DecodeString(s)
		*v = d
		return err
	}
	var arr []byte
	var ints []int
	if err := json.Unmarshal(b, &ints); err != nil {
		return err
	}
	for _, n := range ints {
		arr = append(arr, byte(n))
	}
	*v = arr
	return nil
}

func (a attrValue) dtype() (int64, bool) {
	var n int64
	if json.Unmarshal(a.Type, &n) == nil {
		return n, true
	}
	var s string
	if json.Unmarshal(a.Type, &s) == nil {
		switch s {
		case "DT_FLOAT":
			return 1, true
		case "DT_INT32":
			return 3, true
		case "DT_INT64":
			return 9, true
		case "DT_BOOL":
			return 10, true
		}
	}
	return 0, false
}

// loadGraphModel reads a TF.js graph model (model.json and its shards) from
// dir and compiles it.
func loadGraphModel(dir string) (*graph, error) {
	m, err := readModelJSON(dir)
	if err != nil {
		return nil, err
	}
	weights, err := loadWeights(dir, m.WeightsManifest)
	if err != nil {
		return nil, err
	}
	return compileGraph(m.ModelTopology.Node, weights, "")
}

// readModelJSON parses dir/model.json.
func readModelJSON(dir string) (*tfjsModel, error) {
	path := filepath.Join(dir, "model.json")
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrModelMissing, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var m tfjsModel
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadModel, path, err)
	}
	if len(m.ModelTopology.Node) == 0 {
		return nil, fmt.Errorf("%w: %s has no modelTopology.node list (not a TF.js graph model?)", ErrBadModel, path)
	}
	return &m, nil
}

// loadWeights reads every shard group named by the manifest and decodes the
// weights into tensors keyed by node name.
func loadWeights(dir string, groups []weightGroup) (map[string]*tensor, error) {
	out := make(map[string]*tensor)
	for g, group := range groups {
		var buf []byte
		for _, p := range group.Paths {
			if !filepath.IsLocal(p) {
				return nil, fmt.Errorf("%w: weight shard path %q leaves the model folder", ErrBadModel, p)
			}
			b, err := os.ReadFile(filepath.Join(dir, p))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%w: weight shard %s is missing from %s", ErrModelMissing, p, dir)
			}
			if err != nil {
				return nil, fmt.Errorf("read weight shard: %w", err)
			}
			buf = append(buf, b...)
		}
		want := 0
		for _, w := range group.Weights {
			n, err := specBytes(w)
			if err != nil {
				return nil, err
			}
			want += n
		}
		if want != len(buf) {
			return nil, fmt.Errorf("%w: weight group %d (%v) holds %d bytes, but its manifest describes %d", ErrBadModel, g, group.Paths, len(buf), want)
		}
		off := 0
		for _, w := range group.Weights {
			n, _ := specBytes(w)
			t, err := decodeWeight(w, buf[off:off+n])
			if err != nil {
				return nil, err
			}
			out[w.Name] = t
			off += n
		}
	}
	return out, nil
}

func elemBytes(dt string) (int, bool) {
	switch dt {
	case "float32", "int32":
		return 4, true
	case "uint16", "float16":
		return 2, true
	case "uint8", "bool":
		return 1, true
	}
	return 0, false
}

func specBytes(w weightSpec) (int, error) {
	for _, d := range w.Shape {
		if d < 0 {
			return 0, fmt.Errorf("%w: weight %q has negative shape %v", ErrBadModel, w.Name, w.Shape)
		}
	}
	dt := w.Dtype
	if w.Quantization != nil {
		dt = w.Quantization.Dtype
	}
	size, ok := elemBytes(dt)
	if !ok {
		return 0, fmt.Errorf("%w: weight %q has unsupported dtype %q", ErrBadModel, w.Name, dt)
	}
	return numel(w.Shape) * size, nil
}

func decodeWeight(w weightSpec, b []byte) (*tensor, error) {
	n := numel(w.Shape)
	var vals []float64 // dequantized values, when quantized
	if q := w.Quantization; q != nil {
		vals = make([]float64, n)
		for k := range vals {
			switch q.Dtype {
			case "uint8":
				vals[k] = float64(b[k])*q.Scale + q.Min
			case "uint16":
				vals[k] = float64(binary.LittleEndian.Uint16(b[2*k:]))*q.Scale + q.Min
			case "float16":
				vals[k] = float64(halfToFloat(binary.LittleEndian.Uint16(b[2*k:])))
			default:
				return nil, fmt.Errorf("%w: weight %q uses unsupported quantization %q", ErrBadModel, w.Name, q.Dtype)
			}
		}
	}
	switch w.Dtype {
	case "float32":
		t := newTensor(dtFloat, w.Shape)
		for k := range t.f {
			if vals != nil {
				t.f[k] = float32(vals[k])
			} else {
				t.f[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*k:]))
			}
		}
		return t, nil
	case "int32":
		t := newTensor(dtInt, w.Shape)
		for k := range t.i {
			if vals != nil {
				t.i[k] = int32(math.Round(vals[k]))
			} else {
				t.i[k] = int32(binary.LittleEndian.Uint32(b[4*k:]))
			}
		}
		return t, nil
	case "bool":
		t := newTensor(dtBool, w.Shape)
		for k := range t.b {
			t.b[k] = b[k] != 0
		}
		return t, nil
	}
	return nil, fmt.Errorf("%w: weight %q has unsupported dtype %q", ErrBadModel, w.Name, w.Dtype)
}

// halfToFloat converts an IEEE 754 binary16 value to float32.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: renormalize
		e := uint32(127 - 15 + 1)
		for frac&0x400 == 0 {
			frac <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
