package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// target is the goal for end of speech → first audio out.
const target = time.Second

type header struct {
	n          int
	engines    []string
	machine    string
	loadBefore string
}

func (h header) print(utts []utterance) {
	fmt.Println("os1 voice: end of speech → first audio out, through a call Session in real time")
	fmt.Printf("engines: %s\n", strings.Join(h.engines, "; "))
	fmt.Printf("model: scripted, answers at once (llmtest over loopback): %q\n", strings.Join(answer, ""))
	fmt.Println("options: the defaults (grace 600 ms, mid-sentence grace 1500 ms, VAD hangover 200 ms)")
	fmt.Printf("machine: %s; load average %s\n", h.machine, h.loadBefore)
	fmt.Printf("runs: %d per utterance and VAD mode\n\n", h.n)
	fmt.Printf("The user's lines (festival slt HTS at %d Hz, %v of room noise before, %v after):\n", inputRate, leadIn, tailOut)
	w := table()
	fmt.Fprintln(w, "  #\tutterance\tspeech\tquiet tail¹\t")
	for i, u := range utts {
		fmt.Fprintf(w, "  %d\t%s\t%.2f s\t%d ms\t\n", i+1, u.text, u.clip.Duration().Seconds(), u.quietTail().Milliseconds())
	}
	w.Flush()
	fmt.Printf("  ¹ the end of the clip under %d dBFS; end of speech is the end of the clip, quiet tail included\n\n", quietDBFS)
}

func (e engineTimes) print(utts []utterance, stt, tts string) {
	fmt.Printf("Engines on their own, ms (%d runs each, after one untimed run; STT on the audio a client-VAD call\n", len(e.tts))
	fmt.Printf("transcribes: %v of pre-roll and the speech, over room noise):\n", preRoll)
	w := table()
	fmt.Fprintf(w, "  STT %s\tp50\tp95\tRTF p50\tWER\theard (last run)\t\n", stt)
	for i, u := range utts {
		p50 := quantile(e.stt[i], 0.5)
		fmt.Fprintf(w, "  utterance %d (%.2f s)\t%s\t%s\t%.2f\t%.2f\t%q\t\n", i+1, u.heard().Duration().Seconds(), ms(p50), ms(quantile(e.stt[i], 0.95)),
			p50.Seconds()/u.heard().Duration().Seconds(), mean(e.wer[i]), e.heard[i])
	}
	fmt.Fprintf(w, "  TTS %s, first sentence\tp50\tp95\t\t\t\t\n", tts)
	fmt.Fprintf(w, "  %q\t%s\t%s\t\t\t\t\n", e.text, ms(quantile(e.tts, 0.5)), ms(quantile(e.tts, 0.95)))
	w.Flush()
	fmt.Println("  WER: word error rate against the line said, mean over the runs")
	fmt.Println()
}

func printLatency(utts []utterance, modes []bool, res map[bool][][]turnResult) {
	fmt.Printf("End of speech → first audio out, ms (target ≤ %d):\n", target.Milliseconds())
	w := table()
	fmt.Fprintln(w, "  VAD\tutterance\tp50\tp95\tmin\tmax\t")
	for _, clientVAD := range modes {
		var all []time.Duration
		for i := range utts {
			d := pick(res[clientVAD][i], func(r turnResult) time.Duration { return r.firstAudio })
			all = append(all, d...)
			fmt.Fprintf(w, "  %s\t%d\t%s\t%s\t%s\t%s\t\n", modeName(clientVAD), i+1,
				ms(quantile(d, 0.5)), ms(quantile(d, 0.95)), ms(slices.Min(d)), ms(slices.Max(d)))
		}
		fmt.Fprintf(w, "  %s\tall\t%s\t%s\t%s\t%s\t\n", modeName(clientVAD),
			ms(quantile(all, 0.5)), ms(quantile(all, 0.95)), ms(slices.Min(all)), ms(slices.Max(all)))
	}
	w.Flush()
}

