package engines

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/speech"
)

// lookIn finds only the binaries named, as if nothing else were installed.
func lookIn(found ...string) func(string) (string, error) {
	return func(bin string) (string, error) {
		for _, f := range found {
			if f == bin {
				return "/usr/bin/" + bin, nil
			}
		}
		return "", &exec.Error{Name: bin, Err: exec.ErrNotFound}
	}
}

// installed lays out the model files the embedded engines look for.
func installed(t *testing.T) dirs {
	t.Helper()
	root := t.TempDir()
	d := dirs{sphinxModel: filepath.Join(root, "en-us"), festivalVoice: filepath.Join(root, "cmu_us_slt_arctic_hts")}
	for _, f := range []string{"en-us/en-us/mdef", "en-us/en-us.lm.bin", "en-us/cmudict-en-us.dict", "cmu_us_slt_arctic_hts/x"} {
		p := filepath.Join(root, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func voice(stt, tts string, more ...func(*config.Voice)) config.Voice {
	v := config.Defaults(func(string) string { return "" }).Voice
	v.STT, v.TTS = stt, tts
	for _, f := range more {
		f(&v)
	}
	return v
}

func TestSelect(t *testing.T) {
	all := lookIn("pocketsphinx_continuous", "text2wave", "flite", "espeak-ng")
	for _, tc := range []struct {
		name     string
		cfg      config.Voice
		look     func(string) (string, error)
		missing  bool // the model files are not there
		lines    []string
		stt, tts string // engine names, "" for none
		wantErr  []string
		unavail  bool // the error wraps speech.ErrUnavailable
	}{
		{name: "auto, everything installed", cfg: voice("auto", "auto"), look: all,
			lines: []string{"stt: pocketsphinx (/usr/bin/pocketsphinx_continuous)", "tts: festival slt HTS (/usr/bin/text2wave)"},
			stt:   "pocketsphinx", tts: "festival"},
		{name: "auto, only espeak-ng", cfg: voice("auto", "auto"), look: lookIn("espeak-ng"),
			lines: []string{"stt: none — install pocketsphinx pocketsphinx-en-us (apt)", "tts: espeak-ng en-us (/usr/bin/espeak-ng)"},
			tts:   "espeak-ng"},
		{name: "auto, nothing installed", cfg: voice("auto", "auto"), look: lookIn(),
			lines: []string{"stt: none — install pocketsphinx pocketsphinx-en-us (apt)", "tts: none — install festival festvox-us-slt-hts (apt)"}},
		{name: "auto, binaries without their models", cfg: voice("auto", "auto"), look: lookIn("pocketsphinx_continuous", "text2wave", "flite"), missing: true,
			lines: []string{"stt: none — install pocketsphinx pocketsphinx-en-us (apt)", "tts: flite slt (/usr/bin/flite)"},
			tts:   "flite"},
		{name: "off", cfg: voice("off", "off"), look: all, lines: []string{"stt: off", "tts: off"}},
		{name: "flite by name", cfg: voice("pocketsphinx", "flite"), look: all,
			lines: []string{"stt: pocketsphinx (/usr/bin/pocketsphinx_continuous)", "tts: flite slt (/usr/bin/flite)"},
			stt:   "pocketsphinx", tts: "flite"},
		{name: "named engines missing", cfg: voice("pocketsphinx", "festival"), look: lookIn("flite"),
			lines:   []string{"stt: none — install pocketsphinx pocketsphinx-en-us (apt)", "tts: none — install festival festvox-us-slt-hts (apt)"},
			wantErr: []string{"apt-get install pocketsphinx pocketsphinx-en-us", "apt-get install festival festvox-us-slt-hts"}, unavail: true},
		{name: "network engines", look: lookIn(), cfg: voice("wyoming", "openai", func(v *config.Voice) {
			v.STTURL, v.TTSURL, v.TTSModel, v.TTSVoice = "tcp://127.0.0.1:10300", "http://127.0.0.1:8000/v1", "kokoro", "af_heart"
		}),
			lines: []string{"stt: wyoming tcp://127.0.0.1:10300", "tts: openai http://127.0.0.1:8000 (kokoro, af_heart)"},
			stt:   "wyoming tcp://127.0.0.1:10300", tts: "openai http://127.0.0.1:8000 (kokoro, af_heart)"},
		{name: "network engines without URLs", look: all, cfg: voice("openai", "wyoming"),
			lines:   []string{"stt: none — set voice.stt_url (OS1_STT_URL) to the server's http(s) URL", "tts: none — set voice.tts_url (OS1_TTS_URL) to the server's tcp://host:port"},
			wantErr: []string{"speech to text (openai)", "text to speech (wyoming)"}},
		{name: "unknown engines", look: all, cfg: voice("whisper", "piper"),
			wantErr: []string{`voice.stt "whisper" is unknown`, `voice.tts "piper" is unknown: use auto, festival, flite, espeak-ng, openai, wyoming or off`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := installed(t)
			if tc.missing {
				d = dirs{sphinxModel: t.TempDir(), festivalVoice: filepath.Join(t.TempDir(), "none")}
			}
			tr, sy, r, err := selectIn(tc.cfg, tc.look, d)
			if tc.lines != nil && strings.Join(r.Lines(), "\n") != strings.Join(tc.lines, "\n") {
				t.Errorf("report:\n%s\nwant:\n%s", strings.Join(r.Lines(), "\n"), strings.Join(tc.lines, "\n"))
			}
			if name(tr) != tc.stt || name(sy) != tc.tts {
				t.Errorf("engines %q, %q; want %q, %q", name(tr), name(sy), tc.stt, tc.tts)
			}
			if r.STT.Active() != (tc.stt != "") || r.TTS.Active() != (tc.tts != "") {
				t.Errorf("Active %v %v", r.STT.Active(), r.TTS.Active())
			}
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("error %v", err)
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
			if tc.unavail != errors.Is(err, speech.ErrUnavailable) {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v", err, !tc.unavail)
			}
		})
	}
}

func name(e interface{ Name() string }) string {
	if e == nil {
		return ""
	}
	return e.Name()
}

// TestRoundTrip speaks with the default synthesizer and hears it with the
// default transcriber, both found on this machine.
func TestRoundTrip(t *testing.T) {
	tr, sy, r, err := Select(voice("auto", "auto"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr == nil || sy == nil || sy.Name() != "festival" {
		msg := "embedded engines missing: " + strings.Join(r.Lines(), "; ") + "; run scripts/deps.sh test"
		if os.Getenv("OS1_E2E_REQUIRE") == "1" {
			t.Fatal(msg + " (OS1_E2E_REQUIRE=1 makes this a failure)")
		}
		t.Skip(msg)
	}
	ctx := context.Background()
	pcm, err := sy.Synthesize(ctx, "Please call my sister tomorrow morning.")
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.Transcribe(ctx, pcm)
	if err != nil {
		t.Fatal(err)
	}
	if got != "please call my sister tomorrow morning" {
		t.Fatalf("heard %q", got)
	}
}
