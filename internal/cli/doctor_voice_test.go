package cli

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/config"
)

func TestDoctorVoice(t *testing.T) {
	r := startApp(t)
	r.env["OS1_ADDR"] = strings.TrimPrefix(r.url, "http://")
	r.env["OS1_STT"] = "off"
	r.env["OS1_TTS"], r.env["OS1_TTS_URL"] = "wyoming", "tcp://127.0.0.1:10200"
	code, out, _ := r.run("", "doctor")
	if code != 0 {
		t.Fatalf("doctor with voice engines configured: %d\n%s", code, out)
	}
	for _, want := range []string{"[ok  ] stt        off", "[ok  ] tts        wyoming tcp://127.0.0.1:10200"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	r.env["OS1_TTS"] = "auto"
	r.env["OS1_STT"], r.env["OS1_STT_URL"] = "openai", "http://127.0.0.1:8000/v1"
	if _, out, _ = r.run("", "doctor"); !strings.Contains(out, "[ok  ] stt        openai http://127.0.0.1:8000 (whisper-1)") {
		t.Errorf("doctor with an openai transcriber:\n%s", out)
	}
}

func TestDoctorVoiceMissing(t *testing.T) {
	nothing := func(bin string) (string, error) { return "", &exec.Error{Name: bin, Err: exec.ErrNotFound} }
	v := config.Defaults(func(string) string { return "" }).Voice
	stt, tts := voiceChecks(v, nothing)[0], voiceChecks(v, nothing)[1]
	if stt.ok || !stt.warn || stt.msg != "none — install pocketsphinx pocketsphinx-en-us (apt)" || !strings.Contains(stt.fix, "OS1_STT=openai or wyoming") {
		t.Errorf("auto stt with nothing installed: %+v", stt)
	}
	if tts.ok || !tts.warn || tts.msg != "none — install festival festvox-us-slt-hts (apt)" {
		t.Errorf("auto tts with nothing installed: %+v", tts)
	}
	v.TTS = "flite"
	tts = voiceChecks(v, nothing)[1]
	if tts.ok || tts.warn || !strings.Contains(tts.msg, "apt-get install flite") || tts.fix != "install flite (apt)" {
		t.Errorf("flite named but missing should fail: %+v", tts)
	}
}
