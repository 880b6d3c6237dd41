package embed

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestZZAB(t *testing.T) {
	u := model(t)
	ctx := context.Background()
	texts := benchSentences
	modes := []int{0, 1, 2, 3}
	var all [4][]time.Duration
	for round := range 60 {
		for _, mode := range modes {
			pfMode = mode
			t0 := time.Now()
			for r := range 10 {
				u.Embed(ctx, texts[r%len(texts):r%len(texts)+1])
			}
			d := time.Since(t0) / 10
			if round > 0 {
				all[mode] = append(all[mode], d)
			}
		}
	}
	for _, m := range modes {
		slices.Sort(all[m])
		t.Logf("mode%d min %v p25 %v median %v", m, all[m][0], all[m][len(all[m])/4], all[m][len(all[m])/2])
	}
}
