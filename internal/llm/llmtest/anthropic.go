package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/os1ai/os1/internal/llm"
)

// anthropicProtocol is the Anthropic Messages API.
type anthropicProtocol struct{}

func (anthropicProtocol) name() string { return "anthropic" }

type anBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   anContent       `json:"content"`
	Source    *anSource       `json:"source"` // image blocks (images.go)
}

// anContent is message or tool_result content: a string or an array of blocks.
type anContent struct{ blocks []anBlock }

func (c *anContent) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		c.blocks = []anBlock{{Type: "text", Text: s}}
		return nil
	}
	return json.Unmarshal(b, &c.blocks)
}

func (c anContent) text() string {
	var s strings.Builder
	for _, b := range c.blocks {
		if b.Type == "text" {
			s.WriteString(b.Text)
		}
	}
	return s.String()
}

func (anthropicProtocol) decode(body []byte) (Request, error) {
	var in struct {
		Model     string    `json:"model"`
		MaxTokens int       `json:"max_tokens"`
		System    anContent `json:"system"`
		Messages  []struct {
			Role    string    `json:"role"`
			Content anContent `json:"content"`
		} `json:"messages"`
		Tools []struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			InputSchema json.RawMessage `json:"input_schema"`
		} `json:"tools"`
		Stream      bool     `json:"stream"`
		Temperature *float64 `json:"temperature"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return Request{}, err
	}
	if in.MaxTokens <= 0 {
		return Request{}, fmt.Errorf("max_tokens is required and must be positive, got %d", in.MaxTokens)
	}
	r := Request{Model: in.Model, MaxTokens: in.MaxTokens, System: in.System.text(), Stream: in.Stream, Temperature: in.Temperature}
	for i, m := range in.Messages {
		if i > 0 && in.Messages[i-1].Role == m.Role {
			return Request{}, fmt.Errorf("messages %d and %d are both %q: roles must alternate", i-1, i, m.Role)
		}
		switch m.Role {
		case "user":
			var text strings.Builder
			var images []llm.Image
			for _, b := range m.Content.blocks {
				switch b.Type {
				case "tool_result":
					if text.Len() > 0 {
						return Request{}, fmt.Errorf("message %d: tool_result blocks must come before text", i)
					}
					r.Messages = append(r.Messages, llm.Message{Role: llm.RoleTool, ToolCallID: b.ToolUseID, Content: b.Content.text()})
				case "text":
					text.WriteString(b.Text)
				case "image":
					im, err := b.image()
					if err != nil {
						return Request{}, fmt.Errorf("message %d: %w", i, err)
					}
					images = append(images, im)
				default:
					return Request{}, fmt.Errorf("message %d: unexpected %q block in a user turn", i, b.Type)
				}
			}
			if text.Len() > 0 || len(images) > 0 {
				r.Messages = append(r.Messages, llm.Message{Role: llm.RoleUser, Content: text.String(), Images: images})
			}
		case "assistant":
			msg := llm.Message{Role: llm.RoleAssistant}
			for _, b := range m.Content.blocks {
				switch b.Type {
				case "text":
					msg.Content += b.Text
				case "tool_use":
					args, err := compactJSON(string(b.Input))
					if err != nil {
						return Request{}, fmt.Errorf("message %d: tool_use %q input: %w", i, b.ID, err)
					}
					if !bytes.HasPrefix(args, []byte("{")) {
						return Request{}, fmt.Errorf("message %d: tool_use %q input must be an object, got %s", i, b.ID, args)
					}
					msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: args})
				default:
					return Request{}, fmt.Errorf("message %d: unexpected %q block in an assistant turn", i, b.Type)
				}
			}
			r.Messages = append(r.Messages, msg)
		default:
			return Request{}, fmt.Errorf("message %d: role %q is not user or assistant", i, m.Role)
		}
	}
	for _, t := range in.Tools {
		if len(t.InputSchema) == 0 {
			return Request{}, fmt.Errorf("tool %q has no input_schema", t.Name)
		}
		r.Tools = append(r.Tools, llm.Tool{Name: t.Name, Description: t.Description, Parameters: t.InputSchema})
	}
	return r, nil
}

// anErrorTypes are the error types the API uses for each status.
var anErrorTypes = map[int]string{
	400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
	404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error",
	500: "api_error", 529: "overloaded_error",
}

func (anthropicProtocol) writeError(w http.ResponseWriter, status int, errType, msg string) {
	if errType == "" {
		errType = anErrorTypes[status]
	}
	if errType == "" {
		errType = "api_error"
	}
	w.Header().Set("Request-Id", "req_llmtest")
	writeJSON(w, status, map[string]any{"type": "error",
		"error": map[string]any{"type": errType, "message": msg}})
}

func (anthropicProtocol) writeModels(w http.ResponseWriter, names []string) {
	data := make([]map[string]any, 0, len(names))
	for _, n := range names {
		data = append(data, map[string]any{"type": "model", "id": n, "display_name": n, "created_at": "2025-01-01T00:00:00Z"})
	}
	first, last := "", ""
	if len(names) > 0 {
		first, last = names[0], names[len(names)-1]
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "has_more": false, "first_id": first, "last_id": last})
}

func (anthropicProtocol) stream(out *sseWriter, req Request, r Reply, id int) stream {
	model := r.Model
	if model == "" {
		model = req.Model
	}
	input := defaultInputTokens
	if r.Usage != nil {
		input = r.Usage.InputTokens
	}
	return &anthropicStream{out: out, id: fmt.Sprintf("msg_llmtest%d", id), model: model, textBlock: -1, thinkBlock: -1, input: input}
}

// anthropicStream writes Messages API events as Anthropic does.
type anthropicStream struct {
	out        *sseWriter
	id         string
	model      string
	next       int // index of the next content block
	textBlock  int // index of the open text block, -1 if none
	thinkBlock int // index of the open thinking block, -1 if none
	input      int // input tokens, reported in message_start as the API does
}

func (s *anthropicStream) send(name string, v map[string]any) {
	v["type"] = name
	s.out.event(name, v)
}

func (s *anthropicStream) start() {
	s.send("message_start", map[string]any{"message": map[string]any{
		"id": s.id, "type": "message", "role": "assistant", "content": []any{}, "model": s.model,
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": s.input, "output_tokens": 1},
	}})
	s.send("ping", map[string]any{})
}

// reasoning streams a thinking block, as the API does with extended
// thinking enabled; form is for OpenAI-compatible servers only.
func (s *anthropicStream) reasoning(t string, _ ReasoningForm) {
	if s.thinkBlock < 0 {
		s.thinkBlock = s.next
		s.next++
		s.send("content_block_start", map[string]any{"index": s.thinkBlock,
			"content_block": map[string]any{"type": "thinking", "thinking": ""}})
	}
	s.send("content_block_delta", map[string]any{"index": s.thinkBlock,
		"delta": map[string]any{"type": "thinking_delta", "thinking": t}})
}

func (s *anthropicStream) closeThinking() {
	if s.thinkBlock >= 0 {
		s.send("content_block_delta", map[string]any{"index": s.thinkBlock,
			"delta": map[string]any{"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxllmtest"}})
		s.send("content_block_stop", map[string]any{"index": s.thinkBlock})
		s.thinkBlock = -1
	}
}

func (s *anthropicStream) text(t string) {
	s.closeThinking()
	if s.textBlock < 0 {
		s.textBlock = s.next
		s.next++
		s.send("content_block_start", map[string]any{"index": s.textBlock,
			"content_block": map[string]any{"type": "text", "text": ""}})
	}
	s.send("content_block_delta", map[string]any{"index": s.textBlock,
		"delta": map[string]any{"type": "text_delta", "text": t}})
}

func (s *anthropicStream) closeText() {
	if s.textBlock >= 0 {
		s.send("content_block_stop", map[string]any{"index": s.textBlock})
		s.textBlock = -1
	}
}

func (s *anthropicStream) toolCall(i int, tc llm.ToolCall, pieces []string) {
	s.closeThinking()
	s.closeText()
	id := tc.ID
	if id == "" {
		id = fmt.Sprintf("toolu_llmtest%d", i)
	}
	idx := s.next
	s.next++
	s.send("content_block_start", map[string]any{"index": idx,
		"content_block": map[string]any{"type": "tool_use", "id": id, "name": tc.Name, "input": map[string]any{}}})
	for _, p := range pieces {
		s.send("content_block_delta", map[string]any{"index": idx,
			"delta": map[string]any{"type": "input_json_delta", "partial_json": p}})
	}
	s.send("content_block_stop", map[string]any{"index": idx})
}

var anStopReasons = map[string]string{"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}

func (s *anthropicStream) end(stop string, u llm.Usage) {
	s.closeThinking()
	s.closeText()
	if r, ok := anStopReasons[stop]; ok {
		stop = r
	}
	s.send("message_delta", map[string]any{
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": u.OutputTokens}})
	s.send("message_stop", map[string]any{})
}

func (s *anthropicStream) malformed() {
	s.out.raw("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_del\n\n")
}

func (s *anthropicStream) streamError(errType, msg string) {
	if errType == "" {
		errType = "overloaded_error"
	}
	if msg == "" {
		msg = "Overloaded"
	}
	s.send("error", map[string]any{"error": map[string]any{"type": errType, "message": msg}})
}
