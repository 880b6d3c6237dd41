package voice

import (
	"testing"
	"time"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech/speechtest"
)

// hearAll feeds mic audio (16 kHz) that starts at t0 to e, 20 ms at a
// time, and returns whether each frame was taken for echo.
func hearAll(e *echoRef, t0 time.Time, mic audio.PCM) []bool {
	var out []bool
	n := echoRate / 50
	for i := 0; i+n <= len(mic.Samples); i += n {
		e.hear(mic.Samples[i : i+n])
		out = append(out, e.echoes(t0.Add(time.Duration(i/n+1)*FrameDuration)))
	}
	return out
}

func TestEchoMatch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ref := audio.Concat(echoRate, speechtest.ToneOf(echoRate, 220, 700*time.Millisecond), otherVoice(echoRate, 700*time.Millisecond))
	for _, tc := range []struct {
		name      string
		mic       audio.PCM
		echo      bool
		skipFirst int // frames before the echo arrives
	}{
		{"echo delayed 120 ms at 0.3", mix(noise(echoRate, 1200*time.Millisecond, 1), ref, 0.3, 120*time.Millisecond), true, 8},
		{"echo delayed 550 ms at 0.1, inverted", mix(noise(echoRate, 1400*time.Millisecond, 2), ref, -0.1, 550*time.Millisecond), true, 30},
		{"someone else", mix(noise(echoRate, 1200*time.Millisecond, 3), otherVoiceAt(520), 1, 0), false, 0},
		{"someone louder over the echo", mix(mix(noise(echoRate, 1200*time.Millisecond, 4), ref, 0.3, 120*time.Millisecond), otherVoiceAt(520), 1, 0), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEchoRef(EchoOptions{})
			e.add(t0, ref.Samples)
			for i, echo := range hearAll(e, t0, tc.mic) {
				if i < tc.skipFirst+2 || i*20 > 1300 {
					continue
				}
				if echo != tc.echo {
					t.Errorf("frame %d (%d ms): echo=%v", i, i*20, echo)
				}
			}
		})
	}
}

// otherVoiceAt is a different speaker: a 520 Hz-based voice, loud.
func otherVoiceAt(hz float64) audio.PCM {
	v := speechtest.ToneOf(echoRate, hz, 1200*time.Millisecond)
	w := otherVoice(echoRate, 1200*time.Millisecond)
	return mix(v, w, 0.5, 0)
}

func TestEchoActiveWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	e := newEchoRef(EchoOptions{})
	if e.active(t0) {
		t.Fatal("active with nothing sent")
	}
	e.add(t0, make([]int16, echoRate)) // one second
	for d, want := range map[time.Duration]bool{-time.Millisecond: false, 0: true, time.Second: true, 1599 * time.Millisecond: true, 1600 * time.Millisecond: false} {
		if got := e.active(t0.Add(d)); got != want {
			t.Errorf("active at %v = %v", d, got)
		}
	}
	e.forget(t0.Add(2 * time.Second))
	if len(e.chunks) != 0 {
		t.Fatal("old speech not forgotten")
	}
}

func BenchmarkEchoMatch(b *testing.B) {
	t0 := time.Unix(1000, 0)
	e := newEchoRef(EchoOptions{})
	ref := speechtest.ToneOf(echoRate, 220, 2*time.Second)
	e.add(t0, ref.Samples)
	mic := mix(noise(echoRate, 2*time.Second, 1), ref, 0.3, 120*time.Millisecond)
	n := echoRate / 50
	e.hear(mic.Samples[echoRate-12*n : echoRate]) // a full echoSpan, ending at 1 s
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e.echoes(t0.Add(time.Second))
	}
}
