package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/os1ai/os1/internal/llm"
)

// openaiProtocol is the OpenAI Chat Completions API, as OpenAI, Ollama,
// llama.cpp and vLLM serve it.
type openaiProtocol struct{}

func (openaiProtocol) name() string { return "openai" }

type oaContent struct {
	text   string
	images []llm.Image // image_url parts (images.go)
}

// UnmarshalJSON accepts a string, null, or an array of content parts.
func (c *oaContent) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &c.text)
	}
	var parts []oaPart
	if err := json.Unmarshal(b, &parts); err != nil {
		return fmt.Errorf("content is neither a string nor an array of parts: %w", err)
	}
	for _, p := range parts {
		if err := c.add(p); err != nil {
			return err
		}
	}
	return nil
}

func (openaiProtocol) decode(body []byte) (Request, error) {
	var in struct {
		Model    string `json:"model"`
		Messages []struct {
			Role      string    `json:"role"`
			Content   oaContent `json:"content"`
			ToolCalls []struct {
				ID       string `json:"id"`
				Type     string `json:"type"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
			ToolCallID string `json:"tool_call_id"`
		} `json:"messages"`
		Tools []struct {
			Type     string `json:"type"`
			Function struct {
				Name        string          `json:"name"`
				Description string          `json:"description"`
				Parameters  json.RawMessage `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
		Stream              bool     `json:"stream"`
		MaxTokens           int      `json:"max_tokens"`
		MaxCompletionTokens int      `json:"max_completion_tokens"`
		Temperature         *float64 `json:"temperature"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return Request{}, err
	}
	r := Request{Model: in.Model, Stream: in.Stream, MaxTokens: max(in.MaxTokens, in.MaxCompletionTokens), Temperature: in.Temperature}
	var system []string
	for i, m := range in.Messages {
		switch m.Role {
		case "system", "developer":
			if len(r.Messages) > 0 {
				return Request{}, fmt.Errorf("message %d: a system message after the conversation started", i)
			}
			system = append(system, m.Content.text)
			continue
		case "user", "assistant", "tool":
		default:
			return Request{}, fmt.Errorf("message %d: unknown role %q", i, m.Role)
		}
		msg := llm.Message{Role: llm.Role(m.Role), Content: m.Content.text, ToolCallID: m.ToolCallID, Images: m.Content.images}
		if len(msg.Images) > 0 && m.Role != "user" {
			return Request{}, fmt.Errorf("message %d: image parts in a %q message", i, m.Role)
		}
		for _, tc := range m.ToolCalls {
			args, err := compactJSON(tc.Function.Arguments)
			if err != nil {
				return Request{}, fmt.Errorf("message %d: tool call %q: arguments %q: %w", i, tc.ID, tc.Function.Arguments, err)
			}
			msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args})
		}
		if m.Role == "tool" && m.ToolCallID == "" {
			return Request{}, fmt.Errorf("message %d: a tool message without tool_call_id", i)
		}
		r.Messages = append(r.Messages, msg)
	}
	r.System = strings.Join(system, "\n\n")
	for _, t := range in.Tools {
		if t.Type != "function" {
			return Request{}, fmt.Errorf("tool %q has type %q, want \"function\"", t.Function.Name, t.Type)
		}
		r.Tools = append(r.Tools, llm.Tool{Name: t.Function.Name, Description: t.Function.Description, Parameters: t.Function.Parameters})
	}
	return r, nil
}

// compactJSON checks and compacts a JSON text.
func compactJSON(s string) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func (openaiProtocol) writeError(w http.ResponseWriter, status int, errType, msg string) {
	code := any(nil)
	if errType == "" {
		switch {
		case status == http.StatusTooManyRequests:
			errType, code = "requests", "rate_limit_exceeded"
		case status == http.StatusUnauthorized:
			errType, code = "invalid_request_error", "invalid_api_key"
		case status == http.StatusNotFound:
			errType, code = "invalid_request_error", "model_not_found"
		case status >= 500:
			errType = "server_error"
		default:
			errType = "invalid_request_error"
		}
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": errType, "param": nil, "code": code}})
}

func (openaiProtocol) writeModels(w http.ResponseWriter, names []string) {
	data := make([]map[string]any, 0, len(names))
	for _, n := range names {
		data = append(data, map[string]any{"id": n, "object": "model", "created": 1735689600, "owned_by": "llmtest"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

func (openaiProtocol) stream(out *sseWriter, req Request, r Reply, id int) stream {
	model := r.Model
	if model == "" {
		model = req.Model
	}
	var opts struct {
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	json.Unmarshal(req.Body, &opts)
	return &openaiStream{out: out, id: fmt.Sprintf("chatcmpl-llmtest%d", id), model: model,
		usage: opts.StreamOptions.IncludeUsage}
}

// openaiStream writes chat.completion.chunk objects as OpenAI does.
type openaiStream struct {
	out   *sseWriter
	id    string
	model string
	usage bool // the client asked for stream_options.include_usage
	think bool // a <think> block is open in content
}

func (s *openaiStream) chunk(choices []any, usage any) map[string]any {
	c := map[string]any{
		"id": s.id, "object": "chat.completion.chunk", "created": 1735689600,
		"model": s.model, "system_fingerprint": "fp_llmtest", "choices": choices,
	}
	if s.usage {
		c["usage"] = usage
	}
	return c
}

func (s *openaiStream) delta(delta map[string]any, finish any) {
	s.out.event("", s.chunk([]any{map[string]any{
		"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}, nil))
}

func (s *openaiStream) start() {
	s.delta(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil)
}

func (s *openaiStream) reasoning(t string, form ReasoningForm) {
	switch form {
	case ReasoningField:
		s.delta(map[string]any{"reasoning": t}, nil)
	case ThinkTags:
		if !s.think {
			s.think = true
			s.delta(map[string]any{"content": "<thi"}, nil) // tags arrive cut, as tokenizers cut them
			t = "nk>\n" + t
		}
		s.delta(map[string]any{"content": t}, nil)
	default:
		s.delta(map[string]any{"content": nil, "reasoning_content": t}, nil)
	}
}

// closeThink ends an open <think> block; the closing tag shares a delta
// with the answer's first text, if any.
func (s *openaiStream) closeThink(next string) {
	if !s.think {
		return
	}
	s.think = false
	s.delta(map[string]any{"content": "</th"}, nil)
	s.delta(map[string]any{"content": "ink>\n\n" + next}, nil)
}

func (s *openaiStream) text(t string) {
	if s.think {
		s.closeThink(t)
		return
	}
	s.delta(map[string]any{"content": t}, nil)
}

func (s *openaiStream) toolCall(i int, tc llm.ToolCall, pieces []string) {
	s.closeThink("")
	id := tc.ID
	if id == "" {
		id = fmt.Sprintf("call_llmtest%d", i)
	}
	s.delta(map[string]any{"tool_calls": []any{map[string]any{
		"index": i, "id": id, "type": "function",
		"function": map[string]any{"name": tc.Name, "arguments": ""}}}}, nil)
	for _, p := range pieces {
		if p == "" {
			continue
		}
		s.delta(map[string]any{"tool_calls": []any{map[string]any{
			"index": i, "function": map[string]any{"arguments": p}}}}, nil)
	}
}

func (s *openaiStream) end(stop string, u llm.Usage) {
	s.closeThink("")
	s.delta(map[string]any{}, stop)
	if s.usage {
		s.out.event("", s.chunk([]any{}, map[string]any{
			"prompt_tokens": u.InputTokens, "completion_tokens": u.OutputTokens,
			"total_tokens": u.InputTokens + u.OutputTokens}))
	}
	s.out.raw("data: [DONE]\n\n")
}

func (s *openaiStream) malformed() {
	s.out.raw(`data: {"id":"` + s.id + `","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"oops` + "\n\n")
}

func (s *openaiStream) streamError(errType, msg string) {
	if errType == "" {
		errType = "server_error"
	}
	if msg == "" {
		msg = "Overloaded"
	}
	s.out.event("", map[string]any{"error": map[string]any{"message": msg, "type": errType, "param": nil, "code": nil}})
}
