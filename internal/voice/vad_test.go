package voice

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech/speechtest"
)

// run feeds pcm to a VAD in 20 ms frames and returns the frame indexes of
// its start and end events.
func runVAD(v *vad, pcm audio.PCM) (starts, ends []int) {
	n := pcm.Rate / 50
	t0 := time.Unix(0, 0)
	for i := 0; i+n <= len(pcm.Samples); i += n {
		f := pcm.Samples[i : i+n]
		level := audio.DBFS(audio.RMS(f))
		switch v.push(level, v.loud(level), false, t0.Add(time.Duration(i/n)*FrameDuration)) {
		case vadStart:
			starts = append(starts, i/n)
		case vadEnd:
			ends = append(ends, i/n)
		}
	}
	return starts, ends
}

func TestVAD(t *testing.T) {
	const rate = 16000
	ms := func(d int) time.Duration { return time.Duration(d) * time.Millisecond }
	t.Run("onset and hangover", func(t *testing.T) {
		pcm := audio.Concat(rate, noise(rate, ms(500), 1), speechtest.ToneOf(rate, 300, ms(600)), noise(rate, ms(600), 2))
		starts, ends := runVAD(newVAD(VADOptions{}), pcm)
		// Speech from frame 25; onset 100 ms = 5 frames; it ends at frame 55, hangover 10 frames.
		if len(starts) != 1 || starts[0] != 29 || len(ends) != 1 || ends[0] != 64 {
			t.Fatalf("starts %v ends %v, want [29] [64]", starts, ends)
		}
	})
	t.Run("a click is not speech", func(t *testing.T) {
		pcm := audio.Concat(rate, noise(rate, ms(500), 1), speechtest.ToneOf(rate, 300, ms(60)), noise(rate, ms(500), 2))
		if starts, _ := runVAD(newVAD(VADOptions{}), pcm); len(starts) != 0 {
			t.Fatalf("a 60 ms click started speech at %v", starts)
		}
	})
	t.Run("a short pause is not the end", func(t *testing.T) {
		pcm := audio.Concat(rate, speechtest.ToneOf(rate, 300, ms(400)), noise(rate, ms(120), 1), speechtest.ToneOf(rate, 300, ms(400)), noise(rate, ms(400), 2))
		starts, ends := runVAD(newVAD(VADOptions{}), pcm)
		if len(starts) != 1 || len(ends) != 1 {
			t.Fatalf("starts %v ends %v: a 120 ms pause split the speech", starts, ends)
		}
	})
	t.Run("steady noise is learnt", func(t *testing.T) {
		// A fan at -30 dBFS is loud at first, but the floor rises to it.
		fan := speechtest.ToneOf(rate, 120, 20*time.Second)
		for i := range fan.Samples {
			fan.Samples[i] /= 16 // about -33 dBFS
		}
		v := newVAD(VADOptions{})
		_, ends := runVAD(v, fan)
		if v.speaking || len(ends) == 0 {
			t.Fatalf("after 20 s of steady noise: speaking %v, floor %.1f dBFS", v.speaking, v.floor)
		}
	})
	t.Run("louder room, higher threshold", func(t *testing.T) {
		quiet, loud := newVAD(VADOptions{}), newVAD(VADOptions{})
		runVAD(quiet, noise(rate, 3*time.Second, 1))
		hiss := noise(rate, 3*time.Second, 2)
		for i := range hiss.Samples {
			hiss.Samples[i] *= 4 // about -51 dBFS: under the speech level
		}
		runVAD(loud, hiss)
		if !(loud.floor > quiet.floor+8) || loud.speaking {
			t.Fatalf("floors: quiet %.1f, loud %.1f", quiet.floor, loud.floor)
		}
	})
}

func TestTrimSilence(t *testing.T) {
	const rate = 16000
	speech := speechtest.ToneOf(rate, 300, time.Second)
	pcm := audio.Concat(rate, noise(rate, 2*time.Second, 1), speech, noise(rate, 3*time.Second, 2))
	got, ok := trimSilence(pcm, VADOptions{}, 300*time.Millisecond)
	if !ok {
		t.Fatal("no speech found")
	}
	if d := got.Duration(); d < time.Second || d > 1600*time.Millisecond {
		t.Fatalf("trimmed to %v, want about 1.5 s", d)
	}
	if _, ok := trimSilence(noise(rate, time.Second, 3), VADOptions{}, 0); ok {
		t.Fatal("noise alone counted as speech")
	}
	if _, ok := trimSilence(audio.PCM{Rate: rate}, VADOptions{}, 0); ok {
		t.Fatal("empty audio counted as speech")
	}
}
