package embed

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestZZMin(t *testing.T) {
	u, err := LoadUSELite(os.Getenv("HOME") + "/.cache/os1/models/use-lite")
	if err != nil {
		t.Fatal(err)
	}
	base := []string{"The quick brown fox jumps over the lazy dog.", "How old are you?", "I had a meeting with Sarah about the quarterly budget on Tuesday.", "Remind me to call mom tomorrow at 5pm", "What's the weather like in Paris?", "hello", "My favourite food is pizza with extra cheese and olives.", "Can you recommend a good book about machine learning for beginners?"}
	var s []string
	for i := range 64 {
		s = append(s, base[i%len(base)])
	}
	ctx := context.Background()
	best1, bestB := time.Hour, time.Hour
	var sum1 time.Duration
	for r := range 300 {
		t0 := time.Now()
		u.Embed(ctx, s[r%8:r%8+1])
		d := time.Since(t0)
		sum1 += d
		best1 = min(best1, d)
	}
	var sumB time.Duration
	for range 10 {
		t0 := time.Now()
		u.Embed(ctx, s)
		d := time.Since(t0)
		sumB += d
		bestB = min(bestB, d)
	}
	t.Logf("single: min %v mean %v | batch64: min %v/sent mean %v/sent", best1, sum1/300, bestB/64, sumB/640)
}
