// Command voice measures how soon os1 starts to answer a spoken turn: from
// the end of the user's speech to the first audio frame of the reply, with
// the embedded speech engines (PocketSphinx, festival/flite/espeak-ng) and a
// scripted model that answers at once. Everything else is real and runs in
// real time: a call Session of the voice pipeline with its default options,
// the companion on SQLite in a temp dir, and the scripted model server
// (internal/llm/llmtest, OpenAI-compatible SSE over loopback) behind the real
// client. The user's lines are festival speech fed in 20 ms frames at the
// pace of a microphone, once with server VAD and once with client VAD
// (speech_end sent at the true end of speech).
//
//	go run ./bench/voice [-n 5] [-tts auto] [-vad both] [-v]
//
// It also times the engines directly (STT real-time factor, TTS time to the
// first sentence's audio) and prints where the time goes. It reports
// numbers and never passes or fails on them; it must leave no temp files or
// engine processes behind, also when interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/config"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/speech"
	"github.com/os1ai/os1/internal/speech/engines"
	"github.com/os1ai/os1/internal/speech/festival"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/store/sqlite"
	"github.com/os1ai/os1/internal/voice"
)

// answer is the scripted model's reply to every turn, streamed word by word.
var answer = []string{"Sure", ",", " I'll", " remind", " you", " at", " seven", "."}

