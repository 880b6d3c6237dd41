// Package engines turns the [voice] configuration into the speech engines os1
// uses: the embedded defaults (PocketSphinx for speech to text; festival,
// flite or espeak-ng for text to speech), a server speaking OpenAI's audio
// API, or a Wyoming server. It also reports which engines are active and what
// is missing, for `os1 doctor` and the server log.
//
// Selecting only looks for binaries and model files: it must never start an
// engine, connect to a server or read the environment.
package engines

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/festival"
	"github.com/os1ai/os1/internal/speech/openai"
	"github.com/os1ai/os1/internal/speech/sphinx"
	"github.com/os1ai/os1/internal/speech/wyoming"
)

// Status says what runs for one direction (stt or tts), or why nothing does.
type Status struct {
	// Engine is the engine's name ("pocketsphinx", "festival",
	// "openai http://127.0.0.1:8000 (whisper-1)"); empty when none runs.
	Engine string
	// Detail is the voice and binary of an embedded engine ("slt HTS (/usr/bin/text2wave)").
	Detail string
	// Off: the configuration turned this direction off.
	Off bool
	// Missing says what to do when no engine runs and it was not turned off
	// ("install festival festvox-us-slt-hts (apt)").
	Missing string
	// Err is why the configured engine cannot run; nil for "auto" finding
	// nothing, which is not an error.
	Err error
}

// Active reports whether an engine runs.
func (s Status) Active() bool { return s.Engine != "" }

// String is the status without its direction: "pocketsphinx (/usr/bin/…)",
// "off", "none — install … (apt)".
func (s Status) String() string {
	switch {
	case s.Active() && s.Detail != "":
		return s.Engine + " " + s.Detail
	case s.Active():
		return s.Engine
	case s.Off:
		return "off"
	}
	return "none — " + s.Missing
}

// Report lists the active engines and what is missing.
type Report struct {
	STT, TTS Status
}

// Lines renders the report one direction a line: "stt: pocketsphinx (/usr/bin/pocketsphinx_continuous)".
func (r Report) Lines() []string {
	return []string{"stt: " + r.STT.String(), "tts: " + r.TTS.String()}
}

// Select builds the engines cfg names. lookPath finds binaries (exec.LookPath
// when nil). A direction that is "off", or "auto" with nothing installed,
// gives a nil engine and no error. An engine named explicitly that is missing
// or misconfigured gives a nil engine, an error (wrapping
// speech.ErrUnavailable when it is not installed) and a Report that says
// what to do; the other direction is still built.
func Select(cfg config.Voice, lookPath func(string) (string, error)) (speech.Transcriber, speech.Synthesizer, Report, error) {
	return selectIn(cfg, lookPath, dirs{})
}

// dirs are where the embedded engines' model files live; empty means
// Debian's. Tests point them at folders of their own.
type dirs struct {
	sphinxModel, festivalVoice string
}

func selectIn(cfg config.Voice, lookPath func(string) (string, error), d dirs) (speech.Transcriber, speech.Synthesizer, Report, error) {
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	tr, stt := transcriber(cfg, lookPath, d)
	sy, tts := synthesizer(cfg, lookPath, d)
	r := Report{STT: stt, TTS: tts}
	return tr, sy, r, errors.Join(r.STT.Err, r.TTS.Err)
}

func transcriber(cfg config.Voice, lookPath func(string) (string, error), d dirs) (speech.Transcriber, Status) {
	var (
		tr  speech.Transcriber
		st  Status
		err error
	)
	switch cfg.STT {
	case "off":
		return nil, Status{Off: true}
	case "auto", "pocketsphinx":
		var ps *sphinx.Transcriber
		if ps, err = sphinx.New(sphinx.Config{LookPath: lookPath, ModelDir: d.sphinxModel}); err == nil {
			return ps, Status{Engine: ps.Name(), Detail: "(" + ps.Path() + ")"}
		}
		st.Missing = "install " + sphinx.Packages + " (apt)"
		if cfg.STT == "auto" {
			return nil, st
		}
	case "openai":
		tr, err = openai.NewTranscriber(openai.Config{URL: cfg.STTURL, Key: cfg.Key, STTModel: cfg.STTModel})
		st.Missing = "set voice.stt_url (OS1_STT_URL) to the server's http(s) URL"
	case "wyoming":
		tr, err = wyoming.NewTranscriber(wyoming.Config{URL: cfg.STTURL, Model: cfg.STTModel})
		st.Missing = "set voice.stt_url (OS1_STT_URL) to the server's tcp://host:port"
	default:
		err = fmt.Errorf("voice.stt %q is unknown: use auto, pocketsphinx, openai, wyoming or off", cfg.STT)
		st.Missing = "set voice.stt (OS1_STT) to auto, pocketsphinx, openai, wyoming or off"
	}
	if err != nil {
		st.Err = fmt.Errorf("speech to text (%s): %w", cfg.STT, err)
		return nil, st
	}
	return tr, Status{Engine: tr.Name()}
}

func synthesizer(cfg config.Voice, lookPath func(string) (string, error), d dirs) (speech.Synthesizer, Status) {
	var (
		sy  speech.Synthesizer
		st  Status
		err error
	)
	fc := festival.Config{LookPath: lookPath, FestivalVoiceDir: d.festivalVoice}
	switch cfg.TTS {
	case "off":
		return nil, Status{Off: true}
	case "auto", festival.NameFestival, festival.NameFlite, festival.NameESpeak:
		var fs festival.Synthesizer
		if cfg.TTS == "auto" {
			fs, err = festival.First(fc)
		} else {
			fs, err = festival.New(cfg.TTS, fc)
		}
		if err == nil {
			return fs, Status{Engine: fs.Name(), Detail: fs.Voice() + " (" + fs.Path() + ")"}
		}
		want := cfg.TTS
		if want == "auto" {
			want = festival.NameFestival
		}
		st.Missing = "install " + festival.Packages(want) + " (apt)"
		if cfg.TTS == "auto" {
			return nil, st
		}
	case "openai":
		sy, err = openai.NewSynthesizer(openai.Config{URL: cfg.TTSURL, Key: cfg.Key, TTSModel: cfg.TTSModel, Voice: cfg.TTSVoice})
		st.Missing = "set voice.tts_url (OS1_TTS_URL) to the server's http(s) URL"
	case "wyoming":
		sy, err = wyoming.NewSynthesizer(wyoming.Config{URL: cfg.TTSURL, Voice: cfg.TTSVoice})
		st.Missing = "set voice.tts_url (OS1_TTS_URL) to the server's tcp://host:port"
	default:
		err = fmt.Errorf("voice.tts %q is unknown: use auto, %s, openai, wyoming or off", cfg.TTS, strings.Join(festival.Order(), ", "))
		st.Missing = "set voice.tts (OS1_TTS) to auto, " + strings.Join(festival.Order(), ", ") + ", openai, wyoming or off"
	}
	if err != nil {
		st.Err = fmt.Errorf("text to speech (%s): %w", cfg.TTS, err)
		return nil, st
	}
	return sy, Status{Engine: sy.Name()}
}
