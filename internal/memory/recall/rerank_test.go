package recall_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/memtest"
	"github.com/os1ai/os1/internal/memory/recall"
)

// rerankRig is a user whose past messages are indexed for full text, the
// plain Recaller over them, and a Reranker on the scripted model.
type rerankRig struct {
	h  *memtest.Harness
	rr *recall.Reranker
}

func newRerankRig(t *testing.T) *rerankRig {
	t.Helper()
	h := memtest.New(t)
	for i, text := range []string{
		"We planted tomatoes in the garden today",
		"The garden needs water every evening in summer",
		"Rosa's garden party is on Sunday afternoon",
		"Garden gnomes are silly, said Tom",
		"Rosa moved to Lisbon in May",
	} {
		doc := memory.MessageDoc{ID: fmt.Sprintf("msg_%d", i+1), UserID: h.User.ID, Speaker: "Theodore", Role: "user",
			Text: text, Time: memtest.Day0.Add(-time.Duration(10-i) * 24 * time.Hour)}
		h.Must(h.Mem.IndexMessage(h.Ctx, doc, nil))
	}
	rr := recall.NewReranker(h.Recall, h.Models, h.Clock, recall.RerankOptions{Meter: h.Meter})
	return &rerankRig{h: h, rr: rr}
}

// plain is the plain ranking of q, as ids.
func (g *rerankRig) plain(q memory.Query) []string {
	g.h.T.Helper()
	hits, err := g.h.Recall.Recall(g.h.Ctx, g.h.User.ID, q, time.UTC)
	g.h.Must(err)
	return ids(hits)
}

func (g *rerankRig) rerank(q memory.Query) ([]string, recall.RerankReport) {
	g.h.T.Helper()
	hits, rep, err := g.rr.RecallReport(g.h.Ctx, g.h.User.ID, q, time.UTC)
	g.h.Must(err)
	return ids(hits), rep
}

// number is the 1-based number the prompt gives the candidate id.
func number(t *testing.T, plain []string, id string) int {
	t.Helper()
	i := slices.Index(plain, id)
	if i < 0 {
		t.Fatalf("%s is not among the candidates %v", id, plain)
	}
	return i + 1
}

func TestRerankUsesTheModelsOrderAndQuery(t *testing.T) {
	g := newRerankRig(t)
	q := memory.Query{Text: "what about the garden", Limit: 10}
	plain := g.plain(q)
	if len(plain) != 4 || slices.Contains(plain, "msg_5") {
		t.Fatalf("the fixture's plain ranking should be the four garden messages: %v", plain)
	}
	picks := []int{number(t, plain, "msg_3"), number(t, plain, "msg_4")}
	g.h.LLM.Enqueue(llmtest.Reply{
		Chunks: []string{"```json\n", fmt.Sprintf(`{"query": "Rosa garden party Lisbon", "ids": [%d, %d]}`, picks[0], picks[1]), "\n```"},
		Usage:  &llm.Usage{InputTokens: 321, OutputTokens: 17}})

	got, rep := g.rerank(q)
	if !rep.Used || rep.Fallback != "" || rep.Picked != 2 || rep.Invalid != 0 || rep.Query != "Rosa garden party Lisbon" {
		t.Fatalf("report: %+v", rep)
	}
	if len(got) != 5 || got[0] != "msg_3" || got[1] != "msg_4" {
		t.Fatalf("the model's picks should come first: got %v (plain %v)", got, plain)
	}
	// The model's words found Rosa's move, which the question's did not;
	// the rest of the plain ranking keeps its order.
	if got[4] != "msg_5" || slices.Index(got, plain[0]) > slices.Index(got, plain[1]) {
		t.Fatalf("the hits of the model's query should follow the picks: %v", got)
	}

	// One call, short and without tools, listing every candidate by number.
	reqs := g.h.LLM.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d model calls, want 1", len(reqs))
	}
	r := reqs[0]
	if len(r.Tools) != 0 || r.MaxTokens != recall.DefaultRerankMaxTokens || r.Temperature == nil || *r.Temperature != 0 ||
		len(r.Messages) != 1 || !strings.Contains(r.System, "JSON only") {
		t.Fatalf("request shape: tools %d, max_tokens %d, temperature %v, %d messages, system %q",
			len(r.Tools), r.MaxTokens, r.Temperature, len(r.Messages), r.System)
	}
	prompt := r.Messages[0].Content
	if !strings.HasPrefix(prompt, "Question: what about the garden\n") {
		t.Fatalf("prompt: %q", prompt)
	}
	for i, id := range plain {
		text := map[string]string{"msg_1": "tomatoes", "msg_2": "needs water", "msg_3": "Rosa's garden party", "msg_4": "gnomes"}[id]
		if !strings.Contains(prompt, fmt.Sprintf("\n%d. [", i+1)) || !strings.Contains(prompt, text) {
			t.Fatalf("candidate %d (%s) is not in the prompt:\n%s", i+1, id, prompt)
		}
	}
	// Its cost is what the server reported, counted for metrics.
	if rep.InputTokens != 321 || rep.OutputTokens != 17 || rep.Candidates != 4 {
		t.Fatalf("cost: %+v", rep)
	}
	if n := g.h.Meter.Get("rerank_input_tokens"); n != 321 {
		t.Fatalf("rerank_input_tokens = %d", n)
	}
	if n := g.h.Meter.Get("rerank_output_tokens"); n != 17 {
		t.Fatalf("rerank_output_tokens = %d", n)
	}
	if n := g.h.Meter.Get("rerank"); n != 1 {
		t.Fatalf("rerank calls counted: %d", n)
	}
}

