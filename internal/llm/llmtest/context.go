package llmtest

import (
	"encoding/json"
	"net/http"

	"github.com/os1ai/os1/internal/llm"
)

// contextLimits is what the server says about, and enforces of, the
// model's context window.
type contextLimits struct {
	llama  int               // GET /props n_ctx; enforced when count is set
	ollama int               // POST /api/show model_info context_length
	count  func(Request) int // the prompt's tokens, as this server counts them
	// template is /props chat_template ("" : a plain one)
	template string
}

// SetChatTemplate sets the chat_template GET /props reports (with
// SetContextSize), e.g. one whose generation prompt pre-fills "<think>".
func (s *Server) SetChatTemplate(t string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx.template = t
}

func (s *Server) contextSizes() contextLimits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctx
}

// SetContextSize makes the server act like llama-server started with -c n:
// GET /props reports n_ctx, and when CountTokens is set a request whose
// prompt is more than n tokens is refused as llama-server refuses it (400
// exceed_context_size_error with n_prompt_tokens and n_ctx), whatever is
// scripted; no reply is taken from the queue for it. 0: no /props.
func (s *Server) SetContextSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx.llama = n
}

// SetOllamaContextLength makes POST /api/show answer as Ollama does, with
// model_info "llama.context_length" n. 0: no /api/show.
func (s *Server) SetOllamaContextLength(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx.ollama = n
}

// CountTokens sets how the server counts a request's prompt tokens: the
// count is reported as the usage's input tokens (unless a Reply sets
// Usage) and checked against SetContextSize. Nil: 10 tokens, never checked.
func (s *Server) CountTokens(f func(Request) int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx.count = f
}

// promptTokens counts req's prompt; over says it does not fit. s.mu is held.
func (s *Server) promptTokens(req Request) (n int, over bool) {
	if s.ctx.count == nil {
		return 0, false
	}
	n = s.ctx.count(req)
	return n, s.ctx.llama > 0 && n > s.ctx.llama
}

// BytesPerToken counts a request's tokens as its bytes (system prompt,
// messages, tool calls and tool definitions as sent) divided by ratio: 4 is
// like English prose, about 1 like a hex dump under a tokenizer that splits
// digits.
func BytesPerToken(ratio float64) func(Request) int {
	return func(r Request) int {
		n := len(r.System)
		for _, m := range r.Messages {
			n += len(m.Content) + 8
			for _, tc := range m.ToolCalls {
				n += len(tc.Name) + len(tc.Arguments)
			}
		}
		for _, t := range r.Tools {
			b, _ := json.Marshal(t)
			n += len(b)
		}
		return int(float64(n)/ratio) + 1
	}
}

// contextExceededBody is llama-server's answer to a prompt longer than its
// context (server.cpp, ERROR_TYPE_EXCEED_CONTEXT_SIZE).
func contextExceededBody(prompt, nCtx int) map[string]any {
	return map[string]any{"error": map[string]any{
		"code":            400,
		"message":         "request (" + itoa(prompt) + " tokens) exceeds the available context size (" + itoa(nCtx) + " tokens), try increasing it",
		"type":            "exceed_context_size_error",
		"n_prompt_tokens": prompt,
		"n_ctx":           nCtx,
	}}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// ContextExceeded is llama-server's 400 for a prompt of prompt tokens that
// does not fit its context of nCtx tokens.
func ContextExceeded(prompt, nCtx int) Reply {
	b, _ := json.Marshal(contextExceededBody(prompt, nCtx))
	return Reply{Status: http.StatusBadRequest, Body: string(b)}
}

// ContextExceededMidStream streams chunks, then the error llama-server sends
// when the reply fills the context: {"error":{"message":"Context size has
// been exceeded."}}.
func ContextExceededMidStream(chunks ...string) Reply {
	return Reply{Chunks: chunks, Fault: FaultStreamError, FaultAfter: len(chunks),
		Error: "Context size has been exceeded.", ErrorType: "server_error"}
}

// CutOffToolCall is a reply that the token limit cut off in the middle of a
// call to tool name: only the first half of args is sent, and the reply
// ends with finish_reason "length" (Anthropic: stop_reason "max_tokens").
func CutOffToolCall(name, args string) Reply {
	return Reply{ToolCalls: []llm.ToolCall{{Name: name, Arguments: json.RawMessage(args[:len(args)/2])}}, StopReason: "length"}
}

func writeLlamaProps(w http.ResponseWriter, c contextLimits) {
	nCtx, tmpl := c.llama, c.template
	if tmpl == "" {
		tmpl = "{{ messages }}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"default_generation_settings": map[string]any{"n_ctx": nCtx, "params": map[string]any{"n_predict": -1, "temperature": 0.8}},
		"total_slots":                 1,
		"model_path":                  "/models/llmtest.gguf",
		"chat_template":               tmpl,
		"build_info":                  "b0-llmtest",
	})
}

func writeOllamaShow(w http.ResponseWriter, r *http.Request, c contextLimits) {
	var in struct {
		Model string `json:"model"`
	}
	if json.NewDecoder(r.Body).Decode(&in) != nil || in.Model == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "model is required"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"modelfile":  "FROM " + in.Model,
		"parameters": "stop \"<|eot_id|>\"",
		"template":   "{{ .Prompt }}",
		"details":    map[string]any{"format": "gguf", "family": "llama", "parameter_size": "3.2B"},
		"model_info": map[string]any{"general.architecture": "llama", "llama.context_length": c.ollama, "llama.embedding_length": 3072},
	})
}
