package voice

import (
	"math"
	"time"
)

// EchoOptions tune echo rejection: during playback, microphone audio that
// matches the speech sent (delayed by up to MaxLag, at any level) is the
// companion hearing herself, not the user.
type EchoOptions struct {
	// MaxLag is the longest delay from sending audio to hearing it back
	// (network, buffers, the room) [600ms].
	MaxLag time.Duration
	// Match is the normalized cross-correlation (0..1) over echoSpan at or
	// above which a frame may count as echo; it also needs a small residual
	// (echoResidual) [0.5].
	Match float64
	// Off disables echo rejection (clients that cancel echo themselves need
	// none, but it does them no harm).
	Off bool
}

func (o EchoOptions) withDefaults() EchoOptions {
	if o.MaxLag <= 0 {
		o.MaxLag = 600 * time.Millisecond
	}
	if o.Match <= 0 {
		o.Match = 0.5
	}
	return o
}

// echoRate is the rate echo is compared at; speech engines' rate, and
// enough for the speech band.
const echoRate = 16000

// echoWindow is how much microphone audio the lag search looks at: two
// frames.
const echoWindow = 2 * FrameDuration

// echoSpan is how much microphone audio confirms a lag found on echoWindow.
// Voiced speech is quasi-periodic, so two different utterances in one voice
// often match on 40 ms at some lag; over 240 ms their pitch drifts apart,
// while an echo path keeps one delay.
const echoSpan = 12 * FrameDuration

// echoResidual is the share of the latest frame's energy that may remain
// once the echo (sent speech at the confirmed lag and gain) is taken out.
// The user speaking, alone or over the echo, leaves most of it.
const echoResidual = 0.25

// decim is the coarse search's decimation: lags are first tried every
// 0.5 ms on 2 kHz sums, then refined around the best few at 16 kHz.
const decim = 8

// echoRef remembers the speech sent (at 16 kHz, placed where its playback
// was estimated to start) and the latest microphone audio, and tells whether
// the microphone is hearing that speech. It is not safe for concurrent use.
type echoRef struct {
	o      EchoOptions
	chunks []refChunk
	mic    []float64 // the last echoSpan of microphone audio at 16 kHz
	lag    int       // the echo path's delay in samples at the last match, -1 if none
}

type refChunk struct {
	start   time.Time
	samples []float64
}

func newEchoRef(o EchoOptions) *echoRef { return &echoRef{o: o.withDefaults(), lag: -1} }

func (e *echoRef) end(c refChunk) time.Time {
	return c.start.Add(time.Duration(len(c.samples)) * time.Second / echoRate)
}

// add places sent speech (at echoRate) where its playback starts.
func (e *echoRef) add(start time.Time, pcm []int16) {
	s := make([]float64, len(pcm))
	for i, v := range pcm {
		s[i] = float64(v)
	}
	e.chunks = append(e.chunks, refChunk{start: start, samples: s})
}

// active reports whether echo of sent speech may be in the microphone at now.
func (e *echoRef) active(now time.Time) bool {
	if e.o.Off || len(e.chunks) == 0 {
		return false
	}
	first, last := e.chunks[0], e.chunks[len(e.chunks)-1]
	return !now.Before(first.start) && now.Before(e.end(last).Add(e.o.MaxLag))
}

// forget drops speech that can no longer be heard back at now.
func (e *echoRef) forget(now time.Time) {
	keep := e.chunks[:0]
	for _, c := range e.chunks {
		if now.Before(e.end(c).Add(e.o.MaxLag + echoWindow)) {
			keep = append(keep, c)
		}
	}
	clear(e.chunks[len(keep):])
	e.chunks = keep
}

// hear records the latest microphone frame (at echoRate).
func (e *echoRef) hear(frame []int16) {
	n := int(echoSpan * echoRate / time.Second)
	for _, v := range frame {
		e.mic = append(e.mic, float64(v))
	}
	if len(e.mic) > n {
		e.mic = append(e.mic[:0], e.mic[len(e.mic)-n:]...)
	}
}

// reference fills out with the sent speech that played between from and
// from+len(out)/echoRate (zero where nothing played).
func (e *echoRef) reference(from time.Time, out []float64) {
	clear(out)
	for _, c := range e.chunks {
		off := int(c.start.Sub(from) * echoRate / time.Second)
		lo, hi := max(0, -off), min(len(c.samples), len(out)-off)
		if lo < hi {
			copy(out[off+lo:], c.samples[lo:hi])
		}
	}
}

