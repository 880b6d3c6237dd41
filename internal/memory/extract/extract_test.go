package extract_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
	"github.com/os1ai/os1/internal/memory"
	"github.com/os1ai/os1/internal/memory/extract"
	"github.com/os1ai/os1/internal/memory/memtest"
)

func TestExtractPromptGolden(t *testing.T) {
	h := newWorkHarness(t)
	h.Conversation("cnv_old", said("msg_x1", "user", "I drink coffee every morning.", day0.Add(-48*time.Hour)))
	h.Item("mem_coffee", memory.KindPreference, "Theodore drinks coffee every morning.", "msg_x1")
	conv := h.Conversation("cnv_1",
		said("msg_u1", "user", "I stopped drinking coffee last week, only tea now. Catherine visits on Friday!", day0),
		said("msg_a1", "assistant", "", day0.Add(time.Second)),
		said("msg_t1", "tool", "SECRET tool result", day0.Add(time.Second)),
		said("msg_a2", "assistant", "Tea suits you. Friday will be lovely.", day0.Add(time.Minute)))
	h.Echoes.Remember(h.User.ID, "- 2026-02-28 (fact) RECALLED line")
	h.LLM.Enqueue(memtest.OpsReply())
	if _, err := h.extractor(nil, extract.Options{}).Extract(h.Ctx, h.batch(conv)); err != nil {
		t.Fatal(err)
	}
	req := h.Extractions()[0]
	if len(req.Messages) != 1 || req.Messages[0].Role != llm.RoleUser || req.Temperature == nil || *req.Temperature != 0 {
		t.Errorf("request shape: %d messages, temperature %v", len(req.Messages), req.Temperature)
	}
	got := req.System + "\n-----\n" + req.Messages[0].Content
	memtest.Golden(t, "extract_prompt.golden", got)
	for _, never := range []string{"SECRET", "RECALLED", "warm and calm", "Writing letters"} {
		if strings.Contains(got, never) {
			t.Errorf("the extraction prompt holds %q", never)
		}
	}
	if !strings.Contains(got, "mem_coffee") {
		t.Error("the related memory is not shown with its ID")
	}
}

func TestExtractParsesRobustly(t *testing.T) {
	one := memtest.AddOp("preference", "Theodore drinks only tea now.", []string{"msg_u1"})
	cases := []struct {
		name  string
		reply string
		added int
	}{
		{"bare", `{"operations":[` + one + `]}`, 1},
		{"code fence", "```json\n{\"operations\":[" + one + "]}\n```", 1},
		{"think block and prose", "<think>They said {tea}.</think>\nHere you go:\n{\"operations\":[" + one + "]}\nDone!", 1},
		{"bare array", "[" + one + "]", 1},
		{"nothing to remember", `{"operations":[]}`, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newWorkHarness(t)
			conv := h.Conversation("cnv_1", said("msg_u1", "user", "Only tea for me now.", day0))
			h.LLM.Enqueue(llmtest.Reply{Chunks: splitEvery(tc.reply, 7)})
			res, err := h.extractor(nil, extract.Options{}).Extract(h.Ctx, h.batch(conv))
			if err != nil || len(res.Added) != tc.added || res.Outcomes[extract.OutInvalidJSON] != 0 {
				t.Errorf("Extract = %+v, %v", res, err)
			}
		})
	}
	for _, bad := range []string{"Sure! I'll remember that.", `{"operations":[{"op":"add"`, `{"memories":[]}`, "```\nnot json\n```"} {
		t.Run("invalid "+bad, func(t *testing.T) {
			h := newWorkHarness(t)
			conv := h.Conversation("cnv_1", said("msg_u1", "user", "Only tea for me now.", day0))
			h.LLM.Enqueue(llmtest.Reply{Chunks: []string{bad}})
			res, err := h.extractor(nil, extract.Options{}).Extract(h.Ctx, h.batch(conv))
			if err != nil || res.Outcomes[extract.OutInvalidJSON] != 1 || len(h.Items()) != 0 || h.Meter.Get(extract.OutInvalidJSON) != 1 {
				t.Errorf("Extract = %+v, %v; items %d", res, err, len(h.Items()))
			}
		})
	}
}

func splitEvery(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

func TestExtractModelFailure(t *testing.T) {
	h := newWorkHarness(t)
	conv := h.Conversation("cnv_1", said("msg_u1", "user", "Only tea for me now.", day0))
	h.LLM.Enqueue(llmtest.Reply{Status: 429, RetryAfter: "30"})
	_, err := h.extractor(nil, extract.Options{}).Extract(h.Ctx, h.batch(conv))
	if !errors.Is(err, extract.ErrFailed) || llm.KindOf(err) != llm.KindRateLimited {
		t.Fatalf("err = %v", err)
	}
	if len(h.Items()) != 0 || h.Meter.Get(extract.OutModelError) != 1 {
		t.Errorf("items %d, meter %v", len(h.Items()), h.Meter)
	}
}

func TestExtractSkipsTurnsWithoutTheUser(t *testing.T) {
	h := newWorkHarness(t)
	conv := h.Conversation("cnv_1", said("msg_a1", "assistant", "Good morning, Theodore!", day0))
	res, err := h.extractor(nil, extract.Options{}).Extract(h.Ctx, h.batch(conv))
	if err != nil || len(res.Added) != 0 || len(h.LLM.Requests()) != 0 {
		t.Errorf("Extract = %+v, %v after %d model calls", res, err, len(h.LLM.Requests()))
	}
}
