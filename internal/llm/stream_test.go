package llm_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llmtest"
)

// TestStreamKeepsTheConnection: a complete reply leaves its connection
// open for the next request, so a conversation does not pay for a new TCP
// connection (and TLS handshake) per reply.
func TestStreamKeepsTheConnection(t *testing.T) {
	for name, tc := range map[string]struct {
		events []string
		prov   func(url string) llm.Provider
	}{
		"openai": {openAIReply(), func(url string) llm.Provider {
			return llm.NewOpenAI(llm.OpenAIConfig{BaseURL: url + "/v1", Model: "m"})
		}},
		"anthropic": {anthropicReply(), func(url string) llm.Provider {
			return llm.NewAnthropic(llm.AnthropicConfig{BaseURL: url, APIKey: "k"})
		}},
	} {
		t.Run(name, func(t *testing.T) {
			var conns atomic.Int32
			// The server ends the body only once the client has read the
			// whole reply, as a server over a real network does.
			read := make(chan struct{}, 1)
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				for _, e := range tc.events {
					fmt.Fprint(w, e)
					w.(http.Flusher).Flush()
				}
				select {
				case <-read:
				case <-r.Context().Done():
				}
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					conns.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			p := tc.prov(srv.URL)
			for range 3 {
				var evs []llm.Event
				for ev, err := range p.Stream(t.Context(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}) {
					if err != nil {
						t.Fatal(err)
					}
					evs = append(evs, ev)
					if ev.Kind == llm.EventDone {
						read <- struct{}{}
					}
				}
				if text := llmtest.TextOf(evs); !strings.HasPrefix(text, " word0 word1") {
					t.Fatalf("text = %.40q", text)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("3 replies took %d connections, want 1", n)
			}
		})
	}
}

// TestOpenAIStreamFraming reads replies framed in the ways servers frame
// them, end to end over HTTP: each must give the same text.
func TestOpenAIStreamFraming(t *testing.T) {
	chunk := func(content string) string {
		return `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":` + content + `},"finish_reason":null}]}`
	}
	done := `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`
	huge := strings.Repeat("ab", 1<<19) // one 1 MiB delta, one line
	for _, tc := range []struct {
		name  string
		body  string
		split int // write the body in pieces of this many bytes, flushing each; 0: at once
		want  string
	}{
		{"LF", "data: " + chunk(`"Hello"`) + "\n\ndata: " + chunk(`" world"`) + "\n\ndata: " + done + "\n\ndata: [DONE]\n\n", 0, "Hello world"},
		{"CRLF", "data: " + chunk(`"Hello"`) + "\r\n\r\ndata: " + chunk(`" world"`) + "\r\n\r\ndata: " + done + "\r\n\r\ndata: [DONE]\r\n\r\n", 0, "Hello world"},
		{"split across reads", "data: " + chunk(`"Hello"`) + "\r\n\r\ndata: " + chunk(`" w\u00f6rld\n"`) + "\n\ndata: " + done + "\n\ndata: [DONE]\n\n", 7, "Hello wörld\n"},
		{"keep-alives and comments", ": ping\n\ndata: " + chunk(`"Hello"`) + "\n\n:\n\n\ndata: " + done + "\n\ndata: [DONE]\n\n", 0, "Hello"},
		{"multi-line data", "data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"Hi\"}}]}\n\ndata: " + done + "\n\ndata: [DONE]\n\n", 0, "Hi"},
		{"no space after the colon", "data:" + chunk(`"Hi"`) + "\n\ndata:" + done + "\n\ndata:[DONE]\n\n", 0, "Hi"},
		{"escapes", "data: " + chunk(`"say \"hi\"\t\u263a \ud83d\ude00"`) + "\n\ndata: " + done + "\n\ndata: [DONE]\n\n", 0, "say \"hi\"\t☺ 😀"},
		{"one huge line", "data: " + chunk(`"`+huge+`"`) + "\n\ndata: " + done + "\n\ndata: [DONE]\n\n", 0, huge},
		{"one huge line split across reads", "data: " + chunk(`"`+huge+`"`) + "\n\ndata: " + done + "\n\ndata: [DONE]\n\n", 100 << 10, huge},
		{"no [DONE]", "data: " + chunk(`"Hi"`) + "\n\ndata: " + done + "\n\n", 0, "Hi"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				if tc.split == 0 {
					fmt.Fprint(w, tc.body)
					return
				}
				for b := tc.body; b != ""; {
					n := min(tc.split, len(b))
					fmt.Fprint(w, b[:n])
					w.(http.Flusher).Flush()
					b = b[n:]
				}
			}))
			defer srv.Close()
			p := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.URL, Model: "m"})
			evs, err := llmtest.Collect(t.Context(), p, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			if text := llmtest.TextOf(evs); text != tc.want {
				t.Errorf("text = %.80q (%d bytes), want %.80q (%d bytes)", text, len(text), tc.want, len(tc.want))
			}
			if last := evs[len(evs)-1]; last.Kind != llm.EventDone || last.StopReason != "stop" || last.Model != "m" {
				t.Errorf("last event %+v; want done, stop, model m", last)
			}
		})
	}
}
