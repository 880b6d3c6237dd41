package festival_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
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
	return newEngineWith(t, name, festival.Config{TempDir: tmp})
}

// newEngineWith closes the engine when the test ends.
func newEngineWith(t testing.TB, name string, c festival.Config) festival.Synthesizer {
	t.Helper()
	s, err := festival.New(name, c)
	if err != nil {
		missingEngine(t, err.Error())
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// noWarm finds every binary but festival itself, so each call runs text2wave.
func noWarm(bin string) (string, error) {
	if bin == "festival" {
		return "", exec.ErrNotFound
	}
	return exec.LookPath(bin)
}

// engine is one way of running a named engine.
type engine struct {
	name, mode string
	look       func(string) (string, error)
}

func (e engine) String() string { return e.name + e.mode }

// engines lists every engine, and festival's text2wave fallback as well.
func engines() []engine {
	var all []engine
	for _, name := range festival.Order() {
		all = append(all, engine{name: name})
	}
	return append(all, engine{festival.NameFestival, "/text2wave", noWarm})
}

func TestContract(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.String(), func(t *testing.T) {
			newEngine(t, e.name, "")
			speechtest.TestSynthesizer(t, speechtest.SynthesizerCase{
				New: func(t *testing.T) speech.Synthesizer {
					return newEngineWith(t, e.name, festival.Config{TempDir: t.TempDir(), LookPath: e.look})
				},
			})
		})
	}
}

