package voice

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech"
)

// MaxSpeakRunes bounds what Speak reads aloud in one go (a long reply is
// read up to here).
const MaxSpeakRunes = 6000

var (
	readLink    = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	readCode    = regexp.MustCompile("(?s)```.*?```")
	readMarks   = regexp.MustCompile("[*_`#>|~]+")
	readBullet  = regexp.MustCompile(`(?m)^\s*(?:[-+]|\d+\.)\s+`)
	readNewline = regexp.MustCompile(`\n\s*\n`)
	readSplit   = regexp.MustCompile(`([.!?…])\s+`)
)

// Speak reads a stored reply aloud with the pipeline's text-to-speech
// engine ("read aloud" in the chat): markdown is left out, code blocks are
// skipped, and the text is synthesized a sentence at a time (engines take a
// sentence or a few) into one clip. speech.ErrEmptyText when nothing in it
// can be spoken.
func (p *Pipeline) Speak(ctx context.Context, text string) (audio.PCM, error) {
	if utf8.RuneCountInString(text) > MaxSpeakRunes {
		text = string([]rune(text)[:MaxSpeakRunes])
	}
	var out audio.PCM
	for _, s := range sentencesToRead(text) {
		pcm, err := p.d.TTS.Synthesize(ctx, s)
		if errors.Is(err, speech.ErrEmptyText) {
			continue
		}
		if err != nil {
			return audio.PCM{}, fmt.Errorf("read aloud with %s: %w", p.d.TTS.Name(), err)
		}
		if out.Rate == 0 {
			out.Rate = pcm.Rate
		}
		if pcm.Rate != out.Rate {
			pcm = audio.Resample(pcm, out.Rate)
		}
		out.Samples = append(out.Samples, pcm.Samples...)
	}
	if len(out.Samples) == 0 {
		return audio.PCM{}, speech.ErrEmptyText
	}
	return out, nil
}

// sentencesToRead is text as a listener should hear it, cut into sentences.
func sentencesToRead(text string) []string {
	text = readCode.ReplaceAllString(text, " ")
	text = readLink.ReplaceAllString(text, "$1")
	text = readBullet.ReplaceAllString(text, "")
	text = readMarks.ReplaceAllString(text, "")
	text = readNewline.ReplaceAllString(text, ".\n")
	text = readSplit.ReplaceAllString(text, "$1\n")
	var out []string
	for _, s := range strings.Split(text, "\n") {
		s = strings.Join(strings.Fields(s), " ")
		if s != "" && s != "." && speech.Speakable(s) {
			out = append(out, s)
		}
	}
	return out
}
