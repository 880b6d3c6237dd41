package companion

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// failOf runs one real model call and returns its error.
func failOf(t *testing.T, p llm.Provider) error {
	t.Helper()
	_, err := llmtest.Collect(context.Background(), p, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	if err == nil {
		t.Fatal("the model call did not fail")
	}
	return err
}

func TestPlainFailureOfARefusedConnection(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	p := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: "http://" + addr + "/v1", Model: "m", Transport: llm.Transport{MaxRetries: -1}})
	sentence, details := plainFailure(failOf(t, p))
	if want := "I can't reach the model at " + addr + " — is it running?"; sentence != want {
		t.Errorf("sentence = %q, want %q", sentence, want)
	}
	if !strings.Contains(details, "connection refused") || !strings.Contains(details, addr) {
		t.Errorf("details lost the technical error: %q", details)
	}
	for _, raw := range []string{"dial tcp", "openai", "connect:"} {
		if strings.Contains(sentence, raw) {
			t.Errorf("sentence %q shows %q", sentence, raw)
		}
	}
}

func TestPlainFailureWords(t *testing.T) {
	srv := llmtest.NewServer(t)
	p := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "m", Transport: llm.Transport{MaxRetries: -1, IdleTimeout: 5 * time.Second}})
	for _, tc := range []struct {
		reply   llmtest.Reply
		say     string // in the sentence
		details string // in the details
	}{
		{llmtest.Reply{Status: 500, Error: "the scripted model is down"}, "its server had a problem", "the scripted model is down"},
		{llmtest.Reply{Status: 401, Error: "bad key"}, "API key", "bad key"},
		{llmtest.Reply{Status: 429, Error: "slow down"}, "too many requests", "slow down"},
		{llmtest.Reply{Status: 404, Error: "no such model"}, "model name", "no such model"},
	} {
		srv.Enqueue(tc.reply)
		sentence, details := plainFailure(failOf(t, p))
		if !strings.Contains(sentence, tc.say) || !strings.Contains(details, tc.details) {
			t.Errorf("HTTP %d: sentence %q, details %q; want %q and %q", tc.reply.Status, sentence, details, tc.say, tc.details)
		}
		if Sentence(sentence) != sentence || !strings.ContainsAny(sentence[len(sentence)-1:], ".?") {
			t.Errorf("HTTP %d: %q is not a sentence", tc.reply.Status, sentence)
		}
	}
	if s, _ := plainFailure(errors.New("something odd")); s != "The model could not answer. Try again." {
		t.Errorf("unknown failure: %q", s)
	}
}

func TestFailureTextRoundTrip(t *testing.T) {
	for _, tc := range []struct{ sentence, details string }{
		{"I can't reach the model — is it running?", "openai: could not connect: dial tcp 127.0.0.1:1: connect: connection refused"},
		{"No language model is connected.", ""},
		{"Same.", "Same."},
	} {
		s, d := SplitFailure(FailureText(tc.sentence, tc.details))
		wantD := tc.details
		if wantD == tc.sentence {
			wantD = ""
		}
		if s != tc.sentence || d != wantD {
			t.Errorf("round trip of %q/%q gave %q/%q", tc.sentence, tc.details, s, d)
		}
	}
	// Failures stored before issue 10 have no details: all of it is the sentence.
	if s, d := SplitFailure("The model could not answer: boom"); s != "The model could not answer: boom" || d != "" {
		t.Errorf("old failure split into %q/%q", s, d)
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{"not found": "Not found", "Already": "Already", "": "", "élan": "Élan", "42 things": "42 things", `"approve"`: `"approve"`} {
		if got := Sentence(in); got != want {
			t.Errorf("Sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