// Text that would do harm if an engine evaluated it, rather than spoke it:
// festival's Scheme (closing the string festival might have put it in, or
// escaping its quote), option-looking words, terminal escapes, NUL. Every
// call runs on the same engine, so a warm one that was derailed by one text
// would show it on the next.
func TestTextIsOnlySpoken(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.String(), func(t *testing.T) {
			tmp := t.TempDir()
			s := newEngineWith(t, e.name, festival.Config{TempDir: tmp, LookPath: e.look})
			marker := filepath.Join(t.TempDir(), "pwned")
			touch := `(system "touch ` + marker + `")`
			for _, text := range []string{
				`(quit)`,
				`"); ` + touch + ` (quit) ("`,
				touch,
				`\"); ` + touch + ` ; \`,
				`back\slash \\" ` + touch + ` "\`,
				"new\nline\n" + touch + "\n(quit)\n",
				`#.` + touch + ` '` + touch + " `" + touch,
				"-o " + marker + " --help",
				"hello\x00\x1b[2J\x1b]0;title\x07\r\nworld\u202e again",
				strings.Repeat(`\"`, 8) + touch + strings.Repeat(`\`, 9),
			} {
				pcm, err := s.Synthesize(context.Background(), text)
				if err != nil {
					t.Fatalf("Synthesize(%q): %v", text, err)
				}
				if pcm.Duration() < 300*time.Millisecond {
					t.Fatalf("Synthesize(%q): only %v of audio", text, pcm.Duration())
				}
				if _, err := os.Stat(marker); err == nil {
					t.Fatalf("%s ran %q as a command: %s exists", e, text, marker)
				}
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Fatalf("%s left %d scratch files in %s", e, len(left), tmp)
			}
		})
	}
}

// The warm engine says exactly what text2wave says.
func TestWarmSoundsLikeText2wave(t *testing.T) {
	const text = "Of course, I'd love to help. (Really!) What's next?"
	warm := newEngine(t, festival.NameFestival, t.TempDir())
	once := newEngineWith(t, festival.NameFestival, festival.Config{TempDir: t.TempDir(), LookPath: noWarm})
	if filepath.Base(warm.Path()) != "festival" || filepath.Base(once.Path()) != "text2wave" {
		t.Fatalf("paths %s and %s", warm.Path(), once.Path())
	}
	a, err := warm.Synthesize(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	b, err := once.Synthesize(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rate != b.Rate || !slices.Equal(a.Samples, b.Samples) {
		t.Fatalf("warm: %d samples at %d Hz; text2wave: %d at %d Hz, or different ones", len(a.Samples), a.Rate, len(b.Samples), b.Rate)
	}
}

// Scratch files go in TempDir, whatever its name, and festival finds them.
func TestOddTempDir(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), `it's a "quoted" \ (dir); `+"\u00e9")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	s := newEngine(t, festival.NameFestival, tmp)
	if _, err := s.Synthesize(context.Background(), "Hello there."); err != nil {
		t.Fatal(err)
	}
	if festival.WarmPID(s.(*festival.Festival)) == 0 {
		t.Fatal("the warm engine did not run")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("%d scratch files left in %s", len(left), tmp)
	}
}

func TestSchemeString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`/tmp/a`, `"/tmp/a"`},
		{`/tmp/"x"`, `"/tmp/\"x\""`},
		{`/tmp/a\b`, `"/tmp/a\\b"`},
		{`/tmp/\"); (quit) ("`, `"/tmp/\\\"); (quit) (\""`},
	} {
		if got, err := festival.SchemeString(tc.in); err != nil || got != tc.want {
			t.Errorf("schemeString(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"/tmp/a\nb", "/tmp/\x00", "/tmp/\xff"} {
		if got, err := festival.SchemeString(bad); err == nil {
			t.Errorf("schemeString(%q) = %s, want an error", bad, got)
		}
	}
}

func TestWarmEngineIsKeptAndClosed(t *testing.T) {
	s := newEngine(t, festival.NameFestival, t.TempDir()).(*festival.Festival)
	if festival.WarmPID(s) != 0 {
		t.Fatal("New started the engine")
	}
	if err := s.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	pid := festival.WarmPID(s)
	if pid == 0 {
		t.Fatal("Warm started no engine")
	}
	for range 2 {
		if _, err := s.Synthesize(context.Background(), "Of course, I'd love to help."); err != nil {
			t.Fatal(err)
		}
		if now := festival.WarmPID(s); now != pid {
			t.Fatalf("engine pid %d, then %d: it was restarted", pid, now)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if festival.WarmPID(s) != 0 {
		t.Fatal("Close left the engine running")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("engine %d still exists after Close: %v", pid, err)
	}
	if _, err := s.Synthesize(context.Background(), "Still here."); err != nil {
		t.Fatalf("after Close: %v", err)
	}
	if festival.WarmPID(s) != 0 {
		t.Fatal("a call after Close started the warm engine")
	}
}

// Calls take turns on the warm engine and each gets its own audio.
func TestConcurrentCalls(t *testing.T) {
	s := newEngine(t, festival.NameFestival, t.TempDir())
	texts := []string{"Yes.", "I was thinking about what you said yesterday.", "Of course, I'd love to help."}
	want := make([]int, len(texts))
	for i, text := range texts {
		pcm, err := s.Synthesize(context.Background(), text)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = len(pcm.Samples)
	}
	errs := make(chan error, 2*len(texts))
	for range 2 {
		for i, text := range texts {
			go func() {
				pcm, err := s.Synthesize(context.Background(), text)
				if err == nil && len(pcm.Samples) != want[i] {
					err = fmt.Errorf("%q: %d samples, want %d", text, len(pcm.Samples), want[i])
				}
				errs <- err
			}()
		}
	}
	for range 2 * len(texts) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// When festival cannot run, each call runs text2wave, and after a few
// failures festival is no longer tried.
func TestBrokenWarmEngine(t *testing.T) {
	look := func(bin string) (string, error) {
		if bin == "festival" {
			return exec.LookPath("false")
		}
		return exec.LookPath(bin)
	}
	s := newEngineWith(t, festival.NameFestival, festival.Config{TempDir: t.TempDir(), LookPath: look})
	if err := s.Warm(context.Background()); err == nil {
		t.Fatal("Warm with a broken engine: no error")
	}
	for range 4 {
		if _, err := s.Synthesize(context.Background(), "Hello there."); err != nil {
			t.Fatal(err)
		}
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
	// The next call gets a fresh engine.
	if _, err := s.Synthesize(context.Background(), "Hello there."); err != nil {
		t.Fatalf("after the deadline: %v", err)
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

// BenchmarkSynthesize is each engine's time to audio: these engines return
// a sentence's audio all at once, so "first" (a short first sentence of a
// reply) is what a listener waits for before hearing anything. ms is per
// call and rtf is seconds of work per second of audio. Engines are started
// before the timer, so a warm engine is measured warm.
func BenchmarkSynthesize(b *testing.B) {
	for _, name := range festival.Order() {
		for _, tc := range []struct{ name, text string }{
			{"first", "Of course, I'd love to help."},
			{"long", "I was thinking about what you said yesterday, and I think you should call your sister tonight."},
		} {
			b.Run(name+"/"+tc.name, func(b *testing.B) {
				s := newEngine(b, name, b.TempDir())
				ctx := context.Background()
				pcm, err := s.Synthesize(ctx, tc.text)
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				for b.Loop() {
					if pcm, err = s.Synthesize(ctx, tc.text); err != nil {
						b.Fatal(err)
					}
				}
				per := time.Since(start).Seconds() / float64(b.N)
				b.ReportMetric(per*1000, "ms")
				b.ReportMetric(per/pcm.Duration().Seconds(), "rtf")
				b.ReportMetric(pcm.Duration().Seconds(), "audio-s")
			})
		}
	}
}
