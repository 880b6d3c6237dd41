package llmtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/os1ai/os1/internal/clock"
	"github.com/os1ai/os1/internal/llm"
)

// NewProvider builds the provider under test, pointed at srv and using tr
// as its Transport. The contract chooses tr: it records retry waits instead
// of sleeping and sets short timeouts.
type NewProvider func(t *testing.T, srv *Server, tr llm.Transport) llm.Provider

// contractIdle is the idle timeout for tests that expect a timeout; the
// others use a long one so a slow machine cannot fail them.
const contractIdle = 200 * time.Millisecond

// RunProviderContract checks the behaviour every llm.Provider must show,
// against a scripted server speaking the provider's protocol: streaming in
// order, usage, tool calls, request encoding, retries and their waits, error
// kinds, timeouts, dropped connections, malformed data and cancellation.
func RunProviderContract(t *testing.T, newProvider NewProvider) {
	// setup gives each subtest its own server, provider and recorded waits.
	setup := func(t *testing.T, idle time.Duration) (*Server, llm.Provider, *Sleeps) {
		t.Parallel()
		srv := NewServer(t)
		sl := &Sleeps{}
		p := newProvider(t, srv, llm.Transport{IdleTimeout: idle, MaxRetries: 3, MaxRetryWait: 30 * time.Second, Sleep: sl.Sleep})
		return srv, p, sl
	}
	long := 10 * time.Second
	hello := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hello?"}}}

	t.Run("TextStreamsInOrder", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		gate := NewGate()
		t.Cleanup(gate.Release)
		chunks := []string{"Hel", "lo, ", "wör", "ld!"}
		srv.Enqueue(Reply{Chunks: chunks, Hold: gate, HoldAfter: 1})
		var texts []string
		var evs []llm.Event
		for ev, err := range p.Stream(t.Context(), hello) {
			if err != nil {
				t.Fatalf("stream failed: %v", err)
			}
			evs = append(evs, ev)
			if ev.Kind == llm.EventText {
				texts = append(texts, ev.Text)
				if len(texts) == 1 {
					gate.Release() // the first delta arrived while the rest was held: it streams
				}
			}
		}
		if !slices.Equal(texts, chunks) {
			t.Errorf("text deltas = %q, want %q", texts, chunks)
		}
		done := CheckStream(t, evs)
		if done.StopReason != "stop" || done.Provider != p.Name() {
			t.Errorf("done = %+v, want StopReason stop and Provider %q", done, p.Name())
		}
	})

	t.Run("ImagesArriveAsParts", func(t *testing.T) { srv, p, _ := setup(t, long); imagesArrive(t, srv, p) })
	t.Run("ImageRefusal", func(t *testing.T) { srv, p, _ := setup(t, long); imageRefusalInPlainWords(t, srv, p) })

	t.Run("Usage", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(Reply{Chunks: []string{"hi"}, Usage: &llm.Usage{InputTokens: 42, OutputTokens: 7}})
		evs, err := Collect(t.Context(), p, hello)
		if err != nil {
			t.Fatal(err)
		}
		CheckStream(t, evs)
		var usage []llm.Usage
		for _, ev := range evs {
			if ev.Kind == llm.EventUsage {
				usage = append(usage, *ev.Usage)
			}
		}
		if want := []llm.Usage{{InputTokens: 42, OutputTokens: 7}}; !slices.Equal(usage, want) {
			t.Errorf("usage events = %+v, want %+v", usage, want)
		}
	})

	t.Run("ToolCallsAssembled", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(Reply{Chunks: []string{"Let me check."}, ToolCalls: []llm.ToolCall{
			{ID: "call_1", Name: "weather", Arguments: json.RawMessage(`{"city":"Oslo","days":3,"note":"ünïcode \"quoted\""}`)},
			{ID: "call_2", Name: "clock"},
		}})
		evs, err := Collect(t.Context(), p, hello)
		if err != nil {
			t.Fatal(err)
		}
		done := CheckStream(t, evs)
		var calls []llm.ToolCall
		for _, ev := range evs {
			if ev.Kind == llm.EventToolCall {
				calls = append(calls, *ev.ToolCall)
			}
		}
		if len(calls) != 2 {
			t.Fatalf("got %d tool calls, want 2: %+v", len(calls), calls)
		}
		if c := calls[0]; c.ID != "call_1" || c.Name != "weather" || !JSONEqual(c.Arguments, `{"city":"Oslo","days":3,"note":"ünïcode \"quoted\""}`) {
			t.Errorf("first call = %s %s %s", c.ID, c.Name, c.Arguments)
		}
		if c := calls[1]; c.ID != "call_2" || c.Name != "clock" || string(c.Arguments) != "{}" {
			t.Errorf("second call = %s %s %s, want arguments {}", c.ID, c.Name, c.Arguments)
		}
		if done.StopReason != "tool_calls" {
			t.Errorf("stop reason = %q, want tool_calls", done.StopReason)
		}
	})

	// Reasoning models think before they answer; the thinking arrives in a
	// form that depends on the server, and must never be taken for the answer.
	for _, form := range ReasoningForms {
		t.Run("ReasoningKeptApart/"+form.String(), func(t *testing.T) {
			srv, p, _ := setup(t, long)
			srv.Enqueue(Reply{Reasoning: []string{"The user greets me. ", "I should greet back."},
				ReasoningAs: form, Chunks: []string{"Hi", " there!"}})
			evs, err := Collect(t.Context(), p, hello)
			if err != nil {
				t.Fatal(err)
			}
			CheckStream(t, evs)
			if got := TextOf(evs); got != "Hi there!" {
				t.Errorf("answer text = %q, want %q (and no thinking)", got, "Hi there!")
			}
			if got, want := ReasoningOf(evs), "The user greets me. I should greet back."; strings.TrimSpace(got) != want {
				t.Errorf("reasoning = %q, want %q", got, want)
			}
			answered := false
			for _, ev := range evs {
				switch ev.Kind {
				case llm.EventText:
					answered = true
				case llm.EventReasoning:
					if answered {
						t.Errorf("reasoning %q after the answer began", ev.Text)
					}
				}
				if strings.Contains(ev.Text, "think>") {
					t.Errorf("a %v event carries a tag: %q", ev.Kind, ev.Text)
				}
			}
		})

		t.Run("OnlyReasoning/"+form.String(), func(t *testing.T) {
			srv, p, _ := setup(t, long)
			srv.Enqueue(Reply{Reasoning: []string{"Hmm, ", "let me think about that..."}, ReasoningAs: form, StopReason: "length"})
			evs, err := Collect(t.Context(), p, hello)
			if err != nil {
				t.Fatal(err)
			}
			done := CheckStream(t, evs)
			if got := TextOf(evs); got != "" {
				t.Errorf("answer text = %q, want none: the model only thought", got)
			}
			if got := ReasoningOf(evs); strings.TrimSpace(got) != "Hmm, let me think about that..." {
				t.Errorf("reasoning = %q", got)
			}
			if done.StopReason != "length" {
				t.Errorf("stop reason = %q, want length", done.StopReason)
			}
		})
	}

	t.Run("ReasoningThenToolCall", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(Reply{Reasoning: []string{"I need the weather."}, ToolCalls: []llm.ToolCall{
			{ID: "call_1", Name: "weather", Arguments: json.RawMessage(`{"city":"Oslo"}`)}}})
		evs, err := Collect(t.Context(), p, hello)
		if err != nil {
			t.Fatal(err)
		}
		done := CheckStream(t, evs)
		if TextOf(evs) != "" || ReasoningOf(evs) != "I need the weather." || done.StopReason != "tool_calls" {
			t.Errorf("text %q, reasoning %q, stop %q; want no text, the thinking, tool_calls", TextOf(evs), ReasoningOf(evs), done.StopReason)
		}
	})

	t.Run("RequestEncoding", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(Reply{Chunks: []string{"ok"}}, Reply{Chunks: []string{"ok"}})
		temp := 0.25
		req := llm.Request{
			System: "You are Samantha.\nBe kind.",
			Messages: []llm.Message{
				{Role: llm.RoleUser, Content: "Weather in Oslo, and the time?"},
				{Role: llm.RoleAssistant, Content: "Let me look.", ToolCalls: []llm.ToolCall{
					{ID: "call_1", Name: "weather", Arguments: json.RawMessage(`{"city": "Oslo"}`)},
					{ID: "call_2", Name: "clock", Arguments: json.RawMessage(`{}`)},
				}},
				{Role: llm.RoleTool, ToolCallID: "call_1", Content: "12°C, rain"},
				{Role: llm.RoleTool, ToolCallID: "call_2", Content: "14:05"},
				{Role: llm.RoleUser, Content: "Thanks! Anything else?"},
			},
			Tools: []llm.Tool{
				{Name: "weather", Description: "Current weather for a city.", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)},
				{Name: "clock", Description: "The time now.", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)},
			},
			MaxTokens:   300,
			Temperature: &temp,
		}
		if _, err := Collect(t.Context(), p, req); err != nil {
			t.Fatal(err)
		}
		req.Model = "some-other-model"
		if _, err := Collect(t.Context(), p, req); err != nil {
			t.Fatal(err)
		}
		got := srv.Requests()
		if len(got) != 2 {
			t.Fatalf("server saw %d requests, want 2", len(got))
		}
		r := got[0]
		if r.Model != p.Model() || got[1].Model != "some-other-model" {
			t.Errorf("models sent = %q, %q; want the default %q, then the request's", r.Model, got[1].Model, p.Model())
		}
		if r.System != req.System {
			t.Errorf("system = %q, want %q", r.System, req.System)
		}
		if !r.Stream || r.MaxTokens != 300 || r.Temperature == nil || *r.Temperature != temp {
			t.Errorf("stream=%v max_tokens=%d temperature=%v; want true, 300, %v", r.Stream, r.MaxTokens, r.Temperature, temp)
		}
		if diff := messagesDiff(r.Messages, req.Messages); diff != "" {
			t.Errorf("messages sent differ: %s", diff)
		}
		if len(r.Tools) != len(req.Tools) {
			t.Fatalf("sent %d tools, want %d", len(r.Tools), len(req.Tools))
		}
		for i, tool := range r.Tools {
			w := req.Tools[i]
			if tool.Name != w.Name || tool.Description != w.Description || !JSONEqual(tool.Parameters, string(w.Parameters)) {
				t.Errorf("tool %d = %s %q %s, want %s %q %s", i, tool.Name, tool.Description, tool.Parameters, w.Name, w.Description, w.Parameters)
			}
		}
	})

	t.Run("RateLimitRetriedAfterRetryAfter", func(t *testing.T) {
		srv, p, sl := setup(t, long)
		srv.Enqueue(Reply{Status: http.StatusTooManyRequests, RetryAfter: "2"}, Reply{Chunks: []string{"ok"}})
		evs, err := Collect(t.Context(), p, hello)
		if err != nil {
			t.Fatal(err)
		}
		if TextOf(evs) != "ok" {
			t.Errorf("text = %q, want ok", TextOf(evs))
		}
		if got := sl.Got(); !slices.Equal(got, []time.Duration{2 * time.Second}) {
			t.Errorf("waited %v, want [2s] as Retry-After asked", got)
		}
		if n := len(srv.Requests()); n != 2 {
			t.Errorf("server saw %d requests, want 2", n)
		}
	})

	t.Run("RetryAfterHTTPDate", func(t *testing.T) {
		t.Parallel()
		srv := NewServer(t)
		sl := &Sleeps{}
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		p := newProvider(t, srv, llm.Transport{IdleTimeout: long, Sleep: sl.Sleep, Clock: clock.NewFake(now)})
		srv.Enqueue(Reply{Status: http.StatusTooManyRequests, RetryAfter: now.Add(7 * time.Second).Format(http.TimeFormat)}, Reply{Chunks: []string{"ok"}})
		if _, err := Collect(t.Context(), p, hello); err != nil {
			t.Fatal(err)
		}
		if got := sl.Got(); !slices.Equal(got, []time.Duration{7 * time.Second}) {
			t.Errorf("waited %v, want [7s] from the Retry-After date", got)
		}
	})

	t.Run("ServerErrorsRetried", func(t *testing.T) {
		srv, p, sl := setup(t, long)
		srv.Enqueue(Reply{Status: 500}, Reply{Status: 503}, Reply{Chunks: []string{"ok"}})
		evs, err := Collect(t.Context(), p, hello)
		if err != nil {
			t.Fatal(err)
		}
		if TextOf(evs) != "ok" {
			t.Errorf("text = %q, want ok", TextOf(evs))
		}
		got := sl.Got()
		if len(got) != 2 {
			t.Fatalf("waited %v, want two backoff waits", got)
		}
		for _, d := range got {
			if d <= 0 || d > 30*time.Second {
				t.Errorf("backoff wait %v outside (0, MaxRetryWait]", d)
			}
		}
	})

	t.Run("PersistentRateLimit", func(t *testing.T) {
		srv, p, sl := setup(t, long)
		for range 4 {
			srv.Enqueue(Reply{Status: http.StatusTooManyRequests, RetryAfter: "1", Error: "slow down please"})
		}
		e := wantError(t, p, hello, llm.KindRateLimited)
		if e.RetryAfter != time.Second || e.StatusCode != 429 {
			t.Errorf("RetryAfter=%v StatusCode=%d, want 1s and 429", e.RetryAfter, e.StatusCode)
		}
		for _, want := range []string{"429", "4 times", "slow down please", "try again in 1s"} {
			if !strings.Contains(e.Message, want) {
				t.Errorf("message %q does not mention %q", e.Message, want)
			}
		}
		if n := len(srv.Requests()); n != 4 || len(sl.Got()) != 3 {
			t.Errorf("%d requests and %d waits, want 4 and 3", n, len(sl.Got()))
		}
	})

	t.Run("RetryAfterBeyondMaxFailsAtOnce", func(t *testing.T) {
		srv, p, sl := setup(t, long)
		srv.Enqueue(Reply{Status: http.StatusTooManyRequests, RetryAfter: "3600"})
		e := wantError(t, p, hello, llm.KindRateLimited)
		if e.RetryAfter != time.Hour {
			t.Errorf("RetryAfter = %v, want 1h", e.RetryAfter)
		}
		if n := len(srv.Requests()); n != 1 || len(sl.Got()) != 0 {
			t.Errorf("%d requests and waits %v, want 1 request and no wait", n, sl.Got())
		}
	})

	t.Run("PersistentServerError", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		for range 4 {
			srv.Enqueue(Reply{Status: 500, Error: "boom"})
		}
		e := wantError(t, p, hello, llm.KindServer)
		if !strings.Contains(e.Message, "boom") || e.StatusCode != 500 {
			t.Errorf("error %+v should carry status 500 and the server's words", e)
		}
		if n := len(srv.Requests()); n != 4 {
			t.Errorf("server saw %d requests, want 4", n)
		}
	})

	for _, tc := range []struct {
		name   string
		status int
		msg    string
		kind   llm.ErrorKind
	}{
		{"Unauthorized", 401, "invalid x-api-key", llm.KindAuth},
		{"Forbidden", 403, "this key may not use that model", llm.KindAuth},
		{"UnknownModel404", 404, "model 'nope' not found, try pulling it first", llm.KindBadRequest},
		{"BadRequest400", 400, "messages: roles must alternate", llm.KindBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, p, _ := setup(t, long)
			srv.Enqueue(Reply{Status: tc.status, Error: tc.msg})
			e := wantError(t, p, hello, tc.kind)
			if e.StatusCode != tc.status || !strings.Contains(e.Message, tc.msg) {
				t.Errorf("error = %q (status %d), want status %d and the server's message %q", e.Message, e.StatusCode, tc.status, tc.msg)
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("server saw %d requests, want 1 (no retry)", n)
			}
		})
	}

	t.Run("StalledStreamTimesOut", func(t *testing.T) {
		srv, p, _ := setup(t, contractIdle)
		srv.Enqueue(Reply{Chunks: []string{"a", "b"}, Fault: FaultStall, FaultAfter: 1})
		evs, e := wantErrorEvents(t, p, hello, llm.KindTimeout)
		if TextOf(evs) != "a" {
			t.Errorf("text before the stall = %q, want a", TextOf(evs))
		}
		if errors.Is(e, context.Canceled) {
			t.Errorf("a timeout must not look like the caller's cancellation: %v", e)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("server saw %d requests, want 1", n)
		}
	})

	t.Run("SilentServerTimesOut", func(t *testing.T) {
		srv, p, _ := setup(t, contractIdle)
		srv.Enqueue(Reply{Delay: time.Minute})
		if e := wantError(t, p, hello, llm.KindTimeout); errors.Is(e, context.Canceled) {
			t.Errorf("a timeout must not look like the caller's cancellation: %v", e)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("server saw %d requests, want 1 (a silent server is not hammered)", n)
		}
	})

	t.Run("SlowButSteadyIsNotATimeout", func(t *testing.T) {
		// Every gap is well under the idle timeout; together they are over it.
		idle := time.Second
		srv, p, _ := setup(t, idle)
		srv.Enqueue(Reply{Chunks: []string{"a", "b", "c"}, Delay: idle * 2 / 5, ChunkDelay: idle * 2 / 5})
		evs, err := Collect(t.Context(), p, hello)
		if err != nil {
			t.Fatal(err)
		}
		if TextOf(evs) != "abc" {
			t.Errorf("text = %q", TextOf(evs))
		}
	})

	t.Run("SlowConsumerIsNotATimeout", func(t *testing.T) {
		srv, p, _ := setup(t, contractIdle)
		gate := NewGate()
		t.Cleanup(gate.Release)
		srv.Enqueue(Reply{Chunks: []string{"a", "b"}, Hold: gate, HoldAfter: 1})
		var text strings.Builder
		for ev, err := range p.Stream(t.Context(), hello) {
			if err != nil {
				t.Fatalf("the caller's own time with an event counted as server silence: %v", err)
			}
			if ev.Kind == llm.EventText && text.Len() == 0 {
				// The caller is busy (speaking, say) for longer than the
				// idle timeout while the server waits on it.
				time.Sleep(2 * contractIdle)
				gate.Release()
			}
			text.WriteString(ev.Text)
		}
		if text.String() != "ab" {
			t.Errorf("text = %q, want ab", text.String())
		}
	})

	t.Run("DroppedMidStream", func(t *testing.T) {
		srv, p, sl := setup(t, long)
		srv.Enqueue(Reply{Chunks: []string{"a", "b"}, Fault: FaultDrop, FaultAfter: 1}, Reply{Chunks: []string{"never"}})
		evs, _ := wantErrorEvents(t, p, hello, llm.KindConnection)
		if TextOf(evs) != "a" {
			t.Errorf("text = %q, want a", TextOf(evs))
		}
		if n := len(srv.Requests()); n != 1 || len(sl.Got()) != 0 {
			t.Errorf("%d requests, waits %v: text was already yielded, so no retry", n, sl.Got())
		}
	})

	t.Run("DroppedBeforeAnyEventRetried", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(Reply{Chunks: []string{"x"}, Fault: FaultDrop}, Reply{Chunks: []string{"ok"}})
		evs, err := Collect(t.Context(), p, hello)
		if err != nil {
			t.Fatal(err)
		}
		if TextOf(evs) != "ok" {
			t.Errorf("text = %q, want ok", TextOf(evs))
		}
	})

	t.Run("MalformedChunk", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(Reply{Chunks: []string{"a", "b"}, Fault: FaultMalformed, FaultAfter: 1})
		evs, _ := wantErrorEvents(t, p, hello, llm.KindProtocol)
		if TextOf(evs) != "a" {
			t.Errorf("text = %q, want a", TextOf(evs))
		}
	})

	t.Run("ErrorInsideStream", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(Reply{Chunks: []string{"a", "b"}, Fault: FaultStreamError, FaultAfter: 1, Error: "Overloaded right now"})
		_, e := wantErrorEvents(t, p, hello, llm.KindServer)
		if !strings.Contains(e.Message, "Overloaded right now") {
			t.Errorf("message %q lacks the server's words", e.Message)
		}
	})

	t.Run("ErrorInsideStreamBeforeTextRetried", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(Reply{Fault: FaultStreamError}, Reply{Chunks: []string{"ok"}})
		evs, err := Collect(t.Context(), p, hello)
		if err != nil || TextOf(evs) != "ok" {
			t.Errorf("got %q, %v; want ok after a retry", TextOf(evs), err)
		}
	})

	t.Run("ContextOverflow", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(ContextExceeded(24566, 8192))
		e := wantError(t, p, hello, llm.KindContextOverflow)
		if e.ContextSize != 8192 || e.PromptTokens != 24566 {
			t.Errorf("sizes = %d of %d, want 24566 of 8192", e.PromptTokens, e.ContextSize)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d requests: an overflow must not be repeated as it is", n)
		}
		if strings.Contains(e.Message, "model name") || strings.Contains(e.Message, "try again later") {
			t.Errorf("message %q gives a hint that does not help with an overflow", e.Message)
		}
	})

	t.Run("ContextOverflowMidStream", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(ContextExceededMidStream("a", "b"))
		evs, e := wantErrorEvents(t, p, hello, llm.KindContextOverflow)
		if TextOf(evs) != "ab" {
			t.Errorf("text = %q, want ab before the error", TextOf(evs))
		}
		if strings.Contains(e.Message, "try again later") {
			t.Errorf("message %q says to try again later", e.Message)
		}
	})

	t.Run("LengthCutOff", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(Reply{Chunks: []string{"It was the best of"}, StopReason: "length"})
		evs, err := Collect(t.Context(), p, hello)
		if err != nil {
			t.Fatal(err)
		}
		if done := CheckStream(t, evs); done.StopReason != "length" {
			t.Errorf("stop reason = %q, want length", done.StopReason)
		}
	})

	t.Run("CutOffToolCall", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(CutOffToolCall("recall", `{"query":"where does Catherine live these days"}`))
		e := wantError(t, p, hello, llm.KindCutOff)
		if !strings.Contains(e.Message, "cut off") || !strings.Contains(e.Message, `"recall"`) ||
			strings.Contains(e.Message, "compatible API") {
			t.Errorf("message %q does not say the token limit cut the call off", e.Message)
		}
	})

	t.Run("InvalidToolArgumentsWithoutCutOff", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		srv.Enqueue(Reply{ToolCalls: []llm.ToolCall{{Name: "recall", Arguments: json.RawMessage(`{"query":`)}}})
		wantError(t, p, hello, llm.KindProtocol)
	})

	t.Run("CancelMidStream", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		gate := NewGate()
		t.Cleanup(gate.Release)
		srv.Enqueue(Reply{Chunks: []string{"a", "b"}, Hold: gate, HoldAfter: 1})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var err error
		for ev, e := range p.Stream(ctx, hello) {
			if e != nil {
				err = e
				break
			}
			if ev.Kind == llm.EventText {
				cancel() // the server holds the rest; only cancellation ends this
			}
		}
		if !errors.Is(err, context.Canceled) || llm.KindOf(err) != llm.KindCanceled {
			t.Fatalf("err = %v (kind %q), want context.Canceled", err, llm.KindOf(err))
		}
	})

	t.Run("ConsumerStopsEarly", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		gate := NewGate()
		t.Cleanup(gate.Release)
		srv.Enqueue(Reply{Chunks: []string{"a", "b"}, Hold: gate, HoldAfter: 1})
		for ev, err := range p.Stream(t.Context(), hello) {
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind == llm.EventText {
				break
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := srv.WaitIdle(ctx); err != nil {
			t.Errorf("the provider did not hang up after the consumer stopped: %v", err)
		}
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		srv := unreachable()
		sl := &Sleeps{}
		p := newProvider(t, srv, llm.Transport{IdleTimeout: long, MaxRetries: 2, Sleep: sl.Sleep})
		e := wantError(t, p, hello, llm.KindConnection)
		if len(sl.Got()) != 2 {
			t.Errorf("waits %v, want 2 retries", sl.Got())
		}
		if !strings.Contains(e.Message, srv.URL) {
			t.Errorf("message %q does not say where it tried", e.Message)
		}
	})

	t.Run("ListsModels", func(t *testing.T) {
		srv, p, _ := setup(t, long)
		l, ok := p.(llm.ModelLister)
		if !ok {
			t.Skip("provider does not list models")
		}
		srv.SetModels("alpha", "beta:latest")
		got, err := l.Models(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{"alpha", "beta:latest"}) {
			t.Errorf("models = %q", got)
		}
	})
}

