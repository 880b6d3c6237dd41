package voice

import (
	"time"
)

// FrameDuration is the unit the server-side analysis works in: voice
// activity, echo and the pre-roll all look at 20 ms frames.
const FrameDuration = 20 * time.Millisecond

// VADOptions tune the energy voice activity detector. Zero values take the
// defaults in brackets.
type VADOptions struct {
	// Threshold is how far above the noise floor a frame must be to count
	// as voice, in dB [12].
	Threshold float64
	// MinLevel is the level under which nothing is voice, in dBFS [-50].
	MinLevel float64
	// Onset is how long voice must last before speech starts [100ms].
	Onset time.Duration
	// Hangover is how long quiet must last before speech ends [200ms].
	Hangover time.Duration
}

func (o VADOptions) withDefaults() VADOptions {
	if o.Threshold == 0 {
		o.Threshold = 12
	}
	if o.MinLevel == 0 {
		o.MinLevel = -50
	}
	if o.Onset <= 0 {
		o.Onset = 100 * time.Millisecond
	}
	if o.Hangover <= 0 {
		o.Hangover = 200 * time.Millisecond
	}
	return o
}

// vadEvent is what one frame changed.
type vadEvent int

const (
	vadNone vadEvent = iota
	vadStart
	vadEnd
)

// Noise floor bounds and how fast it follows the level (per frame): down
// quickly, so a quiet room is learnt in a few frames, up slowly, so speech
// does not raise it, but a fan that starts is learnt in a few seconds.
const (
	floorMin     = -90.0
	floorMax     = -20.0
	floorStart   = -70.0
	floorDown    = 0.3
	floorUpQuiet = 0.02
	floorUpLoud  = 0.002
)

// vad is an energy voice activity detector with an adaptive noise floor, an
// onset (voice must last a while to start speech) and a hangover (quiet must
// last a while to end it). It works on levels of 20 ms frames; it is not safe
// for concurrent use.
type vad struct {
	o        VADOptions
	floor    float64
	speaking bool
	run      int       // consecutive frames pointing the other way
	lastLoud time.Time // when the last voiced frame arrived
}

func newVAD(o VADOptions) *vad { return &vad{o: o.withDefaults(), floor: floorStart} }

// loud reports whether a frame at level (dBFS) is voice by level alone.
func (v *vad) loud(level float64) bool {
	return level > max(v.floor+v.o.Threshold, v.o.MinLevel)
}

func frames(d time.Duration) int { return max(1, int((d+FrameDuration-1)/FrameDuration)) }

// push feeds the level of one frame that arrived at `at`. voiced says
// whether it counts as voice (loud, and not the companion's own echo);
// echo frames pass voiced false and learn nothing about the floor.
func (v *vad) push(level float64, voiced, echo bool, at time.Time) vadEvent {
	if !echo {
		rate := floorUpQuiet
		switch {
		case level < v.floor:
			rate = floorDown
		case voiced:
			rate = floorUpLoud
		}
		v.floor = min(floorMax, max(floorMin, v.floor+(level-v.floor)*rate))
	}
	if voiced {
		v.lastLoud = at
	}
	if voiced != v.speaking {
		v.run++
	} else {
		v.run = 0
	}
	switch {
	case !v.speaking && v.run >= frames(v.o.Onset):
		v.speaking, v.run = true, 0
		return vadStart
	case v.speaking && v.run >= frames(v.o.Hangover):
		v.speaking, v.run = false, 0
		return vadEnd
	}
	return vadNone
}
