package llm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"sync"

	"github.com/os1ai/os1/internal/httpretry"
)

// Defaults for OpenAIConfig.
const (
	DefaultOpenAIURL   = "https://api.openai.com/v1"
	DefaultOpenAIModel = "gpt-4o-mini"
)

// OpenAIConfig configures a provider that speaks the OpenAI Chat Completions
// API: OpenAI itself, Ollama, llama.cpp server, vLLM, LM Studio, OpenRouter.
type OpenAIConfig struct {
	// BaseURL is the API root that /chat/completions and /models hang off,
	// e.g. http://127.0.0.1:11434/v1 for Ollama. A trailing slash is fine.
	// Empty: DefaultOpenAIURL.
	BaseURL string
	// APIKey is sent as a Bearer token when set. Local servers need none.
	APIKey string
	// Model is used when Request.Model is empty. Empty: DefaultOpenAIModel.
	Model string
	// Name is what Name returns. Empty: "openai".
	Name string
	Transport
}

// OpenAI streams completions from an OpenAI-compatible server.
type OpenAI struct {
	cfg  OpenAIConfig
	base string
	ep   endpoint
	// prefills: model -> thinkPrefill, whether its chat template pre-fills
	// "<think>" (learned from its first replies; think.go).
	prefills sync.Map
}

// prefillOf is what is known of model's template: prefillNo until its
// template (ContextSize reads llama-server's) or one of its replies (a bare
// "</think>") said otherwise.
func (p *OpenAI) prefillOf(model string) thinkPrefill {
	if v, ok := p.prefills.Load(model); ok {
		return v.(thinkPrefill)
	}
	return prefillNo
}

var (
	_ Provider    = (*OpenAI)(nil)
	_ ModelLister = (*OpenAI)(nil)
)

// NewOpenAI returns a provider for the OpenAI-compatible server in cfg. It
// does not contact the server.
func NewOpenAI(cfg OpenAIConfig) *OpenAI {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultOpenAIURL
	}
	if cfg.Model == "" {
		cfg.Model = DefaultOpenAIModel
	}
	if cfg.Name == "" {
		cfg.Name = "openai"
	}
	cfg.Transport = cfg.Transport.withDefaults()
	base := strings.TrimRight(cfg.BaseURL, "/")
	return &OpenAI{cfg: cfg, base: base, ep: endpoint{
		name:  cfg.Name,
		where: "openai-compatible model at " + base,
		tr:    cfg.Transport,
	}}
}

// Name reports the configured name, "openai" by default.
func (p *OpenAI) Name() string { return p.cfg.Name }

// Model is the default model.
func (p *OpenAI) Model() string { return p.cfg.Model }

// BaseURL is the API root requests go to, without a trailing slash.
func (p *OpenAI) BaseURL() string { return p.base }

func (p *OpenAI) header() http.Header {
	h := http.Header{"Accept": {"text/event-stream"}, "Content-Type": {"application/json"}}
	if p.cfg.APIKey != "" {
		h.Set("Authorization", "Bearer "+p.cfg.APIKey)
	}
	return h
}

// Stream sends req to POST {BaseURL}/chat/completions and yields the reply
// as it arrives. See Provider for the stream's guarantees.
func (p *OpenAI) Stream(ctx context.Context, req Request) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		body, err := json.Marshal(p.encode(req))
		if err != nil {
			yield(Event{}, &Error{Kind: KindBadRequest, Provider: p.Name(), Err: err,
				Message: "cannot encode the request; a tool's parameters or a tool call's arguments are not valid JSON"})
			return
		}
		c := call{method: http.MethodPost, url: p.base + "/chat/completions", header: p.header(), body: body}
		model := cmp.Or(req.Model, p.cfg.Model)
		p.ep.stream(ctx, c, func(events *sseReader, emit func(Event) error) error {
			return p.decode(events, emit, model)
		}, yield)
	}
}

// Models lists the server's models via GET {BaseURL}/models.
func (p *OpenAI) Models(ctx context.Context) ([]string, error) {
	var out struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	h := p.header()
	h.Set("Accept", "application/json")
	if err := p.ep.getJSON(ctx, p.base+"/models", h, &out); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(out.Data))
	for _, m := range out.Data {
		ids = append(ids, m.ID)
	}
	return ids, nil
}

