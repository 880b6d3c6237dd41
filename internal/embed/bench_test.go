package embed

import (
	"context"
	"runtime"
	"testing"
)

// benchSentences are typical of what memory embeds: 5 to 20 tokens.
var benchSentences = paritySentences[2:22]

func avgTokens(u *USELite, texts []string) float64 {
	n := 0
	for _, s := range texts {
		n += len(u.Tokens(s))
	}
	return float64(n) / float64(len(texts))
}

// BenchmarkEmbed embeds one sentence per call: ns/op is the latency of one
// sentence. Run with -cpu 1 for the single-core figure.
func BenchmarkEmbed(b *testing.B) {
	u := model(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := u.Embed(ctx, benchSentences[i%len(benchSentences):i%len(benchSentences)+1]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(avgTokens(u, benchSentences), "tokens/sentence")
}

// BenchmarkEmbedBatch embeds 60 sentences per call and reports the cost of
// each, which is lower: a batch reads the weights from memory once.
func BenchmarkEmbedBatch(b *testing.B) {
	u := model(b)
	var texts []string
	for len(texts) < 60 {
		texts = append(texts, benchSentences...)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := u.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(texts)), "ns/sentence")
	b.ReportMetric(avgTokens(u, texts), "tokens/sentence")
}

// BenchmarkLoad measures LoadUSELite and the heap the loaded model holds.
func BenchmarkLoad(b *testing.B) {
	dir := modelDir(b)
	var heap uint64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		u, err := LoadUSELite(dir)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(u)
	}
	b.ReportMetric(float64(heap)/(1<<20), "MiB-heap")
}

func BenchmarkTokenize(b *testing.B) {
	u := model(b)
	i := 0
	for b.Loop() {
		u.tok.Encode(benchSentences[i%len(benchSentences)])
		i++
	}
}
