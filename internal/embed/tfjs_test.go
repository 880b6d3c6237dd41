package embed

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyModel writes a TF.js graph model computing relu(x·w + b), with w 3×20
// and b 20 wide, its weights split over two shards; quantize stores w as
// uint8 with min/scale, as the TF.js converter's --quantize_uint8 does.
func tinyModel(t *testing.T, quantize bool) (dir string, w, b []float32) {
	t.Helper()
	dir = t.TempDir()
	w = make([]float32, 3*20)
	for k := range w {
		w[k] = float32(k%7)*0.25 - 0.5 // multiples of 0.25: exact after uint8 quantization
	}
	b = make([]float32, 20)
	for k := range b {
		b[k] = float32(k) - 10
	}
	var buf []byte
	wSpec := map[string]any{"name": "w", "shape": []int{3, 20}, "dtype": "float32"}
	if quantize {
		wSpec["quantization"] = map[string]any{"dtype": "uint8", "min": -0.5, "scale": 0.25}
		for _, v := range w {
			buf = append(buf, byte(math.Round(float64(v+0.5)/0.25)))
		}
	} else {
		for _, v := range w {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	for _, v := range b {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	half := len(buf) / 2
	writeFile(t, filepath.Join(dir, "group1-shard1of2"), buf[:half])
	writeFile(t, filepath.Join(dir, "group1-shard2of2"), buf[half:])
	float := map[string]any{"type": 1}
	model := map[string]any{
		"format": "graph-model",
		"modelTopology": map[string]any{"node": []map[string]any{
			{"name": "x", "op": "Placeholder", "attr": map[string]any{"dtype": float}},
			{"name": "w", "op": "Const", "attr": map[string]any{"dtype": float}},
			{"name": "b", "op": "Const", "attr": map[string]any{"dtype": float}},
			{"name": "mm", "op": "MatMul", "input": []string{"x", "w"}, "attr": map[string]any{"transpose_a": map[string]any{"b": false}}},
			{"name": "ba", "op": "BiasAdd", "input": []string{"mm", "b", "^x"}, "attr": map[string]any{"data_format": map[string]any{"s": "TkhXQw=="}}},
			{"name": "out", "op": "Relu", "input": []string{"ba"}},
		}},
		"weightsManifest": []map[string]any{{
			"paths":   []string{"group1-shard1of2", "group1-shard2of2"},
			"weights": []map[string]any{wSpec, {"name": "b", "shape": []int{20}, "dtype": "float32"}},
		}},
	}
	raw, err := json.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "model.json"), raw)
	return dir, w, b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadGraphModel(t *testing.T) {
	for _, quantize := range []bool{false, true} {
		dir, w, b := tinyModel(t, quantize)
		g, err := loadGraphModel(dir)
		if err != nil {
			t.Fatalf("quantize=%v: %v", quantize, err)
		}
		x := []float32{1, -2, 0.5, 3, 0, -1}
		out, err := g.run(map[string]*tensor{"x": floatTensor([]int{2, 3}, x)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.shape) != 2 || out.shape[0] != 2 || out.shape[1] != 20 {
			t.Fatalf("output shape %v, want [2 20]", out.shape)
		}
		for i := range 2 {
			for j := range 20 {
				want := b[j]
				for k := range 3 {
					want += x[i*3+k] * w[k*20+j]
				}
				want = max(want, 0)
				if got := out.f[i*20+j]; math.Abs(float64(got-want)) > 1e-5 {
					t.Errorf("quantize=%v: out[%d][%d] = %v, want %v", quantize, i, j, got, want)
				}
			}
		}
		if _, err := g.run(map[string]*tensor{}); err == nil || !strings.Contains(err.Error(), `"x"`) {
			t.Errorf("run without its input: got %v", err)
		}
		if _, err := g.run(map[string]*tensor{"x": intTensor([]int{1}, []int32{1})}); err == nil {
			t.Error("run with an int input for a float placeholder succeeded")
		}
		// A tensor whose data is shorter than its shape makes an op panic; run
		// turns that into an error naming the op.
		if _, err := g.run(map[string]*tensor{"x": floatTensor([]int{2, 3}, x[:3])}); !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), `MatMul "mm"`) {
			t.Errorf("run with a short tensor: got %v, want ErrBadModel naming the MatMul", err)
		}
	}
}

func TestLoadGraphModelErrors(t *testing.T) {
	edit := func(t *testing.T, dir string, f func(m map[string]any)) {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(dir, "model.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		raw, _ = json.Marshal(m)
		writeFile(t, filepath.Join(dir, "model.json"), raw)
	}
	nodes := func(m map[string]any) []any { return m["modelTopology"].(map[string]any)["node"].([]any) }
	manifest := func(m map[string]any) map[string]any { return m["weightsManifest"].([]any)[0].(map[string]any) }
	for _, tc := range []struct {
		name     string
		breakIt  func(t *testing.T, dir string)
		want     error
		contains string
	}{
		{"no model.json", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "model.json")) }, ErrModelMissing, "model.json does not exist"},
		{"malformed JSON", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "model.json"), []byte(`{"modelTopology": [`))
		}, ErrBadModel, "model.json"},
		{"no nodes", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "model.json"), []byte(`{"weightsManifest": []}`))
		}, ErrBadModel, "no modelTopology.node"},
		{"missing shard", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "group1-shard2of2")) }, ErrModelMissing, "group1-shard2of2 is missing"},
		{"short shard", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "group1-shard2of2"), []byte{1, 2, 3}) }, ErrBadModel, "manifest describes"},
		{"long shard", func(t *testing.T, dir string) {
			f, _ := os.OpenFile(filepath.Join(dir, "group1-shard1of2"), os.O_APPEND|os.O_WRONLY, 0)
			f.Write([]byte{0})
			f.Close()
		}, ErrBadModel, "manifest describes"},
		{"shard outside the folder", func(t *testing.T, dir string) {
			edit(t, dir, func(m map[string]any) { manifest(m)["paths"] = []string{"../etc/passwd"} })
		}, ErrBadModel, "leaves the model folder"},
		{"unsupported dtype", func(t *testing.T, dir string) {
			edit(t, dir, func(m map[string]any) { manifest(m)["weights"].([]any)[1].(map[string]any)["dtype"] = "complex64" })
		}, ErrBadModel, `unsupported dtype "complex64"`},
		{"unsupported op", func(t *testing.T, dir string) {
			edit(t, dir, func(m map[string]any) { nodes(m)[5].(map[string]any)["op"] = "Erfinv" })
		}, ErrBadModel, "op Erfinv"},
		{"const without weights", func(t *testing.T, dir string) {
			edit(t, dir, func(m map[string]any) { manifest(m)["weights"].([]any)[1].(map[string]any)["name"] = "b2" })
		}, ErrBadModel, "no entry in the weights manifest"},
		{"dangling input", func(t *testing.T, dir string) {
			edit(t, dir, func(m map[string]any) { nodes(m)[3].(map[string]any)["input"] = []string{"x", "nope"} })
		}, ErrBadModel, `reads "nope"`},
		{"cycle", func(t *testing.T, dir string) {
			edit(t, dir, func(m map[string]any) { nodes(m)[3].(map[string]any)["input"] = []string{"ba", "w"} })
		}, ErrBadModel, "cycle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _, _ := tinyModel(t, false)
			tc.breakIt(t, dir)
			_, err := loadGraphModel(dir)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("got %v, want %v containing %q", err, tc.want, tc.contains)
			}
		})
	}
}

// TestLoadUSELiteErrors: a graph model that is not the sentence encoder, or
// a folder without files, fails with an error naming the cause.
func TestLoadUSELiteErrors(t *testing.T) {
	if _, err := LoadUSELite(t.TempDir()); !errors.Is(err, ErrModelMissing) || !strings.Contains(err.Error(), "scripts/assets.sh") {
		t.Errorf("empty folder: got %v, want ErrModelMissing naming scripts/assets.sh", err)
	}
	dir, _, _ := tinyModel(t, false)
	if _, err := LoadUSELite(dir); !errors.Is(err, ErrBadModel) || !strings.Contains(err.Error(), `"indices"`) {
		t.Errorf("tiny model: got %v, want ErrBadModel about the indices input", err)
	}
}

func TestHalfToFloat(t *testing.T) {
	for h, want := range map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x3555: 0.33325195, 0x7bff: 65504,
		0x0001: 5.9604645e-08, 0x03ff: 6.097555e-05, 0x7c00: float32(math.Inf(1)),
	} {
		if got := halfToFloat(h); got != want {
			t.Errorf("halfToFloat(%#04x) = %v, want %v", h, got, want)
		}
	}
}