type oaRequest struct {
	Model         string      `json:"model"`
	Messages      []oaMessage `json:"messages"`
	Tools         []oaTool    `json:"tools,omitempty"`
	Stream        bool        `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
}

type oaMessage struct {
	Role string `json:"role"`
	// Content is always a string, "" beside tool calls: some servers reject null.
	Content    string       `json:"content"`
	ToolCalls  []oaToolCall `json:"tool_calls,omitempty"`
	ToolCallID string       `json:"tool_call_id,omitempty"`
	Images     []Image      `json:"-"` // sent as content parts (images.go)
}

type oaToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

type oaTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

func (p *OpenAI) encode(req Request) oaRequest {
	r := oaRequest{Model: req.Model, Stream: true, MaxTokens: req.MaxTokens, Temperature: req.Temperature}
	if r.Model == "" {
		r.Model = p.cfg.Model
	}
	r.StreamOptions.IncludeUsage = true
	if req.System != "" {
		r.Messages = append(r.Messages, oaMessage{Role: "system", Content: req.System})
	}
	for _, m := range req.Messages {
		om := oaMessage{Role: string(m.Role), Content: m.Content, ToolCallID: m.ToolCallID, Images: m.Images}
		for _, tc := range m.ToolCalls {
			otc := oaToolCall{ID: tc.ID, Type: "function"}
			otc.Function.Name = tc.Name
			otc.Function.Arguments = string(argsOrEmpty(tc.Arguments))
			om.ToolCalls = append(om.ToolCalls, otc)
		}
		r.Messages = append(r.Messages, om)
	}
	for _, t := range req.Tools {
		ot := oaTool{Type: "function"}
		ot.Function.Name = t.Name
		ot.Function.Description = t.Description
		ot.Function.Parameters = t.Parameters
		if len(ot.Function.Parameters) == 0 {
			ot.Function.Parameters = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		r.Tools = append(r.Tools, ot)
	}
	return r
}

// argsOrEmpty is a tool call's arguments, "{}" when there are none.
func argsOrEmpty(a json.RawMessage) json.RawMessage {
	if len(strings.TrimSpace(string(a))) == 0 {
		return json.RawMessage("{}")
	}
	return a
}

type oaChunk struct {
	Model   string          `json:"model"`
	Choices []oaChoice      `json:"choices"`
	Usage   *oaUsage        `json:"usage"`
	Error   json.RawMessage `json:"error"`
}

type oaUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

type oaChoice struct {
	Index        int     `json:"index"`
	Delta        oaDelta `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

type oaDelta struct {
	Content string `json:"content"`
	// Thinking, by server: reasoning_content (llama.cpp, vLLM,
	// DeepSeek, LM Studio), reasoning (Ollama, OpenRouter, newer vLLM).
	ReasoningContent string            `json:"reasoning_content"`
	Reasoning        string            `json:"reasoning"`
	ToolCalls        []oaToolCallDelta `json:"tool_calls"`
}

type oaToolCallDelta struct {
	Index    int    `json:"index"`
	ID       string `json:"id"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// oaState assembles one streamed reply.
type oaState struct {
	calls    []*partialCall // in order of first appearance
	byIndex  map[int]*partialCall
	finish   string
	finished bool
	usage    *Usage
	model    string
	think    thinkSplitter
}

// partialCall is a tool call whose arguments are still arriving.
type partialCall struct {
	id, name string
	args     strings.Builder
}

func (p *OpenAI) decode(events *sseReader, emit func(Event) error, model string) error {
	st := &oaState{byIndex: map[int]*partialCall{}}
	st.think.prefill = p.prefillOf(model)
	defer func() {
		// A model whose replies start inside thinking: the next replies
		// are held until their "</think>" (or their end). After a reply
		// whose thinking went out as answer text, too.
		if (st.think.decided && st.think.learned == prefillYes) || st.think.sawBareClose {
			p.prefills.Store(model, prefillMaybe)
		}
	}()
	var chunks oaChunkDecoder
	for {
		ev, err := events.nextShared()
		if err == io.EOF {
			if !st.finished {
				return p.ep.truncatedFailure()
			}
			return p.finish(st, emit) // finished without [DONE]: some servers do that
		}
		if err != nil {
			if isLineTooLong(err) {
				return p.ep.protocolFailure("a stream event too large to read", err)
			}
			return err
		}
		data := bytes.TrimSpace(ev.data)
		if string(data) == "[DONE]" {
			return p.finish(st, emit)
		}
		ch := chunks.decode(ev.data)
		if ch == nil {
			ch = &oaChunk{}
			if err := json.Unmarshal(ev.data, ch); err != nil {
				return p.ep.protocolFailure(fmt.Sprintf("a malformed stream chunk %q", clip(string(data), 120)), err)
			}
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			return p.streamError(ch.Error)
		}
		if ch.Model != "" {
			st.model = ch.Model
		}
		if ch.Usage != nil {
			st.usage = &Usage{InputTokens: ch.Usage.PromptTokens, OutputTokens: ch.Usage.CompletionTokens}
		}
		for _, c := range ch.Choices {
			if c.Index != 0 {
				continue // only one choice is ever asked for
			}
			// Servers that send both fields send the same thinking twice.
			thought := c.Delta.ReasoningContent
			if thought == "" {
				thought = c.Delta.Reasoning
			}
			if thought != "" {
				if err := emit(Event{Kind: EventReasoning, Text: thought}); err != nil {
					return err
				}
			}
			if c.Delta.Content != "" {
				if err := st.think.push(c.Delta.Content, emit); err != nil {
					return err
				}
			}
			for _, d := range c.Delta.ToolCalls {
				pc := st.byIndex[d.Index]
				// Some servers number every call 0; a new id starts a new call.
				if pc == nil || (d.ID != "" && pc.id != "" && d.ID != pc.id) {
					pc = &partialCall{}
					st.byIndex[d.Index] = pc
					st.calls = append(st.calls, pc)
				}
				if d.ID != "" {
					pc.id = d.ID
				}
				if d.Function.Name != "" {
					pc.name = d.Function.Name
				}
				pc.args.WriteString(d.Function.Arguments)
			}
			if c.FinishReason != nil && *c.FinishReason != "" {
				st.finish, st.finished = *c.FinishReason, true
				if err := st.think.flush(emit); err != nil {
					return err
				}
				if err := p.flushCalls(st, emit); err != nil {
					return err
				}
			}
		}
	}
}

// flushCalls yields the tool calls assembled so far, each once.
func (p *OpenAI) flushCalls(st *oaState, emit func(Event) error) error {
	for _, pc := range st.calls {
		tc, f := completeCall(&p.ep, pc.id, pc.name, pc.args.String())
		if f != nil && st.finish == "length" {
			return p.ep.cutOffFailure(pc.name, pc.args.String())
		}
		if f != nil {
			return f
		}
		if err := emit(Event{Kind: EventToolCall, ToolCall: tc}); err != nil {
			return err
		}
		if st.finish == "stop" || st.finish == "" {
			st.finish = "tool_calls" // some servers say "stop" even when they called tools
		}
	}
	st.calls = nil
	clear(st.byIndex)
	return nil
}

func (p *OpenAI) finish(st *oaState, emit func(Event) error) error {
	if err := st.think.flush(emit); err != nil {
		return err
	}
	if err := p.flushCalls(st, emit); err != nil {
		return err
	}
	if st.usage != nil {
		if err := emit(Event{Kind: EventUsage, Usage: st.usage}); err != nil {
			return err
		}
	}
	reason := map[string]string{"": "stop", "function_call": "tool_calls"}[st.finish]
	if reason == "" {
		reason = st.finish
	}
	return emit(Event{Kind: EventDone, StopReason: reason, Provider: p.Name(), Model: st.model})
}

// streamError reads an {"error": ...} object sent as stream data.
func (p *OpenAI) streamError(raw json.RawMessage) error {
	var obj struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    any    `json:"code"`
	}
	var s string
	switch {
	case json.Unmarshal(raw, &obj) == nil:
		typ := obj.Type
		if c, ok := obj.Code.(string); ok && c != "" {
			typ = c
		}
		return p.ep.streamFailure(typ, httpretry.OneLine(obj.Message))
	case json.Unmarshal(raw, &s) == nil:
		return p.ep.streamFailure("", httpretry.OneLine(s))
	}
	return p.ep.streamFailure("", httpretry.OneLine(string(raw)))
}

// completeCall checks an assembled tool call: its arguments must be a JSON
// value, "{}" when the model sent none.
func completeCall(ep *endpoint, id, name, args string) (*ToolCall, *failure) {
	raw := argsOrEmpty(json.RawMessage(args))
	if !json.Valid(raw) {
		return nil, ep.protocolFailure(fmt.Sprintf("a call to tool %q whose arguments are not valid JSON: %s", name, clip(args, 120)), nil)
	}
	return &ToolCall{ID: id, Name: name, Arguments: raw}, nil
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
