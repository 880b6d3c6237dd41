package embed

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
)

// USELite is the Universal Sentence Encoder-lite: a two-layer transformer
// over SentencePiece tokens, mean-pooled, with 512-d L2-normalized output.
// It is safe for concurrent use; it keeps no state between calls.
type USELite struct {
	tok   *Tokenizer
	g     *graph
	empty []float32 // the vector of a text with no tokens
	dim   int
}

var _ Embedder = (*USELite)(nil)

const (
	// maxTokens is where the graph itself (ClipToMaxLength) stops reading a text.
	maxTokens = 128
	// Texts of similar length run through the graph together, up to these
	// limits: a batch reads the 18.6 MB of weights once for all its texts,
	// and 128 tokens keep its activations (about 100 KB a token) small.
	batchTexts  = 64
	batchTokens = 128
)

// USELiteDir is where scripts/assets.sh puts the model under os1's cache folder.
func USELiteDir(cacheDir string) string {
	return filepath.Join(cacheDir, "models", "use-lite")
}

// LoadUSELite reads model.json, its weight shards and vocab.json from dir.
// It never touches the network: a missing file is ErrModelMissing.
func LoadUSELite(dir string) (*USELite, error) {
	g, err := loadGraphModel(dir)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"indices", "values"} {
		i, ok := g.feeds[name]
		if !ok || g.nodes[i].dtype != dtInt {
			return nil, fmt.Errorf("%w: %s: want an integer graph input named %q", ErrBadModel, dir, name)
		}
	}
	tok, err := LoadTokenizer(filepath.Join(dir, "vocab.json"))
	if err != nil {
		return nil, err
	}
	u := &USELite{tok: tok, g: g}
	// The reference embeds a text with no tokens only as a row of a batch
	// whose later rows have tokens; probe the graph the same way.
	rows, err := u.run([][]int32{nil, {reservedPieces}})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: trial run: %v", ErrBadModel, dir, err)
	}
	u.empty, u.dim = rows[0], len(rows[0])
	return u, nil
}

// Name identifies the model and its tokenizer.
func (u *USELite) Name() string { return "use-lite" }

// Dim is 512 for the shipped model.
func (u *USELite) Dim() int { return u.dim }

// Tokens returns the vocabulary ids the model reads for text (at most 128).
func (u *USELite) Tokens(text string) []int32 {
	ids := u.tok.Encode(text)
	return ids[:min(len(ids), maxTokens)]
}

// Embed returns one unit-length vector per text. Texts are batched by
// length; a text's vector does not depend on the others in the call.
func (u *USELite) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	ids := make([][]int32, len(texts))
	var order []int
	for i, t := range texts {
		if ids[i] = u.Tokens(t); len(ids[i]) == 0 {
			out[i] = slices.Clone(u.empty)
			continue
		}
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(ids[a]), len(ids[b])) })
	for len(order) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := 1 // sorted by length, so the padded size of a prefix is count × last length
		for n < len(order) && n < batchTexts && (n+1)*len(ids[order[n]]) <= batchTokens {
			n++
		}
		batch := make([][]int32, n)
		for k, i := range order[:n] {
			batch[k] = ids[i]
		}
		select { // a CPU each (runSlots)
		case runSlots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		rows, err := u.run(batch)
		<-runSlots
		if err != nil {
			return nil, fmt.Errorf("embed %d texts: %w", n, err)
		}
		for k, i := range order[:n] {
			out[i] = rows[k]
		}
		order = order[n:]
	}
	return out, nil
}

// runSlots bounds the graph runs at once to the CPUs: dozens of turns
// embedding their messages together each took twice the CPU time of one
// alone (caches thrashed between them) and all finished late; taking turns,
// each finishes in its few milliseconds (issue 15).
var runSlots = make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))

// run feeds the graph the sparse form the reference builds: indices holds
// (text, position) pairs and values the token ids.
func (u *USELite) run(batch [][]int32) ([][]float32, error) {
	var idx, vals []int32
	for row, ids := range batch {
		for pos, id := range ids {
			idx = append(idx, int32(row), int32(pos))
			vals = append(vals, id)
		}
	}
	out, err := u.g.run(map[string]*tensor{
		"indices": intTensor([]int{len(vals), 2}, idx),
		"values":  intTensor([]int{len(vals)}, vals),
	})
	if err != nil {
		return nil, err
	}
	if out.dt != dtFloat || out.rank() != 2 || out.shape[0] != len(batch) {
		return nil, fmt.Errorf("model returned %s%v for %d texts", out.dt, out.shape, len(batch))
	}
	d := out.shape[1]
	rows := make([][]float32, len(batch))
	for k := range rows {
		rows[k] = slices.Clone(out.f[k*d : (k+1)*d])
	}
	return rows, nil
}
