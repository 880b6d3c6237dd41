// Command gen writes the long-conversation memory benchmark: months of
// everyday chat between Theo and his companion Samantha, with facts planted
// on known days (some of which later change), people with several names,
// recurring activities and near-identical distractors, plus the questions
// whose answers are known message ids.
//
//	go run ./bench/memory/gen -seed 1 -months 6 -out DIR
//
// It writes DIR/transcript.json (for `os1 memory import --format
// transcript`), DIR/questions.jsonl and DIR/meta.json (with "now", the
// moment the questions are asked). The output depends only on the flags;
// it refuses to write a benchmark whose answers it cannot verify.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/os1ai/os1/bench/memory/dataset"
)

func main() {
	seed := flag.Uint64("seed", 1, "random seed; the same seed gives the same files")
	months := flag.Int("months", 6, "length of the conversation history in months (3 to 24)")
	startFlag := flag.String("start", "2026-01-05", "first day of the history, YYYY-MM-DD")
	out := flag.String("out", "", "directory to write (created if missing)")
	flag.Parse()
	if *out == "" {
		fail("-out DIR is required")
	}
	if *months < 3 || *months > 24 {
		fail("-months must be between 3 and 24 (the story needs a few months to unfold)")
	}
	start, err := time.Parse(time.DateOnly, *startFlag)
	if err != nil {
		fail(fmt.Sprintf("-start %q is not YYYY-MM-DD", *startFlag))
	}
	tr, qs, meta, err := generate(*seed, *months, start)
	if err != nil {
		fail("the generated benchmark failed its own checks:\n" + err.Error())
	}
	if err := dataset.Write(*out, tr, qs, meta); err != nil {
		fail(err.Error())
	}
	var types []string
	for _, t := range dataset.Types {
		types = append(types, fmt.Sprintf("%s %d", t, meta.Questions[t]))
	}
	fmt.Printf("wrote %s: %d sessions, %d messages, %s to %s (now %s); %d questions (%s)\n",
		*out, meta.Sessions, meta.Messages, start.Format(time.DateOnly), meta.Now.AddDate(0, 0, -1).Format(time.DateOnly),
		meta.Now.Format(time.RFC3339), len(qs), strings.Join(types, ", "))
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "gen:", msg)
	os.Exit(1)
}
