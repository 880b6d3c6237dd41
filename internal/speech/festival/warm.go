package festival

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/os1ai/os1/internal/audio"
)

// errNotWarm means the warm engine could not take a call, which then runs an
// engine of its own.
var errNotWarm = errors.New("festival: warm engine not running")

// maxFailures is how many times in a row the warm engine may fail to start
// or die mid-call before the Festival stops trying it.
const maxFailures = 3

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
// paths of os1's own making, then waits for the call's mark.
type speaker struct {
	bin, tmp string

	// turn holds a token while a call uses the process: one text at a time,
	// and a caller waiting its turn still sees its ctx end.
	turn chan struct{}

	mu       sync.Mutex // guards the fields below
	p        *festProc  // nil until started, and after it ends
	n        uint64     // calls sent, for marks
	failures int        // in a row; at maxFailures the speaker is off
	closed   bool
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
	return &speaker{bin: bin, tmp: tmp, turn: make(chan struct{}, 1)}
}

// festProc is one running festival.
type festProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	marks chan string   // "os1:…" lines from its standard error, closed when it ends
	done  chan struct{} // closed once it has been waited for
	log   *tail         // the rest of its standard error (SIOD errors)
	ready bool          // its voice is loaded; guarded by the turn
}

func (s *speaker) start() (*festProc, error) {
	cmd := exec.Command(s.bin, "--pipe", "--heap", heapCells)
	cmd.WaitDelay = waitDelay
	p := &festProc{cmd: cmd, marks: make(chan string, 16), done: make(chan struct{}), log: &tail{max: 2048}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p.stdin = stdin
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "os1:") {
				fmt.Fprintln(p.log, line)
				continue
			}
			select {
			case p.marks <- line:
			default: // nobody waits for more than one mark; drop strays
			}
		}
		close(p.marks)
		_ = cmd.Wait()
		close(p.done)
	}()
	if _, err := io.WriteString(stdin, prelude); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

func (p *festProc) kill() { _ = p.cmd.Process.Kill() }

// acquire waits for the turn and returns the running process, starting one
// if need be. It returns errNotWarm, without the turn, when the speaker is
// closed or has failed too often.
func (s *speaker) acquire(ctx context.Context) (*festProc, error) {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("festival: %w", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.failures >= maxFailures {
		<-s.turn
		return nil, errNotWarm
	}
	if s.p != nil {
		select {
		case <-s.p.done: // it died while idle
			s.p = nil
		default:
		}
	}
	if s.p == nil {
		p, err := s.start()
		if err != nil {
			s.failures++
			<-s.turn
			return nil, errNotWarm
		}
		s.p = p
	}
	return s.p, nil
}

// release gives the turn back. ok says whether p answered; a process that
// did not is killed and forgotten, and failed says whether that counts
// against the speaker (it does not when ctx ended).
func (s *speaker) release(p *festProc, ok, failed bool) {
	s.mu.Lock()
	if ok {
		s.failures = 0
	} else {
		p.kill()
		if s.p == p {
			s.p = nil
		}
		if failed {
			s.failures++
		}
	}
	s.mu.Unlock()
	<-s.turn
}

// synthesize speaks text (already cleaned) on the warm process. errNotWarm
// means the process could not take it and the caller should run an engine
// of its own.
func (s *speaker) synthesize(ctx context.Context, text string) (audio.PCM, error) {
	p, err := s.acquire(ctx)
	if err != nil {
		return audio.PCM{}, err
	}
	pcm, err := s.say(ctx, p, text)
	switch {
	case err == nil:
		s.release(p, true, false)
	case ctx.Err() != nil:
		s.release(p, false, false)
		return audio.PCM{}, fmt.Errorf("festival: %w", ctx.Err())
	default:
		s.release(p, false, true)
	}
	return pcm, err
}

// warmUp starts the process and waits until its voice is loaded.
func (s *speaker) warmUp(ctx context.Context) error {
	p, err := s.acquire(ctx)
	if err != nil {
		return fmt.Errorf("%w: %s --pipe did not start", err, s.bin)
	}
	err = s.waitReady(ctx, p)
	switch {
	case err == nil:
		s.release(p, true, false)
	case ctx.Err() != nil:
		s.release(p, false, false)
		return fmt.Errorf("festival: %w", ctx.Err())
	default:
		s.release(p, false, true)
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
func (s *speaker) waitReady(ctx context.Context, p *festProc) error {
	if p.ready {
		return nil
	}
	mark, err := s.wait(ctx, p, func(m string) bool { return strings.HasPrefix(m, "os1:ready:") }, startTime)
	if err != nil {
		return err
	}
	if got := strings.TrimPrefix(mark, "os1:ready:"); got != voice {
		return fmt.Errorf("%w: %s loaded voice %q, not %s: %s", errNotWarm, s.bin, got, voice, p.log.String())
	}
	p.ready = true
	return nil
}

// wait returns the next mark that matches. A process that ends first gives
// errNotWarm; one that takes longer than limit is stuck.
func (s *speaker) wait(ctx context.Context, p *festProc, match func(string) bool, limit time.Duration) (string, error) {
	stuck := time.NewTimer(limit)
	defer stuck.Stop()
	for {
		select {
		case mark, ok := <-p.marks:
			if !ok {
				return "", errNotWarm
			}
			if match(mark) {
				return mark, nil
			}
		case <-ctx.Done():
			return "", ctx.Err()
		case <-stuck.C:
			return "", fmt.Errorf("festival %s did not answer within %v; restarting it: %s", s.bin, limit, p.log.String())
		}
	}
}

// say writes text to a scratch folder, has p speak it and reads the WAV.
func (s *speaker) say(ctx context.Context, p *festProc, text string) (audio.PCM, error) {
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
	s.mu.Lock()
	s.n++
	mark := fmt.Sprintf("os1:done:%d", s.n)
	s.mu.Unlock()
	req := fmt.Sprintf("(os1_say %s %s)\n(format stderr \"%s\\n\")\n", qin, qout, mark)
	if _, err := io.WriteString(p.stdin, req); err != nil {
		return audio.PCM{}, errNotWarm
	}
	// HTS takes about a tenth of the audio's length, some 8 ms a character.
	done := func(m string) bool { return m == mark }
	if _, err := s.wait(ctx, p, done, 10*time.Second+time.Duration(len(text))*20*time.Millisecond); err != nil {
		return audio.PCM{}, err
	}
	wav, err := os.ReadFile(out)
	if err != nil {
		return audio.PCM{}, fmt.Errorf("festival wrote no audio: %w: %s", err, p.log.String())
	}
	return decode(NameFestival, wav, text, p.log.String())
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
func (s *speaker) close() {
	s.mu.Lock()
	s.closed = true
	p := s.p
	s.p = nil
	s.mu.Unlock()
	if p != nil {
		p.kill()
		<-p.done
	}
}