func TestRerankTimeoutFallsBackAtTheBudget(t *testing.T) {
	g := newRerankRig(t)
	q := memory.Query{Text: "garden", Limit: 3}
	plain := g.plain(q)
	gate := llmtest.NewGate()
	defer gate.Release()
	g.h.LLM.Enqueue(llmtest.Reply{Chunks: []string{`{"ids": [`, `4]}`}, Hold: gate, HoldAfter: 1})

	type result struct {
		ids []string
		rep recall.RerankReport
	}
	done := make(chan result, 1)
	start := g.h.Clock.Now()
	go func() {
		hits, rep, err := g.rr.RecallReport(g.h.Ctx, g.h.User.ID, q, time.UTC)
		if err != nil {
			t.Error(err)
		}
		done <- result{ids(hits), rep}
	}()
	select {
	case <-gate.Reached():
	case <-time.After(10 * time.Second):
		t.Fatal("the model call never arrived")
	}
	at, ok := g.h.Clock.Next()
	if !ok || at.Sub(start) != recall.DefaultRerankBudget {
		t.Fatalf("the budget's timer fires at %v after the start (armed %v), want %v", at.Sub(start), ok, recall.DefaultRerankBudget)
	}
	g.h.Clock.Advance(recall.DefaultRerankBudget)
	var res result
	select {
	case res = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("recall still waits for the model after its budget")
	}
	if !slices.Equal(res.ids, plain) || res.rep.Used || res.rep.Fallback != recall.RerankTimeout {
		t.Fatalf("after the budget: %v %+v, want the plain ranking %v", res.ids, res.rep, plain)
	}
	if g.h.Meter.Get("rerank_fallback_timeout") != 1 {
		t.Fatal("the timeout is not counted")
	}
	// The model hung up on is not reported unreachable for it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.h.LLM.WaitIdle(ctx); err != nil {
		t.Fatalf("the call was not cancelled: %v", err)
	}
}

func TestRerankFallsBackOnBadAnswers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reply    func(n func(string) int) llmtest.Reply
		fallback string
		first    string // "" : the plain ranking, unchanged
	}{
		{"not JSON", func(func(string) int) llmtest.Reply {
			return llmtest.Reply{Chunks: []string{"The second one, I think."}}
		}, recall.RerankMalformed, ""},
		{"broken JSON", func(func(string) int) llmtest.Reply {
			return llmtest.Reply{Chunks: []string{`{"ids": [2, 1`}, StopReason: "length"}
		}, recall.RerankMalformed, ""},
		{"empty", func(func(string) int) llmtest.Reply { return llmtest.Reply{} }, recall.RerankMalformed, ""},
		{"no ids", func(func(string) int) llmtest.Reply {
			return llmtest.Reply{Chunks: []string{`{"query": "garden", "ids": []}`}}
		}, recall.RerankMalformed, ""},
		{"unknown ids", func(func(string) int) llmtest.Reply {
			return llmtest.Reply{Chunks: []string{`{"ids": [99, 0, -1, "x"]}`}}
		}, recall.RerankMalformed, ""},
		{"mostly repeated", func(n func(string) int) llmtest.Reply {
			return llmtest.Reply{Chunks: []string{fmt.Sprintf(`{"ids": [%d, %d, %d, 77]}`, n("msg_4"), n("msg_4"), n("msg_4"))}}
		}, recall.RerankMalformed, ""},
		{"server error", func(func(string) int) llmtest.Reply { return llmtest.Reply{Status: 500} }, recall.RerankError, ""},
		{"dropped", func(func(string) int) llmtest.Reply {
			return llmtest.Reply{Chunks: []string{`{"ids": [`}, Fault: llmtest.FaultDrop, FaultAfter: 1}
		}, recall.RerankError, ""},
		// A few bad ids among good ones: the good ones are kept, in order.
		{"some unknown ids", func(n func(string) int) llmtest.Reply {
			return llmtest.Reply{Chunks: []string{fmt.Sprintf(`[%d, 42, "%d"]`, n("msg_4"), n("msg_1"))}}
		}, "", "msg_4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRerankRig(t)
			q := memory.Query{Text: "garden", Limit: 4}
			plain := g.plain(q)
			g.h.LLM.Enqueue(tc.reply(func(id string) int { return number(t, plain, id) }))
			got, rep := g.rerank(q)
			if rep.Fallback != tc.fallback || rep.Used != (tc.fallback == "") {
				t.Fatalf("report %+v, want fallback %q", rep, tc.fallback)
			}
			if tc.first == "" {
				if !slices.Equal(got, plain) {
					t.Fatalf("got %v, want the plain ranking %v", got, plain)
				}
				if g.h.Meter.Get("rerank_fallback_"+tc.fallback) != 1 {
					t.Fatalf("the fallback is not counted")
				}
				return
			}
			if got[0] != tc.first || got[1] != "msg_1" || rep.Invalid != 1 || rep.Picked != 2 {
				t.Fatalf("got %v (%+v), want msg_4, msg_1 first from %v", got, rep, plain)
			}
			if len(got) != len(plain) {
				t.Fatalf("got %d hits, want all %d", len(got), len(plain))
			}
		})
	}
}

