package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/voice"
)

// The microphone side of every call.
const (
	inputRate    = 16000
	frameSamples = inputRate * int(voice.FrameDuration/time.Millisecond) / 1000
	leadIn       = 500 * time.Millisecond // room noise before the user speaks
	tailOut      = 2 * time.Second        // and after, at the least
	noiseAmp     = 40                     // ±40 of 32767: a quiet room, about -63 dBFS
	quietDBFS    = -50                    // the server VAD's floor: nothing under it is voice
	preRoll      = 300 * time.Millisecond // voice.Options.PreRoll's default
)

// utterance is a line the user says, as the microphone hears it.
type utterance struct {
	text string
	clip audio.PCM // the synthesized speech alone, at inputRate
	fed  []int16   // leadIn of noise, the clip over noise, tailOut of noise
	// start and end are the clip's first and one-past-last sample in fed:
	// end is the end of speech every latency is measured from.
	start, end int
}

// lines are what the user says: 1.5–3.5 s each in festival's slt voice.
var lines = []string{
	"What time is my dentist appointment tomorrow?",
	"Remind me to call my sister tonight.",
	"How was your day today?",
	"What's the weather going to be like this weekend?",
}

// makeUtterances speaks lines with syn and pads them with room noise.
func makeUtterances(ctx context.Context, syn speech.Synthesizer, lines []string) ([]utterance, error) {
	var out []utterance
	for i, line := range lines {
		pcm, err := syn.Synthesize(ctx, line)
		if err != nil {
			return nil, fmt.Errorf("speak utterance %q: %w", line, err)
		}
		clip := audio.Resample(pcm, inputRate)
		lead := int(leadIn.Seconds() * inputRate)
		tail := int(tailOut.Seconds() * inputRate)
		fed := noise(lead+len(clip.Samples)+tail, uint64(1000+i))
		for j, v := range clip.Samples {
			fed[lead+j] = int16(max(-32768, min(32767, int(fed[lead+j])+int(v))))
		}
		out = append(out, utterance{text: line, clip: clip, fed: fed, start: lead, end: lead + len(clip.Samples)})
	}
	return out, nil
}

// heard is what a call transcribes of the utterance when the client says
// where speech starts and ends: the pre-roll of room noise and the speech
// over it.
func (u utterance) heard() audio.PCM {
	pre := int(preRoll.Seconds() * inputRate)
	return audio.PCM{Rate: inputRate, Samples: u.fed[max(0, u.start-pre):u.end]}
}

// quietTail is how long the clip ends in frames the server VAD cannot
// count as voice (under quietDBFS): the engine's own trailing silence.
func (u utterance) quietTail() time.Duration {
	s := u.clip.Samples
	end := len(s)
	for end >= frameSamples && audio.DBFS(audio.RMS(s[end-frameSamples:end])) < quietDBFS {
		end -= frameSamples
	}
	return time.Duration(len(s)-end) * time.Second / inputRate
}

// noise is deterministic low white noise: a live microphone in a quiet room.
func noise(n int, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 0x05))
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(r.IntN(2*noiseAmp+1) - noiseAmp)
	}
	return s
}

// wordErrors is the word error rate of hyp against what was said: word
// substitutions, insertions and deletions over the words said, ignoring case
// and punctuation other than apostrophes.
func wordErrors(said, hyp string) float64 {
	ref, got := words(said), words(hyp)
	if len(ref) == 0 {
		return 0
	}
	prev := make([]int, len(got)+1)
	cur := make([]int, len(got)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ref); i++ {
		cur[0] = i
		for j := 1; j <= len(got); j++ {
			sub := prev[j-1]
			if ref[i-1] != got[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return float64(prev[len(got)]) / float64(len(ref))
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}
