package llamatest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/companion"
	"github.com/os1ai/os1/internal/llm"
	"github.com/os1ai/os1/internal/llm/llamatest"
	"github.com/os1ai/os1/internal/memory/recall"
	"github.com/os1ai/os1/internal/store"
	"github.com/os1ai/os1/internal/testrig"
)

// These tests run os1's OpenAI-compatible client (internal/llm) against a
// real llama.cpp llama-server loading a tiny random-weight model. The words
// are gibberish; what is asserted is the protocol: deltas, usage, the end of
// the stream, cancellation, tool schemas, the context size and its errors.

func provider(s *llamatest.Server, model string) *llm.OpenAI {
	return llm.NewOpenAI(llm.OpenAIConfig{BaseURL: s.OpenAIBaseURL(), Model: model, Name: "llama-server",
		Transport: llm.Transport{MaxRetries: -1, IdleTimeout: 30 * time.Second}})
}

func zero() *float64 { var z float64; return &z }

// drain reads a whole stream, failing the test on anything but a clean end.
func drain(t *testing.T, events func(func(llm.Event, error) bool)) (text string, evs []llm.Event) {
	t.Helper()
	for ev, err := range events {
		if err != nil {
			t.Fatalf("stream failed after %d events: %v", len(evs), err)
		}
		evs = append(evs, ev)
		if ev.Kind == llm.EventText {
			text += ev.Text
		}
	}
	return text, evs
}

func TestLlamaServerStreamsACompletion(t *testing.T) {
	s := llamatest.Start(t, llamatest.Options{Ctx: 1024, Alias: "tiny"})
	p := provider(s, "tiny")
	ctx := context.Background()

	msgs := []llm.Message{{Role: llm.RoleUser, Content: "Tell me about the sea."}}
	text, evs := drain(t, p.Stream(ctx, llm.Request{System: "You are terse.", Messages: msgs, MaxTokens: 12, Temperature: zero()}))

	var deltas int
	var usage *llm.Usage
	for _, ev := range evs[:len(evs)-1] {
		switch ev.Kind {
		case llm.EventText:
			deltas++
		case llm.EventUsage:
			usage = ev.Usage
		case llm.EventDone:
			t.Fatalf("EventDone before the end: %+v", evs)
		}
	}
	done := evs[len(evs)-1]
	if done.Kind != llm.EventDone || done.Provider != "llama-server" || done.Model == "" {
		t.Fatalf("last event %+v, want EventDone naming provider and model", done)
	}
	// Random weights rarely pick the end-of-text token among 32,000.
	if done.StopReason != "length" && done.StopReason != "stop" {
		t.Errorf("stop reason %q", done.StopReason)
	}
	if deltas == 0 || strings.TrimSpace(text) == "" {
		t.Fatalf("no text arrived: %+v", evs)
	}
	if usage == nil || usage.InputTokens < 5 || usage.OutputTokens < 1 || usage.OutputTokens > 12 {
		t.Fatalf("usage %+v; want the prompt's tokens and 1..12 generated", usage)
	}
	if done.StopReason == "length" && usage.OutputTokens != 12 {
		t.Errorf("stopped for length after %d tokens, max was 12", usage.OutputTokens)
	}

	// The same request without streaming, greedy and without the prompt
	// cache, gives the same words: the stream's deltas lost and added nothing.
	body, _ := json.Marshal(map[string]any{"model": "tiny", "max_tokens": 12, "temperature": 0, "cache_prompt": false,
		"messages": []map[string]string{{"role": "system", "content": "You are terse."}, {"role": "user", "content": msgs[0].Content}}})
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	postJSON(t, s.URL+"/v1/chat/completions", body, &out)
	if len(out.Choices) != 1 || out.Choices[0].Message.Content != text {
		t.Errorf("streamed %q, but the same request unstreamed says %+v", text, out.Choices)
	}

	names, err := p.Models(ctx)
	if err != nil || len(names) != 1 || names[0] != "tiny" {
		t.Fatalf("models %v, %v; want [tiny] (the --alias)", names, err)
	}
}

