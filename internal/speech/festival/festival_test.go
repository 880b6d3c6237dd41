package festival_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/festival"
	"github.com/os1ai/os1/internal/speech/speechtest"
)

// The tests run the real engines. Without the Debian packages a test skips,
// unless OS1_E2E_REQUIRE=1 (make test, CI) makes that a failure.

func missingEngine(t testing.TB, msg string) {
	t.Helper()
	msg += "; run scripts/deps.sh test"
	if os.Getenv("OS1_E2E_REQUIRE") == "1" {
		t.Fatal(msg + " (OS1_E2E_REQUIRE=1 makes this a failure)")
	}
	t.Skip(msg)
}

func newEngine(t testing.TB, name, tmp string) festival.Synthesizer {
	t.Helper()
	s, err := festival.New(name, festival.Config{TempDir: tmp})
	if err != nil {
		missingEngine(t, err.Error())
	}
	return s
}

func TestContract(t *testing.T) {
	for _, name := range festival.Order() {
		t.Run(name, func(t *testing.T) {
			newEngine(t, name, "")
			speechtest.TestSynthesizer(t, speechtest.SynthesizerCase{
				New: func(t *testing.T) speech.Synthesizer { return newEngine(t, name, t.TempDir()) },
			})
		})
	}
}

// Text that would do harm if an engine evaluated it, rather than spoke it:
// festival's Scheme, option-looking words, terminal escapes, NUL.
func TestTextIsOnlySpoken(t *testing.T) {
	for _, name := range festival.Order() {
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			s := newEngine(t, name, tmp)
			marker := filepath.Join(t.TempDir(), "pwned")
			for _, text := range []string{
				`(quit)`,
				`"); (system "touch ` + marker + `") (quit) ("`,
				`(system "touch ` + marker + `")`,
				"-o " + marker + " --help",
				"hello\x00\x1b[2J\x1b]0;title\x07\r\nworld\u202e again",
			} {
				pcm, err := s.Synthesize(context.Background(), text)
				if err != nil {
					t.Fatalf("Synthesize(%q): %v", text, err)
				}
				if pcm.Duration() < 300*time.Millisecond {
					t.Fatalf("Synthesize(%q): only %v of audio", text, pcm.Duration())
				}
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("%s ran text as a command: %s exists", name, marker)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Fatalf("%s left %d scratch files in %s", name, len(left), tmp)
			}
		})
	}
}

func TestDeadlineKillsTheEngine(t *testing.T) {
	s := newEngine(t, festival.NameFestival, t.TempDir())
	long := strings.Repeat("I was thinking about what you said yesterday, and I think you should call your sister tonight. ", 40)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Synthesize(ctx, long); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

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

func TestFirstInstalled(t *testing.T) {
	voice := t.TempDir()
	for _, tc := range []struct {
		found      []string
		want, path string
	}{
		{[]string{"text2wave", "flite", "espeak-ng"}, "festival", "/usr/bin/text2wave"},
		{[]string{"flite", "espeak-ng"}, "flite", "/usr/bin/flite"},
		{[]string{"espeak-ng"}, "espeak-ng", "/usr/bin/espeak-ng"},
	} {
		s, err := festival.First(festival.Config{LookPath: lookIn(tc.found...), FestivalVoiceDir: voice})
		if err != nil || s.Name() != tc.want || s.Path() != tc.path {
			t.Errorf("with %v: %v, %v; want %s at %s", tc.found, s, err, tc.want, tc.path)
		}
	}
	// festival without its voice falls through to flite.
	s, err := festival.First(festival.Config{LookPath: lookIn("text2wave", "flite"), FestivalVoiceDir: filepath.Join(voice, "nope")})
	if err != nil || s.Name() != "flite" {
		t.Errorf("festival without voice: %v, %v; want flite", s, err)
	}
	_, err = festival.First(festival.Config{LookPath: lookIn()})
	if !errors.Is(err, speech.ErrUnavailable) {
		t.Fatalf("nothing installed: %v, want ErrUnavailable", err)
	}
	for _, want := range []string{"festival festvox-us-slt-hts", "apt-get install flite", "apt-get install espeak-ng"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("nothing installed: %q lacks %q", err, want)
		}
	}
	if _, err := festival.New("say", festival.Config{}); err == nil || !strings.Contains(err.Error(), "festival, flite, espeak-ng") {
		t.Errorf("unknown engine: %v", err)
	}
}

// BenchmarkSynthesize is the time to first audio of each engine: these
// engines return a sentence's audio all at once.
func BenchmarkSynthesize(b *testing.B) {
	const sentence = "I was thinking about what you said yesterday, and I think you should call your sister tonight."
	for _, name := range festival.Order() {
		b.Run(name, func(b *testing.B) {
			s := newEngine(b, name, b.TempDir())
			ctx := context.Background()
			var audioSec float64
			start := time.Now()
			for b.Loop() {
				pcm, err := s.Synthesize(ctx, sentence)
				if err != nil {
					b.Fatal(err)
				}
				audioSec = pcm.Duration().Seconds()
			}
			b.ReportMetric(time.Since(start).Seconds()/float64(b.N)/audioSec, "rtf")
			b.ReportMetric(audioSec, "audio-s")
		})
	}
}
