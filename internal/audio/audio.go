// Package audio holds os1's one in-memory audio type (mono 16-bit PCM), WAV
// decoding and encoding, resampling and level measurement.
//
// Every voice path converts to PCM at its edge, so engines, the voice pipeline
// and the CLI never see container formats. This package does no I/O beyond the
// reader or writer it is handed and must never start processes.
package audio

import (
	"encoding/binary"
	"math"
	"time"
)

// PCM is mono, signed 16-bit audio at Rate samples per second.
type PCM struct {
	Rate    int
	Samples []int16
}

// Duration is the length of the audio.
func (p PCM) Duration() time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	return time.Duration(len(p.Samples)) * time.Second / time.Duration(p.Rate)
}

// Slice returns the audio between two offsets (clamped to its length).
func (p PCM) Slice(from, to time.Duration) PCM {
	a, b := p.index(from), p.index(to)
	if b < a {
		b = a
	}
	return PCM{Rate: p.Rate, Samples: p.Samples[a:b]}
}

func (p PCM) index(d time.Duration) int {
	i := int(int64(d) * int64(p.Rate) / int64(time.Second))
	return max(0, min(i, len(p.Samples)))
}

// Bytes encodes samples as little-endian 16-bit PCM, the wire format of the
// voice protocol and of raw audio in WAV files.
func Bytes(samples []int16) []byte {
	b := make([]byte, 2*len(samples))
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

// Samples decodes little-endian 16-bit PCM; a trailing odd byte is ignored.
func Samples(b []byte) []int16 {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return s
}

// RMS is the root mean square level of samples, 0 (silence) to 1 (full scale).
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range samples {
		f := float64(s) / 32768
		sum += f * f
	}
	return math.Sqrt(sum / float64(len(samples)))
}

// DBFS is a level in decibels relative to full scale; silence is -100.
func DBFS(rms float64) float64 {
	if rms <= 1e-5 {
		return -100
	}
	return 20 * math.Log10(rms)
}

// Resample converts p to rate with a linear-phase low-pass (when going down)
// and linear interpolation. Speech engines want 16 kHz; this is good enough
// for speech, not for music.
func Resample(p PCM, rate int) PCM {
	if rate <= 0 || p.Rate <= 0 || p.Rate == rate || len(p.Samples) == 0 {
		return PCM{Rate: max(rate, p.Rate), Samples: p.Samples}
	}
	in := make([]float64, len(p.Samples))
	for i, s := range p.Samples {
		in[i] = float64(s)
	}
	if rate < p.Rate {
		in = lowPass(in, float64(rate)/2*0.9/float64(p.Rate))
	}
	n := int(int64(len(p.Samples)) * int64(rate) / int64(p.Rate))
	out := make([]int16, n)
	step := float64(p.Rate) / float64(rate)
	for i := range out {
		x := float64(i) * step
		j := int(x)
		f := x - float64(j)
		a := in[min(j, len(in)-1)]
		b := in[min(j+1, len(in)-1)]
		out[i] = clip16(a + (b-a)*f)
	}
	return PCM{Rate: rate, Samples: out}
}

// lowPass applies a Hann-windowed sinc FIR with cutoff given as a fraction of
// the sample rate.
func lowPass(x []float64, cutoff float64) []float64 {
	const taps = 31
	h := make([]float64, taps)
	var sum float64
	for i := range h {
		m := float64(i - taps/2)
		v := 2 * cutoff
		if m != 0 {
			v = math.Sin(2*math.Pi*cutoff*m) / (math.Pi * m)
		}
		v *= 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(taps-1))
		h[i] = v
		sum += v
	}
	y := make([]float64, len(x))
	for i := range x {
		var acc float64
		for k, hk := range h {
			j := i + k - taps/2
			if j >= 0 && j < len(x) {
				acc += hk * x[j]
			}
		}
		y[i] = acc / sum
	}
	return y
}

func clip16(v float64) int16 {
	v = math.Round(v)
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

// Silence returns d of silence at rate.
func Silence(rate int, d time.Duration) PCM {
	return PCM{Rate: rate, Samples: make([]int16, int(int64(d)*int64(rate)/int64(time.Second)))}
}

// Concat joins clips of one rate; clips at other rates are resampled first.
func Concat(rate int, clips ...PCM) PCM {
	out := PCM{Rate: rate}
	for _, c := range clips {
		out.Samples = append(out.Samples, Resample(c, rate).Samples...)
	}
	return out
}
