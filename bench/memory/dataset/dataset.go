// Package dataset is the file format of the long-conversation memory
// benchmark: the transcript `os1 memory import --format transcript` reads,
// the questions with the ids of the messages that answer them, and the
// meta file that says when "now" is. bench/memory/gen writes it and
// bench/memory/eval reads it; it must never depend on os1's own packages,
// so the benchmark measures the binary from the outside.
package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names inside a benchmark directory.
const (
	TranscriptFile = "transcript.json"
	QuestionsFile  = "questions.jsonl"
	MetaFile       = "meta.json"
)

// Question types.
const (
	TypeFact       = "fact"       // a stable fact, stated once
	TypeChanged    = "changed"    // a fact that changed: the current or the old value
	TypeAlias      = "alias"      // asked with a name of a person the source does not use
	TypeTemporal   = "temporal"   // needs a time window ("in May", "last week")
	TypeDistractor = "distractor" // near-identical messages about other people or things
)

// Types lists the question types in report order.
var Types = []string{TypeFact, TypeChanged, TypeAlias, TypeTemporal, TypeDistractor}

// Transcript is what `os1 memory import --format transcript` reads.
type Transcript struct {
	Sessions []Session `json:"sessions"`
}

// Session is one conversation; its messages carry no time of their own.
type Session struct {
	Time     time.Time `json:"time"`
	Messages []Message `json:"messages"`
}

// Message keeps its id through the import, so recall hits can be scored
// against the answer ids.
type Message struct {
	ID      string `json:"id"`
	Speaker string `json:"speaker"`
	Text    string `json:"text"`
}

// Question is one line of questions.jsonl.
type Question struct {
	Question string   `json:"question"`
	Answers  []string `json:"answers"` // ids of the messages that hold the answer
	Type     string   `json:"type"`
	// Expect holds, for each answer id in order, the words of that message
	// that answer the question; the generator checks they are there.
	Expect []string `json:"expect,omitempty"`
}

// Meta describes a generated directory.
type Meta struct {
	Seed      uint64         `json:"seed"`
	Months    int            `json:"months"`
	Start     time.Time      `json:"start"` // first day of the transcript
	Now       time.Time      `json:"now"`   // the moment questions are asked; relative dates resolve against it
	User      string         `json:"user"`
	Companion string         `json:"companion"`
	Sessions  int            `json:"sessions"`
	Messages  int            `json:"messages"`
	Questions map[string]int `json:"questions"` // by type
}

// Write stores a benchmark in dir, creating it if needed.
func Write(dir string, t Transcript, qs []Question, m Meta) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, TranscriptFile), b, 0o644); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, q := range qs {
		if err := enc.Encode(q); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, QuestionsFile), buf.Bytes(), 0o644); err != nil {
		return err
	}
	b, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, MetaFile), append(b, '\n'), 0o644)
}

// Read loads a benchmark written by Write.
func Read(dir string) (Transcript, []Question, Meta, error) {
	var (
		t  Transcript
		qs []Question
		m  Meta
	)
	b, err := os.ReadFile(filepath.Join(dir, TranscriptFile))
	if err != nil {
		return t, nil, m, fmt.Errorf("read the transcript (generate one with `go run ./bench/memory/gen -out %s`): %w", dir, err)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, nil, m, fmt.Errorf("parse %s: %w", filepath.Join(dir, TranscriptFile), err)
	}
	b, err = os.ReadFile(filepath.Join(dir, MetaFile))
	if err != nil {
		return t, nil, m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return t, nil, m, fmt.Errorf("parse %s: %w", filepath.Join(dir, MetaFile), err)
	}
	f, err := os.Open(filepath.Join(dir, QuestionsFile))
	if err != nil {
		return t, nil, m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var q Question
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			return t, nil, m, fmt.Errorf("%s line %d: %w", QuestionsFile, n, err)
		}
		qs = append(qs, q)
	}
	return t, qs, m, sc.Err()
}
