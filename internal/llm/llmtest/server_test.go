package llmtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/llm"
)

// recordingTB catches the failures the server reports, so a test can check
// that an unscripted request does fail the test it happens in.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func post(t *testing.T, url, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const chatBody = `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`

func TestUnscriptedRequestFailsTheTest(t *testing.T) {
	rec := &recordingTB{TB: t}
	srv := NewServer(rec)
	resp, body := post(t, srv.OpenAIBaseURL()+"/chat/completions", chatBody)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "no reply is scripted") {
		t.Errorf("got %d %s, want a 400 that says nothing was scripted", resp.StatusCode, body)
	}
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "no reply scripted") {
		t.Errorf("test failures reported = %q, want one about the missing script", rec.errs)
	}
}

func TestStartWithoutTest(t *testing.T) {
	srv, err := Start("127.0.0.1:0", Options{
		Models:  []string{"a:latest"},
		APIKey:  "key",
		Handler: func(r Request) Reply { return Reply{Chunks: []string{"echo: " + r.Messages[0].Content}} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	if resp, _ := post(t, srv.URL+"/v1/chat/completions", chatBody); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the key: %d, want 401", resp.StatusCode)
	}
	resp, body := post(t, srv.URL+"/v1/chat/completions", chatBody, "Authorization", "Bearer key")
	if resp.StatusCode != 200 || !strings.Contains(body, `"content":"echo: hi"`) || !strings.HasSuffix(body, "data: [DONE]\n\n") {
		t.Errorf("got %d:\n%s", resp.StatusCode, body)
	}

	r, err := http.Get(srv.OllamaURL() + "/api/tags")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var tags struct {
		Models []struct{ Name string } `json:"models"`
	}
	if err := json.NewDecoder(r.Body).Decode(&tags); err != nil || len(tags.Models) != 1 || tags.Models[0].Name != "a:latest" {
		t.Errorf("tags = %+v, %v", tags, err)
	}
}

func TestAnthropicStreamShape(t *testing.T) {
	srv := NewServer(t)
	srv.Enqueue(Reply{Chunks: []string{"Hi"}, ToolCalls: []llm.ToolCall{{Name: "x", Arguments: json.RawMessage(`{"a":1}`)}}})
	resp, body := post(t, srv.AnthropicBaseURL()+"/v1/messages",
		`{"model":"claude-x","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}`, "anthropic-version", "2023-06-01")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var names []string
	for line := range strings.Lines(body) {
		if n, ok := strings.CutPrefix(line, "event: "); ok {
			names = append(names, strings.TrimSpace(n))
		}
	}
	want := "message_start ping content_block_start content_block_delta content_block_stop " +
		"content_block_start content_block_delta content_block_delta content_block_delta content_block_stop message_delta message_stop"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(body, `"stop_reason":"tool_use"`) || !strings.Contains(body, `"id":"toolu_llmtest0"`) {
		t.Errorf("body lacks the tool_use stop reason or id:\n%s", body)
	}
}

func TestAnthropicRejectsWhatTheAPIRejects(t *testing.T) {
	for name, body := range map[string]string{
		"no max_tokens":       `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		"roles not alternate": `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]}`,
		"system role":         `{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"a"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			srv := NewServer(rec)
			if resp, _ := post(t, srv.URL+"/v1/messages", body); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
			if len(rec.errs) != 1 {
				t.Errorf("the client's malformed request should fail the test; reported %q", rec.errs)
			}
		})
	}
}

func TestCloseEndsHeldAndStalledStreams(t *testing.T) {
	srv, err := Start("127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	gate := NewGate()
	srv.Enqueue(Reply{Chunks: []string{"a", "b"}, Hold: gate, HoldAfter: 1}, Reply{Chunks: []string{"a"}, Fault: FaultStall, FaultAfter: 1})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.OpenAIBaseURL()+"/chat/completions", strings.NewReader(chatBody))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	<-gate.Reached()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for srv.Pending() > 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	srv.Close() // must not wait for the held and stalled streams' clients
	wg.Wait()
	if n := srv.ActiveStreams(); n != 0 {
		t.Errorf("%d streams still active after Close", n)
	}
}

func TestRouteGoesAheadOfTheQueue(t *testing.T) {
	srv := NewServer(t)
	srv.Enqueue(Reply{Chunks: []string{"chat reply"}})
	srv.Route(func(r Request) bool { return strings.Contains(r.System, "background") },
		func(Request) Reply { return Reply{Chunks: []string{"routed"}} })
	p := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: srv.OpenAIBaseURL(), Model: "m"})
	ask := func(system string) string {
		var out strings.Builder
		for ev, err := range p.Stream(context.Background(), llm.Request{System: system, Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}) {
			if err != nil {
				t.Fatal(err)
			}
			out.WriteString(ev.Text)
		}
		return out.String()
	}
	if got := ask("a background job"); got != "routed" {
		t.Fatalf("routed request got %q", got)
	}
	if got := ask("chat"); got != "chat reply" {
		t.Fatalf("queued reply was taken: chat got %q", got)
	}
}