func main() {
	n := flag.Int("n", 5, "repetitions of every utterance in every VAD mode (and of each direct engine timing)")
	tts := flag.String("tts", "auto", "reply voice: auto (as os1 picks: festival, flite, espeak-ng), festival, flite or espeak-ng")
	vad := flag.String("vad", "both", "VAD modes to run: server, client or both")
	verbose := flag.Bool("v", false, "print every turn")
	flag.Parse()
	var modes []bool // clientVAD
	switch *vad {
	case "server":
		modes = []bool{false}
	case "client":
		modes = []bool{true}
	case "both":
		modes = []bool{false, true}
	default:
		fmt.Fprintf(os.Stderr, "voice: -vad %q: use server, client or both\n", *vad)
		os.Exit(2)
	}
	if *n < 1 {
		fmt.Fprintln(os.Stderr, "voice: -n must be at least 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := bench(ctx, *n, *tts, modes, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "voice:", err)
		stop()
		os.Exit(1)
	}
}

func bench(ctx context.Context, n int, ttsName string, modes []bool, verbose bool) error {
	dir, err := os.MkdirTemp("", "os1-bench-voice-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	cfg := config.Defaults(func(string) string { return "" }).Voice
	cfg.STT, cfg.TTS = "pocketsphinx", ttsName
	stt, tts, rep, err := engines.Select(cfg, nil)
	for _, e := range []any{stt, tts} {
		if c, ok := e.(io.Closer); ok && c != nil {
			defer c.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("speech engines: %w", err)
	}
	// As os1 serve does, engines that keep a process between calls start
	// it before the first call.
	for _, e := range []any{stt, tts} {
		if w, ok := e.(interface{ Warm(context.Context) error }); ok {
			if err := w.Warm(ctx); err != nil {
				return fmt.Errorf("start the warm engine: %w", err)
			}
		}
	}
	// The user's voice is festival's, whatever speaks the replies.
	voiceOf, err := festival.NewFestival(festival.Config{TempDir: dir})
	if err != nil {
		return fmt.Errorf("the user's lines are spoken by festival: %w", err)
	}
	utts, err := makeUtterances(ctx, voiceOf, lines)
	voiceOf.Close()
	if err != nil {
		return err
	}
	h := header{n: n, engines: rep.Lines(), machine: describeMachine(), loadBefore: loadAverage()}
	h.print(utts)

	eng, err := timeEngines(ctx, stt, tts, utts, n)
	if err != nil {
		return err
	}
	eng.print(utts, stt.Name(), tts.Name())

	p, userID, cleanup, err := wire(ctx, dir, stt, tts)
	if err != nil {
		return err
	}
	defer cleanup()

	results := map[bool][][]turnResult{} // clientVAD → per utterance
	for _, clientVAD := range modes {
		results[clientVAD] = make([][]turnResult, len(utts))
	}
	// The modes take turns, so that a change in the machine's load falls on both.
	for rep := range n {
		for _, clientVAD := range modes {
			c, err := startCall(ctx, p, userID, clientVAD)
			if err != nil {
				return err
			}
			for i, u := range utts {
				r, err := c.turn(ctx, u)
				if err != nil {
					c.s.Close()
					return fmt.Errorf("%s VAD, run %d, utterance %d: %w", modeName(clientVAD), rep+1, i+1, err)
				}
				results[clientVAD][i] = append(results[clientVAD][i], r)
				if verbose {
					fmt.Printf("  %s VAD run %d utt %d: first audio %v (vad end %v, stt %v→%v, grace out %v, transcript %v, first token %v) heard %q\n",
						modeName(clientVAD), rep+1, i+1, ms(r.firstAudio), ms(r.ref), ms(r.sttStart), ms(r.sttDone),
						ms(r.endOfTurn), ms(r.transcript), ms(r.firstToken), r.heard)
				}
			}
			c.s.Close()
		}
	}
	printLatency(utts, modes, results)
	printBreakdown(utts, modes, results)
	fmt.Printf("\nload average before: %s; after: %s\n", h.loadBefore, loadAverage())
	return nil
}

func modeName(clientVAD bool) string {
	if clientVAD {
		return "client"
	}
	return "server"
}

// model hands the companion the scripted model.
type model struct{ p llm.Provider }

func (m model) Provider(context.Context) (llm.Provider, error) { return m.p, nil }

// wire builds a pipeline as os1 serve does, with the scripted model: a
// companion on SQLite in dir and the default voice options.
func wire(ctx context.Context, dir string, stt speech.Transcriber, tts speech.Synthesizer) (*voice.Pipeline, string, func(), error) {
	db, err := sqlite.Open(ctx, filepath.Join(dir, "os1.db"))
	if err != nil {
		return nil, "", nil, err
	}
	srv, err := llmtest.Start("127.0.0.1:0", llmtest.Options{Handler: func(llmtest.Request) llmtest.Reply {
		return llmtest.Reply{Chunks: answer}
	}})
	if err != nil {
		db.Close()
		return nil, "", nil, err
	}
	prov := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "scripted"})
	comp := companion.New(companion.Deps{Store: db, Models: model{prov}}, companion.Options{})
	cleanup := func() {
		comp.Close()
		srv.Close()
		db.Close()
	}
	u := store.User{ID: "usr_bench", Username: "bench", DisplayName: "Bench", Role: store.RoleOwner, PasswordHash: "!", CreatedAt: time.Now()}
	if err := db.CreateUser(ctx, u); err != nil {
		cleanup()
		return nil, "", nil, err
	}
	p := voice.New(voice.Deps{Companion: comp, Conversations: db, STT: stt, TTS: tts}, voice.Options{})
	return p, u.ID, cleanup, nil
}

// engineTimes are the engines timed on their own.
type engineTimes struct {
	stt   [][]time.Duration // per utterance
	wer   [][]float64
	heard []string
	tts   []time.Duration // the reply's first sentence
	text  string
}

// timeEngines times n transcriptions of every utterance (as a client-VAD
// call hears it) and n syntheses of the reply, after one untimed call of each (cold caches are not what a call
// meets).
func timeEngines(ctx context.Context, stt speech.Transcriber, tts speech.Synthesizer, utts []utterance, n int) (engineTimes, error) {
	var e engineTimes
	for _, a := range answer {
		e.text += a
	}
	if _, err := stt.Transcribe(ctx, utts[0].heard()); err != nil {
		return e, fmt.Errorf("%s: %w", stt.Name(), err)
	}
	if _, err := tts.Synthesize(ctx, e.text); err != nil {
		return e, fmt.Errorf("%s: %w", tts.Name(), err)
	}
	e.stt = make([][]time.Duration, len(utts))
	e.heard = make([]string, len(utts))
	e.wer = make([][]float64, len(utts))
	for range n {
		for i, u := range utts {
			t0 := time.Now()
			text, err := stt.Transcribe(ctx, u.heard())
			if err != nil {
				return e, fmt.Errorf("%s on %q: %w", stt.Name(), u.text, err)
			}
			e.stt[i] = append(e.stt[i], time.Since(t0))
			e.heard[i] = text
			e.wer[i] = append(e.wer[i], wordErrors(u.text, text))
		}
		t0 := time.Now()
		if _, err := tts.Synthesize(ctx, e.text); err != nil {
			return e, fmt.Errorf("%s: %w", tts.Name(), err)
		}
		e.tts = append(e.tts, time.Since(t0))
	}
	if err := ctx.Err(); err != nil {
		return e, errors.Join(errors.New("interrupted"), err)
	}
	return e, nil
}
