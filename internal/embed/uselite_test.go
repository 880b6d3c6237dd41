package embed

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
)

func TestUSELiteBasics(t *testing.T) {
	u := model(t)
	if u.Dim() != 512 || u.Name() != "use-lite" {
		t.Errorf("Dim, Name = %d, %q; want 512, use-lite", u.Dim(), u.Name())
	}
	if n := len(u.Tokens(strings.Repeat("word ", 500))); n != maxTokens {
		t.Errorf("a long text reads %d tokens, want the model's window %d", n, maxTokens)
	}
	got, err := u.Embed(context.Background(), []string{"one", "", "two words"})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if len(v) != 512 || math.Abs(n-1) > 1e-4 {
			t.Errorf("vector %d: %d values, squared norm %v; want 512 values of norm 1", i, len(v), n)
		}
	}
	if out, err := u.Embed(context.Background(), nil); err != nil || len(out) != 0 {
		t.Errorf("Embed(nil) = %d vectors, %v", len(out), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := u.Embed(ctx, []string{"hello"}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: got %v", err)
	}
}

// TestSemanticSanity: a paraphrase is closer than an unrelated sentence.
func TestSemanticSanity(t *testing.T) {
	u := model(t)
	for _, tc := range [][3]string{
		{"How old are you?", "What is your age?", "The stock market fell sharply today."},
		{"I need to buy groceries after work.", "I have to go food shopping this evening.", "Quantum computers use qubits."},
		{"My dog loves playing fetch in the park.", "My puppy enjoys chasing balls outside.", "The invoice is due next month."},
		{"Remind me to call my mother tomorrow.", "Set a reminder to phone mom tomorrow.", "Volcanoes erupt molten rock."},
		{"The meeting was moved to Friday.", "We rescheduled the meeting for Friday.", "Bananas are rich in potassium."},
	} {
		v, err := u.Embed(context.Background(), tc[:])
		if err != nil {
			t.Fatal(err)
		}
		para, other := cosine32(v[0], v[1]), cosine32(v[0], v[2])
		t.Logf("%q: paraphrase %.3f, unrelated %.3f", tc[0], para, other)
		if para < other+0.2 {
			t.Errorf("%q: paraphrase cosine %.3f is not clearly above unrelated %.3f", tc[0], para, other)
		}
	}
}

// TestBatchInvariance: a text's vector does not depend on the batch it is in.
func TestBatchInvariance(t *testing.T) {
	u := model(t)
	all, err := u.Embed(context.Background(), paritySentences)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for i, s := range paritySentences {
		one, err := u.Embed(context.Background(), []string{s})
		if err != nil {
			t.Fatal(err)
		}
		for k := range one[0] {
			worst = max(worst, math.Abs(float64(one[0][k]-all[i][k])))
		}
	}
	t.Logf("largest difference alone vs in a batch of %d: %g", len(paritySentences), worst)
	if worst > 1e-5 {
		t.Errorf("vectors differ by up to %g between a batch and single calls", worst)
	}
}

// TestConcurrentEmbed shares one model between goroutines (run with -race).
func TestConcurrentEmbed(t *testing.T) {
	u := model(t)
	texts := paritySentences[:8]
	want, err := u.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range texts {
				got, err := u.Embed(context.Background(), texts[(i+g)%len(texts):(i+g)%len(texts)+1])
				if err != nil {
					t.Error(err)
					return
				}
				if c := cosine32(got[0], want[(i+g)%len(texts)]); c < 0.99999 {
					t.Errorf("concurrent call %d/%d: cosine %v with the sequential result", g, i, c)
				}
			}
		})
	}
	wg.Wait()
}
