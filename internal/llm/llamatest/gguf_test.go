package llamatest

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func stringArrayKV(key string, vals ...string) KV {
	raw := binary.LittleEndian.AppendUint32(nil, uint32(TypeString))
	raw = binary.LittleEndian.AppendUint64(raw, uint64(len(vals)))
	for _, v := range vals {
		raw = appendString(raw, v)
	}
	return KV{Key: key, Type: TypeArray, Raw: raw}
}

func TestWriteReadRoundTrip(t *testing.T) {
	kvs := []KV{StringKV("general.architecture", "llama"), Uint32KV("n", 7), Float32KV("eps", 0.5),
		stringArrayKV("tokenizer.ggml.tokens", "<s>", "a", "bé")}
	tensors := []Tensor{
		{Name: "odd", Dims: []uint64{3}, Data: []float32{1, 2, 3}}, // 12 bytes: the next one must start at 32
		{Name: "m", Dims: []uint64{2, 2}, Data: []float32{-1, 0.25, 4, 8}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, kvs, tensors); err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 || len(f.KVs) != 4 || len(f.Tensors) != 2 {
		t.Fatalf("read back version %d, %d pairs, %d tensors", f.Version, len(f.KVs), len(f.Tensors))
	}
	if a, _ := f.Get("general.architecture"); a.String() != "llama" {
		t.Errorf("architecture = %q", a.String())
	}
	if n, _ := f.Get("n"); func() uint32 { v, _ := n.Uint32(); return v }() != 7 {
		t.Errorf("n = %v", n)
	}
	if tok, _ := f.Get("tokenizer.ggml.tokens"); tok.ArrayLen() != 3 || !bytes.Equal(tok.Raw, kvs[3].Raw) {
		t.Errorf("tokens came back as %d elements, raw equal %v", tok.ArrayLen(), bytes.Equal(tok.Raw, kvs[3].Raw))
	}
	if f.Tensors[0].Offset != 0 || f.Tensors[1].Offset != 32 {
		t.Errorf("offsets %d, %d; want 0, 32 (aligned)", f.Tensors[0].Offset, f.Tensors[1].Offset)
	}
	// The data section starts at the aligned end of the header, and holds
	// the second tensor's values at its offset.
	data := buf.Len() - 64
	if data%ggufAlignment != 0 {
		t.Fatalf("data section starts at %d, not aligned to %d", data, ggufAlignment)
	}
	got := math.Float32frombits(binary.LittleEndian.Uint32(buf.Bytes()[data+32+4:]))
	if got != 0.25 {
		t.Errorf("m[1] = %v, want 0.25", got)
	}
}

func TestWriteRejectsWrongShape(t *testing.T) {
	err := Write(&bytes.Buffer{}, nil, []Tensor{{Name: "x", Dims: []uint64{2, 3}, Data: make([]float32, 5)}})
	if err == nil {
		t.Fatal("a 2×3 tensor with 5 values was written")
	}
}

func TestReadRejectsOtherFiles(t *testing.T) {
	for name, in := range map[string][]byte{
		"not gguf":  []byte("PK\x03\x04 a zip file"),
		"truncated": []byte("GGUF\x03\x00\x00\x00\x01"),
	} {
		if _, err := Read(bytes.NewReader(in)); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
}

// TestWriteModelShape writes a model from a small synthetic vocabulary and
// checks what llama.cpp's llama loader requires: the hyperparameters, the
// tokenizer copied verbatim, and every tensor with ggml's dimension order.
func TestWriteModelShape(t *testing.T) {
	dir := t.TempDir()
	vocab := filepath.Join(dir, "vocab.gguf")
	vf, err := os.Create(vocab)
	if err != nil {
		t.Fatal(err)
	}
	toks := stringArrayKV("tokenizer.ggml.tokens", "<unk>", "<s>", "</s>", "▁hi", "▁there")
	if err := Write(vf, []KV{StringKV("general.architecture", "llama"), StringKV("tokenizer.ggml.model", "llama"), toks}, nil); err != nil {
		t.Fatal(err)
	}
	vf.Close()

	path := filepath.Join(dir, "m.gguf")
	nv, err := WriteModel(path, ModelOptions{Vocab: vocab, Embd: 8, Heads: 2, FF: 16, Layers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if nv != 5 {
		t.Errorf("vocabulary of %d tokens, want 5", nv)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]uint32{"llama.embedding_length": 8, "llama.block_count": 1,
		"llama.attention.head_count": 2, "llama.rope.dimension_count": 4, "llama.vocab_size": 5} {
		kv, _ := f.Get(key)
		if v, ok := kv.Uint32(); !ok || v != want {
			t.Errorf("%s = %v (%v), want %d", key, v, ok, want)
		}
	}
	if kv, _ := f.Get("tokenizer.ggml.tokens"); !bytes.Equal(kv.Raw, toks.Raw) {
		t.Error("the tokens were not copied verbatim")
	}
	if kv, _ := f.Get("general.architecture"); kv.String() != "llama" {
		t.Errorf("architecture %q", kv.String())
	}
	dims := map[string][]uint64{}
	for _, ti := range f.Tensors {
		dims[ti.Name] = ti.Dims
		if ti.Offset%ggufAlignment != 0 {
			t.Errorf("%s at unaligned offset %d", ti.Name, ti.Offset)
		}
	}
	for name, want := range map[string][]uint64{
		"token_embd.weight": {8, 5}, "output_norm.weight": {8}, "blk.0.attn_q.weight": {8, 8},
		"blk.0.ffn_gate.weight": {8, 16}, "blk.0.ffn_down.weight": {16, 8}, "blk.0.ffn_norm.weight": {8},
	} {
		if got := dims[name]; len(got) != len(want) || got[0] != want[0] || (len(got) > 1 && got[1] != want[1]) {
			t.Errorf("%s dims %v, want %v", name, got, want)
		}
	}
	if len(f.Tensors) != 2+9 {
		t.Errorf("%d tensors, want 11 for one block", len(f.Tensors))
	}

	if _, err := WriteModel(filepath.Join(dir, "bad.gguf"), ModelOptions{Vocab: vocab, Embd: 10, Heads: 4}); err == nil {
		t.Error("an embedding width that heads do not divide was accepted")
	}
}
