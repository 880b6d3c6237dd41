package cli

import (
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/speech/engines"
)

// voiceChecks are the doctor's lines for the speech engines. An engine the
// config names that cannot run fails; "auto" finding nothing installed only
// warns, since os1 works without voice.
func voiceChecks(cfg config.Voice, lookPath func(string) (string, error)) []check {
	_, _, r, _ := engines.Select(cfg, lookPath)
	return []check{voiceCheck("stt", "OS1_STT", r.STT), voiceCheck("tts", "OS1_TTS", r.TTS)}
}

func voiceCheck(name, envName string, s engines.Status) check {
	c := check{name: name, ok: s.Active() || s.Off, msg: s.String()}
	switch {
	case s.Err != nil:
		c.msg, c.fix = s.Err.Error(), s.Missing
	case !c.ok:
		c.warn = true
		c.fix = s.Missing + "; or use a speech server: " + envName + "=openai or wyoming with " + envName + "_URL; or " + envName + "=off"
	}
	return c
}
