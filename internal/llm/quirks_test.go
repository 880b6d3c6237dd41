package llm_test

import (
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// Wire quirks of real servers, replayed byte for byte.

func TestOpenAIQuirks(t *testing.T) {
	chunk := func(delta, finish string) string {
		return `data: {"id":"c","object":"chat.completion.chunk","model":"llama3.2","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + finish + "}]}\n\n"
	}
	for _, tc := range []struct {
		name      string
		raw       string
		wantText  string
		wantCalls []string // "id name args"
		wantStop  string
		wantKind  llm.ErrorKind
	}{{
		name: "Ollama numbers every tool call 0, sends arguments whole, and says stop",
		raw: chunk(`{"role":"assistant","content":"","tool_calls":[{"id":"call_a","index":0,"type":"function","function":{"name":"weather","arguments":"{\"city\":\"Oslo\"}"}}]}`, "null") +
			chunk(`{"role":"assistant","content":"","tool_calls":[{"id":"call_b","index":0,"type":"function","function":{"name":"clock","arguments":"{}"}}]}`, "null") +
			chunk(`{}`, `"stop"`) + "data: [DONE]\n\n",
		wantCalls: []string{`call_a weather {"city":"Oslo"}`, `call_b clock {}`},
		wantStop:  "tool_calls",
	}, {
		name:     "finish without [DONE]",
		raw:      chunk(`{"content":"hi"}`, "null") + chunk(`{}`, `"length"`),
		wantText: "hi", wantStop: "length",
	}, {
		name:     "null content and reasoning are not text",
		raw:      chunk(`{"content":null,"reasoning_content":"hmm"}`, "null") + chunk(`{"content":"ok"}`, `"stop"`) + "data: [DONE]\n\n",
		wantText: "ok", wantStop: "stop",
	}, {
		name: "reasoning and reasoning_content both sent are one thinking, not text",
		raw: chunk(`{"content":null,"reasoning":"hmm","reasoning_content":"hmm"}`, "null") +
			chunk(`{"content":"ok"}`, `"stop"`) + "data: [DONE]\n\n",
		wantText: "ok", wantStop: "stop",
	}, {
		name:     "stream ends before the reply does",
		raw:      chunk(`{"content":"hal"}`, "null"),
		wantText: "hal", wantKind: llm.KindConnection,
	}, {
		name:     "tool arguments that are not JSON",
		raw:      chunk(`{"tool_calls":[{"id":"c1","index":0,"function":{"name":"x","arguments":"{\"a\":"}}]}`, `"tool_calls"`) + "data: [DONE]\n\n",
		wantKind: llm.KindProtocol,
	}, {
		name:     "error object as the first data",
		raw:      "data: {\"error\":{\"message\":\"model is loading\",\"type\":\"invalid_request_error\"}}\n\n",
		wantKind: llm.KindBadRequest,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.Enqueue(llmtest.Reply{Raw: tc.raw})
			checkQuirk(t, newOpenAI(t, srv, llm.Transport{MaxRetries: -1}), tc.wantText, tc.wantCalls, tc.wantStop, tc.wantKind)
		})
	}
}

func TestAnthropicQuirks(t *testing.T) {
	ev := func(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }
	start := ev("message_start", `{"type":"message_start","message":{"id":"m","model":"claude-x","usage":{"input_tokens":5,"cache_read_input_tokens":2,"output_tokens":1}}}`)
	stop := ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}}`) + ev("message_stop", `{"type":"message_stop"}`)
	for _, tc := range []struct {
		name      string
		raw       string
		wantText  string
		wantCalls []string
		wantStop  string
		wantKind  llm.ErrorKind
	}{{
		name: "thinking, unknown events and pings are not text",
		raw: start + ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}`) +
			ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}`) +
			ev("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"x"}}`) +
			ev("content_block_stop", `{"type":"content_block_stop","index":0}`) +
			ev("something_new", `{"type":"something_new"}`) + ev("ping", `{"type":"ping"}`) +
			ev("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}`) +
			ev("content_block_delta", `{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"ok"}}`) +
			ev("content_block_stop", `{"type":"content_block_stop","index":1}`) + stop,
		wantText: "ok", wantStop: "stop",
	}, {
		name: "tool input sent whole in content_block_start",
		raw: start + ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Oslo"}}}`) +
			ev("content_block_stop", `{"type":"content_block_stop","index":0}`) + stop,
		wantCalls: []string{`toolu_1 weather {"city":"Oslo"}`}, wantStop: "stop",
	}, {
		name: "a tool block never closed is still a call",
		raw: start + ev("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_2","name":"clock","input":{}}}`) +
			ev("message_delta", `{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}}`) + ev("message_stop", `{"type":"message_stop"}`),
		wantCalls: []string{`toolu_2 clock {}`}, wantStop: "tool_calls",
	}, {
		name:     "stream ends without message_stop",
		raw:      start,
		wantKind: llm.KindConnection,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.Enqueue(llmtest.Reply{Raw: tc.raw})
			checkQuirk(t, newAnthropic(t, srv, llm.Transport{MaxRetries: -1}), tc.wantText, tc.wantCalls, tc.wantStop, tc.wantKind)
		})
	}
}

func checkQuirk(t *testing.T, p llm.Provider, wantText string, wantCalls []string, wantStop string, wantKind llm.ErrorKind) {
	t.Helper()
	evs, err := llmtest.Collect(t.Context(), p, hi)
	if llm.KindOf(err) != wantKind {
		t.Fatalf("err = %v, want kind %q", err, wantKind)
	}
	if got := llmtest.TextOf(evs); got != wantText {
		t.Errorf("text = %q, want %q", got, wantText)
	}
	var calls []string
	for _, ev := range evs {
		if ev.Kind == llm.EventToolCall {
			calls = append(calls, ev.ToolCall.ID+" "+ev.ToolCall.Name+" "+string(ev.ToolCall.Arguments))
		}
	}
	if strings.Join(calls, "\n") != strings.Join(wantCalls, "\n") {
		t.Errorf("tool calls = %q, want %q", calls, wantCalls)
	}
	if err == nil {
		if done := llmtest.CheckStream(t, evs); done.StopReason != wantStop {
			t.Errorf("stop reason = %q, want %q", done.StopReason, wantStop)
		}
	}
}

func TestAnthropicUsageCountsCache(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Reply{Raw: "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\",\"usage\":{\"input_tokens\":5,\"cache_creation_input_tokens\":1,\"cache_read_input_tokens\":2,\"output_tokens\":1}}}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"max_tokens\"},\"usage\":{\"output_tokens\":9}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"})
	evs, err := llmtest.Collect(t.Context(), newAnthropic(t, srv, llm.Transport{}), hi)
	if err != nil {
		t.Fatal(err)
	}
	done := llmtest.CheckStream(t, evs)
	if u := evs[0].Usage; evs[0].Kind != llm.EventUsage || *u != (llm.Usage{InputTokens: 8, OutputTokens: 9}) {
		t.Errorf("first event = %+v, want usage 8 in, 9 out", evs[0])
	}
	if done.StopReason != "length" || done.Model != "claude-x" {
		t.Errorf("done = %+v, want length from claude-x", done)
	}
}
