package embed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
)

// ProbeSentence is the fixed text whose vector fingerprints a model: two
// embedders that give it the same vector (and have the same name and size)
// build comparable vectors. Changing it makes every stored model look new.
const ProbeSentence = "The quick brown fox jumps over the lazy dog while my sister bakes bread on Sunday."

// Identity says which model builds vectors: vectors of two identities are
// never compared (issue 11: a model swap needs `os1 memory reindex`).
type Identity struct {
	Name  string    // Embedder.Name: "use-lite", "remote:nomic-embed-text"
	Dim   int       // vector size
	Probe []float32 // the unit vector of ProbeSentence
}

// Identify embeds ProbeSentence with e.
func Identify(ctx context.Context, e Embedder) (Identity, error) {
	vecs, err := e.Embed(ctx, []string{ProbeSentence})
	if err != nil {
		return Identity{}, fmt.Errorf("identify the embedding model %s: %w", e.Name(), err)
	}
	if len(vecs) != 1 || len(vecs[0]) == 0 {
		return Identity{}, fmt.Errorf("identify the embedding model %s: it returned no vector", e.Name())
	}
	return Identity{Name: e.Name(), Dim: len(vecs[0]), Probe: unit(vecs[0])}, nil
}

// Same reports whether a and b are the same model: same name and size, and
// probe vectors that agree (cosine ≥ 0.99, which tolerates int8 storage and
// a model server's float noise, but not another model or other weights).
func (a Identity) Same(b Identity) bool {
	return a.Name == b.Name && a.Dim == b.Dim && Cosine(a.Probe, b.Probe) >= 0.99
}

// Fingerprint is a short hash of the probe vector's signs, for people to
// compare two models at a glance (Same decides).
func (a Identity) Fingerprint() string {
	b := make([]byte, (len(a.Probe)+7)/8)
	for i, x := range a.Probe {
		if x > 0 {
			b[i/8] |= 1 << (i % 8)
		}
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:4])
}

// String is how messages name the model: "use-lite (512 dimensions, 3fa9c2d1)".
func (a Identity) String() string {
	if a.Name == "" {
		return "an unrecorded model"
	}
	return fmt.Sprintf("%s (%d dimensions, %s)", a.Name, a.Dim, a.Fingerprint())
}

// Cosine is the cosine similarity of a and b; 0 when their sizes differ or
// one is zero.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func unit(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if n == 0 {
		return out
	}
	inv := 1 / math.Sqrt(n)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}
