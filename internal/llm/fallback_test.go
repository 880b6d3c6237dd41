package llm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// fallbackPair is an OpenAI-compatible primary and an Anthropic secondary,
// each on its own scripted server, with retries that do not wait.
func fallbackPair(t *testing.T) (prim, sec *llmtest.Server, p llm.Provider) {
	prim, sec = llmtest.NewServer(t), llmtest.NewServer(t)
	tr := llm.Transport{Sleep: (&llmtest.Sleeps{}).Sleep}
	p = llm.NewFallback(newOpenAI(t, prim, tr), newAnthropic(t, sec, tr))
	return prim, sec, p
}

var hi = llm.Request{Model: "llama3.2", Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}

func TestFallbackAnswersWhenPrimaryFailsFirst(t *testing.T) {
	prim, sec, p := fallbackPair(t)
	prim.Handle(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Status: 500, Error: "primary is down"} })
	sec.Enqueue(llmtest.Reply{Chunks: []string{"from ", "the fallback"}})

	if p.Name() != "openai+anthropic" || p.Model() != "llama3.2" {
		t.Errorf("Name, Model = %q, %q", p.Name(), p.Model())
	}
	evs, err := llmtest.Collect(t.Context(), p, hi)
	if err != nil {
		t.Fatal(err)
	}
	if got := llmtest.TextOf(evs); got != "from the fallback" {
		t.Errorf("text = %q", got)
	}
	if done := llmtest.CheckStream(t, evs); done.Provider != "anthropic" {
		t.Errorf("Done.Provider = %q, want anthropic (the one that answered)", done.Provider)
	}
	if n := len(prim.Requests()); n != 4 {
		t.Errorf("primary saw %d requests, want 4 (its own retries first)", n)
	}
	if got := sec.Requests()[0].Model; got != "claude-test" {
		t.Errorf("secondary was asked for model %q, want its own default, not the primary's", got)
	}
}

func TestFallbackPrimaryAnswers(t *testing.T) {
	prim, sec, p := fallbackPair(t)
	prim.Enqueue(llmtest.Reply{Chunks: []string{"primary"}})
	evs, err := llmtest.Collect(t.Context(), p, hi)
	if err != nil {
		t.Fatal(err)
	}
	if done := llmtest.CheckStream(t, evs); done.Provider != "openai" || llmtest.TextOf(evs) != "primary" {
		t.Errorf("got %q from %q", llmtest.TextOf(evs), done.Provider)
	}
	if n := len(sec.Requests()); n != 0 {
		t.Errorf("secondary saw %d requests, want 0", n)
	}
}

func TestFallbackNotAfterPrimarySpoke(t *testing.T) {
	prim, sec, p := fallbackPair(t)
	prim.Enqueue(llmtest.Reply{Chunks: []string{"half", "way"}, Fault: llmtest.FaultDrop, FaultAfter: 1})
	evs, err := llmtest.Collect(t.Context(), p, hi)
	if llm.KindOf(err) != llm.KindConnection {
		t.Fatalf("err = %v, want the primary's connection error", err)
	}
	if llmtest.TextOf(evs) != "half" {
		t.Errorf("text = %q, want half", llmtest.TextOf(evs))
	}
	if n := len(sec.Requests()); n != 0 {
		t.Errorf("secondary saw %d requests; the user already heard the primary", n)
	}
}

func TestFallbackNotOnCancel(t *testing.T) {
	_, sec, p := fallbackPair(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := llmtest.Collect(ctx, p, hi)
	if llm.KindOf(err) != llm.KindCanceled {
		t.Fatalf("err = %v, want cancellation", err)
	}
	if n := len(sec.Requests()); n != 0 {
		t.Errorf("secondary saw %d requests after cancellation", n)
	}
}

func TestFallbackBothFail(t *testing.T) {
	prim, sec, p := fallbackPair(t)
	prim.Enqueue(llmtest.Reply{Status: 401, Error: "bad key one"})
	sec.Enqueue(llmtest.Reply{Status: 404, Error: "no such model two"})
	_, err := llmtest.Collect(t.Context(), p, hi)
	if llm.KindOf(err) != llm.KindBadRequest {
		t.Errorf("kind = %q, want the secondary's", llm.KindOf(err))
	}
	for _, want := range []string{"bad key one", "no such model two"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}