func wantError(t *testing.T, p llm.Provider, req llm.Request, kind llm.ErrorKind) *llm.Error {
	t.Helper()
	_, e := wantErrorEvents(t, p, req, kind)
	return e
}

func wantErrorEvents(t *testing.T, p llm.Provider, req llm.Request, kind llm.ErrorKind) ([]llm.Event, *llm.Error) {
	t.Helper()
	evs, err := Collect(t.Context(), p, req)
	var e *llm.Error
	if !errors.As(err, &e) {
		t.Fatalf("got events %+v and error %v, want an *llm.Error of kind %q", evs, err, kind)
	}
	if e.Kind != kind {
		t.Fatalf("error kind = %q, want %q: %v", e.Kind, kind, err)
	}
	if e.Message == "" || e.Provider == "" {
		t.Errorf("error lacks a message or provider: %+v", e)
	}
	for _, ev := range evs {
		if ev.Kind == llm.EventDone {
			t.Errorf("a failed stream yielded EventDone")
		}
	}
	return evs, e
}

// messagesDiff describes how got differs from want, comparing tool call
// arguments as JSON values; "" when they match.
func messagesDiff(got, want []llm.Message) string {
	if len(got) != len(want) {
		return "got " + describe(got) + ", want " + describe(want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Role != w.Role || g.Content != w.Content || g.ToolCallID != w.ToolCallID || len(g.ToolCalls) != len(w.ToolCalls) {
			return "message " + describe(got[i:i+1]) + ", want " + describe(want[i:i+1])
		}
		for j := range g.ToolCalls {
			gc, wc := g.ToolCalls[j], w.ToolCalls[j]
			if gc.ID != wc.ID || gc.Name != wc.Name || !JSONEqual(gc.Arguments, string(wc.Arguments)) {
				return "tool call " + gc.ID + " " + gc.Name + " " + string(gc.Arguments) + ", want " + wc.ID + " " + wc.Name + " " + string(wc.Arguments)
			}
		}
	}
	return ""
}

func describe(ms []llm.Message) string {
	b, _ := json.Marshal(ms)
	return string(b)
}

// unreachable is a Server value whose URL refuses connections: port 1 is
// privileged and unused, so nothing answers and no other test's server can
// take it over.
func unreachable() *Server {
	return &Server{URL: "http://127.0.0.1:1", done: make(chan struct{})}
}
