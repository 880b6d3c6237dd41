package llm_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/os1ai/os1/internal/llm"
)

// benchTokens is the length of the replayed reply: a typical spoken answer.
const benchTokens = 150

// openAIReply is a 150-token streamed reply as llama-server and OpenAI send
// it: a role chunk, one chunk per token, a finish chunk, a usage chunk and
// [DONE], one SSE event each.
func openAIReply() []string {
	const head = `data: {"id":"chatcmpl-9Qz7bW2kX1","object":"chat.completion.chunk","created":1764950400,"model":"qwen2.5-7b-instruct","system_fingerprint":"b4273-8fd4b7fc","choices":[{"index":0,`
	events := []string{head + `"delta":{"role":"assistant","content":null},"logprobs":null,"finish_reason":null}]}` + "\n\n"}
	for i := range benchTokens {
		events = append(events, head+fmt.Sprintf(`"delta":{"content":" word%d"},"logprobs":null,"finish_reason":null}]}`, i)+"\n\n")
	}
	events = append(events,
		head+`"delta":{},"logprobs":null,"finish_reason":"stop"}]}`+"\n\n",
		`data: {"id":"chatcmpl-9Qz7bW2kX1","object":"chat.completion.chunk","created":1764950400,"model":"qwen2.5-7b-instruct","system_fingerprint":"b4273-8fd4b7fc","choices":[],"usage":{"prompt_tokens":1843,"completion_tokens":150,"total_tokens":1993}}`+"\n\n",
		"data: [DONE]\n\n")
	return events
}

// anthropicReply is the same reply as the Anthropic Messages API streams it.
func anthropicReply() []string {
	events := []string{
		"event: message_start\ndata: " + `{"type":"message_start","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1843,"output_tokens":1}}}` + "\n\n",
		"event: content_block_start\ndata: " + `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` + "\n\n",
		"event: ping\ndata: " + `{"type": "ping"}` + "\n\n",
	}
	for i := range benchTokens {
		events = append(events, "event: content_block_delta\ndata: "+fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" word%d"}}`, i)+"\n\n")
	}
	return append(events,
		"event: content_block_stop\ndata: "+`{"type":"content_block_stop","index":0}`+"\n\n",
		"event: message_delta\ndata: "+`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":150}}`+"\n\n",
		"event: message_stop\ndata: "+`{"type":"message_stop"}`+"\n\n")
}

// replayServer serves events as an event stream. flushed sends each event
// in its own write, as a model does token by token; otherwise the whole
// reply goes out in one write, so the client's reads see it in large pieces.
func replayServer(b testing.TB, events []string, flushed bool) *httptest.Server {
	whole := []byte(strings.Join(events, ""))
	parts := make([][]byte, len(events))
	for i, e := range events {
		parts[i] = []byte(e)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		if !flushed {
			w.Write(whole)
			return
		}
		f := w.(http.Flusher)
		for _, p := range parts {
			w.Write(p)
			f.Flush()
		}
	}))
	b.Cleanup(srv.Close)
	return srv
}

func benchStream(b *testing.B, p llm.Provider) {
	req := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		texts := 0
		done := false
		for ev, err := range p.Stream(b.Context(), req) {
			if err != nil {
				b.Fatal(err)
			}
			switch ev.Kind {
			case llm.EventText:
				texts++
			case llm.EventDone:
				done = true
			}
		}
		if texts != benchTokens || !done {
			b.Fatalf("got %d text events (done %v), want %d", texts, done, benchTokens)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchTokens, "ns/token")
}

// BenchmarkOpenAIStream measures reading one 150-token reply from an
// OpenAI-compatible server: per op is per reply, ns/token per token.
func BenchmarkOpenAIStream(b *testing.B) {
	for _, flushed := range []bool{false, true} {
		b.Run(map[bool]string{false: "whole", true: "flushed"}[flushed], func(b *testing.B) {
			srv := replayServer(b, openAIReply(), flushed)
			benchStream(b, llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.URL + "/v1", Model: "qwen2.5-7b-instruct"}))
		})
	}
}

// BenchmarkAnthropicStream is BenchmarkOpenAIStream for the Anthropic
// Messages API.
func BenchmarkAnthropicStream(b *testing.B) {
	for _, flushed := range []bool{false, true} {
		b.Run(map[bool]string{false: "whole", true: "flushed"}[flushed], func(b *testing.B) {
			srv := replayServer(b, anthropicReply(), flushed)
			benchStream(b, llm.NewAnthropic(llm.AnthropicConfig{BaseURL: srv.URL, APIKey: "k"}))
		})
	}
}