// echoes reports whether the latest microphone frame, which ended at `at`,
// is sent speech heard back rather than the user: the microphone must match
// sent speech at one delay over echoSpan (not just over echoWindow, where
// the same voice saying something else often matches by chance), and taking
// that speech out of the latest frame must leave little.
func (e *echoRef) echoes(at time.Time) bool {
	c, lag, gain := e.match(at)
	if c < e.o.Match {
		return false
	}
	m := e.mic
	f := min(len(m), int(FrameDuration*echoRate/time.Second))
	ref := make([]float64, f)
	e.reference(at.Add(-time.Duration(f+lag)*time.Second/echoRate), ref)
	var mm, rr float64
	for i, v := range m[len(m)-f:] {
		d := v - gain*ref[i]
		mm += v * v
		rr += d * d
	}
	return mm > 0 && rr < echoResidual*mm
}

// match finds the delay (0..MaxLag) at which the latest microphone audio,
// which ended at `at`, best matches sent speech: the normalized
// cross-correlation over up to echoSpan (0 = unrelated, 1 = the same
// waveform at some level), the lag in samples, and the level (gain).
// Candidates come from a search on the last echoWindow, plus the lag found
// last time; only they are tried over the whole span, which keeps the cost
// near that of the short search.
func (e *echoRef) match(at time.Time) (c float64, lag int, gain float64) {
	m := e.mic
	w := min(len(m), int(echoWindow*echoRate/time.Second))
	if w == 0 {
		return 0, 0, 0
	}
	maxLag := int(e.o.MaxLag * echoRate / time.Second)
	ref := make([]float64, len(m)+maxLag+decim)
	e.reference(at.Add(-time.Duration(len(ref))*time.Second/echoRate), ref)
	// ref[len(ref)-n-lag : len(ref)-lag] is what played `lag` samples
	// before the last n samples of the microphone.
	seg := func(x []float64, n, lag int) []float64 { return x[len(x)-n-lag : len(x)-lag] }

	md, rd := downsample(m), downsample(ref)
	wd := w / decim
	short := md[len(md)-wd:]
	var aa float64
	for _, v := range short {
		aa += v * v
	}
	if aa == 0 {
		return 0, 0, 0
	}
	energy := make([]float64, len(rd)+1) // running sums of squares: window energies in O(1)
	for i, v := range rd {
		energy[i+1] = energy[i] + v*v
	}
	best := make([]int, 0, 5) // coarse lags with the highest correlation
	score := make([]float64, 0, 4)
	for lag := 0; lag*decim <= maxLag && len(rd)-wd-lag >= 0; lag++ {
		lo := len(rd) - wd - lag
		bb := energy[lo+wd] - energy[lo]
		if bb <= 1 {
			continue
		}
		var ab float64
		for i, v := range short {
			ab += v * rd[lo+i]
		}
		c := math.Abs(ab) / math.Sqrt(aa*bb)
		if len(best) < cap(score) {
			best, score = append(best, lag), append(score, c)
			continue
		}
		k := 0
		for i := range score {
			if score[i] < score[k] {
				k = i
			}
		}
		if c > score[k] {
			best[k], score[k] = lag, c
		}
	}
	if e.lag >= 0 {
		best = append(best, e.lag/decim)
	}
	// Confirm on the whole span at 2 kHz, then refine the winner at 16 kHz.
	coarse, top := -1, 0.0
	for _, b := range best {
		for l := max(0, b-1); l <= b+1 && l*decim <= maxLag && l+len(md) <= len(rd); l++ {
			if c := ncc(md, seg(rd, len(md), l)); c > top {
				coarse, top = l, c
			}
		}
	}
	if coarse < 0 {
		e.lag = -1
		return 0, 0, 0
	}
	lag, c = -1, 0
	for l := max(0, coarse*decim-decim); l <= min(maxLag, coarse*decim+decim); l++ {
		if v := ncc(m, seg(ref, len(m), l)); v > c || lag < 0 {
			lag, c = l, v
		}
	}
	var ab, bb float64
	for i, v := range seg(ref, len(m), lag) {
		ab += m[i] * v
		bb += v * v
	}
	if bb > 0 {
		gain = ab / bb
	}
	e.lag = lag
	return c, lag, gain
}

// downsample averages groups of decim samples, aligned to the end so that
// lags of the result are lags of the input divided by decim.
func downsample(x []float64) []float64 {
	n := len(x) / decim
	out := make([]float64, n)
	off := len(x) - n*decim
	for i := range out {
		var s float64
		for _, v := range x[off+i*decim : off+(i+1)*decim] {
			s += v
		}
		out[i] = s
	}
	return out
}

// ncc is the magnitude of the normalized cross-correlation of two equally
// long signals, 0..1 (a speaker or microphone may invert polarity).
func ncc(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return math.Abs(ab) / math.Sqrt(aa*bb)
}
