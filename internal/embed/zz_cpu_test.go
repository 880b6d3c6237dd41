package embed

import (
	"context"
	"syscall"
	"testing"
	"time"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestZZCPU(t *testing.T) {
	u := model(t)
	ctx := context.Background()
	texts := benchSentences
	for range 20 {
		u.Embed(ctx, texts[:1])
	}
	const reps = 400
	c0, w0 := cpuNow(), time.Now()
	for r := range reps {
		u.Embed(ctx, texts[r%len(texts):r%len(texts)+1])
	}
	c1, w1 := cpuNow(), time.Now()
	var batch []string
	for len(batch) < 60 {
		batch = append(batch, texts...)
	}
	for range 10 {
		u.Embed(ctx, batch)
	}
	c2, w2 := cpuNow(), time.Now()
	t.Logf("single: cpu %v wall %v per sentence | batch: cpu %v wall %v per sentence (avg tokens %.1f)",
		(c1-c0)/reps, w1.Sub(w0)/reps, (c2-c1)/600, w2.Sub(w1)/600, avgTokens(u, texts))
}
