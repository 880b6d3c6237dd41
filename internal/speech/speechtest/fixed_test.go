package speechtest_test

import (
	"testing"

	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/speechtest"
)

func TestFixedEngines(t *testing.T) {
	speechtest.TestTranscriber(t, speechtest.TranscriberCase{
		New:    func(*testing.T) speech.Transcriber { return &speechtest.Fixed{Text: "hello there"} },
		Speech: speechtest.ToneOf(16000, 300, 1e9),
		Words:  []string{"hello", "there"},
	})
	speechtest.TestSynthesizer(t, speechtest.SynthesizerCase{
		New: func(*testing.T) speech.Synthesizer { return &speechtest.Tone{} },
	})
}
