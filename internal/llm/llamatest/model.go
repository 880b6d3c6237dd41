package llamatest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// ModelOptions shapes a tiny llama-architecture model. Zero fields take the
// defaults in brackets: small enough to write and load in well under a second.
type ModelOptions struct {
	// Vocab is a vocab-only GGUF (llama.cpp's models/ggml-vocab-*.gguf) whose
	// tokenizer.* pairs the model takes: a real tokenizer, so the server
	// tokenizes prompts and renders its chat template as it would for a real model.
	Vocab      string
	Embd       int    // embedding width [64]
	Layers     int    // transformer blocks [2]
	Heads      int    // attention heads [4]; KV heads are the same
	FF         int    // feed-forward width [128]
	TrainCtx   int    // llama.context_length, the longest context the model claims [4096]
	Seed       uint64 // weights' seed [1]
	Name       string // general.name ["os1 tiny random"]
	ChatFormat string // a Jinja chat template for tokenizer.chat_template; "" keeps the vocab's (if any)
}

func (o *ModelOptions) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Embd, 64)
	def(&o.Layers, 2)
	def(&o.Heads, 4)
	def(&o.FF, 128)
	def(&o.TrainCtx, 4096)
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.Name == "" {
		o.Name = "os1 tiny random"
	}
}

// WriteModel writes a llama-architecture GGUF with random F32 weights and
// the real vocabulary of opt.Vocab to path. It answers in gibberish, but
// every request goes through llama-server's real tokenizer, chat template,
// context accounting and sampler. It returns the vocabulary's size.
func WriteModel(path string, opt ModelOptions) (int, error) {
	opt.defaults()
	if opt.Embd%opt.Heads != 0 {
		return 0, fmt.Errorf("embedding width %d is not a multiple of %d heads", opt.Embd, opt.Heads)
	}
	voc, err := ReadFile(opt.Vocab)
	if err != nil {
		return 0, err
	}
	tokens, ok := voc.Get("tokenizer.ggml.tokens")
	if !ok || tokens.ArrayLen() == 0 {
		return 0, fmt.Errorf("%s has no tokenizer.ggml.tokens", opt.Vocab)
	}
	nVocab := tokens.ArrayLen()

	kvs := []KV{
		StringKV("general.architecture", "llama"),
		StringKV("general.name", opt.Name),
		Uint32KV("general.alignment", ggufAlignment),
		Uint32KV("llama.context_length", uint32(opt.TrainCtx)),
		Uint32KV("llama.embedding_length", uint32(opt.Embd)),
		Uint32KV("llama.block_count", uint32(opt.Layers)),
		Uint32KV("llama.feed_forward_length", uint32(opt.FF)),
		Uint32KV("llama.attention.head_count", uint32(opt.Heads)),
		Uint32KV("llama.attention.head_count_kv", uint32(opt.Heads)),
		Uint32KV("llama.rope.dimension_count", uint32(opt.Embd/opt.Heads)),
		Float32KV("llama.attention.layer_norm_rms_epsilon", 1e-5),
		Uint32KV("llama.vocab_size", uint32(nVocab)),
	}
	for _, kv := range voc.KVs {
		if !strings.HasPrefix(kv.Key, "tokenizer.") || (opt.ChatFormat != "" && kv.Key == "tokenizer.chat_template") {
			continue
		}
		kvs = append(kvs, kv)
	}
	if opt.ChatFormat != "" {
		kvs = append(kvs, StringKV("tokenizer.chat_template", opt.ChatFormat))
	}

	rng := rand.New(rand.NewPCG(opt.Seed, 0x05a1))
	random := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.05)
		}
		return v
	}
	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return v
	}
	e, ff, nv := uint64(opt.Embd), uint64(opt.FF), uint64(nVocab)
	// The output projection is left out: llama ties it to token_embd.
	tensors := []Tensor{
		{Name: "token_embd.weight", Dims: []uint64{e, nv}, Data: random(int(e * nv))},
		{Name: "output_norm.weight", Dims: []uint64{e}, Data: ones(int(e))},
	}
	for i := range opt.Layers {
		blk := func(n string) string { return fmt.Sprintf("blk.%d.%s.weight", i, n) }
		tensors = append(tensors,
			Tensor{Name: blk("attn_norm"), Dims: []uint64{e}, Data: ones(int(e))},
			Tensor{Name: blk("attn_q"), Dims: []uint64{e, e}, Data: random(int(e * e))},
			Tensor{Name: blk("attn_k"), Dims: []uint64{e, e}, Data: random(int(e * e))},
			Tensor{Name: blk("attn_v"), Dims: []uint64{e, e}, Data: random(int(e * e))},
			Tensor{Name: blk("attn_output"), Dims: []uint64{e, e}, Data: random(int(e * e))},
			Tensor{Name: blk("ffn_norm"), Dims: []uint64{e}, Data: ones(int(e))},
			Tensor{Name: blk("ffn_gate"), Dims: []uint64{e, ff}, Data: random(int(e * ff))},
			Tensor{Name: blk("ffn_down"), Dims: []uint64{ff, e}, Data: random(int(ff * e))},
			Tensor{Name: blk("ffn_up"), Dims: []uint64{e, ff}, Data: random(int(e * ff))},
		)
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	if err := Write(f, kvs, tensors); err != nil {
		f.Close()
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	return nVocab, f.Close()
}