// Without a connected model recall is the plain ranking, and no call is
// counted.
func TestRerankWithoutAModel(t *testing.T) {
	g := newRerankRig(t)
	g.h.Models.Set(nil)
	q := memory.Query{Text: "garden", Limit: 3}
	got, rep := g.rerank(q)
	if !slices.Equal(got, g.plain(q)) || rep.Fallback != recall.RerankNoModel {
		t.Fatalf("got %v %+v", got, rep)
	}
	if g.h.Meter.Get("rerank") != 0 || len(g.h.LLM.Requests()) != 0 {
		t.Fatal("a call was counted or made without a model")
	}
}

// The prompt slot and the recall tool see the model's order.
func TestRerankFeedsTheSlotAndTheTool(t *testing.T) {
	g := newRerankRig(t)
	// The slot recalls memories and journals: give it two items.
	g.h.Item("mem_water", memory.KindFact, "The garden is watered by Theodore", "msg_2")
	g.h.Item("mem_party", memory.KindEvent, "Rosa hosts a garden party on Sunday", "msg_3")
	plain, _, err := g.h.Recall.RecallForPrompt(g.h.Ctx, g.h.User.ID, "the garden", 600, time.UTC)
	g.h.Must(err)
	if !strings.HasSuffix(plain, "Rosa hosts a garden party on Sunday") {
		t.Fatalf("the fixture's plain slot should end with the party:\n%s", plain)
	}
	g.h.LLM.EnqueueFunc(func(r llmtest.Request) llmtest.Reply {
		n := strings.Index(r.Messages[0].Content, "Rosa hosts")
		num := r.Messages[0].Content[strings.LastIndex(r.Messages[0].Content[:n], "\n")+1:][:1]
		return llmtest.Reply{Chunks: []string{`{"ids": [` + num + `]}`}}
	})
	slot := recall.NewSlot(g.rr, g.h.DB, g.h.Echoes, 0)
	text, err := slot.SlotText(g.h.Ctx, g.h.User.ID, "the garden")
	g.h.Must(err)
	if !strings.HasPrefix(text, "- ") || !strings.Contains(strings.SplitN(text, "\n", 2)[0], "Rosa hosts a garden party") {
		t.Fatalf("the slot should start with the model's pick:\n%s", text)
	}

	g.h.LLM.Enqueue(llmtest.Reply{Chunks: []string{`{"ids": [99]}`}})
	tool := recall.NewTool(g.rr, nil)
	out, err := tool.Run(g.h.Ctx, companion.Call{UserID: g.h.User.ID, Args: json.RawMessage(`{"query": "garden", "limit": 2}`), Location: time.UTC})
	g.h.Must(err)
	if !strings.HasPrefix(out, "2 results") {
		t.Fatalf("the tool over the reranker: %q", out)
	}
	if len(g.h.LLM.Requests()) != 2 {
		t.Fatalf("%d model calls, want one for the slot and one for the tool", len(g.h.LLM.Requests()))
	}
}