func TestLlamaServerListsTheModelPathWithoutAlias(t *testing.T) {
	s := llamatest.Start(t, llamatest.Options{})
	names, err := provider(s, "tiny").Models(context.Background())
	if err != nil || len(names) != 1 || names[0] != s.ModelPath {
		t.Fatalf("models %v, %v; want [%s], the model's path", names, err, s.ModelPath)
	}
	// It answers a request for any model name with the one it has: this is
	// why doctor accepts it (internal/cli/doctor.go).
	_, evs := drain(t, provider(s, "some-other-name").Stream(context.Background(),
		llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hi"}}, MaxTokens: 2}))
	if evs[len(evs)-1].Kind != llm.EventDone {
		t.Fatalf("events %+v", evs)
	}
}

func TestLlamaServerCancelMidStream(t *testing.T) {
	s := llamatest.Start(t, llamatest.Options{Ctx: 4096, Args: []string{"--metrics"}})
	p := provider(s, "tiny")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	const max = 3000
	var texts int
	var streamErr error
	for ev, err := range p.Stream(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Write a long story."}}, MaxTokens: max}) {
		if err != nil {
			streamErr = err
			break
		}
		if ev.Kind == llm.EventDone {
			t.Fatalf("the stream ended (%s) before it was cancelled", ev.StopReason)
		}
		if ev.Kind == llm.EventText {
			texts++
			if texts == 3 {
				cancel()
			}
		}
	}
	if texts < 3 || streamErr == nil {
		t.Fatalf("%d text events, error %v", texts, streamErr)
	}
	if llm.KindOf(streamErr) != llm.KindCanceled || !errors.Is(streamErr, context.Canceled) {
		t.Fatalf("error %v (kind %q), want a cancellation", streamErr, llm.KindOf(streamErr))
	}

	// The server notices the closed connection and stops generating: the
	// slot goes idle having predicted far fewer than max tokens, and the next
	// request is answered.
	var predicted int
	testrig.Eventually(t, 30*time.Second, "idle after the cancelled stream", func() (bool, string) {
		m := metrics(t, s)
		predicted = int(m["llamacpp:tokens_predicted_total"])
		return m["llamacpp:requests_processing"] == 0, fmt.Sprint(m)
	})
	t.Logf("cancelled after %d text events; the server predicted %d of %d tokens", texts, predicted, max)
	if predicted < 3 || predicted >= max {
		t.Errorf("the server predicted %d tokens of %d; want at least the 3 seen and fewer than all", predicted, max)
	}
	_, evs := drain(t, p.Stream(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Again?"}}, MaxTokens: 3}))
	if evs[len(evs)-1].Kind != llm.EventDone {
		t.Fatalf("next request: %+v", evs)
	}
}

// os1's own tool schemas (the built-in tools and recall) are accepted, and
// whatever the model does with them comes back as a well-formed stream.
func TestLlamaServerAcceptsOS1Tools(t *testing.T) {
	s := llamatest.Start(t, llamatest.Options{Ctx: 2048})
	reg := companion.NewRegistry()
	for _, tool := range companion.BuiltinTools(nil) {
		if err := reg.Register(tool); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Register(recall.NewTool(nil, nil)); err != nil {
		t.Fatal(err)
	}
	tools := reg.LLMTools()
	if len(tools) < 3 {
		t.Fatalf("only %d tools", len(tools))
	}
	_, evs := drain(t, provider(s, "tiny").Stream(context.Background(), llm.Request{
		System:   "You may call tools.",
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "What time is it? And rename this chat to Time."}},
		Tools:    tools, MaxTokens: 24, Temperature: zero(),
	}))
	done := evs[len(evs)-1]
	if done.Kind != llm.EventDone {
		t.Fatalf("events %+v", evs)
	}
	t.Logf("with tools: %d events, stop reason %q", len(evs), done.StopReason)
	for _, ev := range evs {
		if ev.Kind == llm.EventToolCall {
			t.Logf("tool call %s %s", ev.ToolCall.Name, ev.ToolCall.Arguments)
			if _, ok := reg.Lookup(ev.ToolCall.Name); !ok || !json.Valid(ev.ToolCall.Arguments) {
				t.Errorf("tool call %+v is not one of os1's tools with JSON arguments", ev.ToolCall)
			}
		}
	}

	// A whole tool round trip: an assistant turn that called a tool and the
	// tool's result, as the companion sends them, is accepted too.
	_, evs = drain(t, provider(s, "tiny").Stream(context.Background(), llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "What time is it?"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "current_time", Arguments: json.RawMessage(`{}`)}}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: "Monday, 2 March 2026, 09:00 UTC (UTC)"},
		},
		Tools: tools, MaxTokens: 8,
	}))
	if evs[len(evs)-1].Kind != llm.EventDone {
		t.Fatalf("after a tool result: %+v", evs)
	}
}

