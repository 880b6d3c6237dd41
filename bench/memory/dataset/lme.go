package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LMEMetaFile is the per-question index of a LongMemEval directory.
const LMEMetaFile = "meta.jsonl"

// LME types in report order, as LongMemEval names them.
var LMETypes = []string{
	"single-session-user", "single-session-assistant", "single-session-preference",
	"multi-session", "knowledge-update", "temporal-reasoning",
}

// LMEHistory is one LongMemEval question with its own chat history:
// <id>.json (a transcript), <id>.q (the question), <id>.ev (the evidence
// message ids), and its meta.jsonl record (type, question time). See
// /work/shared/datasets/longmemeval_s/README.md for the layout.
type LMEHistory struct {
	ID         string
	Transcript string // path of <id>.json
	Question   Question
	Now        time.Time // when the question is asked
}

// ReadLME lists the histories of a LongMemEval directory in meta.jsonl's
// order, checking each has its transcript, question and evidence files.
func ReadLME(dir string) ([]LMEHistory, error) {
	f, err := os.Open(filepath.Join(dir, LMEMetaFile))
	if err != nil {
		return nil, fmt.Errorf("read the LongMemEval index: %w", err)
	}
	defer f.Close()
	var out []LMEHistory
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec struct {
			ID       string    `json:"id"`
			Type     string    `json:"question_type"`
			Question string    `json:"question"`
			Time     time.Time `json:"question_time"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", LMEMetaFile, n, err)
		}
		if rec.ID == "" || strings.ContainsAny(rec.ID, `/\`) || rec.Time.IsZero() {
			return nil, fmt.Errorf("%s line %d: no usable id or question_time", LMEMetaFile, n)
		}
		h := LMEHistory{ID: rec.ID, Transcript: filepath.Join(dir, rec.ID+".json"), Now: rec.Time}
		q, err := os.ReadFile(filepath.Join(dir, rec.ID+".q"))
		if err != nil {
			return nil, err
		}
		lines := strings.Split(strings.TrimSpace(string(q)), "\n")
		ev, err := os.ReadFile(filepath.Join(dir, rec.ID+".ev"))
		if err != nil {
			return nil, err
		}
		var ids [][]string
		if err := json.Unmarshal(ev, &ids); err != nil {
			return nil, fmt.Errorf("%s.ev: %w", rec.ID, err)
		}
		if len(lines) != 1 || len(ids) != 1 || len(ids[0]) == 0 {
			return nil, fmt.Errorf("%s: want one question and its evidence ids, have %d questions and %d id lists", rec.ID, len(lines), len(ids))
		}
		h.Question = Question{Question: strings.TrimSpace(lines[0]), Answers: ids[0], Type: rec.Type}
		if _, err := os.Stat(h.Transcript); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s lists no questions", filepath.Join(dir, LMEMetaFile))
	}
	return out, nil
}

// ReadTranscript loads a transcript file.
func ReadTranscript(name string) (Transcript, error) {
	var t Transcript
	b, err := os.ReadFile(name)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("parse %s: %w", name, err)
	}
	return t, nil
}
