package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadLME(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("meta.jsonl", `{"id":"q1","question_type":"multi-session","question":"How many?","question_time":"2023-03-27T23:35:00Z"}`+"\n\n")
	write("q1.json", `{"sessions":[{"time":"2023-03-01T10:00:00Z","messages":[{"id":"q1-s00-t000","speaker":"user","text":"hi"}]}]}`)
	write("q1.q", "How many?\n")
	write("q1.ev", `[["q1-s00-t000"]]`)
	hs, err := ReadLME(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != 1 || hs[0].ID != "q1" || hs[0].Question.Question != "How many?" || hs[0].Question.Type != "multi-session" ||
		!slices.Equal(hs[0].Question.Answers, []string{"q1-s00-t000"}) || !hs[0].Now.Equal(time.Date(2023, 3, 27, 23, 35, 0, 0, time.UTC)) {
		t.Fatalf("ReadLME = %+v", hs)
	}
	tr, err := ReadTranscript(hs[0].Transcript)
	if err != nil || len(tr.Sessions) != 1 || tr.Sessions[0].Messages[0].Speaker != "user" {
		t.Fatalf("ReadTranscript = %+v, %v", tr, err)
	}
	write("q1.ev", `[]`)
	if _, err := ReadLME(dir); err == nil || !strings.Contains(err.Error(), "evidence") {
		t.Fatalf("no evidence: %v", err)
	}
}