func TestLlamaServerContextSize(t *testing.T) {
	s := llamatest.Start(t, llamatest.Options{Ctx: 512})
	props, err := s.Props(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if props.DefaultGenerationSettings.NCtx != 512 {
		t.Fatalf("/props n_ctx = %d, want 512 (-c 512)", props.DefaultGenerationSettings.NCtx)
	}
	// os1 learns the same from the server (llm.ContextSizer).
	p := provider(s, "tiny")
	if n, err := p.ContextSize(context.Background(), ""); err != nil || n != 512 {
		t.Fatalf("ContextSize = %d, %v; want 512", n, err)
	}

	// A prompt longer than the context is refused with the server's own
	// words and sizes, and os1 reports it as a context overflow.
	var words []string
	for i := range 700 {
		words = append(words, "word"+strconv.Itoa(i))
	}
	var streamErr error
	var got []llm.Event
	for ev, err := range p.Stream(context.Background(), llm.Request{
		Messages: []llm.Message{{Role: llm.RoleUser, Content: strings.Join(words, " ")}}, MaxTokens: 8}) {
		if err != nil {
			streamErr = err
			break
		}
		got = append(got, ev)
	}
	var le *llm.Error
	if !errors.As(streamErr, &le) {
		t.Fatalf("an overlong prompt gave %v after %+v, want an *llm.Error", streamErr, got)
	}
	msg := streamErr.Error()
	if le.Kind != llm.KindContextOverflow || le.StatusCode != http.StatusBadRequest || le.ContextSize != 512 || le.PromptTokens <= 512 ||
		!strings.Contains(msg, "does not fit the model's context window") || !strings.Contains(msg, s.URL) {
		t.Fatalf("overflow error: kind %q status %d sizes %d/%d: %s", le.Kind, le.StatusCode, le.PromptTokens, le.ContextSize, msg)
	}
}

// A whole companion turn: os1's system prompt, history and tools go to
// llama-server, the reply streams back and is stored complete.
func TestLlamaServerCompanionTurn(t *testing.T) {
	s := llamatest.Start(t, llamatest.Options{Ctx: 4096})
	h := newTurnHarness(t, provider(s, "tiny"))
	evs, reply := h.turn("Hello, who are you?")
	if reply.Content == "" {
		t.Fatalf("empty reply; events %v", evs)
	}
}

// The companion learns llama-server's context size (/props, 1536 tokens,
// far below its default budget of 8000) and shortens a message of plain
// prose that would not fit, so the turn succeeds at the first request.
func TestLlamaServerCompanionFitsTheServersContext(t *testing.T) {
	s := llamatest.Start(t, llamatest.Options{Ctx: 1536, Args: []string{"--metrics"}})
	p := &recordingProvider{OpenAI: provider(s, "tiny")}
	h := newTurnHarness(t, p)
	h.turn(strings.Repeat("The quick brown fox jumps over the lazy dog by the river, and then it rests in the shade. ", 120))
	if errs := p.errors(); len(errs) != 1 || errs[0] != nil {
		t.Fatalf("model calls ended with %v; want one that succeeded", errs)
	}
	if m := metrics(t, s); m["llamacpp:prompt_tokens_total"] > 1536 || m["llamacpp:prompt_tokens_total"] < 500 {
		t.Fatalf("the server read %v prompt tokens; want the window used, within 1536", m["llamacpp:prompt_tokens_total"])
	}
}

// Text that tokenizes far worse than os1 estimates (random letters: the
// tokenizer splits them into pieces) overflows llama-server's context at
// the first try; os1 learns the real count from the error and retries once,
// shorter, and the turn succeeds.
func TestLlamaServerCompanionRetriesAnOverflowShorter(t *testing.T) {
	s := llamatest.Start(t, llamatest.Options{Ctx: 1536})
	p := &recordingProvider{OpenAI: provider(s, "tiny")}
	h := newTurnHarness(t, p)
	rng := rand.New(rand.NewPCG(7, 7))
	var words []string
	for range 700 {
		w := make([]byte, 8)
		for i := range w {
			w[i] = "bcdfghjklmnpqrstvwxz"[rng.IntN(20)]
		}
		words = append(words, string(w))
	}
	h.turn(strings.Join(words, " "))
	errs := p.errors()
	if len(errs) != 2 || llm.KindOf(errs[0]) != llm.KindContextOverflow || errs[1] != nil {
		t.Fatalf("model calls ended with %v; want an overflow, then a success", errs)
	}
}

// turnHarness is a companion over testrig's store, on the real clock,
// talking to one provider.
type turnHarness struct {
	t    *testing.T
	r    *testrig.Rig
	c    *companion.Companion
	user string
}

func newTurnHarness(t *testing.T, p llm.Provider) *turnHarness {
	r := testrig.New(t)
	u := r.User("theo", "owner")
	c := r.Companion(companion.Deps{Models: fixedModel{p}, Clock: clock.System{}}, companion.Options{MaxReplyTokens: 16})
	return &turnHarness{t: t, r: r, c: c, user: u.ID}
}

// turn sends text in a new conversation and waits for the turn to end: it
// must end with the reply stored complete, and what was streamed stored.
func (h *turnHarness) turn(text string) (types []string, reply store.Message) {
	t := h.t
	t.Helper()
	events, err := h.c.Send(context.Background(), h.user, "", text)
	if err != nil {
		t.Fatal(err)
	}
	var streamed, conv string
	var turnErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			types = append(types, string(ev.Type))
			if ev.Type == companion.EvDelta {
				streamed += ev.Text
			}
			if ev.ConversationID != "" {
				conv = ev.ConversationID
			}
			if ev.Err != nil {
				turnErr = ev.Err
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the turn did not finish")
	}
	if turnErr != nil || len(types) == 0 || types[len(types)-1] != string(companion.EvTurnDone) || !slices.Contains(types, string(companion.EvAssistantDone)) {
		t.Fatalf("turn error %v; events %v", turnErr, types)
	}
	msgs, err := h.r.DB.Messages(context.Background(), h.user, conv)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("stored %d messages, %v", len(msgs), err)
	}
	if msgs[0].Content != text {
		t.Errorf("the user's message was stored changed (%d of %d bytes)", len(msgs[0].Content), len(text))
	}
	if msgs[1].Status != store.StatusComplete || msgs[1].Content != streamed {
		t.Fatalf("stored reply %q (%s), streamed %q", msgs[1].Content, msgs[1].Status, streamed)
	}
	return types, msgs[1]
}

// recordingProvider is the real client, noting how each stream ended.
type recordingProvider struct {
	*llm.OpenAI
	mu   sync.Mutex
	ends []error
}

func (p *recordingProvider) Stream(ctx context.Context, req llm.Request) iter.Seq2[llm.Event, error] {
	return func(yield func(llm.Event, error) bool) {
		var end error
		defer func() {
			p.mu.Lock()
			p.ends = append(p.ends, end)
			p.mu.Unlock()
		}()
		for ev, err := range p.OpenAI.Stream(ctx, req) {
			if err != nil {
				end = err
			}
			if !yield(ev, err) {
				return
			}
		}
	}
}

func (p *recordingProvider) errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ends)
}

type fixedModel struct{ p llm.Provider }

func (f fixedModel) Provider(context.Context) (llm.Provider, error) { return f.p, nil }

func postJSON(t *testing.T, url string, body []byte, out any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// metrics reads llama-server's Prometheus counters (--metrics).
func metrics(t *testing.T, s *llamatest.Server) map[string]float64 {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if name, val, ok := strings.Cut(line, " "); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
				m[name] = f
			}
		}
	}
	return m
}