// printBreakdown shows when each stage was reached and the share of each
// stage in the wait, over all utterances of a mode.
func printBreakdown(utts []utterance, modes []bool, res map[bool][][]turnResult) {
	fmt.Println("\nWhen each stage was reached, ms after the end of speech (p50 of each column on its own):")
	w := table()
	fmt.Fprintln(w, "  VAD\tutterance\tVAD end¹\tSTT start²\tSTT done³\tgrace out\ttranscript\tfirst token\tfirst audio\tSTT runs⁴\tWER\theard (last run)\t")
	row := func(mode, name string, rs []turnResult, heard string) {
		col := func(f func(turnResult) time.Duration) string { return ms(quantile(pick(rs, f), 0.5)) }
		runs := 0
		var wer []float64
		for _, r := range rs {
			runs = max(runs, r.sttRuns)
			wer = append(wer, r.wer)
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%.2f\t%s\t\n", mode, name,
			col(func(r turnResult) time.Duration { return r.ref }),
			col(func(r turnResult) time.Duration { return r.sttStart }),
			col(func(r turnResult) time.Duration { return r.sttDone }),
			col(func(r turnResult) time.Duration { return r.endOfTurn }),
			col(func(r turnResult) time.Duration { return r.transcript }),
			col(func(r turnResult) time.Duration { return r.firstToken }),
			col(func(r turnResult) time.Duration { return r.firstAudio }), runs, mean(wer), heard)
	}
	for _, clientVAD := range modes {
		var all []turnResult
		for i := range utts {
			rs := res[clientVAD][i]
			all = append(all, rs...)
			row(modeName(clientVAD), fmt.Sprint(i+1), rs, fmt.Sprintf("%q", rs[len(rs)-1].heard))
		}
		row(modeName(clientVAD), "all", all, "")
	}
	w.Flush()
	fmt.Println("  ¹ the session's own end of speech (server VAD: the last voiced frame), which starts the grace")
	fmt.Println("  ² the speculative transcription starts (server VAD: the `vad` silence frame, after the 200 ms hangover)")
	fmt.Println("  ³ the speculative transcript frame   ⁴ the most speculative transcriptions one turn started (a pause the VAD took for the end restarts it)")

	fmt.Println("\nWhere the time goes, ms (p50 over all turns of a mode; each part is its own median):")
	w = table()
	fmt.Fprintln(w, "  VAD\tgrace wait⁵\tSTT past the grace⁶\tmodel⁷\tTTS + send⁸\tfirst audio\tSTT in the call⁹\t")
	for _, clientVAD := range modes {
		var all []turnResult
		for i := range utts {
			all = append(all, res[clientVAD][i]...)
		}
		med := func(f func(turnResult) time.Duration) string { return ms(quantile(pick(all, f), 0.5)) }
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", modeName(clientVAD),
			med(func(r turnResult) time.Duration { return r.endOfTurn }),
			med(func(r turnResult) time.Duration { return r.transcript - r.endOfTurn }),
			med(func(r turnResult) time.Duration { return r.firstToken - r.transcript }),
			med(func(r turnResult) time.Duration { return r.firstAudio - r.firstToken }),
			med(func(r turnResult) time.Duration { return r.firstAudio }),
			med(func(r turnResult) time.Duration { return r.sttDone - r.sttStart }))
	}
	w.Flush()
	fmt.Println("  ⁵ end of speech → the grace ran out   ⁶ grace out → final transcript (0: STT was done in the grace)")
	fmt.Println("  ⁷ final transcript → first token (companion, SQLite, SSE)   ⁸ first token → first audio frame out")
	fmt.Println("  ⁹ STT start → speculative transcript, inside the call (the CPU is shared with the call)")
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func table() *tabwriter.Writer { return tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0) }

func pick(rs []turnResult, f func(turnResult) time.Duration) []time.Duration {
	out := make([]time.Duration, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

// quantile uses the nearest rank (the median of an even count is the lower
// middle value).
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(d))
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprint(d.Round(time.Millisecond).Milliseconds()) }

// describeMachine names the CPU, its cores and memory (from /proc where
// there is one) and the Go that built the bench.
func describeMachine() string {
	cpu, mem := "", ""
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kib); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kib)/(1<<20))
		}
	}
	if cpu == "" {
		cpu = runtime.GOARCH
	}
	return fmt.Sprintf("%d × %s%s, %s/%s, %s", runtime.NumCPU(), cpu, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// loadAverage is the 1, 5 and 15 minute load average ("?" without /proc).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
