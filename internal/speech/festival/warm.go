package festival

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/audio"
	"github.com/os1ai/os1/internal/speech/proc"
)

// errNotWarm means the warm engine could not take a call, which then runs an
// engine of its own.
var errNotWarm = fmt.Errorf("festival: %w", proc.ErrNotWarm)

// voice is the festival voice the warm engine loads, and reports once loaded.
const voice = "cmu_us_slt_arctic_hts"

// prelude is what the warm engine reads first. os1_say speaks the text file
// in, in plain text mode as text2wave does (tts_file cuts it into utterances
// and runs tts_hooks on each), and saves the joined audio to out as a RIFF
// WAV. The marks on standard error, which festival does not buffer, tell the
// reader when each step is done.
const prelude = `(gc-status nil)
(voice_` + voice + `)
(define (os1_keep utt)
  (set! os1_wave (if os1_wave (wave.append os1_wave (utt.wave utt)) (utt.wave utt)))
  utt)
(define (os1_say in out)
  (set! os1_wave nil)
  (set! tts_hooks (list utt.synth os1_keep))
  (tts_file in nil)
  (if os1_wave (wave.save os1_wave out 'riff))
  t)
(format stderr "os1:ready:%s\n" current-voice)
`

// speaker keeps one `festival --pipe` running with the voice loaded. Text
// never passes through festival's Scheme reader: each call writes it to a
// file and sends an expression naming that file and the WAV to write, both
// paths of os1's own making, then waits for the call's mark. The marks come
// on festival's standard error, whose other lines (SIOD errors) are its log.
type speaker struct {
	bin, tmp string
	r        *proc.Resident
}

// newSpeaker returns nil when festival could not be told about files under
// tmp (os.TempDir() when empty).
func newSpeaker(bin, tmp string) *speaker {
	if tmp == "" {
		tmp = os.TempDir()
	}
	if _, err := schemeString(tmp); err != nil {
		return nil
	}
	return &speaker{bin: bin, tmp: tmp, r: proc.New(proc.Config{
		Name:            NameFestival,
		NotWarm:         errNotWarm,
		Command:         func() *exec.Cmd { return exec.Command(bin, "--pipe", "--heap", heapCells) },
		AnswersOnStderr: true,
		Answer:          func(line string) bool { return strings.HasPrefix(line, "os1:") },
		Prelude:         prelude,
	})}
}

// synthesize speaks text (already cleaned) on the warm process. errNotWarm
// means the process could not take it and the caller should run an engine
// of its own.
func (s *speaker) synthesize(ctx context.Context, text string) (audio.PCM, error) {
	return proc.Do(ctx, s.r, func(p *proc.Process) (audio.PCM, error) { return s.say(ctx, p, text) })
}

// warmUp starts the process and waits until its voice is loaded.
func (s *speaker) warmUp(ctx context.Context) error {
	started := false
	_, err := proc.Do(ctx, s.r, func(p *proc.Process) (struct{}, error) {
		started = true
		return struct{}{}, s.waitReady(ctx, p)
	})
	if err != nil && !started {
		return fmt.Errorf("%w: %s --pipe did not start", err, s.bin)
	}
	return err
}

// heapCells sizes festival's Lisp heap. Its default, 10 million cells, keeps
// 330 MB resident for as long as the engine runs, and since every garbage
// collection sweeps the whole heap it also costs time: a short sentence took
// 130 ms with it and 77 ms with 2 million (85 MB). The HTS voice speaks a
// 40-sentence text in 1 million, so 2 leave room.
const heapCells = "2000000"

// startTime bounds how long festival may take to load its voice (0.3 s on
// two cores).
const startTime = 20 * time.Second

// waitReady waits for a new process to report its voice loaded.
func (s *speaker) waitReady(ctx context.Context, p *proc.Process) error {
	if p.Ready {
		return nil
	}
	mark, err := s.wait(ctx, p, func(m string) bool { return strings.HasPrefix(m, "os1:ready:") }, startTime)
	if err != nil {
		return err
	}
	if got := strings.TrimPrefix(mark, "os1:ready:"); got != voice {
		return fmt.Errorf("%w: %s loaded voice %q, not %s: %s", errNotWarm, s.bin, got, voice, p.Log())
	}
	p.Ready = true
	return nil
}

// wait returns the next mark that matches. A process that ends first gives
// errNotWarm; one that takes longer than limit is stuck.
func (s *speaker) wait(ctx context.Context, p *proc.Process, match func(string) bool, limit time.Duration) (string, error) {
	mark, err := p.Wait(ctx, match, limit)
	if errors.Is(err, proc.ErrStuck) {
		return "", fmt.Errorf("festival %s did not answer within %v; restarting it: %s", s.bin, limit, p.Log())
	}
	return mark, err
}

// say writes text to a scratch folder, has p speak it and reads the WAV.
func (s *speaker) say(ctx context.Context, p *proc.Process, text string) (audio.PCM, error) {
	if err := s.waitReady(ctx, p); err != nil {
		return audio.PCM{}, err
	}
	dir, err := os.MkdirTemp(s.tmp, "os1-tts-*")
	if err != nil {
		return audio.PCM{}, fmt.Errorf("festival: scratch folder: %w", err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "text.txt"), filepath.Join(dir, "speech.wav")
	if err := os.WriteFile(in, []byte(text), 0o600); err != nil {
		return audio.PCM{}, fmt.Errorf("festival: %w", err)
	}
	qin, err := schemeString(in)
	if err != nil {
		return audio.PCM{}, err
	}
	qout, err := schemeString(out)
	if err != nil {
		return audio.PCM{}, err
	}
	mark := fmt.Sprintf("os1:done:%d", s.r.Next())
	req := fmt.Sprintf("(os1_say %s %s)\n(format stderr \"%s\\n\")\n", qin, qout, mark)
	if err := p.Send(req); err != nil {
		return audio.PCM{}, err
	}
	// HTS takes about a tenth of the audio's length, some 8 ms a character.
	done := func(m string) bool { return m == mark }
	if _, err := s.wait(ctx, p, done, 10*time.Second+time.Duration(len(text))*20*time.Millisecond); err != nil {
		return audio.PCM{}, err
	}
	wav, err := os.ReadFile(out)
	if err != nil {
		return audio.PCM{}, fmt.Errorf("festival wrote no audio: %w: %s", err, p.Log())
	}
	return decode(NameFestival, wav, text, p.Log())
}

// schemeString quotes s as a Scheme string literal for festival's reader,
// which takes backslash escapes. It refuses what that reader might not read
// back as the same bytes: control characters and invalid UTF-8.
func schemeString(s string) (string, error) {
	if !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("festival: path %q has control characters or is not UTF-8", s)
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`, nil
}

// close kills the process and waits for it; later calls run engines of their own.
func (s *speaker) close() { s.r.Close() }
