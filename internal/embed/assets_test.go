package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Tests against the real model need the files that scripts/assets.sh fetches.
// Without them a test skips, unless OS1_E2E_REQUIRE=1 (make test, CI) makes
// that a failure.

func missingAsset(t testing.TB, msg string) {
	t.Helper()
	msg += "; run scripts/assets.sh test"
	if os.Getenv("OS1_E2E_REQUIRE") == "1" {
		t.Fatal(msg + " (OS1_E2E_REQUIRE=1 makes this a failure)")
	}
	t.Skip(msg)
}

// modelDir is where scripts/assets.sh puts the model, by the same rule.
func modelDir(t testing.TB) string {
	t.Helper()
	cache := os.Getenv("OS1_CACHE_DIR")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			missingAsset(t, "no home folder to find the model cache in")
		}
		cache = filepath.Join(home, ".cache", "os1")
	}
	dir := USELiteDir(cache)
	if _, err := os.Stat(filepath.Join(dir, "model.json")); err != nil {
		missingAsset(t, "embedding model not found in "+dir)
	}
	return dir
}

var shared struct {
	once sync.Once
	u    *USELite
	err  error
}

// model loads the real model once for all tests.
func model(t testing.TB) *USELite {
	t.Helper()
	dir := modelDir(t)
	shared.once.Do(func() { shared.u, shared.err = LoadUSELite(dir) })
	if shared.err != nil {
		t.Fatalf("LoadUSELite(%s): %v", dir, shared.err)
	}
	return shared.u
}

// reference runs tools/embedref/embed.mjs (the EnergeticAI JS implementation
// under node) in the given mode and decodes its JSON answer into out.
func reference(t testing.TB, mode string, texts []string, out any) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missingAsset(t, "node is not installed")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "tools", "embedref"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@energetic-ai", "embeddings", "package.json")); err != nil {
		missingAsset(t, "the JS reference is not installed in "+dir)
	}
	in, err := json.Marshal(texts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "embed.mjs"), mode)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("node embed.mjs %s: %v\n%s", mode, err, stderr.String())
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("node embed.mjs %s printed invalid JSON: %v", mode, err)
	}
}

func cosine(a []float32, b []float64) float64 {
	var dot, na, nb float64
	for k := range a {
		dot += float64(a[k]) * b[k]
		na += float64(a[k]) * float64(a[k])
		nb += b[k] * b[k]
	}
	return dot / math.Sqrt(na*nb)
}

func cosine32(a, b []float32) float64 {
	bb := make([]float64, len(b))
	for k, v := range b {
		bb[k] = float64(v)
	}
	return cosine(a, bb)
}
